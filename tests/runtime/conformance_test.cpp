// Conformance of the real sandbox to the reference evaluator.
//
// For a set of policies (a few hand-written ones, then many generated from a
// grammar of rule shapes with fixed seeds) and a fixture tree of real files,
// one `sbrun --ask deny POLICY -- /bin/sh -c PROBE` per policy tries to read,
// write, create, rename and delete every generated path, and what it observes
// must equal what `ir::decide` answers for the same policy text, case by case.
//
// The fixture (reset before every policy), under a fresh temporary root R:
//   R/policy.sbpolicy       the policy, outside the sandbox's view
//   R/h                     the home (`~`), HOME when sbrun runs
//   R/h/w                   the workspace (`.`), so `~` rules also cover it
// with directories and files in both, disposable copies `mv-NAME` (renamed)
// and `rm-NAME` (deleted) next to every file, and paths that do not exist.
//
// The operations and what they mean for the evaluator (W = decide(Write,…)
// is Allow, R = decide(Read,…) is Allow; `ask` grants nothing: --ask deny):
//   read    existing file P: its whole content is read (`read < P`, compared
//           with the token written there); existing directory P: `ls P`
//           succeeds and `stat` shows the host directory itself (same st_dev
//           and st_ino), not an empty stand-in bubblewrap made to hold a
//           deeper mount.                                    expected R(P)
//   write   append to existing file P; observed on the host (the file
//           changed).                                         expected W(P)
//   create  a new file N, after `mkdir -p` of its missing parents M1..Mk
//           (the directories between N and its nearest existing ancestor E).
//           Creating N means creating every Mi too, so
//                                          expected W(N) and W(Mi) for all i.
//           Observed on the host: N is a regular file after the run (a file
//           created in a directory the sandbox made up, which lives in its
//           tmpfs and vanishes, is not a creation).
//   rename  existing file P to the sibling Q = P.moved and back;
//                                                   expected W(P) and W(Q).
//   delete  existing file P; observed on the host.            expected W(P)
// The parent's readability needs no separate condition: W(N) through a rule
// that covers an existing ancestor implies W, and so R, of every directory on
// the way (a deny or except there would cover N too).
//
// What the kernel cannot do, the generator does not ask:
//   - read, write, rename and delete only touch paths that exist at launch;
//   - globs that are not plain subtrees are expanded at launch (W0100): a
//     create or rename case is dropped when the new path (N, an Mi, or Q) is
//     matched directly by such a glob (as a rule's pattern or except) of a
//     rule that takes part in Write decisions, and the glob does not already
//     match its nearest existing ancestor (which was expanded at launch).
// GeneratedPoliciesWithLinks runs the same over the fixture plus symlinks
// (kLinks: to directories and files, to secrets, chains, dangling) and
// rules and globs that meet them, decided on resolved paths: each path as
// the kernel resolves it, over the policy whose literal prefixes are
// resolved (lower/resolved_paths.hpp, what `sbc explain` does). A launch
// refused with E0401 counts as refusing everything only when the link it
// names sits in a directory the policy lets the command write.
// The remaining restrictive approximations (the sandbox refuses what the
// evaluator allows) are in kApproximations below, each with its reason. The
// reverse, the sandbox allowing what the evaluator denies, is always a
// failure.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "driver/guards.hpp"
#include "driver/pipeline.hpp"
#include "ir/evaluator.hpp"
#include "lower/fs_view.hpp"
#include "lower/resolved_paths.hpp"
#include "sema/path_pattern.hpp"

#ifndef SBRUN_PATH
#error "SBRUN_PATH must name the sbrun binary"
#endif

using namespace sbpolicy;
namespace fs = std::filesystem;

