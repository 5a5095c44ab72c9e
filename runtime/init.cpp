#include "init.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <utility>
#include <vector>

#include "lower/sandbox_proxy.hpp"
#include "seccomp_filter.hpp"

namespace sbpolicy::runtime {

namespace {

constexpr int kStartedFd = 6;
constexpr int kProxyChannelFd = lower::kChannelFd;
constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM};

// Closes every inherited descriptor but the proxy channel, which is kept
// for the init alone (close-on-exec, so the command never has it).
void close_inherited_fds() {
  for (auto [lo, hi] : {std::pair{3u, unsigned(kProxyChannelFd) - 1}, std::pair{unsigned(kProxyChannelFd) + 1, ~0u}}) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, lo, hi, 0u) == 0) continue;
#endif
    const long max = sysconf(_SC_OPEN_MAX);
    for (long fd = lo; fd <= static_cast<long>(hi) && fd < max && fd < 65536; ++fd) close(static_cast<int>(fd));
  }
  fcntl(kProxyChannelFd, F_SETFD, FD_CLOEXEC);
}

// A listening socket on 127.0.0.1:port in the sandbox's own network
// namespace, or -1.
int listen_loopback(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 512) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Accepts every waiting connection and hands each socket to sbrun's proxy,
// tagged with the port it came in on. The init never reads or writes a
// byte of it. When the channel is full the connection is dropped.
void hand_over(int listener, char tag) {
  for (;;) {
    const int client = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) return;
    iovec iov{&tag, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &client, sizeof client);
    (void)sendmsg(kProxyChannelFd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    close(client);
  }
}

// Writes `parts` to stderr with write(2) alone (no stdio: safe in a vfork
// child).
void say(std::initializer_list<const char*> parts) {
  for (const char* p : parts) (void)!write(STDERR_FILENO, p, std::strlen(p));
}

// The signals that end a run go to every process of the sandbox, as a
// terminal's Ctrl-C reaches the whole foreground job, followed by SIGCONT:
// a network question may hold the sandbox stopped, and a stopped process
// keeps them pending. False for any other signal.
bool end_signal(int s) {
  if (s != SIGINT && s != SIGTERM && s != SIGHUP && s != SIGQUIT) return false;
  kill(-1, s);
  kill(-1, SIGCONT);
  return true;
}

}  // namespace

bool parse_init_arguments(int argc, char** argv, InitOptions& options) {
  int i = 1;
  if (i >= argc || std::strcmp(argv[i], "--sbrun-init") != 0) return false;
  ++i;
  for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    if (std::strcmp(argv[i], "--proxy") == 0)
      options.proxy = true;
    else
      return false;
  }
  if (i >= argc) return false;
  for (++i; i < argc; ++i) options.command.emplace_back(argv[i]);
  return !options.command.empty();
}

