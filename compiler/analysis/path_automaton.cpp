#include "analysis/path_automaton.hpp"

#include <algorithm>
#include <map>

#include "sema/glob.hpp"
#include "support/text.hpp"

namespace sbpolicy::analysis {

namespace {

constexpr std::uint32_t kSlash = '/';

// A unit a name can hold: anything but `/` and NUL, and never a surrogate
// or an invalid byte below 0x80 (the decoder gives neither).
const UnitSet& name_unit() {
  static const UnitSet kName = [] {
    UnitSet not_in_names = UnitSet::single(0);
    not_in_names.add(kSlash, kSlash);
    not_in_names.add(0xD800, 0xDFFF);
    not_in_names.add(0x110000, 0x110000 + 0x7F);
    return UnitSet::all().minus(not_in_names);
  }();
  return kName;
}

// The names a component glob matches, as an automaton of its own (the
// accepting states end a name); nullopt when it does not compile.
std::optional<Nfa> glob_names(std::string_view component) {
  const auto compiled = sema::glob::compile(component);
  if (!compiled) return std::nullopt;
  Nfa c;
  c.start = c.add_state();
  const std::size_t end = c.add_state();
  c.states[end].accepting = true;
  for (const auto& tokens : compiled->alternatives) {
    std::size_t at = c.add_state();
    c.states[c.start].epsilon.push_back(at);
    // A name is never empty: an alternative of stars alone takes one unit.
    const bool only_stars = std::all_of(tokens.begin(), tokens.end(),
                                        [](const auto& t) { return t.kind == sema::glob::Token::Star; });
    if (only_stars) {
      const std::size_t one = c.add_state();
      c.add_edge(at, name_unit(), one);
      at = one;
    }
    for (const auto& t : tokens) {
      if (t.kind == sema::glob::Token::Star) {
        c.add_edge(at, name_unit(), at);
        continue;
      }
      UnitSet on;
      if (t.kind == sema::glob::Token::Unit) {
        on = UnitSet::single(t.value);
      } else if (t.kind == sema::glob::Token::Any) {
        on = name_unit();
      } else {
        const auto& cls = compiled->classes[t.value];
        for (const auto& [lo, hi] : cls.ranges) on.add(lo, hi);
        if (cls.negated) on = on.complement();
        on = on.minus(name_unit().complement());
      }
      const std::size_t next = c.add_state();
      c.add_edge(at, on, next);
      at = next;
    }
    c.states[at].epsilon.push_back(end);
  }
  return c;
}

// Any name: one or more name units.
const Nfa& any_name() {
  static const Nfa kAny = [] {
    Nfa c;
    c.start = c.add_state();
    const std::size_t in = c.add_state();
    c.add_edge(c.start, name_unit(), in);
    c.add_edge(in, name_unit(), in);
    c.states[in].accepting = true;
    return c;
  }();
  return kAny;
}

// Appends, from `from`, one component step: "/" and a name `names`
// accepts, except `.` and `..` (no subject holds them: the evaluator
// normalises them away, and a glob such as `.*` or `*` would match them).
// Returns the state after the name. The product of `names` with a
// four-state reader of the name's start (nothing yet, ".", "..", any other
// name), built from the start over the pairs that occur.
std::size_t real_step(Nfa& n, std::size_t from, const Nfa& names) {
  enum Seen : std::size_t { kNothing, kDot, kDotDot, kOther };
  const std::size_t after_slash = n.add_state(), end = n.add_state();
  n.add_edge(from, kSlash, kSlash, after_slash);
  std::map<std::pair<std::size_t, std::size_t>, std::size_t> ids{{{names.start, kNothing}, after_slash}};
  std::vector<std::pair<std::size_t, std::size_t>> todo{{names.start, kNothing}};
  const auto id_of = [&](std::size_t q, std::size_t seen) {
    auto [it, added] = ids.try_emplace({q, seen}, 0);
    if (added) {
      it->second = n.add_state();
      todo.emplace_back(q, seen);
    }
    return it->second;
  };
  // Targets are numbered before an edge is added: numbering adds states,
  // which may move the vector an edge would be added to.
  const auto edge = [&](std::size_t here, std::uint32_t lo, std::uint32_t hi, std::size_t q, std::size_t seen) {
    if (lo > hi) return;
    const std::size_t to = id_of(q, seen);
    n.add_edge(here, lo, hi, to);
  };
  while (!todo.empty()) {
    const auto [q, seen] = todo.back();
    todo.pop_back();
    const std::size_t here = ids.at({q, seen});
    if (names.states[q].accepting && seen == kOther) n.states[here].epsilon.push_back(end);
    for (std::size_t t : names.states[q].epsilon) {
      const std::size_t to = id_of(t, seen);
      n.states[here].epsilon.push_back(to);
    }
    for (const auto& e : names.states[q].edges) {
      if (seen == kOther || seen == kDotDot || e.hi < '.' || e.lo > '.') {
        edge(here, e.lo, e.hi, e.to, kOther);
        continue;
      }
      // The interval holds `.`: below it, `.` itself, above it.
      if (e.lo < '.') edge(here, e.lo, '.' - 1, e.to, kOther);
      edge(here, '.', '.', e.to, seen == kNothing ? kDot : kDotDot);
      if (e.hi > '.') edge(here, '.' + 1, e.hi, e.to, kOther);
    }
  }
  return end;
}

// Any number of component steps from `from`; returns the state where they
// may stop (reached by epsilon from `from` too).
std::size_t any_steps(Nfa& n, std::size_t from) {
  const std::size_t hub = n.add_state();
  n.states[from].epsilon.push_back(hub);
  const std::size_t end = real_step(n, hub, any_name());
  n.states[end].epsilon.push_back(hub);
  return hub;
}

// One step "/" + a literal name (never `.` or `..`: literal prefixes are
// normalised).
std::size_t literal_step(Nfa& n, std::size_t from, std::string_view name) {
  std::size_t at = n.add_state();
  n.add_edge(from, kSlash, kSlash, at);
  for (std::uint32_t u : sema::glob::decode_name(name)) {
    const std::size_t next = n.add_state();
    n.add_edge(at, u, u, next);
    at = next;
  }
  return at;
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

std::size_t add_literal_steps(Nfa& n, std::size_t from, std::string_view components) {
  std::size_t at = from;
  for (std::size_t b = 1; b < components.size();) {
    const std::size_t e = std::min(components.find('/', b), components.size());
    at = literal_step(n, at, components.substr(b, e - b));
    b = e + 1;
  }
  return at;
}

std::optional<std::size_t> add_ending(Nfa& n, const std::vector<std::string>& rest, PathEnds& ends) {
  if (auto it = ends.rests.find(rest); it != ends.rests.end()) return it->second;
  if (!ends.below) {
    const std::size_t below = n.add_state();
    n.states[any_steps(n, below)].accepting = true;
    ends.below = below;
  }
  const std::size_t first = n.add_state();
  std::size_t at = first;
  for (const std::string& component : rest) {
    if (component == "**") {
      at = any_steps(n, at);
      continue;
    }
    const auto names = glob_names(component);
    if (!names) return std::nullopt;
    at = real_step(n, at, *names);
  }
  n.states[at].epsilon.push_back(*ends.below);
  ends.rests.emplace(rest, first);
  return first;
}

std::optional<std::size_t> add_path(Nfa& n, const sema::PathPattern& pattern, const sema::PathBindings& bindings,
                                    PathEnds& ends) {
  const auto bound = sema::bind_literal_prefix(pattern, bindings);
  if (!bound) return std::nullopt;
  const std::size_t start = n.add_state();
  std::size_t at = add_literal_steps(n, start, bound->prefix);
  if (at == start && bound->rest.empty()) {
    // The root: "/" itself, and every path, which has a first step.
    const std::size_t root = n.add_state();
    n.add_edge(start, kSlash, kSlash, root);
    n.states[root].accepting = true;
    at = real_step(n, start, any_name());
  }
  const auto end = add_ending(n, bound->rest, ends);
  if (!end) return std::nullopt;
  n.states[at].epsilon.push_back(*end);
  return start;
}

std::optional<Nfa> path_nfa(const sema::PathPattern& pattern, const sema::PathBindings& bindings) {
  Nfa n;
  PathEnds ends;
  const auto start = add_path(n, pattern, bindings, ends);
  if (!start) return std::nullopt;
  n.start = *start;
  return n;
}

}  // namespace sbpolicy::analysis