namespace {

constexpr const char* kUnprivilegedUser = "sbrun-test";
constexpr int kSandboxTimeoutSeconds = 60;

// --- The fixture ----------------------------------------------------------------

// Paths are spelled as in policies: "." and "./x" in the workspace, "~" and
// "~/x" in the home.
const std::vector<std::string> kDirs = {
    ".",        "./a",   "./a/b", "./d",    "./d/e",     "./.git",        "./.git/hooks",
    "./secret", "./pub", "~",     "~/.ssh", "~/.config", "~/.config/app", "~/docs",
};
const std::vector<std::string> kFiles = {
    "./a/b/c.txt",   "./a/x.env",     "./top.txt", "./.env",           "./secret/k",
    "./pub/readme",  "./d/e/f",       "./d/g.env", "./.git/config",    "./.git/hooks/pre-commit.sample",
    "~/.ssh/id_rsa", "~/.ssh/config", "~/.bashrc", "~/docs/notes.env", "~/.config/app/settings.json",
};
// Paths that do not exist at launch: rule targets (placeholders, skipped
// grants) and places to create files in.
const std::vector<std::string> kMissing = {
    "./build", "./build/out", "./.git/info", "./a/new", "./secret/new", "~/.cache", "~/.aws",
};
// New files the probe creates (besides `nf` in every existing directory).
const std::vector<std::string> kCreateMore = {
    "./build/out/nf", "./.git/info/nf", "./a/new/nf", "./secret/new", "~/.cache/nf", "~/.aws/credentials",
};
// Globs that are not plain subtrees (expanded at launch).
const std::vector<std::string> kGlobs = {
    "./**/*.env", "~/**/*.env", "./d/*",        "./*.txt",
    "./**/k",     "./a/*",      "~/.ssh/id_*",  "./{a,pub}",
    "./**/hooks", "~/*",        "./[ad]/*.env", "./a/?.env",
    "./**/rm-*",  "./**/mv-*",  "./*/b",        "~/.config/*/settings.json",
};

// The symlinked fixture (GeneratedPoliciesWithLinks): links inside the
// workspace and the home, to directories, files, secrets, through chains,
// dangling. Each is (where, what it says).
const std::vector<std::pair<std::string, std::string>> kLinks = {
    {"./lnk-a", "a"},          {"./lnk-ssh", "../.ssh"},         {"./lnk-top.txt", "top.txt"},
    {"~/lnk-docs", "docs"},    {"~/.config/lnk-ws", "../w"},     {"./dangling", "nowhere"},
    {"./d/lnk-secret", "../secret"}, {"./lnk-chain", "lnk-a/b"},
};
// Paths through those links that the probe reads and appends to (existing
// files), lists (directories) and creates in.
const std::vector<std::string> kLinkedFiles = {
    "./lnk-a/x.env",     "./lnk-a/b/c.txt",          "./lnk-ssh/id_rsa", "./lnk-ssh/config",
    "./lnk-top.txt",     "~/lnk-docs/notes.env",     "~/.config/lnk-ws/top.txt",
    "~/.config/lnk-ws/secret/k", "./d/lnk-secret/k", "./lnk-chain/c.txt",
};
const std::vector<std::string> kLinkedDirs = {"./lnk-a", "./lnk-ssh", "~/lnk-docs", "./lnk-chain"};
const std::vector<std::string> kLinkedCreates = {"./lnk-a/nf2", "./d/lnk-secret/nf2", "~/.config/lnk-ws/nf2"};
// Rule targets and globs that meet the links.
const std::vector<std::string> kLinkTargets = {"./lnk-a", "./lnk-ssh", "./lnk-top.txt", "~/lnk-docs",
                                               "./lnk-a/x.env", "~/.config/lnk-ws", "./d/lnk-secret", "./lnk-chain"};
const std::vector<std::string> kLinkGlobs = {"./lnk-*", "./*/x.env", "./**/id_rsa", "~/.config/*/top.txt",
                                             "./d/*/k", "./**/c.txt", "./*.txt", "~/*/notes.env"};

std::string dir_of(const std::string& spelling) { return spelling.substr(0, spelling.rfind('/')); }
std::string base_of(const std::string& spelling) { return spelling.substr(spelling.rfind('/') + 1); }
std::string mv_copy(const std::string& f) { return dir_of(f) + "/mv-" + base_of(f); }
std::string rm_copy(const std::string& f) { return dir_of(f) + "/rm-" + base_of(f); }
std::string token(const std::string& f) { return "token " + f; }

struct Fixture {
  std::string root, home, workspace, policy_file;
  bool unprivileged = false;  // sbrun started through setpriv as uid
  bool owned = false;         // the fixture belongs to uid (sbrun runs the sandbox as its owner)
  bool links = false;         // kLinks are made too
  uid_t uid = 0;
  gid_t gid = 0;

  // "./a" -> /R/h/w/a, "~/x" -> /R/h/x
  std::string abs(const std::string& spelling) const {
    if (spelling == ".") return workspace;
    if (spelling == "~") return home;
    if (spelling.rfind("./", 0) == 0) return workspace + spelling.substr(1);
    if (spelling.rfind("~/", 0) == 0) return home + spelling.substr(1);
    return spelling;
  }

  void write_file(const std::string& path, const std::string& content) const {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  }

