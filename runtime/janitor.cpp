#include "janitor.hpp"

#include "host_files.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

#include <fmt/format.h>

namespace sbpolicy::runtime {

bool Janitor::spawn(std::string& error) {
  int p[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) != 0) {
    error = fmt::format("cannot start the cleanup process: {}", std::strerror(errno));
    return false;
  }
  // Its own session from the start, so Ctrl-C at the terminal never reaches
  // it; only the channel survives the exec (dup2 clears close-on-exec, also
  // when p[0] is already 3), and the janitor closes the rest but stderr.
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, p[0], kJanitorChannelFd);
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  char* argv[] = {const_cast<char*>(program_.c_str()), const_cast<char*>("--sbrun-janitor"), nullptr};
  char* envp[] = {nullptr};
  pid_t pid = -1;
  const int e = posix_spawn(&pid, program_.c_str(), &actions, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(p[0]);
  if (e != 0) {
    error = fmt::format("cannot start the cleanup process `{}`: {}", program_, std::strerror(e));
    close(p[1]);
    return false;
  }
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

void Janitor::watch(pid_t pid) {
  watched_.push_back(pid);
  if (fd_ >= 0) send("pid " + std::to_string(pid));
}

namespace {

std::string parent_dir(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }

}  // namespace

bool Janitor::create_placeholders(const std::vector<std::string>& paths,
                                  const std::vector<std::pair<std::string, std::string>>& files, std::string& error) {
  // Every directory to make (parents first) and every file, told to the
  // janitor in one message before the first is made.
  std::vector<std::string> missing;
  std::set<std::string> seen;
  const auto note_missing = [&](const std::string& path, bool last_is_file) {
    std::size_t at = 1;
    while (at <= path.size()) {
      const std::size_t slash = path.find('/', at);
      const std::string prefix = path.substr(0, slash);
      if (slash == std::string::npos && last_is_file) break;
      if (seen.insert(prefix).second) {
        struct stat st {};
        if (lstat(prefix.c_str(), &st) != 0) missing.push_back(prefix);
      }
      if (slash == std::string::npos) break;
      at = slash + 1;
    }
  };
  for (const std::string& path : paths) note_missing(path, false);
  for (const auto& file : files) note_missing(file.first, true);
  if (missing.empty() && files.empty()) return true;
  // No placeholder without a janitor to remove it if sbrun is killed: it
  // starts now, and learns the processes watched so far.
  std::string announce;
  const auto line = [&](const std::string& l) { announce += (announce.empty() ? "" : "\n") + l; };
  if (fd_ < 0) {
    if (!spawn(error)) return false;
    for (pid_t pid : watched_) line("pid " + std::to_string(pid));
  }
  for (const std::string& m : missing) line("mkdir " + m);
  for (const auto& [path, content] : files) line("file " + std::to_string(content.size()) + " " + path);
  if (!send(announce)) {
    error = "the cleanup process is not running";
    return false;
  }
  for (const std::string& m : missing) {
    // Made (with its missing parents) under descriptors; one someone else
    // made meanwhile is theirs, and not removed.
    std::vector<std::string> made;
    const int dir = open_directory_nofollow(m, true, &made, error);
    created_.insert(created_.end(), made.begin(), made.end());
    if (dir < 0) return false;
    // Held so that removing it later is only an unlink (see the header).
    if (std::find(made.begin(), made.end(), m) != made.end()) {
      held_.push_back(dir);
    } else {
      close(dir);
    }
  }
  for (const auto& [path, content] : files) {
    const int dir = open_directory_nofollow(parent_dir(path), false, nullptr, error);
    if (dir < 0) return false;
    const int fd = openat(dir, base_name(path).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    const int open_errno = errno;
    close(dir);
    if (fd < 0) {
      if (open_errno == EEXIST) continue;  // someone else's now: not ours to remove
      error = "cannot create `" + path + "`: " + std::strerror(open_errno);
      return false;
    }
    created_files_.emplace_back(path, content.size());
    const bool written = write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
    close(fd);
    if (!written) {
      error = "cannot write `" + path + "`";
      return false;
    }
  }
  return true;
}

void Janitor::finish() {
  remove_placeholders(created_files_, std::move(created_));
  created_.clear();
  created_files_.clear();
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

void remove_placeholders(const std::vector<std::pair<std::string, std::size_t>>& files,
                         std::vector<std::string> created) {
  // Files first, while they are what was made (the janitor process does the
  // same in C: sbrun-init/janitor.c); then directories, deepest first: a
  // path is removed only after everything created below it.
  for (const auto& [path, size] : files) {
    std::string ignored;
    const int dir = open_directory_nofollow(parent_dir(path), false, nullptr, ignored);
    if (dir < 0) continue;
    struct stat st {};
    if (fstatat(dir, base_name(path).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
        static_cast<std::size_t>(st.st_size) == size) {
      unlinkat(dir, base_name(path).c_str(), 0);
    }
    close(dir);
  }
  std::sort(created.begin(), created.end(), [](const std::string& a, const std::string& b) {
    return std::count(a.begin(), a.end(), '/') > std::count(b.begin(), b.end(), '/');
  });
  for (const auto& path : created) {
    // From `/` without following a symlink: one swapped in meanwhile leads
    // nowhere, and nothing elsewhere is removed.
    std::string ignored;
    const int dir = open_directory_nofollow(parent_dir(path), false, nullptr, ignored);
    if (dir < 0) continue;
    unlinkat(dir, base_name(path).c_str(), AT_REMOVEDIR);  // fails harmlessly when not empty
    close(dir);
  }
}

}  // namespace sbpolicy::runtime
