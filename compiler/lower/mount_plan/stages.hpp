// The stages of the mount-plan lowering, and what each hands to the next.
//
//   bind     each path rule's target and excepts: a literal path, or a glob
//            (the literal prefix bound to a directory, judged by the
//            resolver as a named path, and the wildcard rest)   -> BoundRules
//   expand   every glob against the filesystem, in one walk per root
//            (lower/glob_expand)                                -> GlobExpansion
//   resolve  every path to its canonical object through the resolver, which
//            applies the symlink policy of the path's role; what lies in the
//            sandbox's own /proc and /dev becomes a system denial, `unix`
//            grants become the sockets they name                -> ResolvedRules
//   decide   each point (a path a rule or except names) gets its access from
//            the concrete rules; the sandbox's own directories, the sockets
//            bound in and masked, the pins that keep protected parents in
//            place, and the bound on the plan's size             -> PointTable
//   emit     the points in path order become mounts               -> MountPlan
//
// Each stage is a function over the one before it, and each output can be
// dumped (`sbc compile --target bwrap --emit bind|expand|resolve|points`).
// The stages share a LoweringContext: the policy, the filesystem snapshot,
// the options and the diagnostics; a stage that reports an error sets
// `failed`; the pipeline stops after expand only when the expansion is
// incomplete (every refusal is reported in one run), and after resolve and
// decide on any error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ir/ir.hpp"
#include "lower/fs_view.hpp"
#include "lower/glob_expand.hpp"
#include "lower/mount_plan.hpp"
#include "support/diagnostic.hpp"

namespace sbpolicy::lower::plan {

// --- Shared ------------------------------------------------------------------

// Inside `top`, not `top` itself.
inline bool strictly_below(std::string_view path, std::string_view top) {
  return path != top && at_or_below(path, top);
}

// "/usr/lib" -> "usr"; "/" -> "".
inline std::string_view first_component(std::string_view path) {
  path.remove_prefix(1);
  return path.substr(0, path.find('/'));
}

// Orders canonical absolute paths as their lists of components compare:
// '/' before every other byte, so a directory comes right before everything
// inside it ("/a", "/a/b", "/a-b"), which emit relies on.
struct PathOrder {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const {
    const std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
      const auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
      if (x == y) continue;
      if (x == '/') return true;
      if (y == '/') return false;
      return x < y;
    }
    return a.size() < b.size();
  }
};

class LoweringContext {
 public:
  LoweringContext(const ir::Policy& policy, FsView& fs, const LowerOptions& options, Diagnostics& diags)
      : policy(policy), fs(fs), canonical(fs), options(options), diags(diags) {}

  // A rule the target cannot enforce exactly (W01xx), once per code and
  // rule; an error with target_strict.
  void fidelity(Code code, const ir::Rule& rule, std::string message);

  // Walks the trees below `stack`'s directories depth first, never through
  // a symlink, calling visit(child, entry) for each entry, and descends into
  // a directory when visit returns true. `seen` counts the entries listed
  // (shared by the walks that share `budget`). False when the budget ran out
  // with directories left to list.
  template <class Visit>
  bool walk_below(std::vector<std::string> stack, std::size_t& seen, std::size_t budget, Visit visit) {
    std::vector<DirEntry> entries;
    while (!stack.empty()) {
      if (seen >= budget) return false;
      const std::string dir = std::move(stack.back());
      stack.pop_back();
      entries.clear();
      if (!fs.list(dir, entries)) continue;
      seen += entries.size();
      for (const DirEntry& e : entries) {
        std::string child = dir == "/" ? "/" + e.name : dir + "/" + e.name;
        if (visit(child, e) && e.kind == FileKind::Directory) stack.push_back(std::move(child));
      }
    }
    return true;
  }

  const ir::Policy& policy;
  FsView& fs;  // a SnapshotFs: every stage sees the same tree
  Canonicalizer canonical;
  const LowerOptions& options;
  Diagnostics& diags;
  bool failed = false;

