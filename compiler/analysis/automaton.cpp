#include "analysis/automaton.hpp"

#include <algorithm>
#include <deque>
#include <fmt/format.h>
#include <unordered_map>

namespace sbpolicy::analysis {

UnitSet UnitSet::range(std::uint32_t lo, std::uint32_t hi) {
  UnitSet s;
  s.add(lo, hi);
  return s;
}

void UnitSet::add(std::uint32_t lo, std::uint32_t hi) {
  if (lo > hi) return;
  // Past the last interval (the common case when sets are built in order).
  if (ranges_.empty() || lo > ranges_.back().second + 1) {
    ranges_.emplace_back(lo, hi);
    return;
  }
  // Otherwise merge with every interval it overlaps or touches.
  auto first = std::lower_bound(ranges_.begin(), ranges_.end(), lo, [](const auto& r, std::uint32_t v) {
    return r.second + 1 < v;  // ends before `lo` without touching it
  });
  auto last = first;
  while (last != ranges_.end() && last->first <= hi + 1) {
    lo = std::min(lo, last->first);
    hi = std::max(hi, last->second);
    ++last;
  }
  if (first == last) {
    ranges_.insert(first, {lo, hi});
    return;
  }
  *first = {lo, hi};
  ranges_.erase(first + 1, last);
}

bool UnitSet::contains(std::uint32_t u) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), std::make_pair(u, ~std::uint32_t{0}));
  return it != ranges_.begin() && std::prev(it)->second >= u;
}

UnitSet UnitSet::complement() const {
  UnitSet out;
  std::uint32_t next = 0;
  for (const auto& [lo, hi] : ranges_) {
    if (lo > next) out.ranges_.emplace_back(next, lo - 1);
    next = hi + 1;
  }
  if (next < kUnitEnd) out.ranges_.emplace_back(next, kUnitEnd - 1);
  return out;
}

UnitSet UnitSet::minus(const UnitSet& other) const {
  UnitSet out;
  const UnitSet keep = other.complement();
  // Intersection of two interval lists.
  std::size_t i = 0, j = 0;
  while (i < ranges_.size() && j < keep.ranges_.size()) {
    const auto lo = std::max(ranges_[i].first, keep.ranges_[j].first);
    const auto hi = std::min(ranges_[i].second, keep.ranges_[j].second);
    if (lo <= hi) out.ranges_.emplace_back(lo, hi);
    (ranges_[i].second < keep.ranges_[j].second) ? ++i : ++j;
  }
  return out;
}

namespace {

// Extends `states` to its epsilon closure, sorted and unique. `seen` is all
// zero before and after; `todo` is scratch.
void close(const Nfa& nfa, std::vector<std::size_t>& states, std::vector<char>& seen, std::vector<std::size_t>& todo) {
  todo = states;
  for (std::size_t s : states) seen[s] = 1;
  while (!todo.empty()) {
    const std::size_t s = todo.back();
    todo.pop_back();
    for (std::size_t t : nfa.states[s].epsilon) {
      if (seen[t] == 0) {
        seen[t] = 1;
        states.push_back(t);
        todo.push_back(t);
      }
    }
  }
  for (std::size_t s : states) seen[s] = 0;
  std::sort(states.begin(), states.end());
  states.erase(std::unique(states.begin(), states.end()), states.end());
}

struct SubsetHash {
  std::size_t operator()(const std::vector<std::size_t>& v) const {
    std::size_t h = v.size();
    for (std::size_t x : v) h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
  }
};

}  // namespace

bool Nfa::accepts(const std::vector<std::uint32_t>& units) const {
  std::vector<char> seen(states.size(), 0);
  std::vector<std::size_t> now{start}, next, todo;
  close(*this, now, seen, todo);
  for (std::uint32_t u : units) {
    next.clear();
    for (std::size_t s : now) {
      for (const Edge& e : states[s].edges) {
        if (e.lo <= u && u <= e.hi) next.push_back(e.to);
      }
    }
    std::sort(next.begin(), next.end());
    next.erase(std::unique(next.begin(), next.end()), next.end());
    close(*this, next, seen, todo);
    now.swap(next);
    if (now.empty()) return false;
  }
  return std::any_of(now.begin(), now.end(), [&](std::size_t s) { return states[s].accepting; });
}

std::size_t Dfa::next(std::size_t state, std::uint32_t unit) const {
  const auto& edges = states[state].edges;
  auto it = std::upper_bound(edges.begin(), edges.end(), unit, [](std::uint32_t u, const Edge& e) { return u < e.lo; });
  return std::prev(it)->to;
}

