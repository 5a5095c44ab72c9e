#include "janitor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

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

[[noreturn]] void janitor_main(int in) {
  setsid();
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU}) signal(s, SIG_IGN);
  std::vector<std::string> created;
  std::vector<pid_t> pids;
  std::string buf;
  char chunk[4096];
  for (;;) {
    const ssize_t n = read(in, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buf.append(chunk, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      const std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      if (line == "done") _exit(0);
      if (line.rfind("mkdir ", 0) == 0) created.push_back(line.substr(6));
      if (line.rfind("pid ", 0) == 0) pids.push_back(static_cast<pid_t>(std::atol(line.c_str() + 4)));
    }
  }
  // sbrun is gone without cleaning up: wait for the sandbox, then clean.
  for (pid_t p : pids) wait_gone(p);
  remove_placeholders(std::move(created));
  _exit(0);
}

}  // namespace

bool Janitor::start(std::string& error) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) {
    error = std::strerror(errno);
    return false;
  }
  pid_ = fork();
  if (pid_ < 0) {
    error = std::strerror(errno);
    close(p[0]);
    close(p[1]);
    return false;
  }
  if (pid_ == 0) {
    close(p[1]);
    // Keep nothing else open: no terminal, no sockets of sbrun's.
    for (int fd = 0; fd < 1024; ++fd) {
      if (fd != p[0] && fd != STDERR_FILENO) close(fd);
    }
    janitor_main(p[0]);
  }
  close(p[0]);
  fd_ = p[1];
  return true;
}

void Janitor::send(const std::string& line) {
  if (fd_ < 0) return;
  const std::string msg = line + "\n";
  std::size_t done = 0;
  while (done < msg.size()) {
    const ssize_t n = write(fd_, msg.data() + done, msg.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

void Janitor::will_create(const std::string& path) { send("mkdir " + path); }
void Janitor::watch(pid_t pid) { send("pid " + std::to_string(pid)); }

void Janitor::dismiss() {
  send("done");
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  if (pid_ > 0) {
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  pid_ = -1;
}

Janitor::~Janitor() {
  if (fd_ >= 0) close(fd_);
}

void remove_placeholders(std::vector<std::string> created) {
  // Deepest first: a path is removed only after everything created below it.
  std::sort(created.begin(), created.end(), [](const std::string& a, const std::string& b) {
    return std::count(a.begin(), a.end(), '/') > std::count(b.begin(), b.end(), '/');
  });
  for (const auto& path : created) rmdir(path.c_str());  // fails harmlessly when not empty
}

bool create_placeholder(const std::string& path, Janitor& janitor, std::vector<std::string>& created,
                        std::string& error) {
  std::size_t at = 1;
  while (at <= path.size()) {
    const std::size_t slash = path.find('/', at);
    const std::string prefix = path.substr(0, slash);
    struct stat st {};
    if (lstat(prefix.c_str(), &st) != 0) {
      janitor.will_create(prefix);
      if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
        error = "cannot create `" + prefix + "`: " + std::strerror(errno);
        return false;
      }
      created.push_back(prefix);
    } else if (!S_ISDIR(st.st_mode) && slash != std::string::npos) {
      error = "`" + prefix + "` is not a directory";
      return false;
    }
    if (slash == std::string::npos) break;
    at = slash + 1;
  }
  return true;
}

}  // namespace sbpolicy::runtime
