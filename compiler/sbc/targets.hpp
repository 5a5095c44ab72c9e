// What each lowered target decides for one question, in the target's own
// terms: the Linux mount plan read as a mount table, the macOS profile
// through the SBPL evaluator, sbrun's proxy table with its address guard,
// and the environment sbrun passes. `sbc test` checks every expectation
// against these as well as the reference evaluator; each answer carries
// the lowered line that decides it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ir/evaluator.hpp"
#include "lower/mount_plan.hpp"
#include "lower/proxy_table.hpp"
#include "sbpl/profile.hpp"

namespace sbpolicy::sbc {

struct TargetAnswer {
  std::string target;                // "linux", "macos", "proxy", "environment"
  std::optional<ir::Effect> effect;  // nullopt: the target does not decide this (see `detail`)
  std::string detail;                // the mount, profile form or table row that decides
  // The target decides this itself, whatever the rules say (Linux's own
  // /tmp, /proc and /dev; the macOS start-up allowance): not compared.
  bool own = false;
};

// What sbrun's proxy does with a host the rules allow or ask about, when it
// refuses it anyway (a local name is never asked about; a guarded address
// opens only for an allow rule naming it); nullopt when it follows the rules.
std::optional<std::string> proxy_refusal(const lower::ProxyRuleTable& table, const sema::HostSubject& subject,
                                         const ir::Decision& d);

class TargetOracle {
 public:
  // Lowers `policy` for each target with `bindings`: Linux against a
  // filesystem in memory that holds `paths` (each a file, or a socket for
  // unix subjects; directories where a path lies below), macOS with the
  // proxy on `proxy_port`. A target that refuses the policy says why in
  // every answer (`failures`).
  TargetOracle(const ir::Policy& policy, const sema::PathBindings& bindings,
               const std::vector<std::pair<ir::Operation, std::string>>& paths);
  ~TargetOracle();

  // Every target's answer for `op` on `subject` (a canonical path, a host or
  // a variable name), asks unanswered: an `ask` grants nothing at launch.
  std::vector<TargetAnswer> answers(ir::Operation op, const ir::Subject& subject) const;

  // Per target, why it could not be built ("" when it was).
  std::vector<std::pair<std::string, std::string>> failures;

 private:
  const ir::Policy& policy_;
  sema::PathBindings bindings_;
  std::optional<lower::MountPlan> plan_;
  std::string plan_error_;
  std::optional<lower::ProxyRuleTable> table_;
  std::string table_error_;
  std::unique_ptr<sbpl::Profile> profile_;
  std::string profile_error_;
};

}  // namespace sbpolicy::sbc
