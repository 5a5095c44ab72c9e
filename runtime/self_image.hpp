// What sbrun needs to run inside the sandbox: the files of the running
// executable's dynamic link map (shared libraries, the dynamic loader) and
// the executable itself. They are bound read-only at their own paths after
// the policy's mounts, where the policy does not show them already. The init
// is started from a descriptor, not a path; the path is for ssh, whose
// ProxyCommand inside the sandbox is `sbrun --sbrun-connect`.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sbpolicy::runtime {

struct SelfImage {
  // (source on the host, destination in the sandbox): libraries at their
  // canonical paths, the loader also at the path the executable names.
  std::vector<std::pair<std::string, std::string>> files;
  std::string executable;  // canonical path of the running sbrun (also in `files`)
};

SelfImage self_image();

}  // namespace sbpolicy::runtime
