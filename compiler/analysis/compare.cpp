#include "analysis/compare.hpp"

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

}  // namespace

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
