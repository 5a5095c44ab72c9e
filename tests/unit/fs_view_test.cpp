// canonicalize() against realpath(3) on a real tree with symlinks, and the
// snapshot layer lowering puts in front of the filesystem: the same answers,
// each question asked of the filesystem once.
#include "lower/fs_view.hpp"
#include "lower/glob_expand.hpp"

#include <gtest/gtest.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

using namespace sbpolicy::lower;
namespace fs = std::filesystem;

namespace {

// Counts what reaches the real filesystem.
class CountingFs : public FsView {
 public:
  FileKind kind(const std::string& path) override {
    ++kinds[path];
    return posix.kind(path);
  }
  std::optional<std::string> read_link(const std::string& path) override {
    ++links[path];
    return posix.read_link(path);
  }
  bool list(const std::string& dir, std::vector<DirEntry>& out) override {
    ++lists[dir];
    return posix.list(dir, out);
  }
  bool list_exact(const std::string& dir, std::vector<DirEntry>& out, bool& exact) override {
    ++lists[dir];
    const bool ok = posix.list_exact(dir, out, exact);
    exact = exact && !never_exact;
    return ok;
  }
  PosixFs posix;
  bool never_exact = false;  // as on a filesystem that folds case
  std::map<std::string, int> kinds, links, lists;
};

class FsViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/sbpolicy-fsview-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    char real[PATH_MAX];
    ASSERT_NE(realpath(templ, real), nullptr);
    root_ = real;
    fs::create_directories(root_ + "/a/b/c");
    fs::create_directories(root_ + "/d");
    fs::create_symlink("a/b", root_ + "/rel");           // relative
    fs::create_symlink(root_ + "/a", root_ + "/abs");    // absolute
    fs::create_symlink("../d", root_ + "/a/up");         // climbs
    fs::create_symlink("rel/c", root_ + "/chain");       // through another link
    fs::create_symlink("loop2", root_ + "/loop1");
    fs::create_symlink("loop1", root_ + "/loop2");
    fs::create_symlink("missing/x", root_ + "/dangling");
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string root_;
};

std::string real_path(const std::string& p) {
  char out[PATH_MAX];
  return realpath(p.c_str(), out) != nullptr ? std::string(out) : std::string();
}

}  // namespace

TEST_F(FsViewTest, AgreesWithRealpath) {
  PosixFs posix;
  for (const char* rel : {"", "/a", "/a/b/c", "/rel", "/rel/c", "/abs/b", "/a/up", "/chain", "/a/b/../b/c", "/abs/up"}) {
    const std::string p = root_ + rel;
    const CanonicalPath c = canonicalize(posix, p);
    EXPECT_TRUE(c.exists) << p;
    EXPECT_EQ(c.path, real_path(p)) << p;
  }
}

TEST_F(FsViewTest, MissingTailIsLexical) {
  PosixFs posix;
  const CanonicalPath c = canonicalize(posix, root_ + "/rel/new/deeper");
  EXPECT_FALSE(c.exists);
  EXPECT_EQ(c.path, root_ + "/a/b/new/deeper");
  ASSERT_EQ(c.links.size(), 1u);
  EXPECT_EQ(c.links[0].link, root_ + "/rel");
  const CanonicalPath d = canonicalize(posix, root_ + "/dangling");
  EXPECT_FALSE(d.exists);
  EXPECT_EQ(d.path, root_ + "/missing/x");
  const CanonicalPath up = canonicalize(posix, root_ + "/nothing/../a");
  EXPECT_EQ(up.path, root_ + "/a");
}

TEST_F(FsViewTest, LoopsStop) {
  PosixFs posix;
  const CanonicalPath c = canonicalize(posix, root_ + "/loop1/x");
  EXPECT_TRUE(c.too_many_links);
  EXPECT_FALSE(c.exists);
}

TEST_F(FsViewTest, RootAndDotDotAboveRoot) {
  PosixFs posix;
  EXPECT_EQ(canonicalize(posix, "/").path, "/");
  EXPECT_EQ(canonicalize(posix, "/../..").path, "/");
}

