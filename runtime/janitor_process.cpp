// The janitor process itself (`sbrun-init --sbrun-janitor`), and the
// removal of placeholders it shares with sbrun. See janitor.hpp.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "janitor.hpp"

namespace sbpolicy::runtime {

namespace {

// Waits until `pid` no longer exists (it is not our child).
void wait_gone(pid_t pid) {
  const int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd >= 0) {
    pollfd p{fd, POLLIN, 0};
    while (poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
    close(fd);
    return;
  }
  while (kill(pid, 0) == 0) usleep(5000);
}

}  // namespace

void run_janitor() {
  // Nothing of sbrun's but the channel and stderr: no terminal on stdin or
  // stdout, no descriptor sbrun's own caller leaked to it.
  close(STDIN_FILENO);
  close(STDOUT_FILENO);
  if (close_range(kJanitorChannelFd + 1, ~0U, 0) != 0) {
    for (int fd = kJanitorChannelFd + 1; fd < 1024; ++fd) close(fd);
  }
  setsid();
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU}) signal(s, SIG_IGN);
  std::vector<std::string> created;
  std::vector<pid_t> pids;
  std::string buf;
  char chunk[4096];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kFdsPerMessage)];
  for (;;) {
    iovec iov{chunk, sizeof chunk};
    msghdr m{};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    const ssize_t n = recvmsg(kJanitorChannelFd, &m, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    // Handed-over placeholders stay open here (the process holds them)
    // until it exits; nothing else is done with them.
    if (n <= 0) break;
    buf.append(chunk, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      const std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      if (line == "done") {
        // sbrun removed the names; the held directories are released as
        // this process exits. Whoever reads sbrun's stderr to its end is not
        // kept waiting for that.
        close(STDERR_FILENO);
        _exit(0);
      }
      if (line.rfind("mkdir ", 0) == 0) created.push_back(line.substr(6));
      if (line.rfind("pid ", 0) == 0) pids.push_back(static_cast<pid_t>(std::atol(line.c_str() + 4)));
    }
  }
  // sbrun is gone without cleaning up: wait for the sandbox, then clean.
  for (pid_t p : pids) wait_gone(p);
  remove_placeholders(std::move(created));
  _exit(0);
}

void remove_placeholders(std::vector<std::string> created) {
  // Deepest first: a path is removed only after everything created below it.
  std::sort(created.begin(), created.end(), [](const std::string& a, const std::string& b) {
    return std::count(a.begin(), a.end(), '/') > std::count(b.begin(), b.end(), '/');
  });
  for (const auto& path : created) rmdir(path.c_str());  // fails harmlessly when not empty
}

}  // namespace sbpolicy::runtime
