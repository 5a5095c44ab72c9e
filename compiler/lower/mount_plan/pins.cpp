// Stage 4, second half: the point table made safe to mount and small
// enough to mount.
//
// Pins: a protected path inside a writable region could be walked around
// by renaming a directory above it (mv .git .git-old; mkdir .git): every
// directory between the region's top and the protected point becomes a
// mount point of its own, which cannot be renamed (EBUSY).
//
// The bound: every point can cost a mount, and a workspace can hold any
// number of paths that match deny globs (planted ones too): bubblewrap stops
// at 9,000 arguments, and each mount costs it a pass over the mount table.
// Over the budget, directories full of points are protected whole: the
// deepest directories with at least T points below them take the most
// restrictive access of those points (T halves each round), with W0104.
// Restrictive only: the sandbox sees less than the policy grants, never more.
#include <fmt/format.h>

#include <algorithm>

#include "lower/mount_plan/stages.hpp"

namespace sbpolicy::lower::plan {

void pin_protected_parents(PointTable& table, const ConcreteDecider& decider) {
  auto& points = table.points;
  std::vector<std::string> pins;
  for (const auto& [path, p] : points) {
    if (p.kind != Point::Kind::Policy || p.access == Access::ReadWrite || path == "/") continue;
    // Walk up through ancestor points while they are writable.
    std::string_view region_top;
    for (std::string_view up = path; up != "/";) {
      up = parent_of(up);
      auto it = points.find(up);
      if (it == points.end()) continue;
      if (child_access(it->second) != Access::ReadWrite) break;
      region_top = up;
    }
    if (region_top.empty()) continue;
    for (std::string_view up = parent_of(path); up != region_top; up = parent_of(up)) pins.emplace_back(up);
  }
  for (const std::string& path : pins) {
    Point& p = points[path];
    if (p.kind == Point::Kind::Policy && p.rules.empty() && p.access == Access::None) {
      p.access = decider.access(path, &p.rules);
    }
    if (p.kind == Point::Kind::Policy) p.kind = Point::Kind::Pin;
  }
}

namespace {

// Protects `dir` whole: its points go, and it takes the most restrictive
// access among them and itself. Not where the sandbox's own directories
// (/proc, /dev, a private /tmp) or a recreated symlink lie below.
void collapse(LoweringContext& cx, PointTable& table, const ConcreteDecider& decider, const std::string& dir) {
  auto& points = table.points;
  auto first = points.upper_bound(dir);
  auto last = first;
  std::size_t count = 0;
  for (; last != points.end() && strictly_below(last->first, dir); ++last, ++count) {
    if (last->second.kind != Point::Kind::Policy && last->second.kind != Point::Kind::Pin) return;
  }
  if (count == 0) return;
  std::vector<std::uint32_t> rules;
  Access least = Access::ReadWrite;
  for (auto it = first; it != last; ++it) {
    least = std::min(least, it->second.access);
    rules.insert(rules.end(), it->second.rules.begin(), it->second.rules.end());
  }
  points.erase(first, last);
  auto [at, fresh] = points.try_emplace(dir);
  Point& p = at->second;
  if (fresh) p.access = decider.access(dir, &p.rules);
  least = std::min(least, p.access);
  const bool still_pinned = p.kind == Point::Kind::Pin && least == Access::ReadWrite;
  p.kind = still_pinned ? Point::Kind::Pin : Point::Kind::Policy;
  p.access = least;
  rules.insert(rules.end(), p.rules.begin(), p.rules.end());
  std::sort(rules.begin(), rules.end());
  rules.erase(std::unique(rules.begin(), rules.end()), rules.end());
  p.rules = rules;
  if (!rules.empty()) {
    // Blame a denial when there is one: it is why the points were there.
    std::uint32_t blamed = rules.front();
    for (std::uint32_t id : rules) {
      if (cx.policy.rules[id].effect == ir::Effect::Deny) {
        blamed = id;
        break;
      }
    }
    cx.fidelity(Code::W0104, cx.policy.rules[blamed],
                fmt::format("`{}` holds {} protected paths, more than a plan can mount one by one; it is {} whole", dir,
                            count, least == Access::None ? "hidden" : "read-only"));
  }
}

}  // namespace

void bound_points(LoweringContext& cx, PointTable& table, const ConcreteDecider& decider) {
  auto& points = table.points;
  const auto collapsible = [](const Point& p) { return p.kind == Point::Kind::Policy || p.kind == Point::Kind::Pin; };
  for (std::size_t threshold = 64; points.size() > cx.options.max_points && threshold >= 2; threshold /= 2) {
    // Points below each directory (string_views into the points' keys).
    std::unordered_map<std::string_view, std::size_t> below;
    for (const auto& [path, p] : points) {
      if (!collapsible(p)) continue;
      for (std::string_view up = path; up != "/";) {
        up = parent_of(up);
        ++below[up];
      }
    }
    std::set<std::string, PathOrder> heavy;
    for (const auto& [dir, n] : below) {
      if (n >= threshold && dir != "/") heavy.emplace(dir);
    }
    // The deepest of them: none of their own subdirectories is heavy.
    std::vector<std::string> chosen;
    for (auto it = heavy.begin(); it != heavy.end(); ++it) {
      const auto next = std::next(it);
      if (next == heavy.end() || !strictly_below(*next, *it)) chosen.push_back(*it);
    }
    for (const std::string& dir : chosen) collapse(cx, table, decider, dir);
  }
}

}  // namespace sbpolicy::lower::plan