TEST_F(FsViewTest, SnapshotAsksOnceAndAnswersTheSame) {
  CountingFs counting;
  SnapshotFs snapshot(counting);
  PosixFs posix;
  const std::vector<std::string> paths = {root_ + "/chain", root_ + "/rel/c", root_ + "/abs/b/c", root_ + "/rel/new",
                                          root_ + "/dangling", root_ + "/loop1"};
  for (int round = 0; round < 3; ++round) {
    for (const std::string& p : paths) {
      const CanonicalPath want = canonicalize(posix, p);
      const CanonicalPath got = canonicalize(snapshot, p);
      EXPECT_EQ(got.path, want.path) << p;
      EXPECT_EQ(got.exists, want.exists) << p;
      EXPECT_EQ(got.too_many_links, want.too_many_links) << p;
      EXPECT_EQ(got.links.size(), want.links.size()) << p;
    }
  }
  for (const auto& [path, n] : counting.kinds) EXPECT_EQ(n, 1) << "kind asked again: " << path;
  for (const auto& [path, n] : counting.links) EXPECT_EQ(n, 1) << "link read again: " << path;
  // Listings pass through: each directory is listed once per lowering.
  std::vector<DirEntry> entries;
  ASSERT_TRUE(snapshot.list(root_ + "/d", entries));
  ASSERT_TRUE(snapshot.list(root_ + "/d", entries));
  EXPECT_EQ(counting.lists[root_ + "/d"], 2);
}

// Many questions about absent children of one directory: after kListAfter
// of them the directory is listed once, and the rest are answered from its
// names; children that are there are still asked about. Every answer is
// what lstat says.
TEST_F(FsViewTest, SnapshotAnswersAbsentChildrenFromOneListing) {
  CountingFs counting;
  SnapshotFs snapshot(counting);
  PosixFs posix;
  std::vector<std::string> asked;
  for (int i = 0; i < 40; ++i) asked.push_back(root_ + "/absent" + std::to_string(i));
  for (const char* present : {"/a", "/d", "/rel", "/dangling"}) asked.push_back(root_ + present);
  for (const std::string& p : asked) EXPECT_EQ(snapshot.kind(p), posix.kind(p)) << p;
  EXPECT_EQ(counting.lists[root_], 1);
  EXPECT_EQ(counting.kinds.size(), SnapshotFs::kListAfter - 1 + 4) << "absent children after the listing reached lstat";
  for (const char* present : {"/a", "/d", "/rel", "/dangling"}) EXPECT_EQ(counting.kinds[root_ + present], 1);
}

// A listing that cannot vouch for absence (a case-folding or unknown
// filesystem, a directory changing while read) answers nothing: every child
// is asked of lstat. So does a directory that cannot be listed.
TEST_F(FsViewTest, SnapshotTrustsOnlyExactListings) {
  CountingFs counting;
  counting.never_exact = true;
  SnapshotFs snapshot(counting);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(snapshot.kind(root_ + "/absent" + std::to_string(i)), FileKind::Missing);
  EXPECT_EQ(counting.lists[root_], 1);
  EXPECT_EQ(counting.kinds.size(), 20u);

  CountingFs plain;
  SnapshotFs unlistable(plain);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(unlistable.kind(root_ + "/missing-dir/x" + std::to_string(i)), FileKind::Missing);
  }
  EXPECT_EQ(plain.kinds.size(), 20u);
}

// On this machine's test directory (a quiet directory on a case-sensitive
// filesystem), the listing is exact and holds what list() holds.
TEST_F(FsViewTest, ExactListingOfAQuietDirectory) {
  PosixFs posix;
  std::vector<DirEntry> plain, judged;
  bool exact = false;
  ASSERT_TRUE(posix.list(root_, plain));
  ASSERT_TRUE(posix.list_exact(root_, judged, exact));
  EXPECT_EQ(plain.size(), judged.size());
  struct statfs fs {};
  ASSERT_EQ(statfs(root_.c_str(), &fs), 0);
  const bool known = fs.f_type == 0xEF53 || fs.f_type == 0x01021994 || fs.f_type == 0x9123683E;
  if (!known) GTEST_SKIP() << "the test directory is on a filesystem not trusted with absence (type " << fs.f_type << ")";
  EXPECT_TRUE(exact);
}