  void reset() const {
    fs::remove_all(home);
    fs::create_directories(workspace);
    for (const auto& d : kDirs) fs::create_directories(abs(d));
    for (const auto& f : kFiles) {
      write_file(abs(f), token(f) + "\n");
      write_file(abs(mv_copy(f)), token(mv_copy(f)) + "\n");
      write_file(abs(rm_copy(f)), token(rm_copy(f)) + "\n");
    }
    if (links) {
      for (const auto& [at, target] : kLinks) fs::create_symlink(target, abs(at));
    }
    if (owned) {
      if (::lchown(home.c_str(), uid, gid) != 0) std::perror("lchown");
      for (const auto& e : fs::recursive_directory_iterator(home)) {
        if (::lchown(e.path().c_str(), uid, gid) != 0) std::perror("lchown");
      }
    }
  }
};

// --- Policies ---------------------------------------------------------------------

// Hand-written shapes first (the brief's examples and known trouble), then
// generated ones.
const std::vector<std::string> kFixedPolicies = {
    "allow read \"./a\";\n",
    "allow write \".\";\ndeny write \"./a/b\";\n",
    "allow read \"~\";\ndeny read \"./a\" except \"./a/b\";\n",
    "allow read \".\";\ndeny read \"./**/*.env\";\n",
    "allow read \"./d/*\";\n",
    "allow write \".\";\ndeny write \"./.git/hooks\";\nask read \"~/.ssh\";\n",
    "allow write \"~\" except \"~/.ssh\", \"./secret\";\ndeny write \"./build/out\";\n",
    "allow write \".\";\nallow read \"~\";\ndeny read \"~/.ssh\" except \"~/.ssh/config\";\n",
    "allow read \".\";\nallow write \"./a/x.env\", \"./a/rm-x.env\", \"./secret/new\";\n",
};
constexpr int kGeneratedPolicies = 100;

// The cases over the linked fixture (kLinks), then generated ones.
const std::vector<std::string> kFixedLinkPolicies = {
    "allow read \"./*.txt\";\n",                             // lnk-top.txt is found, not followed
    "allow read \".\";\ndeny read \"./**/id_rsa\";\nallow read \"~/.ssh\";\n",  // a deny through lnk-ssh
    "allow read \"./lnk-a\";\n",                              // a read-only workspace: followed
    "allow write \".\";\nallow read \"./lnk-ssh/*\";\n",       // planted in a writable workspace: not followed
    "allow write \".\";\ndeny write \"./lnk-a/*\";\n",          // refused: E0401
    "allow write \".\" except \"./lnk-a\";\n",                  // refused: E0401
    "allow read \"~\";\ndeny read \"~/.config/*/top.txt\";\n",  // the deny looks through lnk-ws
    "allow read \"./d\";\nallow read \"./lnk-chain\";\n",       // a chain of links
    "allow read \"~/lnk-docs\";\ndeny read \"~/docs/*.env\";\n",
};
constexpr int kGeneratedLinkPolicies = 60;
constexpr std::uint32_t kFirstSeed = 20240601;

class Generator {
 public:
  Generator(std::uint32_t seed, const Fixture& fx) : rng_(seed), fx_(fx), globs_(kGlobs) {
    if (fx.links) {
      targets_.insert(targets_.end(), kLinkTargets.begin(), kLinkTargets.end());
      globs_.insert(globs_.end(), kLinkGlobs.begin(), kLinkGlobs.end());
    }
    for (const auto& d : kDirs) targets_.push_back(d);
    for (const auto& f : kFiles) targets_.push_back(f);
    for (const auto& m : kMissing) targets_.push_back(m);
    // A few of the disposable copies, so literal rules reach those cases too.
    for (const char* f : {"./a/x.env", "./d/g.env", "./secret/k", "~/.ssh/id_rsa", "~/.bashrc", "./top.txt"}) {
      targets_.push_back(mv_copy(f));
      targets_.push_back(rm_copy(f));
    }
  }

  std::string policy() {
    std::string out;
    static const char* kBases[] = {
        "allow read \".\";",
        "allow write \".\";",
        "allow read \"~\";",
        "allow write \"~\";",
        "allow write \".\";\nallow read \"~\";",
        "ask write \".\";",
    };
    if (pick(100) < 85) out += std::string(kBases[pick(std::size(kBases))]) + "\n";
    const int shapes = 2 + static_cast<int>(pick(4));
    for (int i = 0; i < shapes; ++i) out += shape() + "\n";
    return out;
  }

 private:
  std::size_t pick(std::size_t n) { return static_cast<std::size_t>(rng_() % n); }
  template <class T>
  const T& one(const std::vector<T>& v) {
    return v[pick(v.size())];
  }
  static std::string q(const std::string& s) { return "\"" + s + "\""; }
  std::string effect() {
    const auto r = pick(100);
    return r < 50 ? "allow" : r < 85 ? "deny" : "ask";
  }
  std::string op() { return pick(2) == 0 ? "read" : "write"; }
  std::string target() { return one(targets_); }
  std::string dir_target() {
    std::vector<std::string> v = kDirs;
    v.push_back("./build");
    return one(v);
  }
  // A path strictly below `t` (by the real paths), or a glob.
  std::string below(const std::string& t) {
    std::vector<std::string> v;
    const std::string prefix = fx_.abs(t) + "/";
    for (const auto& c : targets_) {
      if (fx_.abs(c).rfind(prefix, 0) == 0) v.push_back(c);
    }
    if (v.empty() || pick(100) < 15) return one(globs_);
    return one(v);
  }

  std::string shape() {
    switch (pick(7)) {
      case 0:  // a subtree
      case 1:
        return effect() + " " + op() + " " + q(target()) + ";";
      case 2: {  // a carve-out
        const std::string top = dir_target();
        return "allow " + op() + " " + q(top) + ";\ndeny " + op() + " " + q(below(top)) + ";";
      }
      case 3: {  // except
        const std::string top = dir_target();
        std::string s = effect() + " " + op() + " " + q(top) + " except " + q(below(top));
        if (pick(3) == 0) s += ", " + q(below(top));
        return s + ";";
      }
      case 4:  // a glob
      case 5:
        return effect() + " " + op() + " " + q(one(globs_)) + ";";
      default:  // several targets in one statement
        return effect() + " " + op() + " " + q(target()) + ", " + q(target()) + ";";
    }
  }

  std::mt19937 rng_;
  const Fixture& fx_;
  std::vector<std::string> globs_;
  std::vector<std::string> targets_;
};

// --- Cases ---------------------------------------------------------------------------

enum class Op { Read, Write, Create, Rename, Delete };
const char* op_name(Op op) {
  switch (op) {
    case Op::Read:
      return "read";
    case Op::Write:
      return "write";
    case Op::Create:
      return "create";
    case Op::Rename:
      return "rename";
    case Op::Delete:
      return "delete";
  }
  return "?";
}

struct Case {
  Op op = Op::Read;
  std::string spelling;             // as in the policy: "./a/x.env"
  std::string token_key;            // the spelling whose token the file holds (a link's target's)
  std::string path;                 // absolute
  bool dir = false;                 // read: a directory
  std::string other;                // rename: the new name
  std::vector<std::string> mkdirs;  // create: missing parents, outermost first
  std::string existing_ancestor;    // create: the nearest existing ancestor
  std::string identity;             // read of a directory: "dev:ino" on the host
  bool expected = false;
  bool observed = false;
  bool probe_ok = false;
};

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string identity_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "missing";
  return std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
         std::to_string(static_cast<unsigned long long>(st.st_ino));
}

