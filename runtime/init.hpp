// sbrun's init: the first process inside the sandbox.
//
// bubblewrap runs it as PID 1 of the sandbox's PID namespace (`--as-pid-1`),
// from sbrun's own executable passed in as a file descriptor, so nothing of
// sbrun needs a path inside the sandbox. It closes every inherited
// descriptor it does not need, forks the command, loads the seccomp filter
// in the child just before exec (the init itself keeps what the later
// network relays need), forwards the signals sbrun sends it, reaps every
// orphan, and exits with the command's status (128+N when killed by signal N).
// When the init dies, the kernel kills everything left in the namespace.
#pragma once

#include <string>
#include <vector>

namespace sbpolicy::runtime {

struct InitOptions {
  bool allow_unix_sockets = false;
  std::vector<std::string> command;
};

// Never returns.
[[noreturn]] void run_init(const InitOptions& options);

// Parses the init's own argv: `--sbrun-init [--unix] -- CMD ARGS…`.
bool parse_init_arguments(int argc, char** argv, InitOptions& options);

}  // namespace sbpolicy::runtime
