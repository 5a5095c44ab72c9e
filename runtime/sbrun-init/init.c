/* PID 1 of the sandbox (sbrun_init.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "sandbox/protocol.h"
#include "sbrun_init.h"
#include "seccomp_load.h"

extern char** environ;

enum { STARTED_FD = 6 };

static const int kJobSignals[] = {SB_JOB_SIGNALS};
static const int kForwarded[] = {SB_JOB_SIGNALS, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM};

static _Noreturn void die(const char* what) {
  sbrun_say("sbrun: init ", what, ": ", strerror(errno), "\n", (const char*)NULL);
  _exit(125);
}

/* Closes every inherited descriptor but the proxy channel and the terminal
 * socket, which are kept for the init alone (close-on-exec, so the command
 * never has them). */
static void close_inherited_fds(void) {
  _Static_assert(SB_CHANNEL_FD + 2 == SB_TERMINAL_FD, "the ranges below");
  const unsigned ranges[3][2] = {
      {3u, SB_CHANNEL_FD - 1u}, {SB_CHANNEL_FD + 1u, SB_TERMINAL_FD - 1u}, {SB_TERMINAL_FD + 1u, ~0u}};
  for (int r = 0; r < 3; ++r) {
    if (syscall(SYS_close_range, ranges[r][0], ranges[r][1], 0u) == 0) continue;
    const long max = sysconf(_SC_OPEN_MAX);
    for (long fd = ranges[r][0]; fd <= (long)ranges[r][1] && fd < max && fd < 65536; ++fd) close((int)fd);
  }
  fcntl(SB_CHANNEL_FD, F_SETFD, FD_CLOEXEC);
  fcntl(SB_TERMINAL_FD, F_SETFD, FD_CLOEXEC);
}

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* The sandbox's own terminal (docs/terminal.md): a pair from the sandbox's
 * /dev/ptmx (bubblewrap's fresh devpts, so the command's `tty` is
 * /dev/pts/N of the sandbox). The master goes to sbrun, which relays it to
 * the real terminal; the init keeps no copy. The init's session (bubblewrap
 * made it one, `--new-session`) takes the pty as its controlling terminal:
 * the command then runs in a process group of its own in that session, the
 * terminal's foreground one, whose parent (the init) is in the same session,
 * so its stops (Ctrl-Z, SIGTSTP) take effect (the kernel discards them in an
 * orphaned process group, which a command leading its own session would be).
 * Returns the other end once sbrun has given the pair the real terminal's
 * modes and size; exits without running anything when sbrun is gone. */
