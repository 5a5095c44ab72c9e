// Binding a policy's symbolic anchors (`~`, `.`, `$TMPDIR`, `$XDG_*`) to real
// directories from the command line and the invoking environment, the same
// way for sbc and sbrun.
#pragma once

#include <string>

#include "sema/path_pattern.hpp"

namespace sbpolicy::driver {

// `workspace` and `home` override the defaults (the current directory and
// $HOME, or the password database). Relative directories are taken from the
// current directory. With `canonical`, every directory is resolved through
// symlinks (what the Linux target needs at launch).
sema::PathBindings bindings_from_environment(const std::string& workspace, const std::string& home, bool canonical);

}  // namespace sbpolicy::driver
