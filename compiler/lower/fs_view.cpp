#include "lower/fs_view.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sbpolicy::lower {

namespace {

bool same_time(const timespec& a, const timespec& b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }

// Filesystems whose names compare byte for byte, unless a directory asks
// for case folding (ext4, f2fs and tmpfs can): anything else (vfat, CIFS,
// FUSE, NFS, XFS with ascii-ci, ZFS with casesensitivity=insensitive, ...)
// is not trusted with absence.
bool names_compare_exactly(int fd, const struct statfs& fs) {
  constexpr unsigned long kExt4 = 0xEF53, kF2fs = 0xF2F52010, kTmpfs = 0x01021994, kBtrfs = 0x9123683E,
                          kOverlay = 0x794C7630;
  const auto type = static_cast<unsigned long>(fs.f_type);
  if (type != kExt4 && type != kF2fs && type != kTmpfs && type != kBtrfs && type != kOverlay) return false;
  constexpr unsigned kCasefold = 0x40000000;  // FS_CASEFOLD_FL
  unsigned flags = 0;
  if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) return (flags & kCasefold) == 0;
  return type == kBtrfs || type == kOverlay;  // no case folding there to report
}

FileKind from_mode(mode_t mode) {
  if (S_ISDIR(mode)) return FileKind::Directory;
  if (S_ISREG(mode)) return FileKind::File;
  if (S_ISLNK(mode)) return FileKind::Symlink;
  if (S_ISSOCK(mode)) return FileKind::Socket;
  return FileKind::Other;
}

FileKind lstat_kind(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return FileKind::Missing;
  return from_mode(st.st_mode);
}

// Reads `dir` into `out`. With `judge`, also says whether the listing is
// exact (see PosixFs::list_exact); without, `exact` stays false. getdents64
// into a buffer on the stack: opendir's fstat and 32 KiB heap buffer were a
// third of listing the small directories a launch walks.
bool read_directory(const std::string& dir, std::vector<DirEntry>& out, bool judge, bool& exact) {
  exact = false;
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return false;
  struct stat before {};
  bool judged = false;
  if (judge && fstat(fd, &before) == 0) {
    struct statfs fs {};
    judged = fstatfs(fd, &fs) == 0 && names_compare_exactly(fd, fs);
  }
  bool failed = false;
  alignas(dirent64) char buffer[16384];
  for (;;) {
    const ssize_t n = getdents64(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      failed = n < 0;
      break;
    }
    for (ssize_t at = 0; at < n;) {
      const auto* e = reinterpret_cast<const dirent64*>(buffer + at);
      at += e->d_reclen;
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      FileKind k;
      switch (e->d_type) {
        case DT_DIR: k = FileKind::Directory; break;
        case DT_REG: k = FileKind::File; break;
        case DT_LNK: k = FileKind::Symlink; break;
        case DT_SOCK: k = FileKind::Socket; break;
        case DT_UNKNOWN: {
          std::string full = dir;
          if (dir != "/") full += '/';
          full += e->d_name;
          k = lstat_kind(full);
          break;
        }
        default: k = FileKind::Other;
      }
      out.push_back({e->d_name, k});
    }
  }
  if (judged && !failed) {
    struct stat after {};
    exact = fstat(fd, &after) == 0 && same_time(before.st_mtim, after.st_mtim) &&
            same_time(before.st_ctim, after.st_ctim);
  }
  close(fd);
  return !failed;
}

}  // namespace

FileKind PosixFs::kind(const std::string& path) { return lstat_kind(path); }

std::optional<std::string> PosixFs::read_link(const std::string& path) {
  std::string buf(4096, '\0');
  const ssize_t n = readlink(path.c_str(), buf.data(), buf.size());
  if (n < 0 || static_cast<std::size_t>(n) >= buf.size()) return std::nullopt;
  buf.resize(static_cast<std::size_t>(n));
  return buf;
}

bool PosixFs::list(const std::string& dir, std::vector<DirEntry>& out) {
  bool exact = false;
  return read_directory(dir, out, false, exact);
}

bool PosixFs::list_exact(const std::string& dir, std::vector<DirEntry>& out, bool& exact) {
  return read_directory(dir, out, true, exact);
}

bool PosixFs::may_create_in(const std::string& dir) {
  struct statvfs fs {};
  if (statvfs(dir.c_str(), &fs) == 0 && (fs.f_flag & ST_RDONLY) != 0) return false;
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return true;  // not known: as if it could
  return st.st_uid == geteuid() || faccessat(AT_FDCWD, dir.c_str(), W_OK, AT_EACCESS) == 0;
}

FileKind SnapshotFs::kind(const std::string& path) {
  if (auto it = kinds_.find(path); it != kinds_.end()) return it->second;
  const std::size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash + 1 < path.size()) {
    const std::string dir = slash == 0 ? "/" : path.substr(0, slash);
    auto names = names_.find(dir);
    if (names == names_.end() && ++asked_[dir] >= kListAfter) {
      std::vector<DirEntry> entries;
      bool exact = false;
      if (inner_.list_exact(dir, entries, exact) && exact) {
        remember(dir, entries.data(), entries.size());
      } else {
        names_.emplace(dir, std::nullopt);
      }
      names = names_.find(dir);
    }
    if (names != names_.end() && names->second && names->second->count(path.substr(slash + 1)) == 0) {
      kinds_.emplace(path, FileKind::Missing);
      return FileKind::Missing;
    }
  }
  const FileKind k = inner_.kind(path);
  kinds_.emplace(path, k);
  return k;
}

std::optional<std::string> SnapshotFs::read_link(const std::string& path) {
  if (auto it = links_.find(path); it != links_.end()) return it->second;
  auto target = inner_.read_link(path);
  links_.emplace(path, target);
  return target;
}