static int make_terminal(void) {
  const int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) die("cannot open /dev/ptmx for the sandbox's terminal");
  int locked = 0;
  if (ioctl(master, TIOCSPTLCK, &locked) != 0) die("cannot unlock the sandbox's terminal");
  const int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) die("cannot open the sandbox's terminal");
  char tag = SB_TERM_MASTER;
  struct iovec iov = {&tag, 1};
  union {
    struct cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(int))];
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {0};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.bytes;
  msg.msg_controllen = sizeof control.bytes;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &master, sizeof master);
  ssize_t n;
  while ((n = sendmsg(SB_TERMINAL_FD, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
  }
  close(master);
  char ready = 0;
  while (n == 1 && (n = recv(SB_TERMINAL_FD, &ready, 1, 0)) < 0 && errno == EINTR) {
  }
  if (n != 1 || ready != SB_TERM_READY) {
    sbrun_say("sbrun: init: sbrun did not take the terminal (it is gone); the command did not run\n",
              (const char*)NULL);
    _exit(125);
  }
  (void)setsid(); /* already the session's leader under bubblewrap: fails harmlessly */
  if (ioctl(slave, TIOCSCTTY, 0) != 0) die("cannot take the sandbox's terminal");
  return slave;
}

/* A listening socket on `address` (struct sockaddr_in or _in6) in the
 * sandbox's own network namespace, or -1 with errno. */
static int listen_at(const struct sockaddr* address, socklen_t length) {
  const int fd = socket(address->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (address->sa_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  /* The accept queue is where a burst waits while sbrun catches up: as
   * long as the kernel allows (net.core.somaxconn, 4096 by default in a new
   * network namespace). */
  if (bind(fd, address, length) != 0 || listen(fd, 4096) != 0) {
    const int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

/* A listening socket on 127.0.0.1:port, or -1. */
static int listen_loopback(unsigned short port) {
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return listen_at((struct sockaddr*)&a, sizeof a);
}

/* The sockets the init accepts on, each with the tag its connections are
 * handed over with: the proxy's two doors, then the loopback services. */
enum { LISTENERS_MAX = 2 + SB_MAX_LOCAL_SERVICES };
static struct {
  int fd;
  char tag;
} listeners[LISTENERS_MAX];
static int listener_count;

static void add_listener(int fd, char tag) {
  listeners[listener_count].fd = fd;
  listeners[listener_count].tag = tag;
  ++listener_count;
}

/* Listens on each loopback service of the go ("127.0.0.1:5432\n[::1]:80\n",
 * protocol.h), adding them to the listeners. One that
 * cannot be listened on is said on stderr and skipped: its service stays
 * reachable through the proxy. ::1 is skipped silently where the sandbox
 * has no IPv6. */
static void listen_services(char* list) {
  for (char* line = list; *line != '\0' && listener_count < LISTENERS_MAX;) {
    char* end = strchr(line, '\n');
    if (end == NULL) break;
    *end = '\0';
    char* colon = strrchr(line, ':');
    struct sockaddr_storage a;
    memset(&a, 0, sizeof a);
    socklen_t length = 0;
    int ok = colon != NULL;
    const long port = ok ? strtol(colon + 1, NULL, 10) : 0;
    ok = ok && port > 0 && port < 65536;
    if (ok && line[0] == '[' && colon > line && colon[-1] == ']') {
      colon[-1] = '\0';
      struct sockaddr_in6* v6 = (struct sockaddr_in6*)&a;
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons((unsigned short)port);
      ok = inet_pton(AF_INET6, line + 1, &v6->sin6_addr) == 1;
      length = sizeof *v6;
      colon[-1] = ']';
    } else if (ok) {
      *colon = '\0';
      struct sockaddr_in* v4 = (struct sockaddr_in*)&a;
      v4->sin_family = AF_INET;
      v4->sin_port = htons((unsigned short)port);
      ok = inet_pton(AF_INET, line, &v4->sin_addr) == 1;
      length = sizeof *v4;
      *colon = ':';
    }
    const int fd = ok ? listen_at((struct sockaddr*)&a, length) : -1;
    if (fd >= 0) {
      add_listener(fd, SB_TAG_LOCAL);
    } else if (!(a.ss_family == AF_INET6 && (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT))) {
      sbrun_say("sbrun: cannot listen on ", line, " inside the sandbox for the host's service: ",
                ok ? strerror(errno) : "bad address", "\n", (const char*)NULL);
    }
    line = end + 1;
  }
}

/* Connections accepted and not yet handed to sbrun's proxy, oldest first.
 * When clients arrive faster than sbrun takes them off the channel they wait
 * here, and once this is full the init stops accepting and they wait in the
 * kernel's accept queue: a connection is never dropped for want of room. */
enum { QUEUE_MAX = 256 };
static struct {
  int fd[QUEUE_MAX];
  char tag[QUEUE_MAX];
  int head, count;
  /* The channel refused for a reason poll cannot wait on (the kernel's
   * limit of descriptors in flight): try again after a short pause. */
  int stalled;
} queue;

/* Accepts waiting connections while the queue has room, tagging each with
 * the door it came in by. The init never reads or writes a byte of them. */
static void accept_waiting(int listener, char tag) {
  while (queue.count < QUEUE_MAX) {
    const int client = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (client < 0) {
      /* A client that hung up before it was accepted is simply gone. */
      if (errno == ECONNABORTED || errno == EINTR || errno == EPROTO) continue;
      return;
    }
    const int slot = (queue.head + queue.count) % QUEUE_MAX;
    queue.fd[slot] = client;
    queue.tag[slot] = tag;
    ++queue.count;
  }
}

/* Hands queued connections to sbrun's proxy (one tag byte and one
 * descriptor per message) until the channel is full. */
static void hand_over(void) {
  queue.stalled = 0;
  while (queue.count > 0) {
    int client = queue.fd[queue.head];
    struct iovec iov = {&queue.tag[queue.head], 1};
    union {
      struct cmsghdr align;
      char bytes[CMSG_SPACE(sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.bytes;
    msg.msg_controllen = sizeof control.bytes;
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &client, sizeof client);
    if (sendmsg(SB_CHANNEL_FD, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return; /* poll says when there is room */
      if (errno == ENOBUFS || errno == ETOOMANYREFS || errno == ENOMEM) {
        queue.stalled = 1;
        return;
      }
      /* Any other error: sbrun is gone, and the sandbox with it. */
    }
    close(client);
    queue.head = (queue.head + 1) % QUEUE_MAX;
    --queue.count;
  }
}

/* The signals that end a run go to every process of the sandbox, as a
 * terminal's Ctrl-C reaches the whole foreground job, followed by SIGCONT:
 * a network question may hold the sandbox stopped, and a stopped process
 * keeps them pending. False for any other signal. */
static int end_signal(int s) {
  int job = 0;
  for (size_t i = 0; i < sizeof kJobSignals / sizeof kJobSignals[0]; ++i) job |= s == kJobSignals[i];
  if (!job) return 0;
  kill(-1, s);
  kill(-1, SIGCONT);
  return 1;
}

/* `file` (found, but not an executable format) run by /bin/sh, as execvp
 * does for a script without a `#!` line. */
static void exec_script(const char* file, char** argv) {
  int argc = 0;
  while (argv[argc] != NULL) ++argc;
  char* with_shell[argc + 2];
  with_shell[0] = (char*)"/bin/sh";
  with_shell[1] = (char*)file;
  for (int i = 1; i <= argc; ++i) with_shell[i + 1] = argv[i];
  execve(with_shell[0], with_shell, environ);
}

/* execvp(3) as glibc does it, under either libc: the PATH search (default
 * /bin:/usr/bin), EACCES reported when some candidate was not executable
 * and none ran, and a file of no executable format run by /bin/sh (musl's
 * execvp does not do that). Returns only on failure, with errno set. Stack
 * memory and system calls only: safe in the vfork child. */
static void exec_command(char** argv) {
  const char* file = argv[0];
  if (file[0] == '\0') {
    errno = ENOENT;
    return;
  }
  if (strchr(file, '/') != NULL) {
    execve(file, argv, environ);
    if (errno == ENOEXEC) exec_script(file, argv);
    return;
  }
  const size_t length = strlen(file);
  if (length > NAME_MAX) {
    errno = ENAMETOOLONG;
    return;
  }
  const char* path = getenv("PATH");
  if (path == NULL) path = "/bin:/usr/bin";
  int denied = 0;
  char candidate[PATH_MAX + NAME_MAX + 2];
  for (const char* p = path;;) {
    const char* end = strchr(p, ':');
    if (end == NULL) end = p + strlen(p);
    const size_t dir = (size_t)(end - p);
    if (dir < PATH_MAX) {
      /* An empty entry is the current directory: the bare name. */
      memcpy(candidate, p, dir);
      size_t at = dir;
      if (dir > 0) candidate[at++] = '/';
      memcpy(candidate + at, file, length + 1);
      execve(candidate, argv, environ);
      // A script without `#!` goes to /bin/sh; if that fails too, its error
      // decides whether the search goes on, as in glibc.
      if (errno == ENOEXEC) exec_script(candidate, argv);
      switch (errno) {
        case EACCES: denied = 1; break;
        case ENOENT:
        case ENOTDIR:
        case ESTALE:
        case ENODEV:
        case ETIMEDOUT: break;
        default: return;
      }
    }
    if (*end == '\0') break;
    p = end + 1;
  }
  if (denied) errno = EACCES;
}

/* The command's argv in the init's own: `--sbrun-init [--proxy]
 * [--terminal=MASK] -- CMD ARGS...`, MASK a digit 1-7 (bit N: the command's
 * descriptor N is the sandbox's terminal). (Whether AF_UNIX is allowed comes
 * with sbrun's go on the channel, decided after bubblewrap has started.)
 * NULL when malformed. */
static char** parse_arguments(int argc, char** argv, int* proxy, int* terminal) {
  int i = 1;
  if (i >= argc || strcmp(argv[i], "--sbrun-init") != 0) return NULL;
  for (++i; i < argc && strcmp(argv[i], "--") != 0; ++i) {
    if (strcmp(argv[i], "--proxy") == 0) {
      *proxy = 1;
    } else if (strncmp(argv[i], "--terminal=", 11) == 0 && argv[i][11] >= '1' && argv[i][11] <= '7' &&
               argv[i][12] == '\0') {
      *terminal = argv[i][11] - '0';
    } else {
      return NULL;
    }
  }
  return i + 1 < argc ? argv + i + 1 : NULL;
}

/* The command's rlimits, from sbrun's go (docs/limits.md): set on its
 * process before it executes, each capped at what the init inherited (an
 * unprivileged process cannot raise a hard limit). */
static struct {
  int resource;
  struct rlimit limit;
} command_limits[SB_MAX_LIMITS];
static int command_limit_count;

/* Reads the LIMITS lines at the start of the go's text; returns where the
 * services start, or NULL when a line is malformed. */
static char* take_limits(char* list) {
  while (*list == SB_GO_LIMIT) {
    char* end = strchr(list, '\n');
    if (end == NULL || command_limit_count >= SB_MAX_LIMITS) return NULL;
    *end = '\0';
    char* p = list + 1;
    char* q;
    errno = 0;
    const long resource = strtol(p, &q, 10);
    if (q == p || *q != ' ' || resource < 0 || resource >= RLIM_NLIMITS) return NULL;
    p = q + 1;
    const unsigned long long soft = strtoull(p, &q, 10);
    if (q == p || *q != ' ') return NULL;
    p = q + 1;
    const unsigned long long hard = strtoull(p, &q, 10);
    if (q == p || *q != '\0' || errno != 0 || soft > hard) return NULL;
    struct rlimit inherited;
    if (getrlimit((int)resource, &inherited) != 0) return NULL;
    rlim_t h = (rlim_t)hard;
    if (inherited.rlim_max != RLIM_INFINITY && h > inherited.rlim_max) h = inherited.rlim_max;
    command_limits[command_limit_count].resource = (int)resource;
    command_limits[command_limit_count].limit.rlim_max = h;
    command_limits[command_limit_count].limit.rlim_cur = (rlim_t)soft < h ? (rlim_t)soft : h;
    ++command_limit_count;
    list = end + 1;
  }
  return list;
}

/* Tells sbrun, on the terminal socket, that the command stopped itself. */
static void say_stopped(void) {
  const char z = SB_TERM_STOPPED;
  (void)!send(SB_TERMINAL_FD, &z, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
}

_Noreturn void sbrun_init_main(int argc, char** argv) {
  /* Static: out of the registers the vfork child below shares with the
   * init (-Wclobbered). */
  static int proxy = 0, terminal = 0;
  char** command = parse_arguments(argc, argv, &proxy, &terminal);
  if (command == NULL) {
    sbrun_say("sbrun-init: started by sbrun only (bad arguments)\n", (const char*)NULL);
    _exit(125);
  }
  /* Not dumpable: the command runs as the same user in the same namespace,
   * and must not open /proc/1/mem, ptrace the init or take its descriptors
   * with pidfd_getfd; the init is outside the seccomp filter. exec() makes
   * the command dumpable again, as usual. */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) die("cannot make itself undumpable");
  /* Tell sbrun the sandbox was built: bubblewrap reports its child's pid
   * before mounting, so only the init running proves the mounts succeeded. */
  if (write(STARTED_FD, "1", 1) != 1) _exit(125);
  /* The user's stderr from here on: bubblewrap's is a pipe to sbrun. */
  if (fcntl(SB_STDERR_FD, F_GETFD) >= 0) dup2(SB_STDERR_FD, STDERR_FILENO);
  close_inherited_fds();
  sigset_t all;
  sigemptyset(&all);
  sigaddset(&all, SIGCHLD);
  for (size_t i = 0; i < sizeof kForwarded / sizeof kForwarded[0]; ++i) sigaddset(&all, kForwarded[i]);
  sigprocmask(SIG_BLOCK, &all, NULL);

  /* The proxy's two doors, opened before the command exists so it cannot
   * take the ports first. */
  if (proxy) {
    const int http = listen_loopback(SB_HTTP_PORT), socks = listen_loopback(SB_SOCKS_PORT);
    if (http < 0 || socks < 0) {
      char what[96];
      snprintf(what, sizeof what, "cannot listen on 127.0.0.1:%d and :%d for the proxy", SB_HTTP_PORT, SB_SOCKS_PORT);
      die(what);
    }
    add_listener(http, SB_TAG_HTTP);
    add_listener(socks, SB_TAG_SOCKS);
  }
  const int signals = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signals < 0) die("cannot watch signals");

  /* sbrun's go: bubblewrap read the whole plan. sbrun starts bubblewrap
   * before it has compiled the policy and sends the plan through a pipe;
   * killed while writing it, sbrun leaves bubblewrap a plan cut short, and
   * no go. */
  static char go[SB_GO_MAX + 1];
  ssize_t got;
  while ((got = recv(SB_CHANNEL_FD, go, SB_GO_MAX, 0)) < 0 && errno == EINTR) {
  }
  if (got < 2 || go[0] != SB_ORDER_GO) {
    sbrun_say("sbrun: init: no go from sbrun (it is gone); the command did not run\n", (const char*)NULL);
    _exit(125);
  }
  go[got] = '\0';
  /* U: bit 0 AF_UNIX sockets, bit 1 ptrace between the command's
   * processes (`allow ptrace;`). */
  if ((go[1] & ~(SB_GO_UNIX | SB_GO_PTRACE)) != 0) {
    sbrun_say("sbrun: init: the go's flags are malformed; the command did not run\n", (const char*)NULL);
    _exit(125);
  }
  const int allow_unix = (go[1] & SB_GO_UNIX) != 0, allow_ptrace = (go[1] & SB_GO_PTRACE) != 0;
  char* services = take_limits(go + 2);
  if (services == NULL) {
    sbrun_say("sbrun: init: the go's limits are malformed; the command did not run\n", (const char*)NULL);
    _exit(125);
  }
  /* The host's loopback services, listened on before the command exists,
   * like the doors. */
  if (proxy) listen_services(services);
  /* The sandbox's own terminal, once sbrun has set it up. Static, like
   * `proxy`. */
  static int slave = -1;
  if (terminal) slave = make_terminal();

  /* What the init watches once the command runs: signals, the channel,
   * the terminal socket, the listeners. */
  enum { SIGNALS, CHANNEL, TERMINAL, FIRST_LISTENER };
  struct pollfd fds[FIRST_LISTENER + LISTENERS_MAX] = {
      {signals, POLLIN, 0}, {proxy ? SB_CHANNEL_FD : -1, POLLIN, 0}, {terminal ? SB_TERMINAL_FD : -1, POLLIN, 0}};
  const nfds_t watched = (nfds_t)(FIRST_LISTENER + listener_count);
  int channel_open = fds[CHANNEL].fd >= 0;

  /* The command's child is made with vfork: it shares the init's memory
   * until it executes the command, so nothing of the init's is copied; it
   * only makes system calls (the filter is a ready BPF program) and writes
   * its errors with write(2). */
  const pid_t child = vfork();
  if (child < 0) die("cannot fork");
  if (child == 0) {
    /* On its terminal, the command is the foreground process group: job
     * control works inside (make_terminal). tcsetpgrp from a background
     * group raises SIGTTOU, blocked meanwhile. */
    if (slave >= 0) {
      sigset_t ttou;
      sigemptyset(&ttou);
      sigaddset(&ttou, SIGTTOU);
      sigprocmask(SIG_BLOCK, &ttou, NULL);
      if (setpgid(0, 0) != 0 || tcsetpgrp(slave, getpid()) != 0) {
        sbrun_say("sbrun: cannot give the command its terminal: ", strerror(errno), "\n", (const char*)NULL);
        _exit(125);
      }
      for (int fd = 0; fd < 3; ++fd) {
        if ((terminal & (1 << fd)) && dup2(slave, fd) < 0) _exit(125);
      }
      sigprocmask(SIG_UNBLOCK, &ttou, NULL);
    }
    sigprocmask(SIG_UNBLOCK, &all, NULL);
    for (int i = 0; i < command_limit_count; ++i) {
      if (setrlimit(command_limits[i].resource, &command_limits[i].limit) != 0) {
        sbrun_say("sbrun: cannot set the command's limits: ", strerror(errno), "\n", (const char*)NULL);
        _exit(125);
      }
    }
    const char* error = sbrun_load_seccomp_filter(allow_unix, allow_ptrace);
    if (error != NULL) {
      sbrun_say("sbrun: ", error, ": ", strerror(errno), "\n", (const char*)NULL);
      _exit(125);
    }
    exec_command(command);
    const int e = errno;
    sbrun_say("sbrun: cannot run `", command[0], "` in the sandbox: ", strerror(e), "\n", (const char*)NULL);
    _exit(e == ENOENT ? 127 : 126);
  }
  if (slave >= 0) close(slave);

  for (;;) {
    /* The listeners are watched while the queue has room; the channel for
     * room while the queue holds connections. */
    for (int i = 0; i < listener_count; ++i) {
      fds[FIRST_LISTENER + i] = (struct pollfd){queue.count < QUEUE_MAX ? listeners[i].fd : -1, POLLIN, 0};
    }
    fds[CHANNEL].fd = channel_open ? SB_CHANNEL_FD : -1;
    fds[CHANNEL].events = POLLIN | (queue.count > 0 && !queue.stalled ? POLLOUT : 0);
    if (poll(fds, watched, queue.stalled ? 10 : -1) < 0) continue;
    for (int i = 0; i < listener_count; ++i) {
      if (fds[FIRST_LISTENER + i].revents & POLLIN) accept_waiting(listeners[i].fd, listeners[i].tag);
    }
    if (channel_open && queue.count > 0) hand_over();
    if (fds[CHANNEL].revents & (POLLIN | POLLHUP | POLLERR)) {
      /* sbrun holds the sandbox still while it asks the user something on
       * the terminal the command may share: nothing inside can read the
       * answer or draw over the question meanwhile. */
      char order[2] = {0, 0};
      const ssize_t n = recv(SB_CHANNEL_FD, order, sizeof order, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) channel_open = 0;
      if (n >= 1 && order[0] == SB_ORDER_HOLD) kill(-1, SIGSTOP);
      if (n >= 1 && order[0] == SB_ORDER_RELEASE) kill(-1, SIGCONT);
      if (n == 2 && order[0] == SB_ORDER_SIGNAL) end_signal(order[1]);
    }
    if (fds[TERMINAL].revents & (POLLIN | POLLHUP | POLLERR)) {
      /* sbrun continues a command that stopped itself once the user brought
       * sbrun back (`fg`): its whole process group, as a shell would. */
      char order = 0;
      const ssize_t n = recv(SB_TERMINAL_FD, &order, 1, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) fds[TERMINAL].fd = -1;
      if (n == 1 && order == SB_TERM_CONTINUE && kill(-child, SIGCONT) != 0) kill(child, SIGCONT);
    }
    if (!(fds[SIGNALS].revents & POLLIN)) continue;
    struct signalfd_siginfo info;
    while (read(signals, &info, sizeof info) == (ssize_t)sizeof info) {
      if (info.ssi_signo != SIGCHLD) {
        /* The signals that end a run reach everyone (end_signal); the
         * others go to the command. */
        const int s = (int)info.ssi_signo;
        if (!end_signal(s)) kill(child, s);
        continue;
      }
      int status = 0;
      pid_t pid;
      /* On its own terminal, a command that stops itself is said to sbrun,
       * which stops too, so the user's shell gets the terminal back. */
      while ((pid = waitpid(-1, &status, WNOHANG | (terminal ? WUNTRACED : 0))) > 0) {
        if (pid != child) continue; /* an orphan reparented to us: reaped */
        if (WIFSTOPPED(status)) say_stopped();
        if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
        if (WIFSIGNALED(status)) _exit(128 + WTERMSIG(status));
      }
    }
  }
}
