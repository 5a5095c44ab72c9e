// sbrun's init: the first process inside the sandbox.
//
// bubblewrap runs it as PID 1 of the sandbox's PID namespace (`--as-pid-1`),
// from the program sbrun-init passed in as a file descriptor. It closes
// every inherited descriptor it does not need, listens on the proxy's ports
// on the sandbox's loopback and hands each connection to sbrun, waits for
// sbrun's go on the channel (sent once bubblewrap has its whole plan), starts
// the command, loads the seccomp filter in the child just before exec, forwards
// the signals sbrun sends it (SIGINT, SIGTERM, SIGHUP, SIGQUIT to every
// process of the sandbox, like a terminal's job signals; the rest to the
// command), stops and continues the sandbox while sbrun asks the user a
// question, reaps every orphan, and exits with the command's status (128+N
// when killed by signal N).
// When the init dies, the kernel kills everything left in the namespace.
#pragma once

#include <string>
#include <vector>

namespace sbpolicy::runtime {

struct InitOptions {
  bool proxy = false;  // listen on the proxy's ports and hand connections to sbrun (fd 7)
  std::vector<std::string> command;
};

// Never returns.
[[noreturn]] void run_init(const InitOptions& options);

// Parses the init's own argv: `--sbrun-init [--proxy] -- CMD ARGS…`. (Whether
// AF_UNIX is allowed comes with sbrun's go on the channel, decided after
// bubblewrap has started.)
bool parse_init_arguments(int argc, char** argv, InitOptions& options);

}  // namespace sbpolicy::runtime
