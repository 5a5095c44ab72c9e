// The filesystem as the Linux lowering sees it at launch.
//
// Lowering to a mount plan reads the host filesystem: it canonicalises each
// rule's path through symlinks, asks whether paths exist and what they are,
// and expands globs by walking directories. It does all of that through this
// small interface, so golden tests can run against a fixed tree and the
// real implementation stays in one place (PosixFs).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace sbpolicy::lower {

enum class FileKind : std::uint8_t { Missing, Directory, File, Symlink, Socket, Other };

struct DirEntry {
  std::string name;
  FileKind kind;  // from d_type, or lstat when the filesystem does not say
};

class FsView {
 public:
  virtual ~FsView() = default;
  // What `path` is, without following a final symlink.
  virtual FileKind kind(const std::string& path) = 0;
  virtual std::optional<std::string> read_link(const std::string& path) = 0;
  // The entries of a directory, without `.` and `..`, in no particular order.
  virtual bool list(const std::string& dir, std::vector<DirEntry>& out) = 0;
  // list(), and whether a name missing from `out` is missing from the
  // directory as lstat would see it (`exact`): by default never.
  virtual bool list_exact(const std::string& dir, std::vector<DirEntry>& out, bool& exact) {
    exact = false;
    return list(dir, out);
  }
  // Could the user the sandbox runs as make a name in `dir` (or make `dir`
  // writable: its owner can chmod it)? False on a read-only mount, or when
  // neither owner nor permitted. By default: yes.
  virtual bool may_create_in(const std::string& dir) {
    (void)dir;
    return true;
  }
};

class PosixFs : public FsView {
 public:
  FileKind kind(const std::string& path) override;
  std::optional<std::string> read_link(const std::string& path) override;
  bool list(const std::string& dir, std::vector<DirEntry>& out) override;
  // Exact when the filesystem compares names byte for byte (a known
  // case-sensitive type, and no case-folding flag on the directory), the
  // reading met no error, and the directory did not change while it was
  // read (its mtime and ctime before and after): a listing concurrent with a
  // rename may miss a name that lstat would find.
  bool list_exact(const std::string& dir, std::vector<DirEntry>& out, bool& exact) override;
  // As the process's effective ids: sbrun lowers after leaving root.
  bool may_create_in(const std::string& dir) override;
};

// A filesystem in memory: `sbc test` lowers against one holding the
// subjects of its expectations, so the Linux target's answer is the same on
// every machine. Adding a path adds its missing parents as directories.
class MemoryFs : public FsView {
 public:
  MemoryFs();
  void add(const std::string& path, FileKind kind, const std::string& link_target = "");
  FileKind kind(const std::string& path) override;
  std::optional<std::string> read_link(const std::string& path) override;
  bool list(const std::string& dir, std::vector<DirEntry>& out) override;
  bool list_exact(const std::string& dir, std::vector<DirEntry>& out, bool& exact) override {
    exact = true;
    return list(dir, out);
  }

 private:
  struct Entry {
    FileKind kind;
    std::string link;
    std::set<std::string> children;
  };
  std::unordered_map<std::string, Entry> entries_;
};

// One look at the filesystem: answers each question about a path once and
// remembers it. Lowering asks the same prefixes hundreds of times (every
// rule under $HOME canonicalises /home, /home/u, ...); one launch should
// also see one state of the tree, not a tree changing under it.
//
// Most of what lowering asks about is absent: std.agent names ~130 paths
// under the home directory and ~40 in the workspace that it protects if they
// exist. So once kListAfter children of a directory were asked about, the
// directory is listed, and when the listing is exact (FsView::list_exact) a
// child not among its names is Missing without a system call. A child that
// is there is still asked about (lstat), so every answer is what lstat says.
class SnapshotFs : public FsView {
 public:
  explicit SnapshotFs(FsView& inner) : inner_(inner) {}
  FileKind kind(const std::string& path) override;
  std::optional<std::string> read_link(const std::string& path) override;
  bool list(const std::string& dir, std::vector<DirEntry>& out) override;
  bool may_create_in(const std::string& dir) override { return inner_.may_create_in(dir); }

  // Children asked about before a directory is listed for its names.
  static constexpr unsigned kListAfter = 8;
  // Listings longer than this are not remembered.
  static constexpr std::size_t kRememberEntries = 4096;

 private:
  void remember(const std::string& dir, const DirEntry* entries, std::size_t count);
  FsView& inner_;
  std::unordered_map<std::string, FileKind> kinds_;
  std::unordered_map<std::string, std::optional<std::string>> links_;
  // dir -> its names, once listed; an entry without names: not listable,
  // not exact, or too long.
  std::unordered_map<std::string, std::optional<std::unordered_set<std::string>>> names_;
  std::unordered_map<std::string, unsigned> asked_;  // dir -> children asked about
};

// A symlink met while canonicalising: where it is and what it says.
struct SymlinkStep {
  std::string link;    // absolute path of the symlink itself
  std::string target;  // its contents, as read
};

struct CanonicalPath {
  std::string path;                // absolute, no symlinks in the part that exists
  bool exists = false;             // the whole path exists
  std::vector<SymlinkStep> links;  // every symlink followed, in order
  bool too_many_links = false;     // a loop, or more than 40 links
};

// realpath(3) that tolerates a missing tail: resolves every existing
// component through symlinks and appends the rest lexically. `absolute` must
// be absolute.
CanonicalPath canonicalize(FsView& fs, std::string_view absolute);

// canonicalize() over one view, remembering where each prefix of the paths
// it was given led (the state after it), so that paths sharing a parent
// (~/.config/a, ~/.config/b, ...) resolve it once. For a view that does not
// change meanwhile (SnapshotFs): then its answers are canonicalize()'s.
class Canonicalizer {
 public:
  explicit Canonicalizer(FsView& fs);
  CanonicalPath operator()(std::string_view absolute);

 private:
  // Where a walk stands after some components: `here` is the resolved
  // path so far ("" for the root), `links` the symlinks followed, `missing`
  // once a component did not exist (everything after it is lexical).
  struct State {
    std::string here;
    std::vector<SymlinkStep> links;
    bool missing = false;
    bool too_many_links = false;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  void walk(State& s, std::vector<std::string>& todo);
  const State& state_after(std::string_view prefix);
  FsView& fs_;
  std::unordered_map<std::string, State, Hash, std::equal_to<>> states_;  // lexical prefix -> state after it
};

// Splits "/a/b" into {"a", "b"}; "/" gives {}.
std::vector<std::string> split_path(std::string_view absolute);

// Is `path` `top` or inside it? Both absolute and normalised.
bool at_or_below(std::string_view path, std::string_view top);

// The directory holding `path` (absolute, normalised; "/" for "/").
std::string_view parent_of(std::string_view path);

}  // namespace sbpolicy::lower
