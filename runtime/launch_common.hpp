// What sbrun's launch does the same way on every platform (launch.cpp on
// Linux, macos/launch_macos.cpp on macOS): failing closed, the policy named
// as a standard library module, and the workspace checks.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "sema/host_pattern.hpp"

namespace sbpolicy::runtime {

// Prints "sbrun: MESSAGE" and returns kSetupFailed (125): the command did
// not run.
int fail(const std::string& message);

// `std.agent`, `std.dev.node`: a standard library module named as the
// policy, and no file of that name here.
bool names_std_module(const std::string& policy);

// The workspace is made writable: never `/`, the home, or a directory
// holding the home. Both canonical.
bool workspace_allowed(const std::string& workspace, const std::string& home, std::string& error);

// `requested` (default: the current directory) through every symlink, as
// the kernel will resolve it, checked against the invoking home.
bool resolve_workspace(const std::string& requested, std::string& out, std::string& error);

// `--resolve HOST:IP` pins, by canonical name; false with `error` set.
bool parse_pins(const std::vector<std::string>& specs, std::map<std::string, std::vector<sema::IpNet>>& pins,
                std::string& error);

// RLIMIT_NOFILE raised to its hard limit for the proxy; the limit in force.
std::size_t raise_descriptor_limit();

}  // namespace sbpolicy::runtime
