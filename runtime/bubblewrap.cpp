#include "bubblewrap.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "launch.hpp"
#include "sandbox/proxy_doors.hpp"

namespace sbpolicy::runtime {

std::vector<std::string> Bubblewrap::command_line(const std::vector<std::string>& command, unsigned terminal_fds) {
  std::vector<std::string> line = {"--", "/proc/self/fd/4", "--sbrun-init", "--proxy"};
  if (terminal_fds != 0) line.push_back(fmt::format("--terminal={}", terminal_fds & 7u));
  line.push_back("--");
  line.insert(line.end(), command.begin(), command.end());
  return line;
}

bool Bubblewrap::start(const std::string& bwrap, const std::string& init, const std::vector<std::string>& command,
                       const ChildStdio& stdio, const std::vector<int>& inherited, std::string& error) {
  for (int fd : inherited) {
    if (fd <= sandbox::kTerminalFd) {
      error = "a descriptor for bubblewrap collides with its fixed ones";
      return false;
    }
  }
  int plan[2] = {-1, -1}, status[2] = {-1, -1}, started[2] = {-1, -1}, channel[2] = {-1, -1}, errors[2] = {-1, -1};
  const int exe = open(init.c_str(), O_RDONLY | O_CLOEXEC);
  // A closed stdin or stdout stays closed (nothing is moved onto it).
  const int user_stdin = fcntl(stdio.in, F_DUPFD_CLOEXEC, 0);
  const bool stdin_ok = user_stdin >= 0 || errno == EBADF;
  const int user_stdout = fcntl(stdio.out, F_DUPFD_CLOEXEC, 0);
  const bool stdout_ok = user_stdout >= 0 || errno == EBADF;
  const int user_stderr = fcntl(stdio.err, F_DUPFD_CLOEXEC, 0);
  // Nothing on 9 without a terminal of its own.
  const bool with_terminal = stdio.terminal >= 0;
  const int terminal = with_terminal ? fcntl(stdio.terminal, F_DUPFD_CLOEXEC, 0) : -1;
  if (exe < 0 || !stdin_ok || !stdout_ok || user_stderr < 0 || (with_terminal && terminal < 0) ||
      pipe2(plan, O_CLOEXEC) != 0 ||
      pipe2(status, O_CLOEXEC) != 0 || pipe2(started, O_CLOEXEC) != 0 || pipe2(errors, O_CLOEXEC) != 0 ||
      socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, channel) != 0) {
    error = fmt::format("cannot prepare the sandbox init: {}", std::strerror(errno));
    for (int fd : {exe, user_stdin, user_stdout, user_stderr, terminal, plan[0], plan[1], status[0], status[1],
                   started[0], started[1], errors[0], errors[1], channel[0], channel[1]}) {
      if (fd >= 0) close(fd);
    }
    return false;
  }
  plan_fd_ = plan[1];
  status_fd_ = status[0];
  started_fd_ = started[0];
  channel_fd_ = channel[0];
  errors_fd_ = errors[0];

  // Everything the child needs is made here: it is started with vfork (no
  // copy of sbrun's page tables) and runs on sbrun's memory until execve, so
  // it only makes system calls. The descriptors go first above 100 (so no
  // dup2 overwrites another source), then onto 0-9; dup2 clears
  // close-on-exec. sbrun keeps the plan's write end, close-on-exec: no
  // other process holds it open.
  static_assert(sandbox::kChannelFd == 7 && sandbox::kStderrFd == 8 && sandbox::kTerminalFd == 9);
  // 0 and 1, 3-9 as above, and bubblewrap's own stderr (2): the pipe of its
  // messages.
  const int theirs[] = {user_stdin, user_stdout, plan[0],     exe,      status[1],
                        started[1], channel[1],  user_stderr, terminal, errors[1]};
  const int targets[] = {STDIN_FILENO, STDOUT_FILENO, 3, 4, 5, 6, 7, 8, 9, STDERR_FILENO};
  constexpr int kMoved = 10;
  int high[kMoved] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
  bool ok = true;
  for (int i = 0; i < kMoved && ok; ++i) {
    if (theirs[i] < 0) continue;  // a closed stdin or stdout, or no terminal socket
    high[i] = fcntl(theirs[i], F_DUPFD_CLOEXEC, 100);
    ok = high[i] >= 0;
  }
  for (int fd : theirs) {
    if (fd >= 0) close(fd);
  }
  if (!ok) {
    error = fmt::format("cannot prepare the sandbox init: {}", std::strerror(errno));
    for (int fd : high) {
      if (fd >= 0) close(fd);
    }
    return false;
  }
  const std::vector<std::string> line = command_line(command, stdio.terminal >= 0 ? stdio.terminal_fds : 0u);
  std::vector<char*> argv = {const_cast<char*>(bwrap.c_str()), const_cast<char*>("--args"), const_cast<char*>("3")};
  for (const auto& a : line) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  char* envp[] = {nullptr};
  const std::string exec_failed = fmt::format("sbrun: cannot run {}: ", bwrap);
  const pid_t parent = getpid();
  const pid_t pid = vfork();
  if (pid == 0) {
    // bubblewrap dies with sbrun, and the sandbox with bubblewrap.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(kSetupFailed);
    setpgid(0, 0);  // terminal signals reach sbrun, which forwards them
    for (int s : kForwardedSignals) signal(s, SIG_DFL);
    for (int i = 0; i < kMoved; ++i) {
      if (high[i] >= 0 && dup2(high[i], targets[i]) < 0) _exit(kSetupFailed);
    }
    for (int fd : inherited) {
      if (fcntl(fd, F_SETFD, 0) != 0) _exit(kSetupFailed);
    }
    execve(bwrap.c_str(), argv.data(), envp);
    const char* why = std::strerror(errno);
    (void)!write(sandbox::kStderrFd, exec_failed.data(), exec_failed.size());
    (void)!write(sandbox::kStderrFd, why, std::strlen(why));
    (void)!write(sandbox::kStderrFd, "\n", 1);
    _exit(kSetupFailed);
  }
  const int fork_errno = errno;
  for (int fd : high) {
    if (fd >= 0) close(fd);
  }
  if (pid < 0) {
    error = fmt::format("cannot start bubblewrap: {}", std::strerror(fork_errno));
    return false;
  }
  pid_ = pid;
  // Writing the plan into a pipe bubblewrap has left (it failed) raises
  // SIGPIPE, which would kill sbrun; splice(2) into a socket the peer
  // closed does too, later, in the proxy. Ignored now, after the vfork, so
  // bubblewrap and the command keep the default disposition.
  signal(SIGPIPE, SIG_IGN);
  return true;
}

