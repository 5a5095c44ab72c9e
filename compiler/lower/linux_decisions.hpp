// What the Linux sandbox does beyond the policy's decision, for `sbc explain`
// and the conformance checks.
//
// The policy decides about host objects. A few paths inside the sandbox are
// not the host's but its own, made fresh by every launch, and what the
// command can do with them is not what the rules alone say:
//  - /proc is a fresh procfs (only the sandbox's processes), readable unless
//    a rule denies it; the host kernel's settings in it (kProcReadOnly) are
//    read-only, whatever the rules grant.
//  - /dev is bubblewrap's minimal /dev (null, zero, full, random, urandom,
//    tty, ptmx, pts) with a private /dev/shm: those are usable unless a rule
//    denies them; nothing else of the host's /dev is there, even if granted.
//  - a `unix` grant never exposes a socket that a read or write denial
//    names: a deny holds over every grant.
// A denial inside /proc or /dev holds as the rules say (the lowering masks
// it, or refuses the launch with E0403 when it names a per-process path).
#pragma once

#include <optional>
#include <string>

#include "ir/evaluator.hpp"
#include "ir/ir.hpp"

namespace sbpolicy::lower {

struct SandboxOverride {
  ir::Effect effect;
  std::string why;
};

// `decision` is the policy's for `op` on `path` (canonical), from `policy`
// (with resolved paths: lower/resolved_paths.hpp). Nullopt when the sandbox
// does what the decision says.
std::optional<SandboxOverride> linux_override(const ir::Policy& policy, const sema::PathBindings& bindings,
                                              ir::Operation op, const std::string& path,
                                              const ir::Decision& decision);

}  // namespace sbpolicy::lower
