/* Loading the built-in seccomp programs (seccomp_load.h). */
#include "seccomp_load.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "seccomp_programs.inc" /* kSeccompDenyUnix, kSeccompAllowUnix (generated) */

const char* sbrun_load_seccomp_filter(int allow_unix_sockets) {
  /* The kernel copies the program; the cast only satisfies its signature. */
  struct sock_fprog program;
  if (allow_unix_sockets) {
    program.len = (unsigned short)(sizeof kSeccompAllowUnix / sizeof kSeccompAllowUnix[0]);
    program.filter = (struct sock_filter*)kSeccompAllowUnix;
  } else {
    program.len = (unsigned short)(sizeof kSeccompDenyUnix / sizeof kSeccompDenyUnix[0]);
    program.filter = (struct sock_filter*)kSeccompDenyUnix;
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return "seccomp: cannot set no_new_privs";
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) return "seccomp: cannot load the filter";
  return NULL;
}
