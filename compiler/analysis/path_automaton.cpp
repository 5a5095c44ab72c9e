#include "analysis/path_automaton.hpp"

#include <algorithm>

#include "sema/glob.hpp"
#include "support/text.hpp"

namespace sbpolicy::analysis {

namespace {

constexpr std::uint32_t kSlash = '/';

// A unit a name can hold: anything but `/` and NUL, and never a surrogate
// or an invalid byte below 0x80 (the decoder gives neither).
UnitSet name_unit() {
  UnitSet not_in_names = UnitSet::single(0);
  not_in_names.add(kSlash, kSlash);
  not_in_names.add(0xD800, 0xDFFF);
  not_in_names.add(0x110000, 0x110000 + 0x7F);
  return UnitSet::all().minus(not_in_names);
}

// Appends, from `from`, one component step "/NAME" where NAME is any name;
// returns the state after it.
std::size_t any_step(Nfa& n, std::size_t from) {
  const std::size_t after_slash = n.add_state(), in_name = n.add_state();
  n.states[from].edges.push_back({UnitSet::single(kSlash), after_slash});
  n.states[after_slash].edges.push_back({name_unit(), in_name});
  n.states[in_name].edges.push_back({name_unit(), in_name});
  return in_name;
}

// Any number of component steps from `from`; returns the state where they
// may stop (reached by epsilon from `from` too).
std::size_t any_steps(Nfa& n, std::size_t from) {
  const std::size_t hub = n.add_state();
  n.states[from].epsilon.push_back(hub);
  const std::size_t end = any_step(n, hub);
  n.states[end].epsilon.push_back(hub);
  return hub;
}

// One step "/" + a literal name.
std::size_t literal_step(Nfa& n, std::size_t from, std::string_view name) {
  std::size_t at = n.add_state();
  n.states[from].edges.push_back({UnitSet::single(kSlash), at});
  for (std::uint32_t u : sema::glob::decode_name(name)) {
    const std::size_t next = n.add_state();
    n.states[at].edges.push_back({UnitSet::single(u), next});
    at = next;
  }
  return at;
}

// One step "/" + a name the glob `component` matches; nullopt when it does
// not compile.
std::optional<std::size_t> glob_step(Nfa& n, std::size_t from, std::string_view component) {
  const auto compiled = sema::glob::compile(component);
  if (!compiled) return std::nullopt;
  const std::size_t after_slash = n.add_state(), end = n.add_state();
  n.states[from].edges.push_back({UnitSet::single(kSlash), after_slash});
  for (const auto& tokens : compiled->alternatives) {
    std::size_t at = n.add_state();
    n.states[after_slash].epsilon.push_back(at);
    // A name is never empty: an alternative of stars alone takes one unit.
    const bool only_stars = std::all_of(tokens.begin(), tokens.end(),
                                        [](const auto& t) { return t.kind == sema::glob::Token::Star; });
    if (only_stars) {
      const std::size_t one = n.add_state();
      n.states[at].edges.push_back({name_unit(), one});
      at = one;
    }
    for (const auto& t : tokens) {
      if (t.kind == sema::glob::Token::Star) {
        n.states[at].edges.push_back({name_unit(), at});
        continue;
      }
      UnitSet on;
      if (t.kind == sema::glob::Token::Unit) {
        on = UnitSet::single(t.value);
      } else if (t.kind == sema::glob::Token::Any) {
        on = name_unit();
      } else {
        const auto& c = compiled->classes[t.value];
        for (const auto& [lo, hi] : c.ranges) on.add(lo, hi);
        if (c.negated) on = on.complement();
        on = on.minus(name_unit().complement());
      }
      const std::size_t next = n.add_state();
      n.states[at].edges.push_back({on, next});
      at = next;
    }
    n.states[at].epsilon.push_back(end);
  }
  return end;
}

}  // namespace

const Dfa& real_paths() {
  static const Dfa kReal = [] {
    // States: 0 before the first `/`, 1 after a `/`, 2 a component "." so
    // far, 3 "..", 4 inside any other name, 5 dead.
    Dfa d;
    d.states.resize(6);
    const auto edges = [&](std::size_t s, std::size_t on_slash, std::size_t on_dot, std::size_t other) {
      auto& e = d.states[s].edges;
      e.push_back({0, '.' - 1, other});
      e.push_back({'.', '.', on_dot});
      e.push_back({'/', '/', on_slash});
      e.push_back({'/' + 1, kUnitEnd - 1, other});
    };
    edges(0, 1, 5, 5);
    edges(1, 1, 2, 4);
    edges(2, 5, 3, 4);
    edges(3, 5, 4, 4);
    edges(4, 1, 4, 4);
    edges(5, 5, 5, 5);
    d.states[1].accepting = d.states[4].accepting = true;
    d.start = 0;
    mark_live(d);
    return d;
  }();
  return kReal;
}

std::vector<std::uint32_t> path_units(std::string_view path) { return sema::glob::decode_name(path); }

std::string units_text(const std::vector<std::uint32_t>& units) {
  std::string out;
  for (std::uint32_t u : units) text::append_unit(out, u);
  return out;
}

std::optional<std::size_t> add_path(Nfa& n, const sema::PathPattern& pattern, const sema::PathBindings& bindings) {
  const auto bound = sema::bind_literal_prefix(pattern, bindings);
  if (!bound) return std::nullopt;
  const std::size_t start = n.add_state();
  std::size_t at = start;
  std::size_t steps = 0;
  for (std::size_t b = 1; b < bound->prefix.size();) {
    const std::size_t e = std::min(bound->prefix.find('/', b), bound->prefix.size());
    at = literal_step(n, at, std::string_view(bound->prefix).substr(b, e - b));
    ++steps;
    b = e + 1;
  }
  for (const std::string& component : bound->rest) {
    if (component == "**") {
      at = any_steps(n, at);
      continue;
    }
    auto next = glob_step(n, at, component);
    if (!next) return std::nullopt;
    at = *next;
    ++steps;
  }
  if (steps == 0 && bound->rest.empty()) {
    // The root: "/" itself, and every path, which has a first step.
    const std::size_t root = n.add_state();
    n.states[start].edges.push_back({UnitSet::single(kSlash), root});
    n.states[root].accepting = true;
    at = any_step(n, start);
  }
  // What it matches, and everything below.
  const std::size_t end = any_steps(n, at);
  n.states[end].accepting = true;
  return start;
}

std::optional<Nfa> path_nfa(const sema::PathPattern& pattern, const sema::PathBindings& bindings) {
  Nfa n;
  const auto start = add_path(n, pattern, bindings);
  if (!start) return std::nullopt;
  n.start = *start;
  return n;
}

}  // namespace sbpolicy::analysis