Case make_case(Op op, const std::string& spelling, const std::string& path, bool dir = false) {
  Case c;
  c.op = op;
  c.spelling = spelling;
  c.token_key = spelling;
  c.path = path;
  c.dir = dir;
  return c;
}

std::vector<Case> all_cases(const Fixture& fx) {
  std::vector<Case> cases;
  for (const auto& d : kDirs) cases.push_back(make_case(Op::Read, d, fx.abs(d), true));
  for (const auto& f : kFiles) cases.push_back(make_case(Op::Read, f, fx.abs(f)));
  for (const auto& f : kFiles) cases.push_back(make_case(Op::Write, f, fx.abs(f)));
  std::vector<std::string> creates;
  for (const auto& d : kDirs) creates.push_back(d + "/nf");
  creates.insert(creates.end(), kCreateMore.begin(), kCreateMore.end());
  for (const auto& n : creates) {
    Case c = make_case(Op::Create, n, fx.abs(n));
    std::string up = dir_of(c.path);
    while (!fs::exists(up)) {
      c.mkdirs.insert(c.mkdirs.begin(), up);
      up = up.substr(0, up.rfind('/'));
    }
    c.existing_ancestor = up;
    cases.push_back(c);
  }
  for (const auto& f : kFiles) {
    Case c = make_case(Op::Rename, mv_copy(f), fx.abs(mv_copy(f)));
    c.other = c.path + ".moved";
    cases.push_back(c);
  }
  for (const auto& f : kFiles) cases.push_back(make_case(Op::Delete, rm_copy(f), fx.abs(rm_copy(f))));
  if (!fx.links) return cases;
  // Through the links: the file behind each is one of kFiles, whose token it holds.
  const auto behind = [&](const std::string& spelling) {
    const std::string real = fs::weakly_canonical(fx.abs(spelling)).string();
    for (const auto& f : kFiles) {
      if (fx.abs(f) == real) return f;
    }
    return spelling;
  };
  for (const auto& d : kLinkedDirs) cases.push_back(make_case(Op::Read, d, fx.abs(d), true));
  for (Op op : {Op::Read, Op::Write}) {
    for (const auto& f : kLinkedFiles) {
      Case c = make_case(op, f, fx.abs(f));
      c.token_key = behind(f);
      cases.push_back(c);
    }
  }
  for (const auto& n : kLinkedCreates) {
    Case c = make_case(Op::Create, n, fx.abs(n));
    c.existing_ancestor = dir_of(c.path);
    cases.push_back(c);
  }
  return cases;
}

// --- The evaluator's side --------------------------------------------------------

struct Oracle {
  const ir::Policy& policy;  // with links: the policy on resolved paths (lower/resolved_paths.hpp)
  const sema::PathBindings& bindings;
  // With links: every path is decided as the kernel resolves it, over the
  // policy whose literal prefixes are resolved (what `sbc explain` does).
  bool resolve = false;
  const ir::Policy* written = nullptr;  // with links: the policy as written

  std::string canon(const std::string& path) const {
    if (!resolve) return path;
    lower::PosixFs host;
    return lower::canonicalize(host, path).path;
  }
  bool allowed(ir::Operation op, const std::string& path) const {
    return ir::decide(policy, op, canon(path), bindings).effect == ir::Effect::Allow;
  }
  bool writable(const std::string& path) const { return allowed(ir::Operation::Write, path); }

  // With links: the fixture's links, (where, the canonical path they lead to).
  std::vector<std::pair<std::string, std::string>> aliases;

  static ir::Operation operation_of(const Case& c) { return c.op == Op::Read ? ir::Operation::Read : ir::Operation::Write; }

  // Does the written policy let the command write `dir` (an ask counts: the
  // lowering judges links before asks are settled)?
  bool written_writable(const std::string& dir) const { return lower::may_plant_in(*written, bindings, dir); }

  // Does the case's path, as written, go through one of the fixture's links
  // whose directory the evaluator does not let us read?
  bool through_a_hidden_link(const Case& c) const {
    for (const auto& [where, target] : aliases) {
      if (lower::at_or_below(c.path, where) && !allowed(ir::Operation::Read, std::string(lower::parent_of(where)))) {
        return true;
      }
    }
    return false;
  }

