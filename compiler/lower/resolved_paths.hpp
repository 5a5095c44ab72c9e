// The policy on resolved paths: what `sbc explain` and the conformance
// checks decide over, so that they answer for the paths the sandbox mounts.
//
// The Linux lowering binds each rule's literal prefix (the part before the
// first wildcard) to the path it resolves to through existing symlinks, and
// the kernel resolves every access the same way. So a decision about a path
// is a decision about its canonical path, over rules whose literal prefixes
// are canonical: `/home/u/x` with `/home -> /var/home` is `/var/home/u/x`
// for the rule `allow read "~"` bound to `/var/home/u`.
//
// What the sandbox does beyond this, always restrictively, is in
// docs/linux.md: a grant does not follow links found by its wildcard or
// planted in writable directories (W0101), and a denial follows links its
// wildcard finds.
#pragma once

#include <string>

#include "ir/ir.hpp"
#include "lower/fs_view.hpp"
#include "sema/path_pattern.hpp"

namespace sbpolicy::lower {

// `policy` with every path rule's (and except's) literal prefix replaced by
// its canonical path as a root-anchored pattern. Rules keep their ids and
// origins; patterns that cannot be bound are kept as written. A pattern
// that widens (a grant's target, a deny's except) whose prefix goes through
// a link in a directory the policy lets the command write keeps its prefix
// as written, as the lowering does not follow it (W0101).
ir::Policy resolve_rule_paths(const ir::Policy& policy, FsView& fs, const sema::PathBindings& bindings);

// Could a run under `policy` have planted a symlink in `dir`: does it let
// the command write there (an ask counts, since it may have been allowed)?
// A link there is followed by no grant, and no protection relies on it.
bool may_plant_in(const ir::Policy& policy, const sema::PathBindings& bindings, std::string_view dir);

// A literal, root-anchored pattern naming exactly `absolute` (and its subtree).
sema::PathPattern literal_pattern(std::string_view absolute);

// Bindings whose directories are canonical.
sema::PathBindings canonical_bindings(FsView& fs, const sema::PathBindings& bindings);

}  // namespace sbpolicy::lower
