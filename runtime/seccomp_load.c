/* Loading the built-in seccomp programs (seccomp_load.h). */
#include "seccomp_load.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "seccomp_programs.inc" /* kSeccomp{Deny,Allow}Unix[Ptrace] (generated) */

#define PROGRAM(array) {(unsigned short)(sizeof array / sizeof array[0]), (struct sock_filter*)array}

const char* sbrun_load_seccomp_filter(int allow_unix_sockets, int allow_ptrace) {
  /* The kernel copies the program; the cast only satisfies its signature. */
  struct sock_fprog programs[2][2] = {
      {PROGRAM(kSeccompDenyUnix), PROGRAM(kSeccompDenyUnixPtrace)},
      {PROGRAM(kSeccompAllowUnix), PROGRAM(kSeccompAllowUnixPtrace)},
  };
  struct sock_fprog program = programs[allow_unix_sockets ? 1 : 0][allow_ptrace ? 1 : 0];
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return "seccomp: cannot set no_new_privs";
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) return "seccomp: cannot load the filter";
  return NULL;
}