  // Is a spelling of the case's path through one of the fixture's links
  // matched by a denial (or an except of a grant) as written? Protections
  // follow the links their wildcards find.
  bool denied_through_a_link(const Case& c) const {
    if (written == nullptr) return false;
    const std::string real = canon(c.path);
    for (const auto& [where, target] : aliases) {
      if (!lower::at_or_below(real, target)) continue;
      const std::string spelling = where + real.substr(target.size());
      for (const ir::Rule& r : written->rules) {
        if (!ir::applies_to(r, operation_of(c))) continue;
        const auto matches = [&](const sema::Pattern& p) {
          const auto* path = std::get_if<sema::PathPattern>(&p);
          return path != nullptr && sema::path_matches(*path, bindings, spelling);
        };
        if (r.effect == ir::Effect::Deny && matches(r.pattern)) return true;
        if (r.effect != ir::Effect::Deny && std::any_of(r.excepts.begin(), r.excepts.end(), matches)) return true;
      }
    }
    return false;
  }

  bool expected(const Case& c) const {
    switch (c.op) {
      case Op::Read:
        return allowed(ir::Operation::Read, c.path);
      case Op::Write:
      case Op::Delete:
        return writable(c.path);
      case Op::Rename:
        return writable(c.path) && writable(c.other);
      case Op::Create: {
        for (const auto& m : c.mkdirs) {
          if (!writable(m)) return false;
        }
        return writable(c.path);
      }
    }
    return false;
  }

  // Is `path`, which does not exist at launch, matched by a launch-expanded
  // glob of a rule that takes part in Write decisions, other than through its
  // existing ancestor `existing`?
  bool launch_glob_matches(const std::string& lexical_path, const std::string& lexical_existing) const {
    const std::string path = canon(lexical_path), existing = canon(lexical_existing);
    for (const ir::Rule& r : policy.rules) {
      if (!ir::applies_to(r, ir::Operation::Write)) continue;
      std::vector<const sema::Pattern*> patterns = {&r.pattern};
      for (const auto& e : r.excepts) patterns.push_back(&e);
      for (const sema::Pattern* p : patterns) {
        const auto* path_pattern = std::get_if<sema::PathPattern>(p);
        if (path_pattern == nullptr || !path_pattern->has_glob()) continue;
        if (sema::path_matches(*path_pattern, bindings, path) &&
            !sema::path_matches(*path_pattern, bindings, existing)) {
          return true;
        }
      }
    }
    return false;
  }

  // Does the case create a path whose decision the sandbox cannot know at
  // launch? Then the generator does not ask it.
  bool excluded(const Case& c) const {
    if (c.op == Op::Create) {
      if (launch_glob_matches(c.path, c.existing_ancestor)) return true;
      for (const auto& m : c.mkdirs) {
        if (launch_glob_matches(m, c.existing_ancestor)) return true;
      }
    }
    if (c.op == Op::Rename) return launch_glob_matches(c.other, dir_of(c.path));
    return false;
  }
};

// --- Known restrictive approximations ------------------------------------------------
//
// Each entry explains only a case where the evaluator allows and the sandbox
// refuses; it never explains the reverse.
struct Approximation {
  const char* name;
  const char* reason;
  std::function<bool(const Case&, const Oracle&)> applies;
};

const std::vector<Approximation> kApproximations = {
    {"grant-of-missing-path",
     "A grant that names a path which does not exist at launch (`allow write \"./build\"`, `allow write "
     "\"./secret/new\"`, or an `except` carving one out of a deny) has nothing to mount: sbrun skips it "
     "(`sbrun -v` lists it). The nearest existing directory is not writable, so the path cannot be created. "
     "Applies to create cases whose nearest existing ancestor the evaluator does not let us write.",
     [](const Case& c, const Oracle& o) { return c.op == Op::Create && !o.writable(c.existing_ancestor); }},
    {"file-grant-in-read-only-directory",
     "A write grant on a single existing file inside a directory that is not writable is a bind mount of "
     "that file: it can be written in place, but unlinking or renaming a mount point fails (EBUSY) and the "
     "directory's own mount is read-only. Applies to delete and rename cases whose directory the evaluator "
     "does not let us write.",
     [](const Case& c, const Oracle& o) {
       return (c.op == Op::Delete || c.op == Op::Rename) && !o.writable(dir_of(c.path));
     }},
    // With links only (GeneratedPoliciesWithLinks):
    {"link-outside-the-view",
     "A symlink is an entry of the directory that holds it: the sandbox shows it only where it shows that "
     "directory, while the evaluator decides on the path the link leads to. Applies to cases whose path goes "
     "through one of the fixture's links in a directory the evaluator does not let us read.",
     [](const Case& c, const Oracle& o) { return o.through_a_hidden_link(c); }},
    {"protection-follows-links",
     "A denial (or an except of a grant) also covers what the paths it names lead to, through links its "
     "wildcard finds (`deny read \"./**/id_rsa\"` hides `~/.ssh/id_rsa` through `./lnk-ssh`), where the "
     "evaluator, deciding on resolved paths, sees only the link's target. Applies to cases one of whose "
     "spellings through the fixture's links such a rule matches.",
     [](const Case& c, const Oracle& o) { return o.denied_through_a_link(c); }},
};

// --- The sandbox's side --------------------------------------------------------------