bool Dfa::accepts(const std::vector<std::uint32_t>& units) const {
  std::size_t s = start;
  for (std::uint32_t u : units) s = next(s, u);
  return states[s].accepting;
}

std::optional<std::vector<std::uint32_t>> Dfa::shortest_witness() const {
  std::vector<std::size_t> from(states.size(), states.size());
  std::vector<std::uint32_t> via(states.size(), 0);
  std::deque<std::size_t> queue{start};
  from[start] = start;
  while (!queue.empty()) {
    const std::size_t s = queue.front();
    queue.pop_front();
    if (states[s].accepting) {
      std::vector<std::uint32_t> out;
      for (std::size_t at = s; at != start; at = from[at]) out.push_back(via[at]);
      std::reverse(out.begin(), out.end());
      return out;
    }
    // Readable units first: an edge holding `a`, then a letter or digit,
    // then printable ASCII, then the rest, each by its first such unit.
    const auto readable = [](const Edge& e) -> std::pair<int, std::uint32_t> {
      const auto within = [&](std::uint32_t lo, std::uint32_t hi) { return e.lo <= hi && lo <= e.hi; };
      if (within('a', 'a')) return {0, 'a'};
      if (within('a', 'z')) return {1, std::max<std::uint32_t>(e.lo, 'a')};
      if (within('0', '9')) return {1, std::max<std::uint32_t>(e.lo, '0')};
      if (within(0x21, 0x7E)) return {2, std::max<std::uint32_t>(e.lo, 0x21)};
      return {3, e.lo};
    };
    std::vector<std::pair<std::pair<int, std::uint32_t>, std::size_t>> order;
    for (const Edge& e : states[s].edges) order.push_back({readable(e), e.to});
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& x, const auto& y) { return x.first.first < y.first.first; });
    for (const auto& [pick, to] : order) {
      if (from[to] != states.size()) continue;
      from[to] = s;
      via[to] = pick.second;
      queue.push_back(to);
    }
  }
  return std::nullopt;
}

namespace {

// The edges into each state, grouped by target: those into `t` are
// `edges[first[t]]` up to `edges[first[t + 1]]`.
struct Incoming {
  struct Edge {
    std::size_t from;
    std::uint32_t lo, hi;
  };
  std::vector<std::size_t> first;
  std::vector<Edge> edges;

  explicit Incoming(const Dfa& a) : first(a.states.size() + 1, 0) {
    const std::size_t n = a.states.size();
    for (const auto& st : a.states) {
      for (const auto& e : st.edges) ++first[e.to + 1];
    }
    for (std::size_t s = 0; s < n; ++s) first[s + 1] += first[s];
    edges.resize(first[n]);
    std::vector<std::size_t> at(first.begin(), first.end() - 1);
    for (std::size_t s = 0; s < n; ++s) {
      for (const auto& e : a.states[s].edges) edges[at[e.to]++] = {s, e.lo, e.hi};
    }
  }
};

}  // namespace

void mark_live(Dfa& a) {
  // Backwards from the accepting states.
  const Incoming in(a);
  std::vector<std::size_t> todo;
  for (std::size_t s = 0; s < a.states.size(); ++s) {
    a.states[s].live = a.states[s].accepting;
    if (a.states[s].live) todo.push_back(s);
  }
  while (!todo.empty()) {
    const std::size_t s = todo.back();
    todo.pop_back();
    for (std::size_t k = in.first[s]; k < in.first[s + 1]; ++k) {
      const std::size_t p = in.edges[k].from;
      if (!a.states[p].live) {
        a.states[p].live = true;
        todo.push_back(p);
      }
    }
  }
}

