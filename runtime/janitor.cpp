#include "janitor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

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

// Descriptors per SCM_RIGHTS message (the kernel's limit is 253).
constexpr std::size_t kFdsPerMessage = 200;

[[noreturn]] void janitor_main(int in) {
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
    const ssize_t n = recvmsg(in, &m, MSG_CMSG_CLOEXEC);
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

// Keeps `keep` (moved to 3) and stderr; closes everything else.
int close_all_but(int keep) {
  if (keep != 3) {
    if (dup2(keep, 3) < 0) _exit(1);
    keep = 3;
  }
  close(STDIN_FILENO);
  close(STDOUT_FILENO);
  if (close_range(4, ~0U, 0) != 0) {
    for (int fd = 4; fd < 1024; ++fd) close(fd);
  }
  return keep;
}

}  // namespace

bool Janitor::start(std::string& error) {
  int p[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) != 0) {
    error = std::strerror(errno);
    return false;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    error = std::strerror(errno);
    close(p[0]);
    close(p[1]);
    return false;
  }
  if (pid == 0) {
    close(p[1]);
    // Keep nothing else open: no terminal, no sockets of sbrun's.
    janitor_main(close_all_but(p[0]));
  }
  close(p[0]);
  fd_ = p[1];
  return true;
}

bool Janitor::send(const std::string& line, const std::vector<int>& fds) {
  if (fd_ < 0) return false;
  const std::string msg = line + "\n";
  std::size_t done = 0;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kFdsPerMessage)];
  while (done < msg.size()) {
    iovec iov{const_cast<char*>(msg.data() + done), msg.size() - done};
    msghdr m{};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    if (done == 0 && !fds.empty()) {
      m.msg_control = control;
      m.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
      cmsghdr* c = CMSG_FIRSTHDR(&m);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    const ssize_t n = sendmsg(fd_, &m, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

void Janitor::watch(pid_t pid) { send("pid " + std::to_string(pid)); }

bool Janitor::create_placeholders(const std::vector<std::string>& paths, std::string& error) {
  // Every directory to make, parents first, told to the janitor in one
  // message before the first is made.
  std::vector<std::string> missing;
  std::set<std::string> seen;
  for (const std::string& path : paths) {
    std::size_t at = 1;
    while (at <= path.size()) {
      const std::size_t slash = path.find('/', at);
      const std::string prefix = path.substr(0, slash);
      if (seen.insert(prefix).second) {
        struct stat st {};
        if (lstat(prefix.c_str(), &st) != 0) {
          missing.push_back(prefix);
        } else if (!S_ISDIR(st.st_mode) && slash != std::string::npos) {
          error = "`" + prefix + "` is not a directory";
          return false;
        }
      }
      if (slash == std::string::npos) break;
      at = slash + 1;
    }
  }
  if (missing.empty()) return true;
  std::string announce;
  for (const std::string& m : missing) announce += (announce.empty() ? "mkdir " : "\nmkdir ") + m;
  send(announce);
  for (const std::string& m : missing) {
    if (mkdir(m.c_str(), 0755) != 0) {
      if (errno == EEXIST) continue;  // made by someone else meanwhile: theirs, not removed
      error = "cannot create `" + m + "`: " + std::strerror(errno);
      return false;
    }
    created_.push_back(m);
    // Held so that removing it later is only an unlink (see the header);
    // without a descriptor it is removed all the same, just slower.
    const int held = open(m.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (held >= 0) held_.push_back(held);
  }
  return true;
}

void Janitor::finish() {
  remove_placeholders(std::move(created_));
  created_.clear();
  // The janitor takes the held directories over; closing ours is then
  // cheap, and it releases them after sbrun has gone.
  for (std::size_t i = 0; i < held_.size(); i += kFdsPerMessage) {
    const std::vector<int> batch(held_.begin() + static_cast<std::ptrdiff_t>(i),
                                 held_.begin() + static_cast<std::ptrdiff_t>(std::min(held_.size(), i + kFdsPerMessage)));
    if (!send("hold", batch)) break;
  }
  for (int fd : held_) close(fd);
  held_.clear();
  send("done");
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  // Not waited for: it now only holds unlinked directories, and exits at
  // once. (A zombie until sbrun exits, just after.)
}

Janitor::~Janitor() {
  for (int fd : held_) close(fd);
  if (fd_ >= 0) close(fd_);
}

void remove_placeholders(std::vector<std::string> created) {
  // Deepest first: a path is removed only after everything created below it.
  std::sort(created.begin(), created.end(), [](const std::string& a, const std::string& b) {
    return std::count(a.begin(), a.end(), '/') > std::count(b.begin(), b.end(), '/');
  });
  for (const auto& path : created) rmdir(path.c_str());  // fails harmlessly when not empty
}

}  // namespace sbpolicy::runtime
