// Finite automata over text units, for exact analyses of patterns
// (docs/analysis.md; issue 16's lint, diff and test build on them).
//
// A unit is what the glob layer reads (sema/glob.hpp): a Unicode code point,
// or 0x110000 + byte for a byte that is not valid UTF-8. Transitions carry
// sets of units as sorted, disjoint intervals, so a class like `[^/]` is one
// edge, not a million. An Nfa is built from patterns; determinize() gives a
// complete Dfa (every state has an edge for every unit, a dead state
// included), on which intersection, difference, complement, emptiness,
// inclusion and a shortest witness are exact. Everything is iterative and
// bounded: past kMaxStates a construction fails with a message instead of
// growing without end.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sbpolicy::analysis {

inline constexpr std::uint32_t kUnitEnd = 0x110000 + 256;  // one past the last unit
inline constexpr std::size_t kMaxStates = 200000;

// Sorted, disjoint, non-adjacent inclusive intervals of units.
class UnitSet {
 public:
  UnitSet() = default;
  static UnitSet single(std::uint32_t u) { return range(u, u); }
  static UnitSet range(std::uint32_t lo, std::uint32_t hi);
  static UnitSet all() { return range(0, kUnitEnd - 1); }
  UnitSet complement() const;
  UnitSet minus(const UnitSet& other) const;
  void add(std::uint32_t lo, std::uint32_t hi);
  bool contains(std::uint32_t u) const;
  bool empty() const { return ranges_.empty(); }
  const std::vector<std::pair<std::uint32_t, std::uint32_t>>& ranges() const { return ranges_; }

 private:
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges_;
};

struct Nfa {
  struct Edge {  // one interval of units; a set is one edge per interval
    std::uint32_t lo, hi;
    std::size_t to;
  };
  struct State {
    std::vector<Edge> edges;
    std::vector<std::size_t> epsilon;
    bool accepting = false;
  };
  std::vector<State> states;
  std::size_t start = 0;

  std::size_t add_state() {
    states.emplace_back();
    return states.size() - 1;
  }
  void add_edge(std::size_t from, std::uint32_t lo, std::uint32_t hi, std::size_t to) {
    states[from].edges.push_back({lo, hi, to});
  }
  void add_edge(std::size_t from, const UnitSet& on, std::size_t to) {
    for (const auto& [lo, hi] : on.ranges()) add_edge(from, lo, hi, to);
  }
  bool accepts(const std::vector<std::uint32_t>& units) const;
};

// A complete deterministic automaton: each state's edges cover every unit.
struct Dfa {
  struct Edge {
    std::uint32_t lo, hi;
    std::size_t to;
  };
  struct State {
    std::vector<Edge> edges;  // sorted by lo, covering [0, kUnitEnd)
    bool accepting = false;
    // An accepting state can be reached from it (mark_live). True until
    // marked: a state nobody judged is never pruned from a product, and an
    // automaton built by hand is taken as possibly non-empty.
    bool live = true;
  };
  std::vector<State> states;
  std::size_t start = 0;

  std::size_t next(std::size_t state, std::uint32_t unit) const;
  bool accepts(const std::vector<std::uint32_t>& units) const;
  // No input is accepted (every Dfa is made by the functions below, which
  // mark liveness).
  bool empty() const { return states.empty() || !states[start].live; }
  // A shortest accepted input (the smallest unit on each step), or nullopt.
  std::optional<std::vector<std::uint32_t>> shortest_witness() const;
};

// Sets State::live: whether an accepting state is reachable. Every function
// here that returns a Dfa has done it; products use it to stop exploring
// pairs that can never accept.
void mark_live(Dfa& a);

// The subset construction; nullopt with `error` set past `max_states`.
std::optional<Dfa> determinize(const Nfa& nfa, std::string& error, std::size_t max_states = kMaxStates);

// The smallest equivalent automaton (states that no input tells apart are
// one). `a` must be complete, as every Dfa made here is: its first splitter
// is one of accepting / not accepting only because every state has an edge
// for every unit.
Dfa minimize(const Dfa& a);
Dfa complement(const Dfa& a);
enum class Combine { Intersection, Union, Difference };
// The product automaton; nullopt with `error` set past kMaxStates.
std::optional<Dfa> combine(const Dfa& a, const Dfa& b, Combine how, std::string& error);
// Does every input `a` accepts also reach acceptance in `b`? nullopt past the bound.
std::optional<bool> includes(const Dfa& b, const Dfa& a, std::string& error);

}  // namespace sbpolicy::analysis
