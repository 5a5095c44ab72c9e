// Comparing two policies, exactly (`sbc diff`): per operation, the subjects
// the new policy gives more access than the old one (deny < ask < allow)
// and those it gives less, each shown by shortest examples with the rules
// that decide them on both sides.
//
// The examples are grouped by cause: after each one, the subjects decided
// by the same rules on both sides are taken out of what is left, so the next
// example shows another rule's doing. At most `max_examples` per direction;
// `more_*` says whether others remain.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "analysis/policy_sets.hpp"

namespace sbpolicy::analysis {

enum class Relation { Equivalent, MorePermissive, LessPermissive, Incomparable };
std::string_view relation_name(Relation r);  // "equivalent", "more permissive", ...

struct Change {
  ir::Subject subject;
  ir::Decision before, after;  // rules point into the old and the new policy
};

struct OperationDiff {
  Operation operation;
  Relation relation = Relation::Equivalent;
  std::vector<Change> added;    // the new policy gives more access
  std::vector<Change> removed;  // the new policy gives less access
  bool more_added = false, more_removed = false;
};

// The rules of two policies that a change between them can touch: every
// rule that is not in both (the same operation, effect, pattern and
// excepts), and every rule that may share a subject with one of those (by
// literal prefixes, host names and blocks, variable prefixes: a necessary
// condition). A subject no changed rule matches is matched by the same rules
// on both sides and decided alike, and every rule matching a subject a
// changed rule matches is kept, so comparing the reduced policies finds
// exactly what comparing the whole ones does, and ir::decide on a subject
// of a difference answers the same. Returns nullopt (compare the whole
// policies) past `max_changed` changed rules.
std::optional<std::pair<ir::Policy, ir::Policy>> touched_rules(const ir::Policy& before, const ir::Policy& after,
                                                               const sema::PathBindings& bindings,
                                                               std::size_t max_changed = 500);

// Nullopt with `error` set past the automata's bound.
std::optional<OperationDiff> compare(PolicySets& before, PolicySets& after, Operation op, std::size_t max_examples,
                                     std::string& error);

}  // namespace sbpolicy::analysis
