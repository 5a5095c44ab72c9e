// Findings sbc adds to a compiled policy for its author, beyond what the
// front end must check to build it. sbrun does not run them: they cost a
// launch time and it shows only errors.
#pragma once

#include "driver/pipeline.hpp"

namespace sbpolicy::driver {

// W0005: an allow (or ask) about a path in the root file that a deny of an
// imported module overrules on the very path it names, with the carve-out
// that would open it. Decided on the rule's literal path with stand-in
// anchors (the same for both rules, so the answer does not depend on
// them); globs are not judged.
void warn_shadowed_allows(Compilation& c);

// W0100 where `sbc compile --target bwrap` would give it, without lowering:
// each path rule of the user's own files whose target or an except has a
// wildcard past its literal prefix is expanded against the filesystem at
// launch on Linux. (The standard library's are the library's business.)
void warn_launch_globs(Compilation& c);

}  // namespace sbpolicy::driver
