/* The wire between sbrun and its init inside the sandbox: the proxy's two
 * doors, the channel's descriptor and the orders sent on it. Plain C, so the
 * init (runtime/sbrun-init, C built against musl) and the C++ side
 * (proxy_doors.hpp) share one definition. It is its own library
 * (sbpolicy_sandbox), below both the lowering, which writes the plan's
 * environment from it, and the runtime, which speaks it. */
#ifndef SBPOLICY_SANDBOX_PROTOCOL_H
#define SBPOLICY_SANDBOX_PROTOCOL_H

#include <signal.h>

/* The job signals: those that end a run. sbrun sends them on the channel
 * (SB_ORDER_SIGNAL), and the init delivers them to every process of the
 * sandbox, as a terminal's Ctrl-C reaches the whole foreground job. */
#define SB_JOB_SIGNALS SIGINT, SIGTERM, SIGHUP, SIGQUIT

enum {
  SB_HTTP_PORT = 3128, /* HTTP CONNECT and absolute-form HTTP */
  SB_SOCKS_PORT = 1080, /* SOCKS5 */
  /* The byte sent with a descriptor: which door it came through. */
  SB_TAG_HTTP = 'H',
  SB_TAG_SOCKS = 'S',
  /* A connection to a host loopback service the policy allows, taken on
   * that service's address and port inside (lower/local_services.hpp). */
  SB_TAG_LOCAL = 'L',
  SB_MAX_LOCAL_SERVICES = 64,
  /* The init's end of the socketpair to sbrun's proxy. */
  SB_CHANNEL_FD = 7,
  /* The user's stderr, for the init and the command (bubblewrap's own
   * stderr is a pipe to sbrun, which turns its messages into its own). */
  SB_STDERR_FD = 8,
  /* What sbrun sends the other way on the channel: stop every process of
   * the sandbox (SIGSTOP) while a question is on the terminal, and let them
   * go. */
  SB_ORDER_HOLD = 'T',
  SB_ORDER_RELEASE = 'C',
  /* [SB_ORDER_SIGNAL, N]: deliver signal N to every process of the sandbox
   * (and release a hold). Sent on the channel, the terminal's job signals
   * stay in order with holds and releases. */
  SB_ORDER_SIGNAL = 'K',
  /* [SB_ORDER_GO, U, LIMITS, SERVICES]: the first message on the channel,
   * sent once bubblewrap has read all of its arguments: the init may run the
   * command, with AF_UNIX sockets allowed when U has SB_GO_UNIX and ptrace
   * between its processes when it has SB_GO_PTRACE, under the rlimits
   * LIMITS sets ("L<resource> <soft> <hard>\n" each, at most SB_MAX_LIMITS),
   * once it listens on the loopback services SERVICES names
   * ("127.0.0.1:5432\n[::1]:5432\n", at most SB_MAX_LOCAL_SERVICES; the
   * message at most SB_GO_MAX bytes).
   * Without it (sbrun gone, so bubblewrap may have read a plan cut short)
   * the init runs nothing. */
  SB_ORDER_GO = 'G',
  SB_GO_MAX = 4096,
  SB_GO_UNIX = 1,
  SB_GO_PTRACE = 2,
  SB_GO_LIMIT = 'L',
  SB_MAX_LIMITS = 8,
  /* The init's end of the terminal socket (SOCK_SEQPACKET), given only when
   * the sandbox has a pseudo-terminal of its own (docs/terminal.md;
   * `--sbrun-init --terminal=MASK`, bit N: the command's descriptor N is the
   * pty). The init makes the pair from the sandbox's /dev/ptmx and sends
   * [SB_TERM_MASTER] with the master as SCM_RIGHTS; sbrun answers
   * SB_TERM_READY once the pty has the real terminal's modes and size, and
   * the command runs then. The init says SB_TERM_STOPPED when the command
   * stopped itself (Ctrl-Z), and sbrun SB_TERM_CONTINUE when it may go on. */
  SB_TERMINAL_FD = 9,
  SB_TERM_MASTER = 'P',
  SB_TERM_READY = 'R',
  SB_TERM_STOPPED = 'Z',
  SB_TERM_CONTINUE = 'C',
};

#endif