// Each directory is listed once per lowering already (one walk for all
// globs): listings pass through.
bool SnapshotFs::list(const std::string& dir, std::vector<DirEntry>& out) { return inner_.list(dir, out); }

void SnapshotFs::remember(const std::string& dir, const DirEntry* entries, std::size_t count) {
  if (count > kRememberEntries) {
    names_[dir] = std::nullopt;
    return;
  }
  auto& names = names_[dir].emplace();
  for (std::size_t i = 0; i < count; ++i) names.insert(entries[i].name);
}

bool at_or_below(std::string_view path, std::string_view top) {
  return top == "/" || path == top ||
         (path.size() > top.size() && path.compare(0, top.size(), top) == 0 && path[top.size()] == '/');
}

std::string_view parent_of(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string_view::npos ? std::string_view("/") : path.substr(0, slash);
}

std::vector<std::string> split_path(std::string_view absolute) {
  std::vector<std::string> parts;
  std::size_t i = 0;
  while (i < absolute.size()) {
    while (i < absolute.size() && absolute[i] == '/') ++i;
    const std::size_t start = i;
    while (i < absolute.size() && absolute[i] != '/') ++i;
    if (i > start) parts.emplace_back(absolute.substr(start, i - start));
  }
  return parts;
}

// Takes the components of `todo` (a stack: back() is next) into `s`,
// following symlinks.
void Canonicalizer::walk(State& s, std::vector<std::string>& todo) {
  const auto pop = [&] { s.here.resize(s.here.rfind('/')); };
  while (!todo.empty()) {
    std::string c = std::move(todo.back());
    todo.pop_back();
    if (c == ".") continue;
    if (c == "..") {
      if (!s.here.empty()) pop();
      continue;
    }
    s.here += '/';
    s.here += c;
    if (s.missing) continue;  // below a missing component everything is lexical
    const FileKind k = fs_.kind(s.here);
    if (k == FileKind::Missing) {
      s.missing = true;
      continue;
    }
    if (k != FileKind::Symlink) continue;
    if (s.links.size() >= 40) {
      s.too_many_links = true;
      s.missing = true;
      continue;
    }
    const auto target = fs_.read_link(s.here);
    if (!target) {
      s.missing = true;
      continue;
    }
    s.links.push_back({s.here, *target});
    pop();
    if (!target->empty() && target->front() == '/') s.here.clear();
    std::vector<std::string> parts = split_path(*target);
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) todo.push_back(std::move(*it));
  }
}

// The state after `prefix` (absolute, without a trailing slash, "" for the
// root): remembered, or the parent's state and one more component.
const Canonicalizer::State& Canonicalizer::state_after(std::string_view prefix) {
  if (auto it = states_.find(prefix); it != states_.end()) return it->second;
  const std::size_t slash = prefix.rfind('/');
  State s = state_after(prefix.substr(0, slash));
  std::vector<std::string> todo{std::string(prefix.substr(slash + 1))};
  walk(s, todo);
  return states_.emplace(std::string(prefix), std::move(s)).first->second;
}

Canonicalizer::Canonicalizer(FsView& fs) : fs_(fs) { states_.emplace(std::string(), State{}); }

CanonicalPath Canonicalizer::operator()(std::string_view absolute) {
  // One spelling per prefix: no repeated or trailing slashes.
  std::string lexical;
  lexical.reserve(absolute.size() + 1);
  for (std::size_t i = 0; i < absolute.size();) {
    const std::size_t end = std::min(absolute.find('/', i), absolute.size());
    if (end > i) {
      lexical += '/';
      lexical.append(absolute, i, end - i);
    }
    i = end + 1;
  }
  const State& s = state_after(lexical);
  return {s.here.empty() ? "/" : s.here, !s.missing, s.links, s.too_many_links};
}

CanonicalPath canonicalize(FsView& fs, std::string_view absolute) { return Canonicalizer(fs)(absolute); }

MemoryFs::MemoryFs() { entries_["/"] = Entry{FileKind::Directory, "", {}}; }

void MemoryFs::add(const std::string& path, FileKind kind, const std::string& link_target) {
  if (path.empty() || path.front() != '/' || path == "/") return;
  const std::size_t slash = path.rfind('/');
  const std::string parent = slash == 0 ? "/" : path.substr(0, slash);
  if (entries_.count(parent) == 0) add(parent, FileKind::Directory);
  Entry& p = entries_[parent];
  if (p.kind != FileKind::Directory) p = Entry{FileKind::Directory, "", {}};  // a path below a file makes it a directory
  p.children.insert(path.substr(slash + 1));
  auto [it, inserted] = entries_.try_emplace(path, Entry{kind, link_target, {}});
  if (!inserted && it->second.kind != FileKind::Directory) it->second = Entry{kind, link_target, {}};
}

FileKind MemoryFs::kind(const std::string& path) {
  const auto it = entries_.find(path);
  return it == entries_.end() ? FileKind::Missing : it->second.kind;
}

std::optional<std::string> MemoryFs::read_link(const std::string& path) {
  const auto it = entries_.find(path);
  if (it == entries_.end() || it->second.kind != FileKind::Symlink) return std::nullopt;
  return it->second.link;
}

bool MemoryFs::list(const std::string& dir, std::vector<DirEntry>& out) {
  const auto it = entries_.find(dir);
  if (it == entries_.end() || it->second.kind != FileKind::Directory) return false;
  for (const std::string& name : it->second.children) {
    out.push_back({name, kind(dir == "/" ? "/" + name : dir + "/" + name)});
  }
  return true;
}

}  // namespace sbpolicy::lower