 private:
  std::set<std::pair<Code, std::uint32_t>> reported_;
};

// --- The resolver ------------------------------------------------------------
//
// Every path a rule names, or a glob finds, goes through PathResolver: one
// place that canonicalises it and applies the symlink policy of its role.
//   Grant   (a grant's target; an except of a deny, which grants back):
//           links the policy names are followed when they sit in a
//           directory the command cannot write; a link in a writable
//           directory could have been planted, and a link a wildcard found
//           was named by nobody: either drops the path (W0101). A grant
//           never reaches past a link to what it was not given.
//   Protect (a deny's target; an except of a grant, which protects):
//           links are followed, so the object behind them is protected,
//           including links a wildcard found. A link in a writable
//           directory could be swapped for a real path after launch, which
//           the protection would no longer cover: the launch is refused
//           (E0401), except for a read denial through a link a wildcard
//           found, whose object stays hidden whatever the link becomes.
// And for every role: a symlink at or above the workspace or the home that
// was not there when the launch began refuses the launch (E0401).
enum class Role { Grant, Protect };
std::string_view role_name(Role role);

class PathResolver {
 public:
  explicit PathResolver(LoweringContext& cx) : cx_(cx) {}

  // `path` (absolute, as written or found) resolved for `role` on behalf of
  // rule `r`. `wildcard_root`: the canonical directory a glob was expanded
  // from, for a path the glob found (the links below it were found, not
  // named). `shown`: the path as the diagnostics show it. Nullopt: do not
  // use the path (dropped with W0101, or refused with E0401, which sets
  // cx.failed).
  std::optional<CanonicalPath> resolve(const std::string& path, Role role, const ir::Rule& r,
                                       const std::string* wildcard_root, std::string_view shown);

  // The first symlink on `c`'s way that sits in a directory the policy lets
  // the command write (so a run could have planted or could swap it), or
  // null; `parent` is set to that directory.
  const SymlinkStep* link_in_writable_dir(const CanonicalPath& c, std::string& parent);

 private:
  bool anchor_moved(const CanonicalPath& c, const ir::Rule& r);

  LoweringContext& cx_;
  std::map<std::string, bool> writable_;  // link_in_writable_dir's answers, by parent
  bool anchor_moved_reported_ = false;
};

// --- Stage 1: bind -------------------------------------------------------------

inline constexpr std::size_t kNoQuery = static_cast<std::size_t>(-1);

struct BoundPattern {
  std::size_t query = kNoQuery;  // the glob query (BoundRules::queries), or none
  std::string literal;           // the absolute path, when not a glob
  bool ok = false;               // bound (a lost deny or except is E0402)
  bool dropped = false;          // a grant's prefix not followed (W0101): nothing
};

struct BoundRule {
  const ir::Rule* rule;
  ir::Effect effect;  // an ask allowed at launch is an allow
  Role role;          // of the target; the excepts have the other one
  Role except_role;
  BoundPattern target;
  std::vector<BoundPattern> excepts;
};

struct BoundRules {
  std::vector<BoundRule> rules;  // the read, write and unix rules that take part, in IR order
  std::vector<GlobQuery> queries;
};

BoundRules bind_rules(LoweringContext& cx, PathResolver& resolver);

// --- Stage 2: expand ---------------------------------------------------------

// Every glob of `bound`, expanded; over the budget is E0400 (fail closed),
// links cut short and launch-time expansion are W0100.
GlobExpansion expand_rules(LoweringContext& cx, const BoundRules& bound);

// --- Stage 3: resolve ----------------------------------------------------------

// A read or write rule on one canonical path and its subtree: the source
// rule's id, effect and operation, and its excepts as canonical paths.
struct ConcreteRule {
  std::uint32_t id;
  ir::Effect effect;
  ir::Operation operation;
  std::string path;
  std::vector<std::string> excepts;
};

// A denial inside the sandbox's own /proc or /dev, applied over its mounts.
struct SystemDenial {
  Access access = Access::ReadOnly;
  std::vector<std::uint32_t> rules;
};

