// The reference evaluator: the definition of what a policy means.
//
// decide(policy, operation, subject, bindings) answers one question: may
// this operation touch this subject? The rules, in full:
//  - The rules that apply to an operation are its own, plus: `allow` and
//    `ask` write rules for `read` (write implies read), and `deny` read rules
//    for `write` (deny read implies deny write).
//  - A rule matches when its pattern matches the subject and none of its
//    `except` patterns does.
//  - deny beats allow beats ask; when nothing matches, the answer is deny.
// Every target is tested against this function, so it stays a plain loop
// over the rules with the reference matchers of sema, and nothing clever.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "ir/ir.hpp"

namespace sbpolicy::ir {

// What a decision is about: an absolute normalised path (read, write, unix),
// a host and port (net), or a variable name (env).
using Subject = std::variant<std::string, sema::HostSubject>;

struct Decision {
  Effect effect = Effect::Deny;
  // The rules that decided: every matching rule of the winning effect, in
  // IR order. Empty when nothing matched (the default deny).
  std::vector<const Rule*> deciding;
  // Every matching rule, of any effect, in IR order.
  std::vector<const Rule*> matching;
  bool defaulted() const { return deciding.empty(); }
};

// Does `rule` take part in decisions about `op`?
bool applies_to(const Rule& rule, Operation op);
// The same for a rule of `operation` and `effect`.
bool applies_to(Operation operation, Effect effect, Operation op);

// Does `pattern` match `subject` (the reference matchers of sema)?
bool pattern_matches(const Pattern& pattern, const Subject& subject, const sema::PathBindings& bindings);

// Does `rule`'s pattern match `subject` with none of its excepts matching?
bool rule_matches(const Rule& rule, const Subject& subject, const sema::PathBindings& bindings);

Decision decide(const Policy& policy, Operation op, const Subject& subject, const sema::PathBindings& bindings);

// The last step of decide(): deny > allow > ask over the rules that match,
// deny by default. `matching` in IR order.
Decision settle(std::vector<const Rule*> matching);

// settle() for a target that matched rules of its own making (the Linux
// lowering, whose rules are literal subtrees by then): the winning effect,
// and the items of it appended to `deciding`, in their order. `effect_of`
// gives an item's effect.
template <typename T, typename EffectOf>
Effect settle_by(const std::vector<T>& matching, EffectOf effect_of, std::vector<T>& deciding) {
  for (Effect winner : {Effect::Deny, Effect::Allow, Effect::Ask}) {
    for (const T& m : matching) {
      if (effect_of(m) == winner) deciding.push_back(m);
    }
    if (!deciding.empty()) return winner;
  }
  return Effect::Deny;
}

}  // namespace sbpolicy::ir