// One Canonicalizer over many paths (what lowering does) answers each as a
// fresh canonicalize() would, in any order: its remembered prefixes never
// leak one path's walk into another's.
TEST_F(FsViewTest, CanonicalizerRemembersPrefixesAndAgrees) {
  const std::vector<std::string> rels = {"",           "/a",          "/a/b/c",     "/rel",        "/rel/c",
                                         "/rel/c/new", "/abs/b",      "/a/up",      "/a/up/x/y",   "/chain",
                                         "/chain/z",   "/a/b/../b/c", "/abs/up",    "/rel/../d",   "/abs/up/../b",
                                         "//a//b/",    "/./a/./b",    "/loop1/x",   "/dangling/y", "/nothing/../a",
                                         "/d/../rel",  "/a/b/c/../../up"};
  PosixFs posix;
  for (bool reversed : {false, true}) {
    CountingFs counting;
    SnapshotFs snapshot(counting);
    Canonicalizer canonical(snapshot);
    std::vector<std::string> order = rels;
    if (reversed) std::reverse(order.begin(), order.end());
    for (int round = 0; round < 2; ++round) {
      for (const std::string& rel : order) {
        const std::string p = root_ + rel;
        const CanonicalPath want = canonicalize(posix, p);
        const CanonicalPath got = canonical(p);
        EXPECT_EQ(got.path, want.path) << p;
        EXPECT_EQ(got.exists, want.exists) << p;
        EXPECT_EQ(got.too_many_links, want.too_many_links) << p;
        ASSERT_EQ(got.links.size(), want.links.size()) << p;
        for (std::size_t i = 0; i < got.links.size(); ++i) {
          EXPECT_EQ(got.links[i].link, want.links[i].link) << p;
          EXPECT_EQ(got.links[i].target, want.links[i].target) << p;
        }
      }
    }
    for (const auto& [path, n] : counting.kinds) EXPECT_EQ(n, 1) << "kind asked again: " << path;
  }
}

// A protection's glob walk goes through symlinked directories (a bounded
// number of links deep, so a loop ends), but not to the walk's root or above
// it (`x -> /` would walk the machine on every launch); a grant's walk
// follows none.
TEST_F(FsViewTest, GlobWalkFollowsLinksOutOfTheTreeOnlyWhenAsked) {
  const std::string w = root_ + "/w", o = root_ + "/o";
  fs::create_directories(w + "/sub");
  fs::create_directories(o + "/lib");
  std::ofstream(w + "/sub/f.pem") << "x";
  std::ofstream(o + "/lib/f.pem") << "x";
  fs::create_symlink("../o", w + "/out");      // out of the tree: followed
  fs::create_symlink("sub", w + "/in");        // inside the tree: followed too
  fs::create_symlink("..", w + "/up");         // above it
  fs::create_symlink("/", w + "/top");         // the whole machine
  fs::create_symlink("..", o + "/lib/back");   // a loop outside the tree
  fs::create_symlink("../o/lib/f.pem", w + "/file.pem");  // a file: matched, nothing below
  PosixFs posix;
  GlobQuery grant{w, {"**", "*.pem"}, false, false};
  GlobQuery protect{w, {"**", "*.pem"}, true, true};
  const GlobExpansion e = expand_globs(posix, {grant, protect}, 100000);
  ASSERT_FALSE(e.budget_exceeded);
  EXPECT_TRUE(e.links_cut_short.empty());
  const std::vector<std::string> grant_expected = {w + "/file.pem", w + "/sub/f.pem"};
  EXPECT_EQ(e.matches[0], grant_expected);
  const auto& found = e.matches[1];
  const auto has = [&](const std::string& p) { return std::find(found.begin(), found.end(), p) != found.end(); };
  EXPECT_TRUE(has(w + "/sub/f.pem"));
  EXPECT_TRUE(has(w + "/file.pem"));
  EXPECT_TRUE(has(w + "/out/lib/f.pem"));
  EXPECT_TRUE(has(w + "/out/lib/back/lib/f.pem"));
  EXPECT_TRUE(has(w + "/in/f.pem"));
  for (const std::string& m : found) {
    EXPECT_EQ(m.find("/up/"), std::string::npos) << m;
    EXPECT_EQ(m.find("/top/"), std::string::npos) << m;
    std::size_t backs = 0;
    for (std::size_t at = m.find("/back/"); at != std::string::npos; at = m.find("/back/", at + 1)) ++backs;
    EXPECT_LT(backs, static_cast<std::size_t>(kMaxFollowedLinks)) << m;
  }
  // Past the budget for entries seen through links, links are no longer
  // followed, and the expansion says where; what the tree itself holds stands.
  const GlobExpansion cut = expand_globs(posix, {protect}, 100000, 1);
  EXPECT_EQ(cut.links_cut_short, w);
  EXPECT_NE(std::find(cut.matches[0].begin(), cut.matches[0].end(), w + "/sub/f.pem"), cut.matches[0].end());
}
