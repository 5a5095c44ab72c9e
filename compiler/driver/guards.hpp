// Protections every sandbox gets whatever its policy says, added to the IR
// as `deny write` rules so that the lowering, the plan, `--dry-run` and the
// log treat them like the policy's own (deny beats allow: no grant undoes
// them). Each names where it comes from.
//
//  - The policy's own files, whatever their names: the root file given on
//    the command line and every file it `use`s. A sandbox that could rewrite
//    one would grant itself more on the next run. Protected on the path each
//    was read from (a symlink in a writable directory on the way is refused
//    at launch, E0401, like any protected path there) and on its canonical
//    path; the rule's origin is the file itself, line 1.
//  - The workspace's git metadata: every file through which git finds
//    configuration or code to run (`.git/config`, `.git/hooks`,
//    `.git/commondir`, `.git/info`, submodules' and worktrees' config and
//    pointers, `.gitmodules`). A `.git` absent at launch cannot be created;
//    a `.git` file (a linked worktree or a submodule) is itself protected, and
//    its `gitdir:` and the common directory it names are followed and
//    protected the same way. Origin: `<git metadata>`.
#pragma once

#include "driver/pipeline.hpp"
#include "sema/path_pattern.hpp"

namespace sbpolicy::driver {

// Appends the rules for the policy's files to `c.policy` (which must be
// set). The embedded standard library is not on disk and needs none.
void protect_policy_files(Compilation& c);

// Appends the rules for the git metadata of the workspace `bindings.workspace`
// (canonical), as it is on disk now.
void protect_git_metadata(Compilation& c, const sema::PathBindings& bindings);

// The same for a workspace on another machine (a profile compiled here for a
// Mac): it cannot be looked at, so `.git` is taken to be a repository
// directory, the common case; sbrun protects what is there at launch.
void protect_git_metadata_unseen(Compilation& c, const std::string& workspace);

}  // namespace sbpolicy::driver
