#include "init.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "seccomp_filter.hpp"

namespace sbpolicy::runtime {

namespace {

constexpr int kStartedFd = 6;
constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM};

void close_inherited_fds() {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 3u, ~0u, 0u) == 0) return;
#endif
  const long max = sysconf(_SC_OPEN_MAX);
  for (long fd = 3; fd < max && fd < 65536; ++fd) close(static_cast<int>(fd));
}

}  // namespace

bool parse_init_arguments(int argc, char** argv, InitOptions& options) {
  int i = 1;
  if (i >= argc || std::strcmp(argv[i], "--sbrun-init") != 0) return false;
  ++i;
  for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    if (std::strcmp(argv[i], "--unix") == 0) options.allow_unix_sockets = true;
    else return false;
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

  const pid_t child = fork();
  if (child < 0) {
    std::fprintf(stderr, "sbrun: init cannot fork: %s\n", std::strerror(errno));
    _exit(125);
  }
  if (child == 0) {
    sigprocmask(SIG_UNBLOCK, &all, nullptr);
    const std::string error = load_seccomp_filter({options.allow_unix_sockets});
    if (!error.empty()) {
      std::fprintf(stderr, "sbrun: %s\n", error.c_str());
      _exit(125);
    }
    std::vector<char*> argv;
    for (const auto& a : options.command) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    const int e = errno;
    std::fprintf(stderr, "sbrun: cannot run `%s` in the sandbox: %s\n", argv[0], std::strerror(e));
    _exit(e == ENOENT ? 127 : 126);
  }

  for (;;) {
    siginfo_t info{};
    if (sigwaitinfo(&all, &info) < 0) continue;
    if (info.si_signo != SIGCHLD) {
      kill(child, info.si_signo);
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

}  // namespace sbpolicy::runtime
