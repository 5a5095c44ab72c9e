#include "host_files.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace sbpolicy::runtime {

namespace {

// The canonical path of an open directory.
std::string path_of(int fd) {
  char buf[4096];
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

std::string child(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }
  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

}  // namespace

int open_directory_nofollow(const std::string& path, bool make, std::vector<std::string>* made, std::string& error) {
  int dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  std::string at;
  for (std::size_t start = 1; dir >= 0 && start < path.size();) {
    const std::size_t slash = path.find('/', start);
    const std::string name = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    start = slash == std::string::npos ? path.size() : slash + 1;
    if (name.empty()) continue;
    at += "/" + name;
    int next = openat(dir, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0 && errno == ENOENT && make) {
      const bool made_here = mkdirat(dir, name.c_str(), 0755) == 0;
      if (!made_here && errno != EEXIST) {
        error = fmt::format("cannot create `{}`: {}", at, std::strerror(errno));
        close(dir);
        return -1;
      }
      if (made_here && made != nullptr) made->push_back(at);
      next = openat(dir, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (next < 0) {
      error = errno == ELOOP || errno == ENOTDIR
                  ? fmt::format("`{}` is a symlink or not a directory (it changed while sbrun was starting?)", at)
                  : fmt::format("cannot open `{}`: {}", at, std::strerror(errno));
      close(dir);
      return -1;
    }
    close(dir);
    dir = next;
  }
  if (dir < 0) error = fmt::format("cannot open `/`: {}", std::strerror(errno));
  return dir;
}

int open_path_nofollow(const std::string& path, std::string& error) {
  const std::size_t slash = path.rfind('/');
  if (path.empty() || path.front() != '/' || slash == std::string::npos) {
    error = fmt::format("`{}` is not an absolute path", path);
    return -1;
  }
  const std::string name = path.substr(slash + 1);
  if (name.empty()) return open_directory_nofollow(path, false, nullptr, error);
  const int dir = open_directory_nofollow(slash == 0 ? "/" : path.substr(0, slash), false, nullptr, error);
  if (dir < 0) return -1;
  const int fd = openat(dir, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  const int e = errno;
  close(dir);
  if (fd < 0) {
    error = fmt::format("cannot open `{}`: {}", path, std::strerror(e));
    return -1;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || S_ISLNK(st.st_mode)) {
    close(fd);
    error = fmt::format("`{}` is a symlink (it changed while sbrun was starting?)", path);
    return -1;
  }
  return fd;
}

int open_host_file_for_append(const std::string& path, const SandboxWrites& sandbox_writes, std::string& error) {
  if (path.empty()) {
    error = "an empty file name";
    return -1;
  }
  std::vector<std::string> parts;
  for (std::size_t at = 0; at < path.size();) {
    const std::size_t slash = path.find('/', at);
    const std::string part = path.substr(at, slash == std::string::npos ? std::string::npos : slash - at);
    if (!part.empty() && part != ".") parts.push_back(part);
    if (slash == std::string::npos) break;
    at = slash + 1;
  }
  if (parts.empty() || path.back() == '/' || parts.back() == "..") {
    error = fmt::format("`{}` names a directory, not a file", path);
    return -1;
  }
  Fd dir(open(path[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  std::string where = dir.get() >= 0 ? path_of(dir.get()) : std::string();
  if (where.empty()) {
    error = fmt::format("cannot open the directory of `{}`: {}", path, std::strerror(errno));
    return -1;
  }
  const auto refuse_writable = [&](const std::string& at) {
    error = fmt::format(
        "`{}` is in `{}`, which the sandbox can write; a file sbrun writes must be out of its reach "
        "(a link planted there would redirect it). Choose a path outside what the policy lets the "
        "command write",
        path, at);
    return -1;
  };
  if (sandbox_writes(where)) return refuse_writable(where);
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    const std::string& name = parts[i];
    struct stat st {};
    if (fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      error = fmt::format("cannot open `{}`: `{}`: {}", path, child(where, name), std::strerror(errno));
      return -1;
    }
    // `..` and symlinks lead elsewhere; both are followed only here, in a
    // directory the sandbox cannot write (checked before this step).
    Fd next(openat(dir.get(), name.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC | (S_ISLNK(st.st_mode) ? 0 : O_NOFOLLOW)));
    if (next.get() < 0) {
      error = fmt::format("cannot open `{}`: `{}`: {}", path, child(where, name), std::strerror(errno));
      return -1;
    }
    dir.reset(next.release());
    where = path_of(dir.get());
    if (where.empty() || sandbox_writes(where)) return refuse_writable(where.empty() ? path : where);
  }
  const std::string target = child(where, parts.back());
  if (sandbox_writes(target)) return refuse_writable(target);
  const int fd =
      openat(dir.get(), parts.back().c_str(), O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = errno == ELOOP ? fmt::format("`{}` is a symlink; sbrun does not follow links for files it writes", path)
                           : fmt::format("cannot open `{}`: {}", path, std::strerror(errno));
    return -1;
  }
  Fd file(fd);
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error = fmt::format("`{}` is not a regular file", path);
    return -1;
  }
  if (st.st_uid != geteuid() || st.st_nlink != 1) {
    error = fmt::format(
        "`{}` is not a file of this user's with a single name (owner uid {}, {} links); sbrun "
        "appends only to its own files",
        path, st.st_uid, st.st_nlink);
    return -1;
  }
  // Empty (new), or what sbrun writes: JSON lines. Never a shell rc file or
  // anything else a mistyped path could name.
  char head[2] = {0, 0};
  if (st.st_size > 0 && (pread(fd, head, sizeof head, 0) != 2 || head[0] != '{' || head[1] != '"')) {
    error = fmt::format(
        "`{}` is not a log sbrun wrote (it does not start with a JSON line); sbrun appends only to "
        "its own logs",
        path);
    return -1;
  }
  return file.release();
}

}  // namespace sbpolicy::runtime
