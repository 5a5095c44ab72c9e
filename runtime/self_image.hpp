// What sbrun needs inside the sandbox: the program sbrun-init (the init,
// and ssh's ProxyCommand), found next to sbrun's own executable. It is
// started from a descriptor, but also bound read-only at its own path for
// ssh. A static sbrun-init needs nothing else; a dynamic one (sanitizer
// builds) also needs its shared libraries and loader, taken from sbrun's own
// link map, which holds them all. Everything is bound after the policy's
// mounts, where the policy does not show it already.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sbpolicy::runtime {

struct SelfImage {
  std::string init;   // canonical path of sbrun-init; empty when it is missing
  std::string error;  // why `init` is empty
  // (source on the host, destination in the sandbox)
  std::vector<std::pair<std::string, std::string>> files;
};

SelfImage self_image();

}  // namespace sbpolicy::runtime
