/* sbrun-init: the only sbrun code that runs inside the sandbox.
 *   sbrun-init --sbrun-init [--proxy] -- CMD [ARGS...]   PID 1 of the sandbox
 *   sbrun-init --sbrun-connect HOST PORT                  ssh's ProxyCommand
 *   sbrun-init --sbrun-janitor                            sbrun's cleanup process
 * (sbrun_init.h). A static program of its own, so starting it inside every
 * sandbox costs no dynamic loading and needs no library of the host bound
 * into the sandbox. sbrun finds it next to its own executable and passes it
 * to bubblewrap as a descriptor. */
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "sbrun_init.h"

void sbrun_say(const char* first, ...) {
  va_list ap;
  va_start(ap, first);
  for (const char* p = first; p != NULL; p = va_arg(ap, const char*)) {
    (void)!write(STDERR_FILENO, p, strlen(p));
  }
  va_end(ap);
}

int main(int argc, char** argv) {
  /* _exit everywhere: no at-exit work inside the sandbox. */
  if (argc > 1 && strcmp(argv[1], "--sbrun-connect") == 0) _exit(sbrun_connect_main(argc, argv));
  if (argc == 2 && strcmp(argv[1], "--sbrun-janitor") == 0) sbrun_janitor_main();
  sbrun_init_main(argc, argv);
}