std::optional<Dfa> determinize(const Nfa& nfa, std::string& error, std::size_t max_states) {
  Dfa dfa;
  std::unordered_map<std::vector<std::size_t>, std::size_t, SubsetHash> ids;
  std::vector<const std::vector<std::size_t>*> sets;
  std::vector<char> seen(nfa.states.size(), 0);
  std::vector<std::size_t> subset, todo;
  // The state of the subset in `subset` (copied only when it is new).
  const auto id_of = [&]() -> std::optional<std::size_t> {
    close(nfa, subset, seen, todo);
    if (auto it = ids.find(subset); it != ids.end()) return it->second;
    if (sets.size() >= max_states) return std::nullopt;
    const std::size_t id = sets.size();
    auto [it, inserted] = ids.emplace(subset, id);
    sets.push_back(&it->first);
    dfa.states.emplace_back();
    return id;
  };
  subset = {nfa.start};
  dfa.start = *id_of();
  struct Piece {
    std::uint32_t lo, end;  // [lo, end)
    std::size_t to;
  };
  std::vector<Piece> pieces;
  std::vector<std::uint32_t> cuts;
  std::vector<std::pair<std::size_t, std::size_t>> hits;  // (interval, NFA state it leads to)
  for (std::size_t i = 0; i < sets.size(); ++i) {
    const std::vector<std::size_t>& current = *sets[i];
    dfa.states[i].accepting = std::any_of(current.begin(), current.end(), [&](std::size_t s) {
      return nfa.states[s].accepting;
    });
    // Split the alphabet where any outgoing edge starts or ends; each
    // edge leads to its target on the intervals it spans.
    pieces.clear();
    cuts.assign({0, kUnitEnd});
    for (std::size_t s : current) {
      for (const auto& e : nfa.states[s].edges) {
        pieces.push_back({e.lo, e.hi + 1, e.to});
        cuts.push_back(e.lo);
        cuts.push_back(e.hi + 1);
      }
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    hits.clear();
    for (const Piece& p : pieces) {
      auto k = static_cast<std::size_t>(std::lower_bound(cuts.begin(), cuts.end(), p.lo) - cuts.begin());
      for (; k + 1 < cuts.size() && cuts[k] < p.end; ++k) hits.emplace_back(k, p.to);
    }
    std::sort(hits.begin(), hits.end());
    std::vector<Dfa::Edge> edges;
    std::size_t h = 0;
    for (std::size_t k = 0; k + 1 < cuts.size(); ++k) {
      subset.clear();
      for (; h < hits.size() && hits[h].first == k; ++h) {
        if (subset.empty() || subset.back() != hits[h].second) subset.push_back(hits[h].second);
      }
      const auto to = id_of();
      if (!to) {
        error = fmt::format("the automaton grows past {} states", max_states);
        return std::nullopt;
      }
      const std::uint32_t lo = cuts[k], hi = cuts[k + 1] - 1;
      if (!edges.empty() && edges.back().to == *to && edges.back().hi + 1 == lo) {
        edges.back().hi = hi;
      } else {
        edges.push_back({lo, hi, *to});
      }
    }
    dfa.states[i].edges = std::move(edges);
  }
  mark_live(dfa);
  return dfa;
}

Dfa minimize(const Dfa& a) {
  // Hopcroft's partition refinement (docs/analysis.md). Blocks of states
  // start as accepting / not accepting; a splitter block B splits every
  // block whose states differ in which units lead them into B. A block
  // splits by the whole set of intervals into B at once, so the alphabet is
  // never expanded into single units. When a block that is not waiting to
  // be a splitter splits, all its pieces but the largest become splitters:
  // the partition is already stable against the whole block, and against
  // the others, so against the largest too; each state is then in a
  // splitter O(log n) times. The result is the coarsest partition Moore's
  // rounds would reach, without one round per unit of the deepest path.
  const std::size_t n = a.states.size();
  if (n == 0) return a;

  const Incoming in(a);

  // The partition: `elems` holds the states, each block a contiguous range.
  struct Block {
    std::size_t first, end;
    bool queued = false;
  };
  std::vector<Block> blocks;
  std::vector<std::size_t> elems(n), where(n), block_of(n);
  for (std::size_t s = 0; s < n; ++s) elems[s] = s;
  const auto accepting_end = std::stable_partition(elems.begin(), elems.end(),
                                                   [&](std::size_t s) { return a.states[s].accepting; });
  const auto split_at = static_cast<std::size_t>(accepting_end - elems.begin());
  for (auto [first, end] : {std::pair{std::size_t{0}, split_at}, std::pair{split_at, n}}) {
    if (first == end) continue;
    for (std::size_t i = first; i < end; ++i) block_of[elems[i]] = blocks.size();
    blocks.push_back({first, end});
  }
  for (std::size_t i = 0; i < n; ++i) where[elems[i]] = i;
  std::vector<std::size_t> work;
  if (blocks.size() == 2) {
    // The automaton is complete: stability against all states is given, so
    // the smaller block alone is a splitter.
    const std::size_t smaller = blocks[0].end - blocks[0].first <= blocks[1].end - blocks[1].first ? 0 : 1;
    blocks[smaller].queued = true;
    work.push_back(smaller);
  }

  // Scratch reused across splitters.
  using Hit = Incoming::Edge;
  struct Signature {
    std::size_t state, block, first, end;  // [first, end) in `sig`
    std::uint64_t hash;
  };
  std::vector<Hit> hits;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> sig;
  std::vector<Signature> sigs;
  const auto same = [&](const Signature& x, const Signature& y) {
    return x.hash == y.hash && std::equal(sig.begin() + static_cast<std::ptrdiff_t>(x.first),
                                          sig.begin() + static_cast<std::ptrdiff_t>(x.end),
                                          sig.begin() + static_cast<std::ptrdiff_t>(y.first),
                                          sig.begin() + static_cast<std::ptrdiff_t>(y.end));
  };
  const auto before = [&](const Signature& x, const Signature& y) {
    if (x.block != y.block) return x.block < y.block;
    if (x.hash != y.hash) return x.hash < y.hash;
    return std::lexicographical_compare(sig.begin() + static_cast<std::ptrdiff_t>(x.first),
                                        sig.begin() + static_cast<std::ptrdiff_t>(x.end),
                                        sig.begin() + static_cast<std::ptrdiff_t>(y.first),
                                        sig.begin() + static_cast<std::ptrdiff_t>(y.end));
  };

  while (!work.empty()) {
    const std::size_t splitter = work.back();
    work.pop_back();
    blocks[splitter].queued = false;
    // Every edge into the splitter, then per source state the units that
    // lead into it, as merged intervals.
    hits.clear();
    for (std::size_t i = blocks[splitter].first; i < blocks[splitter].end; ++i) {
      const std::size_t t = elems[i];
      for (std::size_t k = in.first[t]; k < in.first[t + 1]; ++k) {
        hits.push_back(in.edges[k]);
      }
    }
    std::sort(hits.begin(), hits.end(), [](const Hit& x, const Hit& y) {
      return x.from != y.from ? x.from < y.from : x.lo < y.lo;
    });
    sig.clear();
    sigs.clear();
    for (std::size_t i = 0; i < hits.size();) {
      Signature g{hits[i].from, block_of[hits[i].from], sig.size(), 0, 0xcbf29ce484222325ULL};
      for (; i < hits.size() && hits[i].from == g.state; ++i) {
        if (sig.size() > g.first && sig.back().second + 1 == hits[i].lo) {
          sig.back().second = hits[i].hi;
        } else {
          sig.emplace_back(hits[i].lo, hits[i].hi);
        }
      }
      g.end = sig.size();
      for (std::size_t k = g.first; k < g.end; ++k) {
        g.hash = (g.hash ^ sig[k].first) * 0x100000001b3ULL;
        g.hash = (g.hash ^ sig[k].second) * 0x100000001b3ULL;
      }
      sigs.push_back(g);
    }
    std::sort(sigs.begin(), sigs.end(), before);
    // Each block the splitter reaches, one run of `sigs` per block.
    for (std::size_t i = 0; i < sigs.size();) {
      const std::size_t c = sigs[i].block;
      std::size_t j = i;
      while (j < sigs.size() && sigs[j].block == c) ++j;
      const std::size_t size = blocks[c].end - blocks[c].first;
      const bool all_reached = j - i == size;
      // Groups of equal signatures; states not reached stay in `c`, and
      // when every state is reached the last group does.
      std::vector<std::size_t> pieces;
      for (std::size_t g = i; g < j;) {
        std::size_t h = g + 1;
        while (h < j && same(sigs[g], sigs[h])) ++h;
        if (all_reached && h == j) break;
        // Move the group to the end of `c`'s range and make it a block.
        for (std::size_t k = g; k < h; ++k) {
          const std::size_t s = sigs[k].state;
          const std::size_t last = --blocks[c].end;
          const std::size_t other = elems[last];
          std::swap(elems[where[s]], elems[last]);
          where[other] = where[s];
          where[s] = last;
          block_of[s] = blocks.size();
        }
        pieces.push_back(blocks.size());
        blocks.push_back({blocks[c].end, blocks[c].end + (h - g)});
        g = h;
      }
      i = j;
      if (pieces.empty()) continue;
      // Every new piece becomes a splitter, except that when `c` is not
      // waiting already the largest piece (`c`'s remainder or a new one)
      // need not.
      if (!blocks[c].queued) {
        pieces.push_back(c);
        const auto largest = std::max_element(pieces.begin(), pieces.end(), [&](std::size_t x, std::size_t y) {
          return blocks[x].end - blocks[x].first < blocks[y].end - blocks[y].first;
        });
        pieces.erase(largest);
      }
      for (std::size_t p : pieces) {
        blocks[p].queued = true;
        work.push_back(p);
      }
    }
  }

  Dfa out;
  out.states.resize(blocks.size());
  for (std::size_t c = 0; c < blocks.size(); ++c) {
    const std::size_t s = elems[blocks[c].first];
    out.states[c].accepting = a.states[s].accepting;
    auto& edges = out.states[c].edges;
    for (const auto& e : a.states[s].edges) {
      if (!edges.empty() && edges.back().to == block_of[e.to] && edges.back().hi + 1 == e.lo) {
        edges.back().hi = e.hi;
      } else {
        edges.push_back({e.lo, e.hi, block_of[e.to]});
      }
    }
  }
  out.start = block_of[a.start];
  mark_live(out);
  return out;
}

Dfa complement(const Dfa& a) {
  Dfa out = a;
  for (auto& s : out.states) s.accepting = !s.accepting;
  mark_live(out);
  return out;
}

std::optional<Dfa> combine(const Dfa& a, const Dfa& b, Combine how, std::string& error) {
  Dfa out;
  struct PairHash {
    std::size_t operator()(const std::pair<std::size_t, std::size_t>& p) const {
      return p.first * 0x9e3779b97f4a7c15ULL ^ (p.second + 0x7f4a7c15ULL + (p.first << 6));
    }
  };
  // A pair that can never accept is not explored: every such pair is one
  // dead state (the product of a small automaton with a large one then
  // stays the size of the small one's live part, not of both).
  constexpr std::size_t kDead = ~std::size_t{0};
  const auto can_accept = [&](std::size_t sa, std::size_t sb) {
    const bool la = a.states[sa].live, lb = b.states[sb].live;
    switch (how) {
      case Combine::Intersection: return la && lb;
      case Combine::Union: return la || lb;
      case Combine::Difference: return la;
    }
    return true;
  };
  std::unordered_map<std::pair<std::size_t, std::size_t>, std::size_t, PairHash> ids;
  std::vector<std::pair<std::size_t, std::size_t>> pairs;
  const auto id_of = [&](std::pair<std::size_t, std::size_t> p) -> std::optional<std::size_t> {
    if (p.first != kDead && !can_accept(p.first, p.second)) p = {kDead, kDead};
    if (auto it = ids.find(p); it != ids.end()) return it->second;
    if (pairs.size() >= kMaxStates) return std::nullopt;
    ids.emplace(p, pairs.size());
    pairs.push_back(p);
    out.states.emplace_back();
    return pairs.size() - 1;
  };
  out.start = *id_of({a.start, b.start});
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const auto [sa, sb] = pairs[i];
    if (sa == kDead) {
      out.states[i].edges = {{0, kUnitEnd - 1, i}};
      continue;
    }
    const bool x = a.states[sa].accepting, y = b.states[sb].accepting;
    out.states[i].accepting = how == Combine::Intersection ? (x && y) : how == Combine::Union ? (x || y) : (x && !y);
    const auto& ea = a.states[sa].edges;
    const auto& eb = b.states[sb].edges;
    std::vector<Dfa::Edge> edges;
    std::size_t p = 0, q = 0;
    std::uint32_t lo = 0;
    while (p < ea.size() && q < eb.size()) {
      const std::uint32_t hi = std::min(ea[p].hi, eb[q].hi);
      const auto to = id_of({ea[p].to, eb[q].to});
      if (!to) {
        error = fmt::format("the automaton grows past {} states", kMaxStates);
        return std::nullopt;
      }
      if (!edges.empty() && edges.back().to == *to && edges.back().hi + 1 == lo) {
        edges.back().hi = hi;
      } else {
        edges.push_back({lo, hi, *to});
      }
      lo = hi + 1;
      if (ea[p].hi == hi) ++p;
      if (eb[q].hi == hi) ++q;
    }
    out.states[i].edges = std::move(edges);
  }
  mark_live(out);
  return out;
}

std::optional<bool> includes(const Dfa& b, const Dfa& a, std::string& error) {
  auto d = combine(a, b, Combine::Difference, error);
  if (!d) return std::nullopt;
  return d->empty();
}

}  // namespace sbpolicy::analysis
