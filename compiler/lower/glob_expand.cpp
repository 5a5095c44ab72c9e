#include "lower/glob_expand.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "sema/glob.hpp"

namespace sbpolicy::lower {

namespace {

// One component of a pattern, ready to match: `**`, a literal name, or a glob.
struct Step {
  enum Kind { AnyDepth, Literal, Glob } kind;
  std::string literal;
  std::optional<sema::glob::Compiled> glob;
};

struct Pattern {
  std::size_t query;
  std::vector<Step> steps;
};

using State = std::pair<std::uint32_t, std::uint32_t>;  // (pattern index, step index)

// Adds `s` and, through `**` matching zero components, the states after it.
void add_closed(const std::vector<Pattern>& patterns, State s, std::vector<State>& out) {
  while (true) {
    out.push_back(s);
    const auto& steps = patterns[s.first].steps;
    if (s.second < steps.size() && steps[s.second].kind == Step::AnyDepth) {
      s.second += 1;
      continue;
    }
    return;
  }
}

bool step_matches(const Step& step, const std::string& name, std::vector<std::uint32_t>& units_cache, bool& decoded) {
  if (step.kind == Step::Literal) return step.literal == name;
  if (!decoded) {
    units_cache = sema::glob::decode_name(name);
    decoded = true;
  }
  return step.glob && sema::glob::matches(*step.glob, units_cache);
}

}  // namespace

GlobExpansion expand_globs(FsView& fs, const std::vector<GlobQuery>& queries, std::size_t entry_budget,
                           std::size_t link_entry_budget) {
  GlobExpansion result;
  result.matches.resize(queries.size());
  // Group queries by root: one walk per root.
  std::map<std::string, std::vector<std::size_t>> by_root;
  for (std::size_t i = 0; i < queries.size(); ++i) by_root[queries[i].root].push_back(i);

  for (const auto& [root, ids] : by_root) {
    std::vector<Pattern> patterns;
    for (std::size_t id : ids) {
      Pattern p{id, {}};
      for (const std::string& c : queries[id].components) {
        if (c == "**") {
          p.steps.push_back({Step::AnyDepth, {}, std::nullopt});
        } else if (auto lit = sema::glob::literal_value(c)) {
          p.steps.push_back({Step::Literal, *lit, std::nullopt});
        } else {
          p.steps.push_back({Step::Glob, {}, sema::glob::compile(c)});
        }
      }
      patterns.push_back(std::move(p));
    }
    std::vector<State> start;
    for (std::uint32_t i = 0; i < patterns.size(); ++i) add_closed(patterns, {i, 0}, start);
    if (fs.kind(root) != FileKind::Directory) continue;

    // Depth-first with an explicit stack: no recursion on the tree's depth.
    // Per directory, the `**` states that carry over to every child are
    // computed once; per entry only the other states are tested, so a file
    // costs a few string comparisons and no allocation unless it matches.
    struct Frame {
      std::string dir;
      std::vector<State> states;
      int links = 0;  // symlinks followed on the way here
    };
    std::vector<Frame> stack;
    stack.push_back({root, std::move(start), 0});
    std::vector<DirEntry> entries;
    std::vector<std::uint32_t> units;
    std::vector<State> carry, tested, matched, child;
    std::vector<char> done(patterns.size(), 0);
    // The states that go on into `path`: those of `carry` and `matched` whose
    // pattern has not matched yet, of link-following queries only if asked.
    const auto next_states = [&](bool following_only) {
      child.clear();
      for (const auto* set : {&carry, &matched}) {
        for (const State& s : *set) {
          if (!done[s.first] && (!following_only || queries[patterns[s.first].query].follow_links)) child.push_back(s);
        }
      }
      std::sort(child.begin(), child.end());
      child.erase(std::unique(child.begin(), child.end()), child.end());
    };
    std::size_t links_seen = 0;
    while (!stack.empty()) {
      auto [dir, states, links] = std::move(stack.back());
      stack.pop_back();
      entries.clear();
      if (!fs.list(dir, entries)) {
        for (const State& s : states) {
          const std::size_t q = patterns[s.first].query;
          if (queries[q].match_unlistable && (result.matches[q].empty() || result.matches[q].back() != dir)) {
            result.matches[q].push_back(dir);
          }
        }
        continue;
      }
      // Entries seen through links have a budget of their own: a link
      // planted to a large tree must not make every launch fail.
      if (links > 0) {
        links_seen += entries.size();
        if (links_seen > link_entry_budget) {
          if (result.links_cut_short.empty()) result.links_cut_short = root;
          continue;
        }
      } else {
        result.entries_seen += entries.size();
      }
      if (result.entries_seen > entry_budget) {
        result.budget_exceeded = true;
        result.budget_root = root;
        return result;
      }
      carry.clear();
      tested.clear();
      for (const State& s : states) {
        const auto& steps = patterns[s.first].steps;
        if (s.second >= steps.size()) continue;
        // `**` consumes any component and stays; what follows it may then
        // match the next component too.
        if (steps[s.second].kind == Step::AnyDepth) add_closed(patterns, s, carry);
        else tested.push_back(s);
      }
      for (const DirEntry& e : entries) {
        bool decoded = false;
        matched.clear();
        for (const State& s : tested) {
          if (step_matches(patterns[s.first].steps[s.second], e.name, units, decoded)) {
            add_closed(patterns, {s.first, s.second + 1}, matched);
          }
        }
        // A symlink is walked through, as the directory it leads to, only
        // for the queries that follow links (and their states only).
        const bool through_link = e.kind == FileKind::Symlink && links < kMaxFollowedLinks;
        if (matched.empty() && (carry.empty() || (e.kind != FileKind::Directory && !through_link))) continue;
        const std::string path = dir == "/" ? "/" + e.name : dir + "/" + e.name;
        bool any_done = false;
        for (const State& s : matched) {
          if (s.second == patterns[s.first].steps.size() && !done[s.first]) {
            done[s.first] = 1;
            any_done = true;
            result.matches[patterns[s.first].query].push_back(path);
          }
        }
        if (e.kind == FileKind::Directory) {
          // A match covers the subtree: its pattern stops here.
          next_states(false);
          if (!child.empty()) stack.push_back({path, child, links});
        } else if (through_link && links_seen <= link_entry_budget) {
          next_states(true);
          // Listing the link's path lists the directory it leads to; a link
          // to anything else, or to nothing, has nothing below it.
          if (!child.empty()) {
            const CanonicalPath target = canonicalize(fs, path);
            // Not to the walk's root or above it (`x -> /`, `x -> ~`): that
            // would walk everything again, the whole machine at worst.
            const bool above_root = at_or_below(root, target.path);
            if (target.exists && !above_root && fs.kind(target.path) == FileKind::Directory) {
              stack.push_back({path, child, links + 1});
            }
          }
        }
        if (any_done) std::fill(done.begin(), done.end(), 0);
      }
    }
  }
  for (auto& m : result.matches) {
    std::sort(m.begin(), m.end());
    m.erase(std::unique(m.begin(), m.end()), m.end());
  }
  return result;
}

}  // namespace sbpolicy::lower
