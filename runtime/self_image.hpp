// What sbrun's own init needs to run inside the sandbox: the files of the
// running executable's dynamic link map (shared libraries, the dynamic
// loader). They are bound read-only at their own paths after the policy's
// mounts; the executable itself is passed to bubblewrap as a descriptor, so
// it needs no path in the sandbox at all.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sbpolicy::runtime {

struct SelfImage {
  // (source on the host, destination in the sandbox): libraries at their
  // canonical paths, the loader also at the path the executable names.
  std::vector<std::pair<std::string, std::string>> files;
};

SelfImage self_image();

}  // namespace sbpolicy::runtime