std::string probe_script(const std::vector<Case>& cases) {
  std::string s = "exec 2>/dev/null </dev/null\n";
  // Phases in this order, so no operation sees another's effect: reads,
  // appends, creates, renames (which rename back), deletes.
  for (Op phase : {Op::Read, Op::Write, Op::Create, Op::Rename, Op::Delete}) {
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const Case& c = cases[i];
      if (c.op != phase) continue;
      const std::string p = shell_quote(c.path);
      std::string cond;
      switch (c.op) {
        case Op::Read:
          cond = c.dir ? "[ \"$(stat -L -c %d:%i " + p + ")\" = " + shell_quote(c.identity) + " ] && ls -A " + p +
                             " >/dev/null"
                       : "l=; IFS= read -r l < " + p + " && [ \"$l\" = " + shell_quote(token(c.token_key)) + " ]";
          break;
        // Append to the existing file: `>>` alone would create one in a
        // directory the sandbox made up.
        case Op::Write:
          // A line naming the case: with links, one file is appended to by several.
          cond = "[ -f " + p + " ] && printf '%s\\n' " + shell_quote("appended " + c.spelling) + " >> " + p;
          break;
        case Op::Create:
          // `true`, not `:`: a failed redirection of a special builtin ends the shell.
          cond = "true > " + p;
          if (!c.mkdirs.empty()) cond = "mkdir -p " + shell_quote(dir_of(c.path)) + " && " + cond;
          break;
        case Op::Rename:
          cond = "mv " + p + " " + shell_quote(c.other) + " && mv " + shell_quote(c.other) + " " + p;
          break;
        case Op::Delete:
          cond = "rm " + p;
          break;  // not -f: it succeeds on paths it cannot see
      }
      s += "if " + cond + "; then echo 'ok " + std::to_string(i) + "'; else echo 'no " + std::to_string(i) + "'; fi\n";
    }
  }
  return s + "echo probe-done\n";
}

