// sbrun on macOS: what it hands sandbox-exec and what it reads back.
//
// The macOS path (docs/sbpl.md) runs the command as
//   /usr/bin/sandbox-exec -f PROFILE -D P0=… -D P1=… -- CMD ARGS…
// with the profile lowered from the policy (lower/sbpl), the proxy of the
// Linux path listening on two loopback ports (proxy::ProxyServer::listen),
// and the proxy variables pointing there. Denials come back through the
// unified log, tagged by each rule's `(with message "sbpolicy rule N …")`.
//
// Everything here is plain POSIX and text, compiled and tested on every
// platform; only launch_macos.cpp's use of it runs on a Mac.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sbpolicy::runtime::macos {

inline constexpr const char* kSandboxExec = "/usr/bin/sandbox-exec";
inline constexpr const char* kLog = "/usr/bin/log";

// sandbox-exec's argv: the profile file, one `-D K=V` per parameter, `--`,
// the command.
std::vector<std::string> sandbox_exec_argv(const std::string& profile_path,
                                           const std::vector<std::pair<std::string, std::string>>& params,
                                           const std::vector<std::string>& command);

// The command's environment: what the policy passes, then the proxy
// variables (numeric 127.0.0.1, so no name is resolved to reach the proxy,
// which the profile allows as `localhost`) and TMPDIR. Variables the
// runtime sets replace the policy's of the same name.
std::vector<std::string> command_environment(const std::vector<std::pair<std::string, std::string>>& passed,
                                             int http_port, int socks_port, const std::string& tmpdir);

// Writes `text` to a new file `name` in `dir` (mode 0600, never following
// or replacing anything there). False with `error` set when it cannot.
bool write_private_file(const std::string& dir, const std::string& name, const std::string& text,
                        std::string& path, std::string& error);

// Removes the directory `dir` and everything in it without following a
// symbolic link (what the sandbox wrote there may be one), at most 64
// levels deep. False with `error` set when something stays.
bool remove_tree(const std::string& dir, std::string& error);

// `log stream` reporting the Sandbox's denials that carry sbpolicy's tags,
// one JSON object per line.
std::vector<std::string> violation_log_argv();

// A denial as the unified log reports it.
struct Violation {
  std::string process;
  pid_t pid = 0;
  std::string operation;  // file-read-data, network-outbound, ...
  std::string subject;    // the path or address
  int rule = -1;          // the rule id of its tag, or -1 (the default deny)
};

// One line of `log stream --style ndjson`: a denial of this run's sandbox,
// or nullopt. The event's message reads "Sandbox: cat(123) deny(1)
// file-read-data /Users/u/.ssh/id_rsa", with the rule's message where macOS
// adds it; `run_tag` (the profile's SbplOptions::run_tag) must be in it, so
// other processes' and other runs' denials are not taken for this one's.
std::optional<Violation> parse_violation(std::string_view line, const std::string& run_tag);

// What sbrun prints for a denial: `rule` is the deciding rule as the
// policy says it ("deny read \"./.env\" at p.sbpolicy:2:11"), or "" for
// the default deny.
std::string describe_violation(const Violation& v, const std::string& rule);

}  // namespace sbpolicy::runtime::macos
