// Stage 4, first half: each point's access, decided over the concrete rules.
//
// The points are the canonical paths the concrete rules and their excepts
// name. Between points a decision cannot change (a rule covers its whole
// subtree), so deciding each point and mounting it where its access
// differs from its parent's enforces the decision at every path. Added to
// them: the sandbox's own /proc, /dev, /dev/shm and (unless the policy
// grants writing it) /tmp; the sockets `unix` grants bind in, and every
// other socket a visible directory holds at launch, masked; the symlinks
// on the way to grants; and the denials inside /proc and /dev.
#include <fmt/format.h>

#include <algorithm>

#include "ir/evaluator.hpp"
#include "lower/linux_decisions.hpp"
#include "lower/mount_plan/stages.hpp"

namespace sbpolicy::lower::plan {

std::string_view point_kind_name(Point::Kind kind) {
  switch (kind) {
    case Point::Kind::Policy: return "policy";
    case Point::Kind::Pin: return "pin";
    case Point::Kind::Proc: return "proc";
    case Point::Kind::Dev: return "dev";
    case Point::Kind::PrivateTmp: return "private-tmp";
    case Point::Kind::PrivateShm: return "private-shm";
    case Point::Kind::Symlink: return "symlink";
    case Point::Kind::UnixSocket: return "unix-socket";
    case Point::Kind::SystemDenial: return "system-denial";
  }
  return "?";
}

ConcreteDecider::ConcreteDecider(const ResolvedRules& resolved) : rules_(resolved.rules) {
  for (std::size_t i = 0; i < rules_.size(); ++i) by_path_[rules_[i].path].push_back(i);
}

// The concrete rules that can match `path`, as indices in IR order: those
// naming it or an ancestor. Every concrete rule is a literal subtree, so
// these are exactly the rules whose pattern matches `path`.
std::vector<std::size_t> ConcreteDecider::candidates(const std::string& path) const {
  std::vector<std::size_t> subset;
  std::string prefix = path;
  while (true) {
    if (auto it = by_path_.find(prefix.empty() ? std::string("/") : prefix); it != by_path_.end()) {
      subset.insert(subset.end(), it->second.begin(), it->second.end());
    }
    if (prefix.empty() || prefix == "/") break;
    prefix.resize(prefix.rfind('/'));
  }
  std::sort(subset.begin(), subset.end(), [&](std::size_t a, std::size_t b) {
    return std::make_pair(rules_[a].id, a) < std::make_pair(rules_[b].id, b);
  });
  return subset;
}

// A candidate matches unless one of its (literal) excepts covers `path`;
// then deny > allow > ask (ir::settle_by).
ConcreteDecider::Decision ConcreteDecider::decide(const std::vector<std::size_t>& subset, ir::Operation op,
                                                  const std::string& path) const {
  std::vector<const ConcreteRule*> matching;
  for (std::size_t i : subset) {
    const ConcreteRule& c = rules_[i];
    if (!ir::applies_to(c.operation, c.effect, op)) continue;
    const bool excepted =
        std::any_of(c.excepts.begin(), c.excepts.end(), [&](const std::string& e) { return at_or_below(path, e); });
    if (!excepted) matching.push_back(&c);
  }
  std::vector<const ConcreteRule*> deciding;
  Decision d;
  d.effect = ir::settle_by(matching, [](const ConcreteRule* c) { return c->effect; }, deciding);
  for (const ConcreteRule* c : deciding) d.deciding.push_back(c->id);
  return d;
}

Access ConcreteDecider::access(const std::string& path, std::vector<std::uint32_t>* rules) const {
  const std::vector<std::size_t> subset = candidates(path);
  const Decision w = decide(subset, ir::Operation::Write, path);
  const Decision r = decide(subset, ir::Operation::Read, path);
  if (rules != nullptr) {
    // Read-write: the write grants. Read-only: the read grants and the
    // write denials. None: the denials (or nothing: the default).
    if (w.effect == ir::Effect::Allow) {
      rules->insert(rules->end(), w.deciding.begin(), w.deciding.end());
    } else {
      rules->insert(rules->end(), r.deciding.begin(), r.deciding.end());
      if (r.effect == ir::Effect::Allow) rules->insert(rules->end(), w.deciding.begin(), w.deciding.end());
    }
    std::sort(rules->begin(), rules->end());
    rules->erase(std::unique(rules->begin(), rules->end()), rules->end());
  }
  if (w.effect == ir::Effect::Allow) return Access::ReadWrite;
  if (r.effect == ir::Effect::Allow) return Access::ReadOnly;
  return Access::None;
}

Access child_access(const Point& p) {
  switch (p.kind) {
    case Point::Kind::Policy:
    case Point::Kind::Pin: return p.access;
    default: return Access::None;
  }
}

Access planned_access(const PointTable& table, const ConcreteDecider& decider, const std::string& path) {
  for (std::string_view up = path;; up = parent_of(up)) {
    if (const auto it = table.points.find(up); it != table.points.end()) {
      if (it->second.kind == Point::Kind::Policy || it->second.kind == Point::Kind::Pin) {
        return up == path ? it->second.access : child_access(it->second);
      }
      return Access::None;
    }
    if (up == "/") return decider.access(path);
  }
}

namespace {

// A socket is bound in only when the evaluator allows it over all `unix`
// rules (a deny, or an except, wins over the grant that named it), and the
// sandbox does not override that: a read or write denial of it holds over
// the grant (lower/linux_decisions.hpp, what `sbc explain` says too).
std::map<std::string, std::uint32_t> decide_unix_sockets(const LoweringContext& cx, const ResolvedRules& resolved) {
  std::map<std::string, std::uint32_t> bound;
  for (const std::string& path : resolved.unix_sockets) {
    const ir::Decision d = ir::decide(resolved.unix_rules, ir::Operation::Unix, path, cx.options.bindings);
    if (d.effect != ir::Effect::Allow) continue;
    if (linux_override(cx.policy, cx.options.bindings, ir::Operation::Unix, path, d)) continue;
    bound.emplace(path, d.deciding.front()->id);
  }
  return bound;
}

// With a `unix` grant the filter allows AF_UNIX sockets, so every other
// socket file visible at launch is masked (see W0103).
void mask_other_sockets(LoweringContext& cx, PointTable& table) {
  if (table.unix_sockets.empty()) return;
  for (const auto& [path, id] : table.unix_sockets) {
    cx.fidelity(Code::W0103, cx.policy.rules[id],
                "other unix sockets in visible directories are masked at launch; ones created later stay reachable");
  }
  static const std::set<std::string> kSystemTrees = {"usr", "etc", "opt", "lib", "lib32", "lib64", "libx32",
                                                      "bin", "sbin", "proc", "dev", "sys"};
  std::vector<std::string> roots;
  for (const auto& entry : table.points) {
    // Named, not structured, bindings: the lambda below captures them.
    const std::string& path = entry.first;
    const Point& p = entry.second;
    if (p.kind != Point::Kind::Policy || p.access == Access::None) continue;
    if (path != "/" && kSystemTrees.count(std::string(first_component(path))) > 0) continue;
    const bool covered =
        std::any_of(roots.begin(), roots.end(), [&](const std::string& r) { return at_or_below(path, r); });
    if (!covered) roots.push_back(path);
  }
  std::size_t seen = 0;
  const bool whole =
      cx.walk_below(roots, seen, cx.options.glob_entry_budget, [&](const std::string& child, const DirEntry& e) {
        if (e.kind == FileKind::Socket && table.unix_sockets.count(child) == 0) {
          Point& p = table.points[child];
          p.kind = Point::Kind::Policy;
          p.access = Access::None;
        }
        return !(parent_of(child) == "/" && kSystemTrees.count(e.name) > 0);
      });
  if (!whole) {
    // A partial search would leave sockets reachable: fail closed.
    cx.diags
        .report(Code::E0400, cx.policy.rules[table.unix_sockets.begin()->second].origin.target.span,
                fmt::format("looking for other unix sockets to mask walked more than {} entries",
                            cx.options.glob_entry_budget))
        .label("a unix grant needs every visible socket found at launch")
        .help("grant less of the filesystem, or drop the `unix` grant");
    cx.failed = true;
  }
}

}  // namespace

PointTable decide_points(LoweringContext& cx, const ResolvedRules& resolved, const ConcreteDecider& decider) {
  PointTable table;
  auto& points = table.points;
  for (const ConcreteRule& r : resolved.rules) {
    points[r.path];
    for (const std::string& e : r.excepts) points[e];
  }
  for (auto& [path, p] : points) p.access = decider.access(path, &p.rules);
  table.unix_sockets = decide_unix_sockets(cx, resolved);
  // The sandbox's own system directories. /tmp is the host's only when the
  // policy grants writing it; otherwise a private one.
  points["/proc"] = Point{Point::Kind::Proc, Access::None, {}, {}};
  points["/dev"] = Point{Point::Kind::Dev, Access::None, {}, {}};
  points["/dev/shm"] = Point{Point::Kind::PrivateShm, Access::None, {}, {}};
  std::vector<std::uint32_t> tmp_rules;
  const Access tmp = decider.access("/tmp", &tmp_rules);
  if (tmp != Access::ReadWrite) {
    if (tmp == Access::ReadOnly) {
      for (std::uint32_t id : tmp_rules) {
        cx.fidelity(Code::W0102, cx.policy.rules[id], "a read-only grant of /tmp is replaced by a private, writable /tmp");
      }
    }
    points["/tmp"] = Point{Point::Kind::PrivateTmp, Access::None, {}, {}};
  } else if (points.count("/tmp") == 0) {
    points["/tmp"] = Point{Point::Kind::Policy, Access::ReadWrite, tmp_rules, {}};
  }
  for (const auto& [path, id] : table.unix_sockets) {
    points[path] = Point{Point::Kind::UnixSocket, Access::ReadWrite, {id}, {}};
  }
  for (const auto& [path, d] : resolved.system_denials) {
    if (path == "/dev/shm" || (d.access == Access::None && (path == "/proc" || path == "/dev"))) {
      // Hidden whole: nothing of it is mounted (nor /dev/shm inside /dev).
      if (path == "/dev") points.erase("/dev/shm");
      points[path] = Point{Point::Kind::SystemDenial, Access::None, d.rules, {}};
    } else if (path == "/proc") {
      points[path].rules = d.rules;  // made read-only after its mounts (emit)
      points[path].access = Access::ReadOnly;
    } else {
      points[path] = Point{Point::Kind::SystemDenial, d.access, d.rules, {}};
    }
  }
  for (const auto& [link, target] : resolved.grant_links) {
    auto& p = points[link];
    if (p.kind == Point::Kind::Policy && p.rules.empty()) {
      p.kind = Point::Kind::Symlink;
      p.link_target = target;
    }
  }
  mask_other_sockets(cx, table);
  return table;
}

// A symlink inside a denied directory that points out of it
// (`~/.ssh/id_rsa -> ~/dotfiles/id_rsa`) is hidden with the directory, but
// its target is what the rules say of the target: readable when granted.
// The user meant the secret hidden, so each such link whose target the
// sandbox can read is named (W0105, shown without -v). A best effort, on
// every launch: the first 10,000 entries of the denied directories.
void warn_links_out_of_denials(LoweringContext& cx, const PointTable& table, const ConcreteDecider& decider) {
  constexpr std::size_t kLinkScanBudget = 10000;
  std::vector<std::pair<std::string, std::uint32_t>> roots;  // denied directory, a rule denying it
  for (const auto& [path, p] : table.points) {
    if (p.kind == Point::Kind::Policy && p.access == Access::None && !p.rules.empty() &&
        cx.fs.kind(path) == FileKind::Directory) {
      roots.emplace_back(path, p.rules.front());
    }
  }
  std::size_t seen = 0;
  for (const auto& entry : roots) {
    // Named, not structured, bindings: the lambda below captures them.
    const std::string& root = entry.first;
    const std::uint32_t rule = entry.second;
    cx.walk_below({root}, seen, kLinkScanBudget, [&](const std::string& child, const DirEntry& e) {
      if (e.kind != FileKind::Symlink) return true;
      const CanonicalPath target = cx.canonical(child);
      if (target.exists && !at_or_below(target.path, root) &&
          planned_access(table, decider, target.path) != Access::None) {
        cx.fidelity(Code::W0105, cx.policy.rules[rule],
                    fmt::format("`{}` is hidden, but it is a symlink to `{}`, which the sandbox can read", child,
                                target.path));
      }
      return false;
    });
  }
}

}  // namespace sbpolicy::lower::plan
