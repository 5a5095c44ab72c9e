// What sbrun's launch does the same way on every platform (launch.cpp on
// Linux, macos/launch_macos.cpp on macOS): failing closed, the policy named
// as a standard library module, and the workspace checks.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "event_log.hpp"
#include "launch.hpp"
#include "limits.hpp"
#include "proxy/gate.hpp"
#include "proxy/server.hpp"
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

// How the proxy settles `ask net` rules, from --ask.
proxy::NetAskMode net_ask_mode(AskMode mode);

// The proxy's limits from the command line, fitted to the descriptor limit
// (raised first); what had to shrink is said on stderr unless `quiet`.
proxy::ProxyLimits proxy_limits(const NetOptions& net, bool quiet);

// The wall-clock limit, if `limits` has one: when it is reached, says so,
// logs it, sets `expired` and calls `stop` (SIGTERM to the sandbox), then
// `kill` 5 s later. The timers must outlive the event loop's run.
void arm_wall_time(boost::asio::steady_timer& wall, boost::asio::steady_timer& wall_kill, const Limits& limits,
                   EventLog& log, bool& expired, std::function<void()> stop, std::function<void()> kill);

}  // namespace sbpolicy::runtime
