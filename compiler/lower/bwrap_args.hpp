// The bubblewrap command line for a mount plan, and the plan as JSON.
//
// The arguments are what sbrun passes to /usr/bin/bwrap through `--args FD`
// (NUL-separated, never through a shell). Namespaces: all of them unshared
// (user, ipc, pid, net, uts, cgroup), no new user namespaces inside, a new
// session (no TIOCSTI into the invoking terminal), killed with its parent,
// no capabilities, a clean environment.
#pragma once

#include <nlohmann/json.hpp>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ir/ir.hpp"
#include "lower/mount_plan.hpp"

namespace sbpolicy::lower {

// The arguments before the command (which follows a `--`). `runtime_files`
// (source, destination) are bound read-only after the plan's mounts (the
// runtime's own files, where the plan does not show them); then the
// sandbox's root and /dev are made read-only.
//
// With `source_fds` (a bind source's path -> a descriptor of it that
// bubblewrap inherits), binds are given as `--bind-fd FD DEST` and
// `--ro-bind-fd FD DEST`: bubblewrap mounts the object sbrun opened and
// checked, whatever the path names by then. Without, by path (`--dry-run`).
std::vector<std::string> bwrap_arguments(const MountPlan& plan,
                                         const std::vector<std::pair<std::string, std::string>>& runtime_files = {},
                                         const std::map<std::string, int>* source_fds = nullptr);

// The plan with each mount's rules and their sources, and the bwrap argv.
nlohmann::json mount_plan_to_json(const MountPlan& plan, const ir::Policy& policy);

}  // namespace sbpolicy::lower