struct ResolvedRules {
  std::vector<ConcreteRule> rules;
  // Symlinks (link, target) on the way to what is granted, recreated where
  // no mount shows them.
  std::vector<std::pair<std::string, std::string>> grant_links;
  std::map<std::string, SystemDenial> system_denials;
  ir::Policy unix_rules;                // `unix` rules on canonical literal paths
  std::set<std::string> unix_sockets;   // existing sockets that a `unix` grant names
};

ResolvedRules resolve_rules(LoweringContext& cx, PathResolver& resolver, const BoundRules& bound,
                            const GlobExpansion& expansion);

// --- Stage 4: decide points --------------------------------------------------------

// The reference evaluator's answer over the concrete rules, indexed by path:
// the rules that can match a path are those naming it or an ancestor, so
// deciding over them is deciding over all, without matching hundreds of
// rules per point. The conformance tests hold this to ir::decide over the
// source policy in real sandboxes.
class ConcreteDecider {
 public:
  explicit ConcreteDecider(const ResolvedRules& resolved);
  // The access `path` gets; `rules` receives the ids of the rules behind it.
  Access access(const std::string& path, std::vector<std::uint32_t>* rules = nullptr) const;

 private:
  struct Decision {
    ir::Effect effect = ir::Effect::Deny;
    std::vector<std::uint32_t> deciding;
  };
  std::vector<std::size_t> candidates(const std::string& path) const;
  Decision decide(const std::vector<std::size_t>& subset, ir::Operation op, const std::string& path) const;

  const std::vector<ConcreteRule>& rules_;
  std::unordered_map<std::string, std::vector<std::size_t>> by_path_;  // canonical path -> indices in rules_
};

// One point of the plan: a path whose access is decided on its own.
struct Point {
  enum class Kind { Policy, Pin, Proc, Dev, PrivateTmp, PrivateShm, Symlink, UnixSocket, SystemDenial };
  Kind kind = Kind::Policy;
  Access access = Access::None;
  std::vector<std::uint32_t> rules;
  std::string link_target;  // for Symlink
};
std::string_view point_kind_name(Point::Kind kind);

struct PointTable {
  std::map<std::string, Point, PathOrder> points;
  std::map<std::string, std::uint32_t> unix_sockets;  // sockets bound in -> the deciding rule
};

// The points and their access, the sandbox's own directories, the sockets
// bound in and the other sockets masked.
PointTable decide_points(LoweringContext& cx, const ResolvedRules& resolved, const ConcreteDecider& decider);
// Every directory between a writable region's top and a protected point
// inside it becomes a mount point, so it cannot be renamed away.
void pin_protected_parents(PointTable& table, const ConcreteDecider& decider);
// At most options.max_points points (W0104 where directories are protected whole).
void bound_points(LoweringContext& cx, PointTable& table, const ConcreteDecider& decider);
// W0105: links inside denied directories to what the sandbox can read.
void warn_links_out_of_denials(LoweringContext& cx, const PointTable& table, const ConcreteDecider& decider);

// The access a point's children start from: its own, except for the
// sandbox's private directories, which show nothing of the host.
Access child_access(const Point& p);
// The access `path` ends up with: its own point's or its nearest ancestor
// point's (W0104 may have lowered one), else the rules'.
Access planned_access(const PointTable& table, const ConcreteDecider& decider, const std::string& path);

// --- Stage 5: emit -----------------------------------------------------------------

MountPlan emit_plan(LoweringContext& cx, const PointTable& table, const ConcreteDecider& decider);

// --- Dumps ---------------------------------------------------------------------------

nlohmann::json dump(const BoundRules& bound);
nlohmann::json dump(const BoundRules& bound, const GlobExpansion& expansion);
nlohmann::json dump(const ResolvedRules& resolved);
nlohmann::json dump(const PointTable& table);

}  // namespace sbpolicy::lower::plan