void run_init(const InitOptions& options) {
  // Not dumpable: the command runs as the same user in the same namespace,
  // and must not open /proc/1/mem, ptrace the init or take its descriptors
  // with pidfd_getfd; the init is outside the seccomp filter. exec() makes
  // the command dumpable again, as usual.
  if (prctl(PR_SET_DUMPABLE, 0) != 0) {
    std::fprintf(stderr, "sbrun: init cannot make itself undumpable: %s\n", std::strerror(errno));
    _exit(125);
  }
  // Tell sbrun the sandbox was built: bubblewrap reports its child's pid
  // before mounting, so only the init running proves the mounts succeeded.
  if (write(kStartedFd, "1", 1) != 1) _exit(125);
  close_inherited_fds();
  sigset_t all;
  sigemptyset(&all);
  sigaddset(&all, SIGCHLD);
  for (int s : kForwarded) sigaddset(&all, s);
  sigprocmask(SIG_BLOCK, &all, nullptr);

  // The proxy's two doors, opened before the command exists so it cannot
  // take the ports first.
  const int http = options.proxy ? listen_loopback(lower::kHttpPort) : -1;
  const int socks = options.proxy ? listen_loopback(lower::kSocksPort) : -1;
  if (options.proxy && (http < 0 || socks < 0)) {
    std::fprintf(stderr, "sbrun: init cannot listen on 127.0.0.1:%u and :%u for the proxy: %s\n", lower::kHttpPort,
                 lower::kSocksPort, std::strerror(errno));
    _exit(125);
  }
  const int signals = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signals < 0) {
    std::fprintf(stderr, "sbrun: init cannot watch signals: %s\n", std::strerror(errno));
    _exit(125);
  }

  // sbrun's go: bubblewrap read the whole plan. sbrun starts bubblewrap
  // before it has compiled the policy and sends the plan through a pipe;
  // killed while writing it, sbrun leaves bubblewrap a plan cut short, and
  // no go.
  char go[2] = {};
  ssize_t got;
  while ((got = recv(kProxyChannelFd, go, sizeof go, 0)) < 0 && errno == EINTR) {
  }
  if (got != 2 || go[0] != lower::kOrderGo) {
    say({"sbrun: init: no go from sbrun (it is gone); the command did not run\n"});
    _exit(125);
  }
  const SeccompOptions filter{go[1] == 1};

  // The command's child is made with vfork: it shares the init's memory
  // until it executes the command, so nothing of the init's is copied; it
  // only makes system calls (the filter is a ready BPF program, the
  // arguments are built here) and writes its errors with write(2).
  std::vector<char*> argv;
  for (const auto& a : options.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t child = vfork();
  if (child < 0) {
    std::fprintf(stderr, "sbrun: init cannot fork: %s\n", std::strerror(errno));
    _exit(125);
  }
  if (child == 0) {
    sigprocmask(SIG_UNBLOCK, &all, nullptr);
    if (const char* error = load_seccomp_filter(filter); error != nullptr) {
      say({"sbrun: ", error, ": ", std::strerror(errno), "\n"});
      _exit(125);
    }
    execvp(argv[0], argv.data());
    const int e = errno;
    say({"sbrun: cannot run `", argv[0], "` in the sandbox: ", std::strerror(e), "\n"});
    _exit(e == ENOENT ? 127 : 126);
  }

  pollfd fds[4] = {
      {signals, POLLIN, 0}, {http, POLLIN, 0}, {socks, POLLIN, 0}, {options.proxy ? kProxyChannelFd : -1, POLLIN, 0}};
  for (;;) {
    if (poll(fds, 4, -1) < 0) continue;
    if (fds[1].revents & POLLIN) hand_over(http, lower::kTagHttp);
    if (fds[2].revents & POLLIN) hand_over(socks, lower::kTagSocks);
    if (fds[3].revents & (POLLIN | POLLHUP | POLLERR)) {
      // sbrun holds the sandbox still while it asks the user something on
      // the terminal the command may share: nothing inside can read the
      // answer or draw over the question meanwhile.
      char order[2] = {};
      const ssize_t n = recv(kProxyChannelFd, order, sizeof order, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) fds[3].fd = -1;
      if (n >= 1 && order[0] == lower::kOrderHold) kill(-1, SIGSTOP);
      if (n >= 1 && order[0] == lower::kOrderRelease) kill(-1, SIGCONT);
      if (n == 2 && order[0] == lower::kOrderSignal) end_signal(order[1]);
    }
    if (!(fds[0].revents & POLLIN)) continue;
    signalfd_siginfo info{};
    while (read(signals, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      if (info.ssi_signo != SIGCHLD) {
        // The signals that end a run reach everyone (end_signal); the
        // others go to the command.
        const int s = static_cast<int>(info.ssi_signo);
        if (!end_signal(s)) kill(child, s);
        continue;
      }
      int status = 0;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid != child) continue;  // an orphan reparented to us: reaped
        if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
        if (WIFSIGNALED(status)) _exit(128 + WTERMSIG(status));
      }
    }
  }
}

}  // namespace sbpolicy::runtime
