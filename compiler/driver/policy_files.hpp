// A policy's own files are read-only in the sandbox it describes.
//
// Whatever their names: the root file given on the command line and every
// file it `use`s (`use "./extra.inc";`). A sandbox that could rewrite one
// would grant itself more on the next run. Each file is protected by a
// `deny write` rule added to the IR, on the path it was read from (so a
// symlink in a writable directory on the way is refused at launch, E0401,
// like any protected path there) and on its canonical path; the rule's
// origin is the file itself, line 1, so plans and logs name it.
#pragma once

#include "driver/pipeline.hpp"

namespace sbpolicy::driver {

// Appends the rules to `c.policy` (which must be set). The embedded
// standard library is not on disk and needs none.
void protect_policy_files(Compilation& c);

}  // namespace sbpolicy::driver
