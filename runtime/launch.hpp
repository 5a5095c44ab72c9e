// Launching a command in the sandbox: sbrun's whole job, as one function.
//
//   start /usr/bin/bwrap (bubblewrap.hpp: the program sbrun-init as a
//   descriptor for the init, one end of the proxy's socketpair; it waits for
//   its plan on a pipe) -> compile the policy -> settle `ask` rules -> lower
//   to a mount plan with the canonical bindings of this launch -> create
//   placeholders (with the janitor, which removes them if sbrun is killed)
//   -> write the plan to bubblewrap (`--args`) and send the init its go ->
//   serve the proxy and forward signals to the sandbox's init until
//   bubblewrap exits -> remove placeholders -> exit with the command's status.
//
// Every failure before the command starts is exit status 125 with a message
// that says what to fix; the command is never run outside the sandbox.
#pragma once

#include <signal.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "limits.hpp"
#include "prompt.hpp"
#include "sandbox/protocol.h"

namespace sbpolicy::runtime {

inline constexpr int kSetupFailed = 125;
// The command was ended at its wall_time limit (as timeout(1) says).
inline constexpr int kWallTimeExceeded = 124;

// The signals sbrun forwards to the sandbox's init, and the job signals
// among them (they end a run: delivered to every process of the sandbox).
inline constexpr int kForwardedSignals[] = {SB_JOB_SIGNALS, SIGUSR1, SIGUSR2, SIGWINCH};
inline constexpr int kJobSignals[] = {SB_JOB_SIGNALS};

// The network boundary's knobs (the proxy itself lives in proxy/).
struct NetOptions {
  std::vector<std::string> resolve;  // "HOST:IP" pins
  int max_sessions = 256;
  int head_timeout_ms = 10000;
  int connect_timeout_ms = 10000;
  int idle_timeout_ms = 600000;
};

struct LaunchOptions {
  std::string policy;
  std::vector<std::string> command;
  std::string workspace;  // default: the current directory
  std::string user;       // run as this user when started as root (identity.hpp)
  AskMode ask = AskMode::Prompt;
  bool dry_run = false;
  std::string log_path;
  std::size_t log_max_bytes = std::size_t{16} << 20;
  std::uint64_t tmp_size = std::uint64_t{2} << 30;   // the private /tmp
  std::uint64_t shm_size = std::uint64_t{256} << 20;  // the private /dev/shm
  int verbose = 0;
  bool quiet = false;  // no line on stderr for refused connections
  bool target_strict = false;  // refuse to run when a rule is only approximated
  bool pty = true;  // a terminal of its own when stdin is one (docs/terminal.md)
  std::string stdlib_dir;
  std::string bwrap = "/usr/bin/bwrap";
  NetOptions net;
  std::vector<LimitOverride> limits;  // --limit KIND=VALUE|none, over the policy's
};

// Returns 125 when the sandbox cannot be set up, 0 after --dry-run. Once the
// command has run, does not return: exits the process with the command's
// status, leaving what it built to the kernel.
int launch(const LaunchOptions& options);

// The same on macOS (macos/launch_macos.cpp, docs/sbpl.md): a Seatbelt
// profile and sandbox-exec instead of bubblewrap. Compiled everywhere;
// sbrun calls it on Apple platforms only. Returns the command's status.
int launch_macos(const LaunchOptions& options);

}  // namespace sbpolicy::runtime