// What the host shows after the run, for the operations that change it.
// `shared`: with links, several cases append to one file, each its own line.
bool host_observed(const Case& c, bool shared) {
  switch (c.op) {
    case Op::Read:
    case Op::Rename:
      return c.probe_ok;
    case Op::Write: {
      std::ifstream in(c.path, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      const std::string text = ss.str(), line = "appended " + c.spelling + "\n";
      if (!shared) return text == token(c.token_key) + "\n" + line;
      return text.rfind(token(c.token_key) + "\n", 0) == 0 && text.find("\n" + line) != std::string::npos;
    }
    case Op::Create: {
      struct stat st {};
      return ::lstat(c.path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
    }
    case Op::Delete: {
      struct stat st {};
      return ::lstat(c.path.c_str(), &st) != 0;
    }
  }
  return false;
}

struct RunResult {
  int status = -1;
  bool timed_out = false;
  std::string out, err;
};

RunResult run(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  RunResult r;
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return r;
  std::vector<char*> a, e;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  for (const auto& s : env) e.push_back(const_cast<char*>(s.c_str()));
  e.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    const int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    if (null > 2) close(null);
    execve(a[0], a.data(), e.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kSandboxTimeoutSeconds);
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    if (poll(fds, 2, static_cast<int>(left.count())) < 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// --- The test ------------------------------------------------------------------------

// Invoking: sbrun is started by whoever runs the test (root here, which runs
// the sandbox as the fixture's owner, kUnprivilegedUser: sbrun never runs a
// command as host root). Unprivileged: sbrun started as kUnprivilegedUser
// through setpriv. Run as root, the fixture is that user's in both.
enum class Mode { Invoking, Unprivileged };

class Conformance : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    if (access("/usr/bin/bwrap", X_OK) != 0) GTEST_SKIP() << "bubblewrap is not installed";
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && *base == '/' ? base : "/tmp") + "/sbrun-conformance-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    ASSERT_NE(mkdtemp(buf.data()), nullptr) << std::strerror(errno);
    fx_.root = fs::canonical(buf.data()).string();
    ::chmod(fx_.root.c_str(), 0755);
    fx_.home = fx_.root + "/h";
    fx_.workspace = fx_.home + "/w";
    fx_.policy_file = fx_.root + "/policy.sbpolicy";
    if (GetParam() == Mode::Unprivileged && getuid() != 0) {
      GTEST_SKIP() << "the unprivileged instantiation needs root to switch users";
    }
    if (getuid() == 0) {
      if (getpwnam(kUnprivilegedUser) == nullptr) {
        const std::string cmd = std::string("useradd -m ") + kUnprivilegedUser + " >/dev/null 2>&1";
        if (std::system(cmd.c_str()) != 0 || getpwnam(kUnprivilegedUser) == nullptr) {
          GTEST_SKIP() << "cannot create the user " << kUnprivilegedUser;
        }
      }
      if (access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "setpriv is not installed";
      const passwd* pw = getpwnam(kUnprivilegedUser);
      fx_.unprivileged = GetParam() == Mode::Unprivileged;
      fx_.owned = true;
      fx_.uid = pw->pw_uid;
      fx_.gid = pw->pw_gid;
      // Can this user start a sandbox at all (unprivileged user namespaces)?
      fx_.reset();
      write_policy("use std.base;\n");
      const RunResult r = sandbox("echo up");
      if (r.status != 0 || r.out != "up\n") {
        GTEST_SKIP() << "sbrun cannot run as " << kUnprivilegedUser << " here (exit " << r.status << "): " << r.err;
      }
    }
  }

  void TearDown() override {
    if (!fx_.root.empty()) {
      std::error_code ec;
      fs::remove_all(fx_.root, ec);
    }
  }

  void write_policy(const std::string& text) {
    fx_.write_file(fx_.policy_file, text);
    ::chmod(fx_.policy_file.c_str(), 0644);
  }

  RunResult sandbox(const std::string& script) {
    std::vector<std::string> argv;
    if (fx_.unprivileged) {
      argv = {"/usr/bin/setpriv", std::string("--reuid=") + kUnprivilegedUser,
              std::string("--regid=") + kUnprivilegedUser, "--init-groups"};
    }
    // SBRUN_CONFORMANCE_SBRUN runs another sbrun build against the same cases.
    const char* other = std::getenv("SBRUN_CONFORMANCE_SBRUN");
    const std::string sbrun = other != nullptr && *other == '/' ? other : SBRUN_PATH;
    for (const std::string& a :
         {sbrun, std::string("--workspace"), fx_.workspace, std::string("--ask"), std::string("deny"), fx_.policy_file,
          std::string("--"), std::string("/bin/sh"), std::string("-c"), script}) {
      argv.push_back(a);
    }
    return run(argv, {"HOME=" + fx_.home, "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C"});
  }

  void check_policies(bool links);

  Fixture fx_;
};

std::string indent(const std::string& text) {
  std::string out = "    ";
  for (char c : text) {
    out += c;
    if (c == '\n') out += "    ";
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '\n')) out.pop_back();
  return out;
}

TEST_P(Conformance, GeneratedPolicies) { check_policies(false); }

// The same over a tree with symlinks (kLinks), decided on resolved paths:
// the evaluator over the policy whose literal prefixes are resolved, for
// each path as the kernel resolves it.
TEST_P(Conformance, GeneratedPoliciesWithLinks) { check_policies(true); }

void Conformance::check_policies(bool links) {
  const auto started = std::chrono::steady_clock::now();
  fx_.links = links;
  std::vector<std::pair<std::string, std::string>> policies;  // label, text
  const auto& fixed = links ? kFixedLinkPolicies : kFixedPolicies;
  for (std::size_t i = 0; i < fixed.size(); ++i) {
    policies.emplace_back("fixed " + std::to_string(i), fixed[i]);
  }
  for (int i = 0; i < (links ? kGeneratedLinkPolicies : kGeneratedPolicies); ++i) {
    Generator g(kFirstSeed + static_cast<std::uint32_t>(i), fx_);
    policies.emplace_back("seed " + std::to_string(kFirstSeed + i), g.policy());
  }

  sema::PathBindings bindings;
  bindings.home = fx_.home;
  bindings.workspace = fx_.workspace;
  bindings.tmpdir = "/tmp";

  std::size_t total_cases = 0, total_mismatches = 0, total_explained = 0, total_excluded = 0, launch_failures = 0;
  std::size_t refused_launches = 0;  // E0401 on a link the policy lets the command replace
  std::size_t linked_allowed = 0;    // cases through a link that the sandbox allowed, as expected
  std::map<std::string, std::size_t> explained_by;
  std::map<std::string, std::pair<std::size_t, std::size_t>> per_op;  // op -> (cases, expected allow)
  std::string explained_list;
  std::map<std::string, std::size_t> ephemeral;  // probe and host disagree: op+ (probe ok) / op- (probe failed)
  std::string failures;
  std::ostringstream summary;

  for (const auto& [label, body] : policies) {
    const std::string text = "use std.base;\n" + body;
    driver::Compilation compilation;
    driver::compile_text(compilation, "policy.sbpolicy", fx_.root, text, {});
    if (!compilation.policy) {
      std::string all;
      for (const auto& d : compilation.diags.all()) all += d.message + "; ";
      ADD_FAILURE() << label << ": the policy does not compile: " << all << "\n" << text;
      continue;
    }
    fx_.reset();
    write_policy(text);
    // The protections sbrun adds to every policy (driver/guards.hpp) are
    // part of what the sandbox must agree with.
    driver::protect_git_metadata(compilation, bindings);
    lower::PosixFs host;
    const ir::Policy resolved =
        links ? lower::resolve_rule_paths(*compilation.policy, host, bindings) : ir::Policy{};
    Oracle oracle{links ? resolved : *compilation.policy, bindings, links, links ? &*compilation.policy : nullptr, {}};
    if (links) {
      for (const auto& [at, target] : kLinks) {
        const lower::CanonicalPath c = lower::canonicalize(host, fx_.abs(at));
        if (c.exists) oracle.aliases.emplace_back(fx_.abs(at), c.path);
      }
    }
    std::vector<Case> cases;
    std::size_t excluded = 0;
    for (Case c : all_cases(fx_)) {
      if (oracle.excluded(c)) {
        ++excluded;
        continue;
      }
      if (c.op == Op::Read && c.dir) c.identity = identity_of(c.path);
      c.expected = oracle.expected(c);
      cases.push_back(std::move(c));
    }

    const RunResult r = sandbox(probe_script(cases));
    const bool launched = r.out.find("probe-done\n") != std::string::npos;
    // With links, a protection through a link the command could swap stops
    // the launch (E0401): a restrictive outcome when the directory holding
    // the link is one the policy lets the command write.
    bool refused = false;
    if (links && !launched && r.status == 125) {
      const std::string marker = "in writable `";
      const auto at = r.err.find(marker);
      if (r.err.find("E0401") != std::string::npos && at != std::string::npos) {
        const auto end = r.err.find('`', at + marker.size());
        refused = oracle.written_writable(r.err.substr(at + marker.size(), end - at - marker.size()));
      }
    }
    if (refused) ++refused_launches;
    std::istringstream lines(r.out);
    std::string word;
    std::size_t index = 0;
    while (lines >> word >> index) {
      if (index < cases.size()) cases[index].probe_ok = word == "ok";
    }
    std::size_t mismatches = 0, explained = 0, allowed = 0;
    std::string detail;
    for (Case& c : cases) {
      c.observed = host_observed(c, links);
      // A create that succeeded only in a directory the sandbox made up (its
      // tmpfs) leaves nothing on the host: counted, not a grant.
      if (launched && c.probe_ok != c.observed) ++ephemeral[std::string(op_name(c.op)) + (c.probe_ok ? "+" : "-")];
      allowed += c.expected ? 1 : 0;
      auto& [n, n_allowed] = per_op[op_name(c.op)];
      ++n;
      n_allowed += c.expected ? 1 : 0;
      if (c.observed && c.expected && links &&
          std::any_of(oracle.aliases.begin(), oracle.aliases.end(),
                      [&](const auto& a) { return lower::at_or_below(c.path, a.first); })) {
        ++linked_allowed;
      }
      if (c.observed == c.expected) continue;
      if (c.expected && !c.observed && refused) {
        ++explained;
        ++explained_by["launch-refused-replaceable-link"];
        continue;
      }
      if (c.expected && !c.observed && launched) {
        const Approximation* why = nullptr;
        for (const auto& a : kApproximations) {
          if (a.applies(c, oracle)) {
            why = &a;
            break;
          }
        }
        if (why != nullptr) {
          ++explained;
          ++explained_by[why->name];
          explained_list +=
              "  " + label + ": " + op_name(c.op) + " " + c.spelling + " refused, explained by " + why->name + "\n";
          continue;
        }
      }
      ++mismatches;
      if (launched) {
        detail += std::string("    ") + op_name(c.op) + " " + c.spelling + " (" + c.path + ")" +
                  (c.op == Op::Rename ? " -> " + c.other : "") + ": expected " + (c.expected ? "allow" : "deny") +
                  ", observed " + (c.observed ? "allow" : "deny") +
                  (c.observed && !c.expected ? "  [SANDBOX ALLOWS WHAT THE EVALUATOR DENIES]" : "") + "\n";
      }
    }
    if (!launched && !refused) {
      ++launch_failures;
      detail = "    the sandbox did not run the probe: sbrun exit " + std::to_string(r.status) +
               (r.timed_out ? " (timed out)" : "") + ", stderr: " + r.err + "    so " + std::to_string(allowed) +
               " cases the evaluator allows were all refused\n";
    }
    total_cases += cases.size();
    total_mismatches += mismatches;
    total_explained += explained;
    total_excluded += excluded;
    summary << "  " << label << ": " << cases.size() << " cases (" << allowed << " allowed), " << mismatches
            << " mismatches, " << explained << " explained, " << excluded << " excluded"
            << (launched ? "" : ", SANDBOX DID NOT START") << "\n";
    if (std::getenv("SBRUN_CONFORMANCE_VERBOSE") != nullptr) summary << indent(text) << "\n";
    if (mismatches > 0) {
      failures += label + ": " + std::to_string(mismatches) + " mismatches, policy:\n" + indent(text) + "\n" + detail;
    }
  }

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::ostringstream report;
  report << "conformance (" << (GetParam() == Mode::Invoking ? "uid " + std::to_string(getuid()) : kUnprivilegedUser)
         << "): " << policies.size() << " policies, " << total_cases << " cases, " << total_mismatches
         << " unexplained mismatches, " << total_explained << " explained by known approximations";
  for (const auto& [name, n] : explained_by) report << " [" << name << ": " << n << "]";
  report << ", " << total_excluded << " cases not asked (launch-time globs), " << launch_failures
         << " policies where the sandbox did not start, " << refused_launches
         << " launches refused for a replaceable link (E0401), " << linked_allowed
         << " cases through links allowed as expected, " << seconds << " s\n  cases by operation (expected allow):";
  for (const auto& [name, counts] : per_op)
    report << " " << name << " " << counts.first << " (" << counts.second << ")";
  report << "\n  probe succeeded but the host shows no change (or the reverse):";
  for (const auto& [name, n] : ephemeral) report << " " << name << " " << n;
  report << "\n" << summary.str() << (explained_list.empty() ? "" : "explained refusals:\n") << explained_list;
  std::cout << report.str();
  RecordProperty("policies", static_cast<int>(policies.size()));
  RecordProperty("cases", static_cast<int>(total_cases));
  RecordProperty("mismatches", static_cast<int>(total_mismatches));
  EXPECT_GE(total_cases, 2000u);
  // The linked fixture is exercised, not refused wholesale.
  if (links) {
    EXPECT_GE(linked_allowed, 200u);
    EXPECT_LE(refused_launches * 4, policies.size());
  }
  EXPECT_EQ(total_mismatches, 0u) << failures;
}

INSTANTIATE_TEST_SUITE_P(Runtime, Conformance, ::testing::Values(Mode::Invoking, Mode::Unprivileged),
                         [](const ::testing::TestParamInfo<Mode>& info) {
                           return info.param == Mode::Invoking ? std::string("AsInvokingUser")
                                                               : std::string("AsUnprivilegedUser");
                         });

}  // namespace
