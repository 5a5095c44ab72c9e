// sbrun-init: the only sbrun code that runs inside the sandbox.
//   sbrun-init --sbrun-init [--proxy] -- CMD [ARGS…]            PID 1 of the sandbox (init.hpp)
//   sbrun-init --sbrun-connect HOST PORT                         ssh's ProxyCommand (connect.hpp)
//   sbrun-init --sbrun-janitor                                   sbrun's cleanup process (janitor.hpp)
// A program of its own, linked statically where the toolchain allows, so
// starting it inside every sandbox costs no dynamic loading and needs no
// library of the host bound into the sandbox. sbrun finds it next to its
// own executable and passes it to bubblewrap as a descriptor.
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "connect.hpp"
#include "init.hpp"
#include "janitor.hpp"

int main(int argc, char** argv) {
  using namespace sbpolicy::runtime;
  // _exit everywhere: no at-exit work inside the sandbox (a sanitizer's
  // leak check needs ptrace, which the seccomp filter refuses).
  if (argc > 1 && std::strcmp(argv[1], "--sbrun-connect") == 0) _exit(run_connect(argc, argv));
  if (argc == 2 && std::strcmp(argv[1], "--sbrun-janitor") == 0) run_janitor();
  InitOptions init;
  if (!parse_init_arguments(argc, argv, init)) {
    std::fprintf(stderr, "sbrun-init: started by sbrun only (bad arguments)\n");
    _exit(125);
  }
  run_init(init);
}
