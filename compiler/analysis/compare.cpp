#include "analysis/compare.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace sbpolicy::analysis {

namespace {

// The subjects at least as open as `effect` (allow: allowed; ask: allowed or asked).
std::optional<Dfa> at_least(PolicySets& sets, Operation op, Effect effect, std::string& error) {
  const Dfa* allow = sets.decided(op, Effect::Allow, error);
  if (allow == nullptr) return std::nullopt;
  if (effect == Effect::Allow) return *allow;
  const Dfa* ask = sets.decided(op, Effect::Ask, error);
  if (ask == nullptr) return std::nullopt;
  return combine(*allow, *ask, Combine::Union, error);
}

// Where `to` gives more access than `from`: allowed and not allowed before,
// or asked and neither allowed nor asked before.
std::optional<Dfa> opened(PolicySets& from, PolicySets& to, Operation op, std::string& error) {
  const Dfa* allowed = to.decided(op, Effect::Allow, error);
  const Dfa* asked = to.decided(op, Effect::Ask, error);
  const auto was_allowed = at_least(from, op, Effect::Allow, error);
  const auto was_open = at_least(from, op, Effect::Ask, error);
  if (allowed == nullptr || asked == nullptr || !was_allowed || !was_open) return std::nullopt;
  auto a = combine(*allowed, *was_allowed, Combine::Difference, error);
  auto k = combine(*asked, *was_open, Combine::Difference, error);
  if (!a || !k) return std::nullopt;
  return combine(*a, *k, Combine::Union, error);
}

// The subjects `sets` decides as `d`, by one of the same rules: where they
// match and their effect wins, or, for the default deny, where no rule decides.
std::optional<Dfa> decided_alike(PolicySets& sets, Operation op, const ir::Decision& d, std::string& error) {
  if (!d.defaulted()) {
    const auto rules = sets.union_of(d.deciding, error);
    const Dfa* wins = sets.decided(op, d.effect, error);
    if (!rules || wins == nullptr) return std::nullopt;
    return combine(*rules, *wins, Combine::Intersection, error);
  }
  std::optional<Dfa> any = sets.union_of({}, error);
  for (Effect e : {Effect::Deny, Effect::Allow, Effect::Ask}) {
    const Dfa* part = sets.decided(op, e, error);
    if (part == nullptr || !any) return std::nullopt;
    any = combine(*any, *part, Combine::Union, error);
  }
  if (!any) return std::nullopt;
  return complement(*any);
}

// Up to `max` examples of `region`, one per cause; whether more remain.
bool examples(PolicySets& before, PolicySets& after, Operation op, Dfa region, std::size_t max,
              std::vector<Change>& out, bool& more, std::string& error) {
  more = false;
  while (auto w = region.shortest_witness()) {
    if (out.size() == max) {
      more = true;
      return true;
    }
    const auto subject = PolicySets::subject(op, *w);
    if (!subject) {
      error = "an example is not a subject";  // the automata accept only subjects
      return false;
    }
    Change c{*subject, ir::decide(before.policy(), op, *subject, before.bindings()),
             ir::decide(after.policy(), op, *subject, after.bindings())};
    const auto old_cause = decided_alike(before, op, c.before, error);
    const auto new_cause = decided_alike(after, op, c.after, error);
    if (!old_cause || !new_cause) return false;
    const auto cause = combine(*old_cause, *new_cause, Combine::Intersection, error);
    if (!cause) return false;
    auto rest = combine(region, *cause, Combine::Difference, error);
    if (!rest) return false;
    region = std::move(*rest);
    out.push_back(std::move(c));
  }
  return true;
}

std::string rule_key(const ir::Rule& r) {
  std::string key = fmt::format("{}/{}/{}", static_cast<int>(r.operation), static_cast<int>(r.effect),
                                sema::pattern_text(r.pattern));
  for (const auto& e : r.excepts) key += "\x1f" + sema::pattern_text(e);
  return key;
}

// Is `path` at or below `top` (both absolute, normalised)?
bool at_or_below(std::string_view path, std::string_view top) {
  if (top == "/") return true;
  return path.starts_with(top) && (path.size() == top.size() || path[top.size()] == '/');
}

// A necessary condition for two patterns to share a subject.
bool may_meet(const sema::Pattern& a, const sema::Pattern& b, const sema::PathBindings& bindings) {
  if (a.index() != b.index()) return false;
  if (const auto* pa = std::get_if<sema::PathPattern>(&a)) {
    const auto x = sema::bind_literal_prefix(*pa, bindings);
    const auto y = sema::bind_literal_prefix(std::get<sema::PathPattern>(b), bindings);
    if (!x || !y) return true;
    return at_or_below(x->prefix, y->prefix) || at_or_below(y->prefix, x->prefix);
  }
  if (const auto* ea = std::get_if<sema::EnvPattern>(&a)) {
    const auto& eb = std::get<sema::EnvPattern>(b);
    const std::string_view x = std::string_view(ea->glob).substr(0, ea->glob.find('*'));
    const std::string_view y = std::string_view(eb.glob).substr(0, eb.glob.find('*'));
    return x.starts_with(y) || y.starts_with(x);
  }
  const auto& ha = std::get<sema::HostPattern>(a);
  const auto& hb = std::get<sema::HostPattern>(b);
  using Kind = sema::HostPattern::Kind;
  if ((ha.kind == Kind::Address) != (hb.kind == Kind::Address)) return false;
  if (ha.kind == Kind::Address) return ha.net.contains(hb.net) || hb.net.contains(ha.net);
  if (ha.kind == Kind::AnyName || hb.kind == Kind::AnyName) return true;
  const auto under = [](const sema::HostPattern& p, const sema::HostPattern& q) {
    // Could a name `p` matches also be one `q` matches? q's name is a suffix of p's.
    return p.name == q.name || p.name.ends_with("." + q.name);
  };
  if (ha.kind == Kind::Exact && hb.kind == Kind::Exact) return ha.name == hb.name;
  return under(ha, hb) || under(hb, ha);
}

bool rule_may_meet(const ir::Rule& a, const ir::Rule& b, const sema::PathBindings& bindings) {
  return may_meet(a.pattern, b.pattern, bindings);
}

}  // namespace

