// The policy's resource limits on this machine (docs/limits.md).
//
// Takes the IR's limits and the command line's `--limit KIND=VALUE|none`,
// and decides how each is enforced here:
//   - memory and processes: a cgroup v2 transient scope (memory.max with no
//     swap, pids.max) when systemd runs the machine on the unified hierarchy
//     with those controllers; otherwise rlimits (RLIMIT_DATA per process,
//     RLIMIT_NPROC for the sandbox's own user namespace: exact);
//   - cpu_time, file_size, open_files: rlimits, per process (RLIMIT_CPU,
//     RLIMIT_FSIZE, RLIMIT_NOFILE);
//   - wall_time: sbrun's own timer.
// The init sets the rlimits on the command's process before it executes it
// (sent with the go, sandbox/protocol.h). What cannot be exact here is a
// W0106 (refused under --target-strict). When the command ends, the status
// is read against the limits for a message that names the one it met.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/ir.hpp"

namespace sbpolicy::runtime {

using sema::LimitKind;

// `--limit KIND=VALUE` or `--limit KIND=none`.
struct LimitOverride {
  LimitKind kind;
  std::optional<std::uint64_t> value;  // none: no limit of this kind
};
// Parses one `--limit` argument; false with `error` set when it is not one.
bool parse_limit_override(const std::string& text, LimitOverride& out, std::string& error);

enum class Enforcement : std::uint8_t { Rlimit, Cgroup, Timer };

struct AppliedLimit {
  LimitKind kind;
  std::uint64_t value = 0;
  std::string from;  // "policy.sbpolicy:3:1" or "--limit"
  Enforcement how = Enforcement::Rlimit;
  bool per_process = false;  // an rlimit that bounds each process, not the sandbox
};

// One rlimit for the command: the init sets {soft, hard}, each capped at the
// hard limit it inherited.
struct CommandRlimit {
  int resource = 0;
  std::uint64_t soft = 0, hard = 0;
};

// What this machine offers for a transient scope.
struct CgroupSupport {
  bool available = false;
  bool user_manager = false;  // talk to the user's systemd (sbrun is not root)
  std::string why_not;        // for -v when unavailable
  // macOS: no user namespace, so RLIMIT_NPROC counts every process of the
  // user, not the sandbox's alone.
  bool user_wide_processes = false;
  static CgroupSupport detect();
};

class Limits {
 public:
  // The limits of `policy`, overridden by `overrides`, planned for `cgroup`.
  Limits(const ir::Policy& policy, const std::vector<LimitOverride>& overrides, const CgroupSupport& cgroup);

  const std::vector<AppliedLimit>& applied() const { return applied_; }
  bool empty() const { return applied_.empty(); }
  const AppliedLimit* find(LimitKind kind) const;
  bool wants_cgroup() const;

  // Moves `pids` (bubblewrap and the init, before the command exists) into
  // a new transient scope with the memory and process limits. On failure the
  // limits fall back to rlimits and `note` says why.
  void enter_scope(const std::vector<pid_t>& pids, std::string& note);

  // The rlimits the init sets on the command.
  std::vector<CommandRlimit> command_rlimits() const;

  // One line per limit for -v.
  std::vector<std::string> describe() const;
  // W0106 texts: the limits that bound each process rather than the sandbox.
  std::vector<std::string> per_process_notes() const;

  // After the command ended with `code` (sbrun's exit status): the message
  // that names the limit it met, or "".
  std::string outcome(int code) const;

 private:
  std::vector<AppliedLimit> applied_;
  CgroupSupport cgroup_;
  std::string scope_dir_;  // the scope's cgroup directory once entered
};

// The argv of the systemd call that makes a transient scope named `unit`
// holding `pids`, with the cgroup limits of `limits`.
std::vector<std::string> scope_command(const std::string& unit, const std::vector<pid_t>& pids,
                                       const std::vector<AppliedLimit>& limits, bool user_manager);

}  // namespace sbpolicy::runtime
