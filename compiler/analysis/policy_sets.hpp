// A policy's decisions as sets of subjects, one automaton per operation and
// effect, for the analyses that ask about every subject at once (`sbc
// diff`, `lint`): which paths does this policy allow to be written? Which
// does the new one allow that the old one did not?
//
// The sets follow the reference evaluator (ir/evaluator.hpp) exactly: the
// rules that apply to an operation (write grants for read, read denials for
// write), each rule matching its pattern minus its excepts, deny beats allow
// beats ask. tests/unit/policy_sets_test.cpp checks them against ir::decide
// on generated policies and subjects.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analysis/automaton.hpp"
#include "ir/evaluator.hpp"

namespace sbpolicy::analysis {

using ir::Effect;
using ir::Operation;

// The bindings the analyses use unless told otherwise: a home under /home
// and the workspace inside it, as on most machines, so that `~/**` covers
// the workspace and `/home/**` covers both, as they would there.
sema::PathBindings analysis_bindings(const std::string& workspace = "", const std::string& home = "");

class PolicySets {
 public:
  PolicySets(const ir::Policy& policy, sema::PathBindings bindings);

  const ir::Policy& policy() const { return policy_; }
  const sema::PathBindings& bindings() const { return bindings_; }

  // The subjects `rule` matches: its pattern minus its excepts. Null with
  // `error` set past the automata's bound (or a pattern that cannot be bound).
  const Dfa* rule(const ir::Rule& rule, std::string& error);
  // The subjects any of `rules` matches.
  std::optional<Dfa> union_of(const std::vector<const ir::Rule*>& rules, std::string& error);
  // The subjects for which `op` is decided `effect` (deny: a deny matches;
  // allow: an allow and no deny; ask: an ask and neither). The default deny
  // is not in the deny set: it is what no set holds.
  const Dfa* decided(Operation op, Effect effect, std::string& error);
  // The rules that take part in decisions about `op`, of `effect`, in IR order.
  const std::vector<const ir::Rule*>& rules_of(Operation op, Effect effect);

  // A subject's units, and back (a path or variable name as text, a host as
  // "name:port"), for the operation's kind of subject.
  static std::vector<std::uint32_t> units(Operation op, const ir::Subject& subject);
  static std::optional<ir::Subject> subject(Operation op, const std::vector<std::uint32_t>& units);

 private:
  const ir::Policy& policy_;
  sema::PathBindings bindings_;
  std::map<std::uint32_t, std::unique_ptr<Dfa>> rules_;
  std::map<std::pair<Operation, Effect>, std::unique_ptr<Dfa>> decided_;
  std::map<std::pair<Operation, Effect>, std::vector<const ir::Rule*>> rules_of_;
};

// The subject as a user writes it: a path under the workspace as "./x", under
// the home as "~/x", a host as "name:port".
std::string subject_text(const ir::Subject& subject, const sema::PathBindings& bindings);

// An automaton as an NFA with the states that cannot reach acceptance left
// out (the dead state of a complete DFA), to be joined with others.
Nfa trimmed_nfa(const Dfa& dfa);

}  // namespace sbpolicy::analysis
