#include "sbc/output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace sbpolicy::sbc {

std::string write_output(const std::string& path, const std::string& content, const struct stat* like) {
  if (path.empty() || path == "-") {
    if (std::fwrite(content.data(), 1, content.size(), stdout) != content.size() || std::fflush(stdout) != 0) {
      return fmt::format("cannot write to standard output: {}", std::strerror(errno));
    }
    return {};
  }
  std::string tmp = path + ".XXXXXX";
  const int fd = mkstemp(tmp.data());
  if (fd < 0) return fmt::format("cannot create a file next to `{}`: {}", path, std::strerror(errno));
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      close(fd);
      unlink(tmp.c_str());
      return fmt::format("cannot write `{}`: {}", path, why);
    }
    done += static_cast<std::size_t>(n);
  }
  // mkstemp creates 0600; give the file the mode of the one it replaces, or
  // the mode a plain create would have.
  bool kept = true;
  if (like != nullptr) {
    kept = (geteuid() != 0 || fchown(fd, like->st_uid, like->st_gid) == 0) && fchmod(fd, like->st_mode & 07777) == 0;
  } else {
    const mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
  }
  if (!kept || fsync(fd) != 0 || close(fd) != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    unlink(tmp.c_str());
    return fmt::format("cannot write `{}`: {}", path, why);
  }
  return {};
}

}  // namespace sbpolicy::sbc
