// Binding a policy's symbolic anchors (`~`, `.`, `$TMPDIR`, `$XDG_*`) to real
// directories from the command line and the invoking environment, and
// gathering the rest of what a launch on this machine looks like, the same
// way for sbc and sbrun.
#pragma once

#include <string>

#include <utility>
#include <vector>

#include "lower/mount_plan.hpp"
#include "sema/path_pattern.hpp"

namespace sbpolicy::driver {

// `workspace` and `home` override the defaults (the current directory and
// $HOME, or the password database). Relative directories are taken from the
// current directory. With `canonical`, every directory is resolved through
// symlinks (what the Linux target needs at launch).
sema::PathBindings bindings_from_environment(const std::string& workspace, const std::string& home, bool canonical);

// The invoking process's environment, as (name, value) pairs.
std::vector<std::pair<std::string, std::string>> invoking_environment();

// What lowering to a mount plan needs from this machine and this moment:
// canonical bindings, the invoking environment, and the variables the
// runtime sets itself (TMPDIR). sbc (`--target bwrap`) and sbrun use the same.
lower::LowerOptions lowering_options(const std::string& workspace, const std::string& home);

}  // namespace sbpolicy::driver
