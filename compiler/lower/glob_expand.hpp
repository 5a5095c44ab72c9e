// Expanding path globs against the filesystem, at launch.
//
// A mount plan can only name paths that exist, so a rule like
// `deny read "./**/.env"` becomes one mask per `.env` found now. All glob
// rules are expanded in one walk per root directory: each directory carries
// the set of (pattern, position) states still alive there, like an NFA over
// path components, and the walk descends only where some state survives.
// A pattern that matches a directory covers its subtree, so the walk stops
// following that pattern there. Symlinks are matched but never descended
// into, unless a query asks to follow them (see GlobQuery); a directory it
// cannot list counts as a match for the queries that ask for that; and the
// walk has an entry budget, so a `/**` rule cannot make launch walk the
// whole machine: exceeding it is an error, not a partial answer.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "lower/fs_view.hpp"

namespace sbpolicy::lower {

struct GlobQuery {
  std::string root;                     // absolute, canonical literal prefix
  std::vector<std::string> components;  // the rest: component globs and `**`
  // A directory that cannot be listed while this query is still alive in it
  // counts as a match. Set for the globs where matching more is the
  // restrictive side (a deny's targets, a grant's excepts): what the walk
  // cannot see is then protected, not silently left out.
  bool match_unlistable = false;
  // Descend into symlinked directories too, matching names through them as
  // the kernel would resolve them: for protections, which then also cover
  // what a path leads to, and see the paths a swapped link would open
  // (`./*/pre-commit` through `hooks -> hooks-real`). A link to the walk's
  // root or above it (`x -> /`, `x -> ~`) would walk everything again, and
  // is not followed. At most kMaxFollowedLinks links on one path, and
  // kLinkEntryBudget entries seen through links in one root's walk; past it
  // links are no longer followed (GlobExpansion::links_cut_short). Grants never follow
  // a link a wildcard found (a link names no grant).
  bool follow_links = false;
};

inline constexpr int kMaxFollowedLinks = 8;
inline constexpr std::size_t kLinkEntryBudget = 50000;

struct GlobExpansion {
  std::vector<std::vector<std::string>> matches;  // per query: absolute paths, sorted
  std::size_t entries_seen = 0;
  bool budget_exceeded = false;
  std::string budget_root;  // the root whose walk went over the budget
  // A root under which links were no longer followed (kLinkEntryBudget), or "".
  // What was found up to there stands: following links only ever adds protection.
  std::string links_cut_short;
};

GlobExpansion expand_globs(FsView& fs, const std::vector<GlobQuery>& queries, std::size_t entry_budget,
                           std::size_t link_entry_budget = kLinkEntryBudget);

}  // namespace sbpolicy::lower