bool Bubblewrap::send_plan(const std::vector<std::string>& args, std::string& error) {
  std::string blob;
  for (const auto& a : args) {
    blob += a;
    blob.push_back('\0');
  }
  // In one write when the pipe can hold it all (up to the system's
  // pipe-max-size, 1 MiB by default): a write that does not wait for room
  // is not cut short by a kill, so bubblewrap never starts from the head of
  // a plan. Larger plans go in pieces; the go still guards them.
  if (blob.size() > 4096) {
    (void)fcntl(plan_fd_, F_SETPIPE_SZ, static_cast<int>(std::min<std::size_t>(blob.size(), std::size_t{1} << 30)));
  }
  std::size_t done = 0;
  while (done < blob.size()) {
    const ssize_t n = write(plan_fd_, blob.data() + done, blob.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = fmt::format("cannot pass the plan to bubblewrap: {}", std::strerror(errno));
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  close(plan_fd_);
  plan_fd_ = -1;
  return true;
}

bool Bubblewrap::go(bool allow_unix_sockets, bool allow_ptrace, const std::vector<CommandRlimit>& rlimits,
                    const std::vector<std::string>& local_services, std::string& error) {
  // Only once the whole plan is in the pipe and the pipe is closed.
  if (plan_fd_ >= 0 || pid_ <= 0) {
    error = "the plan was not passed to bubblewrap";
    return false;
  }
  std::string go = {sandbox::kOrderGo,
                    static_cast<char>((allow_unix_sockets ? SB_GO_UNIX : 0) | (allow_ptrace ? SB_GO_PTRACE : 0))};
  for (const CommandRlimit& r : rlimits) go += fmt::format("{}{} {} {}\n", char{SB_GO_LIMIT}, r.resource, r.soft, r.hard);
  for (const std::string& s : local_services) go += s + "\n";
  if (rlimits.size() > SB_MAX_LIMITS || local_services.size() > SB_MAX_LOCAL_SERVICES || go.size() > SB_GO_MAX) {
    error = "too many loopback services or limits for the sandbox init";
    return false;
  }
  if (send(channel_fd_, go.data(), go.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(go.size())) {
    error = fmt::format("cannot tell the sandbox init to go: {}", std::strerror(errno));
    return false;
  }
  gone_ = true;
  return true;
}

std::string Bubblewrap::take_messages() {
  std::string out;
  if (errors_fd_ < 0) return out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(errors_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > (1u << 16)) break;
  }
  return out;
}

std::string Bubblewrap::explain(const std::string& messages) {
  std::string text = messages;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.empty()) return "bubblewrap stopped without a message";
  const auto has = [&](std::string_view needle) { return text.find(needle) != std::string::npos; };
  // "bwrap: Can't find source path /x: No such file or directory" and the like.
  const auto quoted_path = [&](std::string_view after) {
    const auto at = text.find(after);
    if (at == std::string::npos) return std::string();
    const auto start = at + after.size();
    const auto end = text.find(':', start);
    return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
  };
  std::string why;
  if (has("Creating new namespace failed") || has("setting up uid map") ||
      has("No permissions to create new namespace")) {
    why =
        "this system does not let the sandbox create its namespaces (user namespaces disabled, or restricted by "
        "AppArmor or a container); enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 "
        "where it exists, or an AppArmor profile that allows bwrap)";
  } else if (has("Can't find source path")) {
    why = fmt::format("`{}` disappeared while the sandbox was being built; run again", quoted_path("source path "));
  } else if (has("Can't chdir to")) {
    why = fmt::format("the working directory `{}` is not reachable inside the sandbox", quoted_path("chdir to "));
  } else if (has("Exceeded maximum number of arguments")) {
    why = "the plan has more mounts than bubblewrap accepts; fewer protected paths or narrower globs";
  } else if (has("Can't mount proc")) {
    why =
        "a fresh /proc cannot be mounted here (inside a container without its own PID namespace, or with /proc "
        "partly hidden); run sbrun where bubblewrap can mount /proc";
  } else {
    why = "bubblewrap could not build the sandbox";
  }
  return why + "; the command did not run\n  bubblewrap said: " + text;
}

void Bubblewrap::stop() {
  if (gone_ || pid_ <= 0) return;
  // Killed before its pipe closes, so it never reads the end of a partial plan.
  kill(pid_, SIGKILL);
  if (plan_fd_ >= 0) close(plan_fd_);
  plan_fd_ = -1;
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

Bubblewrap::~Bubblewrap() {
  stop();
  for (int fd : {plan_fd_, status_fd_, started_fd_, errors_fd_, gone_ ? -1 : channel_fd_}) {
    if (fd >= 0) close(fd);
  }
}

}  // namespace sbpolicy::runtime
