/* Loading the seccomp programs seccomp-gen built with libseccomp when sbrun
 * was built (seccomp_filter.hpp). Plain C: sbrun-init (C, musl) loads them,
 * and the C++ tests check them. */
#ifndef SBPOLICY_RUNTIME_SECCOMP_LOAD_H
#define SBPOLICY_RUNTIME_SECCOMP_LOAD_H

#ifdef __cplusplus
extern "C" {
#endif

/* Sets no_new_privs and loads the filter on the calling thread, allowing
 * AF_UNIX sockets when `allow_unix_sockets` is nonzero and ptrace when
 * `allow_ptrace` is. NULL when done, or what failed (errno says why).
 * System calls only: safe in a vfork child. */
const char* sbrun_load_seccomp_filter(int allow_unix_sockets, int allow_ptrace);

#ifdef __cplusplus
}
#endif

#endif
