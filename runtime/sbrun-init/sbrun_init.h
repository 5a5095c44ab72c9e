/* sbrun-init: the only sbrun code that runs inside the sandbox, and sbrun's
 * janitor outside it. Written in C and linked statically against musl where
 * the build has musl-gcc: it starts inside every sandbox, and glibc's static
 * start-up (its CPU feature probing executes ~80 CPUID instructions, each a
 * trap to the hypervisor on a virtual machine) cost ~0.6 ms of every launch
 * here, against ~0.05 ms for musl's. Nothing here allocates before the
 * command starts, and what runs between vfork and exec makes system calls
 * only. */
#ifndef SBPOLICY_RUNTIME_SBRUN_INIT_H
#define SBPOLICY_RUNTIME_SBRUN_INIT_H

/* PID 1 of the sandbox: `--sbrun-init [--proxy] [--terminal=MASK] -- CMD [ARGS...]`.
 *
 * bubblewrap runs it as PID 1 of the sandbox's PID namespace (`--as-pid-1`),
 * from the program sbrun-init passed in as a file descriptor. It closes every
 * inherited descriptor it does not need, listens on the proxy's ports on the
 * sandbox's loopback and hands each connection to sbrun, waits for sbrun's go
 * on the channel (sent once bubblewrap has its whole plan), starts the
 * command, loads the seccomp filter in the child just before exec, forwards
 * the signals sbrun sends it (SIGINT, SIGTERM, SIGHUP, SIGQUIT to every
 * process of the sandbox, like a terminal's job signals; the rest to the
 * command), stops and continues the sandbox while sbrun asks the user a
 * question, gives the command the sandbox's own terminal when asked to
 * (docs/terminal.md), reaps every orphan, and exits with the command's status (128+N
 * when killed by signal N). When the init dies, the kernel kills everything
 * left in the namespace. Never returns; exits 125 on bad arguments or any
 * setup failure, saying why. */
_Noreturn void sbrun_init_main(int argc, char** argv);

/* ssh's ProxyCommand inside the sandbox: `--sbrun-connect HOST PORT` asks the
 * proxy's HTTP door for a CONNECT tunnel and relays stdin and stdout through
 * it. Returns the exit status. */
int sbrun_connect_main(int argc, char** argv);

/* sbrun's janitor (janitor.hpp): `--sbrun-janitor` serves the channel on
 * SB_JANITOR_CHANNEL_FD until "done", or until sbrun is gone, then waits for
 * the processes it was told about and removes the placeholders that are
 * still empty, deepest first. Never returns. */
_Noreturn void sbrun_janitor_main(void);

/* Writes the NULL-terminated list of strings to stderr with write(2) alone:
 * no stdio, so it is safe in a vfork child. */
void sbrun_say(const char* first, ...);

#endif