std::optional<std::pair<ir::Policy, ir::Policy>> touched_rules(const ir::Policy& before, const ir::Policy& after,
                                                               const sema::PathBindings& bindings,
                                                               std::size_t max_changed) {
  std::map<std::string, int> count;
  for (const ir::Rule& r : before.rules) ++count[rule_key(r)];
  for (const ir::Rule& r : after.rules) --count[rule_key(r)];
  std::vector<const ir::Rule*> changed;
  for (const ir::Policy* p : {&before, &after}) {
    for (const ir::Rule& r : p->rules) {
      const int c = count[rule_key(r)];
      if ((p == &before && c > 0) || (p == &after && c < 0)) changed.push_back(&r);
    }
  }
  if (changed.size() > max_changed) return std::nullopt;
  const auto reduce = [&](const ir::Policy& p) {
    ir::Policy out;
    out.files = p.files;
    out.limits = p.limits;
    out.ptrace = p.ptrace;
    for (const ir::Rule& r : p.rules) {
      if (std::any_of(changed.begin(), changed.end(), [&](const ir::Rule* c) { return rule_may_meet(r, *c, bindings); })) {
        out.rules.push_back(r);
      }
    }
    return out;
  };
  return std::make_pair(reduce(before), reduce(after));
}

std::string_view relation_name(Relation r) {
  switch (r) {
    case Relation::Equivalent: return "equivalent";
    case Relation::MorePermissive: return "more permissive";
    case Relation::LessPermissive: return "less permissive";
    case Relation::Incomparable: return "incomparable";
  }
  return "?";
}

std::optional<OperationDiff> compare(PolicySets& before, PolicySets& after, Operation op, std::size_t max_examples,
                                     std::string& error) {
  OperationDiff d;
  d.operation = op;
  auto more = opened(before, after, op, error);
  auto less = opened(after, before, op, error);
  if (!more || !less) return std::nullopt;
  if (!examples(before, after, op, std::move(*more), max_examples, d.added, d.more_added, error)) return std::nullopt;
  if (!examples(before, after, op, std::move(*less), max_examples, d.removed, d.more_removed, error)) {
    return std::nullopt;
  }
  const bool added = !d.added.empty(), removed = !d.removed.empty();
  d.relation = added && removed ? Relation::Incomparable
               : added          ? Relation::MorePermissive
               : removed        ? Relation::LessPermissive
                                : Relation::Equivalent;
  return d;
}

}  // namespace sbpolicy::analysis
