#include "analysis/policy_sets.hpp"

#include <algorithm>

#include "analysis/path_automaton.hpp"
#include "analysis/subjects.hpp"

namespace sbpolicy::analysis {

namespace {

// Appends `part`'s states to `into`; returns the number its states are
// shifted by.
std::size_t append(Nfa& into, const Nfa& part) {
  const std::size_t offset = into.states.size();
  for (const Nfa::State& s : part.states) {
    Nfa::State copy = s;
    for (auto& e : copy.edges) e.to += offset;
    for (auto& t : copy.epsilon) t += offset;
    into.states.push_back(std::move(copy));
  }
  return offset;
}

// Appends `part` to `into`, reachable from `into`'s start by an epsilon edge.
void join(Nfa& into, const Nfa& part) {
  const std::size_t offset = append(into, part);
  into.states[into.start].epsilon.push_back(part.start + offset);
}

// A path rule whose excepts all lie at or below its literal prefix matches
// that prefix followed by a relative set: its glob components and what lies
// below, minus each except's components below the prefix and what lies
// below them. Rules that differ only in their prefix
// (`~/.config/appN except ~/.config/appN/public`) have the same relative
// set, so a union builds it once.
struct RelativeExcepts {
  std::string text;  // the rule's pattern, for messages
  std::string prefix;
  std::vector<std::string> rest;
  std::vector<std::pair<std::string, std::vector<std::string>>> excepts;  // literal components, glob components
  std::vector<std::string> key;  // all of the above but the prefix, each list after its length
};

// Nullopt when the rule is not of that shape.
std::optional<RelativeExcepts> relative_excepts(const ir::Rule& rule, const sema::PathBindings& bindings) {
  const auto* pattern = std::get_if<sema::PathPattern>(&rule.pattern);
  if (pattern == nullptr || rule.excepts.empty()) return std::nullopt;
  const auto bound = sema::bind_literal_prefix(*pattern, bindings);
  if (!bound || bound->prefix == "/") return std::nullopt;
  RelativeExcepts out{sema::pattern_text(rule.pattern), bound->prefix, bound->rest, {}, {}};
  const auto add_to_key = [&](const std::vector<std::string>& components) {
    out.key.push_back(std::to_string(components.size()));
    out.key.insert(out.key.end(), components.begin(), components.end());
  };
  add_to_key(bound->rest);
  for (const sema::Pattern& e : rule.excepts) {
    const auto* except = std::get_if<sema::PathPattern>(&e);
    if (except == nullptr) return std::nullopt;
    const auto eb = sema::bind_literal_prefix(*except, bindings);
    if (!eb) return std::nullopt;
    const bool below = eb->prefix == out.prefix ||
                       (eb->prefix.starts_with(out.prefix) && eb->prefix[out.prefix.size()] == '/');
    if (!below) return std::nullopt;
    out.excepts.emplace_back(eb->prefix.substr(out.prefix.size()), eb->rest);
    out.key.push_back(out.excepts.back().first);
    add_to_key(eb->rest);
  }
  return out;
}

// Adds the rule to `n` (the relative set from `shared`, made and added on
// first use); returns the start of its states. Nullopt with `error` set past
// the automata's bound.
using SharedExcepts = std::map<std::vector<std::string>, std::size_t>;
std::optional<std::size_t> add_relative_excepts(Nfa& n, const RelativeExcepts& r, SharedExcepts& shared,
                                                std::string& error) {
  auto it = shared.find(r.key);
  if (it == shared.end()) {
    Nfa keep, remove;
    PathEnds keep_ends, remove_ends;
    keep.start = keep.add_state();
    remove.start = remove.add_state();
    const auto not_compiled = [&] {
      error = "the pattern `" + r.text + "` or one of its excepts does not compile";
      return std::nullopt;
    };
    const auto ending = add_ending(keep, r.rest, keep_ends);
    if (!ending) return not_compiled();
    keep.states[keep.start].epsilon.push_back(*ending);
    for (const auto& [components, rest] : r.excepts) {
      const std::size_t start = remove.add_state();
      remove.states[remove.start].epsilon.push_back(start);
      const auto end = add_ending(remove, rest, remove_ends);
      if (!end) return not_compiled();
      remove.states[add_literal_steps(remove, start, components)].epsilon.push_back(*end);
    }
    auto kept = determinize(keep, error);
    if (!kept) return std::nullopt;
    const auto removed = determinize(remove, error);
    if (!removed) return std::nullopt;
    kept = combine(*kept, *removed, Combine::Difference, error);
    if (!kept) return std::nullopt;
    const Nfa relative = trimmed_nfa(minimize(*kept));
    it = shared.emplace(r.key, append(n, relative) + relative.start).first;
  }
  const std::size_t start = n.add_state();
  n.states[add_literal_steps(n, start, r.prefix)].epsilon.push_back(it->second);
  return start;
}

std::optional<Dfa> empty_dfa() {
  Nfa n;
  n.start = n.add_state();
  std::string unused;
  return determinize(n, unused);
}

}  // namespace

sema::PathBindings analysis_bindings(const std::string& workspace, const std::string& home) {
  sema::PathBindings b;
  b.home = home.empty() ? "/home/user" : home;
  b.workspace = workspace.empty() ? b.home + "/project" : workspace;
  b.tmpdir = "/tmp";
  return b;
}

Nfa trimmed_nfa(const Dfa& dfa) {
  // The states that cannot reach acceptance (State::live) are left out.
  Nfa n;
  n.states.resize(dfa.states.size());
  n.start = dfa.start;
  for (std::size_t s = 0; s < dfa.states.size(); ++s) {
    n.states[s].accepting = dfa.states[s].accepting;
    if (!dfa.states[s].live) continue;
    for (const auto& e : dfa.states[s].edges) {
      if (dfa.states[e.to].live) n.add_edge(s, e.lo, e.hi, e.to);
    }
  }
  return n;
}

PolicySets::PolicySets(const ir::Policy& policy, sema::PathBindings bindings)
    : policy_(policy), bindings_(std::move(bindings)) {}

const Dfa* PolicySets::rule(const ir::Rule& rule, std::string& error) {
  if (auto it = rules_.find(rule.id); it != rules_.end()) return it->second.get();
  const auto pattern = pattern_nfa(rule.pattern, bindings_);
  if (!pattern) {
    error = "the pattern `" + sema::pattern_text(rule.pattern) + "` cannot be bound";
    return nullptr;
  }
  auto dfa = determinize(*pattern, error);
  if (!dfa) return nullptr;
  if (!rule.excepts.empty()) {
    Nfa excepts;
    excepts.start = excepts.add_state();
    for (const sema::Pattern& e : rule.excepts) {
      const auto part = pattern_nfa(e, bindings_);
      if (!part) {
        error = "the pattern `" + sema::pattern_text(e) + "` cannot be bound";
        return nullptr;
      }
      join(excepts, *part);
    }
    const auto removed = determinize(excepts, error);
    if (!removed) return nullptr;
    dfa = combine(*dfa, *removed, Combine::Difference, error);
    if (!dfa) return nullptr;
  }
  return rules_.emplace(rule.id, std::make_unique<Dfa>(std::move(*dfa))).first->second.get();
}

std::optional<Dfa> PolicySets::union_of(const std::vector<const ir::Rule*>& rules, std::string& error) {
  if (rules.empty()) return empty_dfa();
  // Rules without `**` make one automaton by one subset construction
  // (literal paths make a trie, whatever their number). The others are
  // joined pairwise, in a balanced tree, each union minimised: patterns that match at any depth and cover what lies below a
  // match would otherwise track, in one subset construction, which of them
  // matched above, 2^n states for n of them.
  Nfa simple;
  simple.start = simple.add_state();
  PathEnds ends;
  SharedExcepts excepts;
  std::vector<const Dfa*> others;
  const auto any_depth = [](const sema::Pattern& p) {
    const auto* path = std::get_if<sema::PathPattern>(&p);
    return path != nullptr && std::find(path->components.begin(), path->components.end(), "**") != path->components.end();
  };
  for (const ir::Rule* r : rules) {
    const bool deep = any_depth(r->pattern) || std::any_of(r->excepts.begin(), r->excepts.end(), any_depth);
    if (deep) {
      const Dfa* d = rule(*r, error);
      if (d == nullptr) return std::nullopt;
      others.push_back(d);
    } else if (r->excepts.empty()) {
      const auto start = add_pattern(simple, r->pattern, bindings_, ends);
      if (!start) {
        error = "the pattern `" + sema::pattern_text(r->pattern) + "` cannot be bound";
        return std::nullopt;
      }
      simple.states[simple.start].epsilon.push_back(*start);
    } else if (const auto relative = relative_excepts(*r, bindings_)) {
      const auto start = add_relative_excepts(simple, *relative, excepts, error);
      if (!start) return std::nullopt;
      simple.states[simple.start].epsilon.push_back(*start);
    } else {
      const Dfa* d = rule(*r, error);
      if (d == nullptr) return std::nullopt;
      join(simple, trimmed_nfa(*d));
    }
  }
  auto all = determinize(simple, error);
  if (!all) return std::nullopt;
  if (others.empty()) return all;
  std::vector<Dfa> level;
  level.push_back(minimize(*all));
  for (const Dfa* d : others) level.push_back(*d);
  while (level.size() > 1) {
    std::vector<Dfa> next;
    for (std::size_t i = 0; i + 1 < level.size(); i += 2) {
      auto u = combine(level[i], level[i + 1], Combine::Union, error);
      if (!u) return std::nullopt;
      next.push_back(minimize(*u));
    }
    if (level.size() % 2 == 1) next.push_back(std::move(level.back()));
    level = std::move(next);
  }
  return std::move(level.front());
}

const std::vector<const ir::Rule*>& PolicySets::rules_of(Operation op, Effect effect) {
  const auto key = std::make_pair(op, effect);
  if (auto it = rules_of_.find(key); it != rules_of_.end()) return it->second;
  std::vector<const ir::Rule*> out;
  for (const ir::Rule& r : policy_.rules) {
    if (r.effect == effect && ir::applies_to(r, op)) out.push_back(&r);
  }
  return rules_of_.emplace(key, std::move(out)).first->second;
}

const Dfa* PolicySets::decided(Operation op, Effect effect, std::string& error) {
  const auto key = std::make_pair(op, effect);
  if (auto it = decided_.find(key); it != decided_.end()) return it->second.get();
  auto own = union_of(rules_of(op, effect), error);
  if (!own) return nullptr;
  // Take away what the effects above this one decide.
  for (Effect above : {Effect::Deny, Effect::Allow}) {
    if (above == effect) break;
    const Dfa* a = decided(op, above, error);
    if (a == nullptr) return nullptr;
    own = combine(*own, *a, Combine::Difference, error);
    if (!own) return nullptr;
  }
  return decided_.emplace(key, std::make_unique<Dfa>(minimize(*own))).first->second.get();
}

std::vector<std::uint32_t> PolicySets::units(Operation op, const ir::Subject& subject) {
  if (op == Operation::Net) return host_units(std::get<sema::HostSubject>(subject));
  const std::string& text = std::get<std::string>(subject);
  if (op == Operation::Env) {
    std::vector<std::uint32_t> out;
    for (unsigned char c : text) out.push_back(c);
    return out;
  }
  return path_units(text);
}

std::optional<ir::Subject> PolicySets::subject(Operation op, const std::vector<std::uint32_t>& units) {
  if (op == Operation::Net) {
    auto h = units_host(units);
    if (!h) return std::nullopt;
    return ir::Subject(std::move(*h));
  }
  if (op == Operation::Env) {
    std::string text;
    for (std::uint32_t u : units) {
      if (u > 0xFF) return std::nullopt;
      text += static_cast<char>(u);
    }
    return ir::Subject(std::move(text));
  }
  return ir::Subject(units_text(units));
}

std::string subject_text(const ir::Subject& subject, const sema::PathBindings& bindings) {
  if (const auto* h = std::get_if<sema::HostSubject>(&subject)) return h->text();
  const std::string& text = std::get<std::string>(subject);
  const auto below = [&](const std::string& dir) {
    return !dir.empty() && (text == dir || (text.starts_with(dir) && text[dir.size()] == '/'));
  };
  // `.` or `~` in place of the directory.
  const auto spelled = [&](const std::string& dir, char anchor) {
    std::string out(1, anchor);
    out += std::string_view(text).substr(dir.size());
    return out;
  };
  if (below(bindings.workspace)) return spelled(bindings.workspace, '.');
  if (below(bindings.home)) return spelled(bindings.home, '~');
  return text;
}

}  // namespace sbpolicy::analysis
