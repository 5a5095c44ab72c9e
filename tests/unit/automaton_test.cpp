// The automata of compiler/analysis against the reference matcher: for
// generated path patterns and subjects, the NFA and its DFA accept exactly
// what sema::path_matches says the pattern covers; intersection, difference
// and inclusion agree with it on the subjects, and every witness is real.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "analysis/automaton.hpp"
#include "analysis/path_automaton.hpp"
#include "sema/path_pattern.hpp"

namespace sbpolicy::analysis {
namespace {

TEST(UnitSet, IntervalsMergeAndComplement) {
  UnitSet s;
  s.add(10, 20);
  s.add(21, 30);
  s.add(5, 7);
  ASSERT_EQ(s.ranges().size(), 2u);
  EXPECT_TRUE(s.contains(25));
  EXPECT_FALSE(s.contains(8));
  const UnitSet c = s.complement();
  EXPECT_TRUE(c.contains(8));
  EXPECT_FALSE(c.contains(15));
  EXPECT_TRUE(c.contains(kUnitEnd - 1));
  EXPECT_TRUE(s.minus(UnitSet::range(0, 100)).empty());
  EXPECT_EQ(UnitSet::all().minus(UnitSet::single('/')).ranges().size(), 2u);
}

TEST(UnitSet, AddingInAnyOrderGivesTheSameSet) {
  // Intervals added in random order over a small range: the set holds
  // exactly their units, as sorted, disjoint, non-adjacent intervals.
  std::mt19937 rng(7);
  for (int round = 0; round < 500; ++round) {
    UnitSet s;
    std::vector<bool> want(64, false);
    for (int k = 0; k < 6; ++k) {
      const std::uint32_t lo = rng() % 64, hi = std::min<std::uint32_t>(63, lo + rng() % 8);
      s.add(lo, hi);
      for (std::uint32_t u = lo; u <= hi; ++u) want[u] = true;
    }
    for (std::uint32_t u = 0; u < 64; ++u) ASSERT_EQ(s.contains(u), want[u]) << "round " << round << " unit " << u;
    for (std::size_t k = 1; k < s.ranges().size(); ++k) ASSERT_GT(s.ranges()[k].first, s.ranges()[k - 1].second + 1);
  }
}

sema::PathPattern parse(const std::string& text) {
  auto p = sema::parse_path_pattern(text);
  EXPECT_TRUE(std::holds_alternative<sema::PathPattern>(p)) << text;
  return std::get<sema::PathPattern>(p);
}

struct Generated {
  std::vector<std::string> patterns, subjects;
};

Generated generate(std::mt19937& rng) {
  const std::vector<std::string> pieces = {"a", "b", "ab", ".x", "*", "?", "[ab]", "[!a]", "{a,b}", "a*",
                                           "*b", "**", "\\*", "é", "{a,x*}"};
  const std::vector<std::string> names = {"a", "b", "ab", "ba", ".x", "*", "xy", "é", "aab", "x"};
  std::uniform_int_distribution<std::size_t> piece(0, pieces.size() - 1), name(0, names.size() - 1), len(0, 3),
      coin(0, 1);
  Generated g;
  for (int i = 0; i < 60; ++i) {
    std::string p = coin(rng) ? "/" : "~";
    const std::size_t n = len(rng) + (p == "/" ? 1 : 0);
    for (std::size_t k = 0; k < n; ++k) p += (p.back() == '/' ? "" : "/") + pieces[piece(rng)];
    g.patterns.push_back(p);
  }
  for (int i = 0; i < 200; ++i) {
    std::string s = coin(rng) ? "" : "/h/u";
    const std::size_t n = len(rng) + 1;
    for (std::size_t k = 0; k < n; ++k) s += "/" + names[name(rng)];
    g.subjects.push_back(s);
  }
  g.subjects.push_back("/");
  g.subjects.push_back("/h/u");
  g.subjects.push_back("/h");
  return g;
}

TEST(PathAutomaton, AcceptsWhatTheReferenceMatcherCovers) {
  std::mt19937 rng(16);
  sema::PathBindings b;
  b.home = "/h/u";
  b.workspace = "/h/u/w";
  std::size_t cases = 0;
  for (int round = 0; round < 8; ++round) {
    const Generated g = generate(rng);
    for (const std::string& text : g.patterns) {
      const sema::PathPattern p = parse(text);
      const auto nfa = path_nfa(p, b);
      ASSERT_TRUE(nfa) << text;
      std::string error;
      const auto dfa = determinize(*nfa, error);
      ASSERT_TRUE(dfa) << error;
      const Dfa small = minimize(*dfa);
      ASSERT_LE(small.states.size(), dfa->states.size());
      for (const std::string& s : g.subjects) {
        const bool want = sema::path_matches(p, b, s);
        ASSERT_EQ(nfa->accepts(path_units(s)), want) << text << " on " << s;
        ASSERT_EQ(dfa->accepts(path_units(s)), want) << text << " on " << s;
        ASSERT_EQ(small.accepts(path_units(s)), want) << text << " on " << s;
        ++cases;
      }
    }
  }
  std::printf("path automata: %zu cases agree with the reference matcher\n", cases);
}

TEST(PathAutomaton, AcceptsOnlyRealPaths) {
  // Globs that match `.` or `..` as names (`*` does not skip dot names,
  // `.*`, `.?`, braces, a class) never make a path with such a component:
  // the evaluator normalises them away, so no subject holds one. Each
  // automaton stays inside real_paths(), rejects the dot forms outright,
  // and still accepts the names around them.
  sema::PathBindings b;
  b.home = "/h/u";
  b.workspace = "/h/u/w";
  std::string error;
  const std::vector<std::string> patterns = {"/a/*", "/a/.*", "/a/.?", "/a/{b,.?,.*}", "/a/[.]*", "/a/**/x",
                                             "/a/*/*", "/a", "/", "~/.*/**/k"};
  for (const std::string& text : patterns) {
    const auto nfa = path_nfa(parse(text), b);
    ASSERT_TRUE(nfa) << text;
    const auto dfa = determinize(*nfa, error);
    ASSERT_TRUE(dfa) << error;
    const auto inside = includes(real_paths(), *dfa, error);
    ASSERT_TRUE(inside && *inside) << text << " accepts a path with a `.` or `..` component";
    for (const char* dotted : {"/a/.", "/a/..", "/a/./b", "/a/../b", "/a/b/.", "/a/x/../x", "/h/u/./k"}) {
      EXPECT_FALSE(dfa->accepts(path_units(dotted))) << text << " accepts " << dotted;
    }
  }
  const auto dots = determinize(*path_nfa(parse("/a/.*"), b), error);
  EXPECT_TRUE(dots->accepts(path_units("/a/.x")));
  EXPECT_TRUE(dots->accepts(path_units("/a/...")));
  EXPECT_TRUE(dots->accepts(path_units("/a/..x/.")) == false);
  EXPECT_TRUE(dots->accepts(path_units("/a/..x/y")));
}

TEST(PathAutomaton, CombinationsAgreeAndWitnessesAreReal) {
  std::mt19937 rng(1616);
  sema::PathBindings b;
  b.home = "/h/u";
  b.workspace = "/h/u/w";
  Generated g = generate(rng);
  g.patterns.resize(25);  // 625 ordered pairs
  std::string error;
  std::vector<sema::PathPattern> ps;
  std::vector<Dfa> ds;
  for (const std::string& text : g.patterns) {
    ps.push_back(parse(text));
    ds.push_back(*determinize(*path_nfa(ps.back(), b), error));
  }
  for (std::size_t i = 0; i < ps.size(); ++i) {
    for (std::size_t j = 0; j < ps.size(); ++j) {
      const auto inter = combine(ds[i], ds[j], Combine::Intersection, error);
      const auto diff = combine(ds[i], ds[j], Combine::Difference, error);
      ASSERT_TRUE(inter && diff) << error;
      for (const std::string& s : g.subjects) {
        const bool a = sema::path_matches(ps[i], b, s), c = sema::path_matches(ps[j], b, s);
        ASSERT_EQ(inter->accepts(path_units(s)), a && c);
        ASSERT_EQ(diff->accepts(path_units(s)), a && !c);
      }
      const auto included = includes(ds[j], ds[i], error);
      ASSERT_TRUE(included);
      if (*included) {
        for (const std::string& s : g.subjects) {
          ASSERT_FALSE(sema::path_matches(ps[i], b, s) && !sema::path_matches(ps[j], b, s));
        }
      } else {
        const auto w = diff->shortest_witness();
        ASSERT_TRUE(w);
        const std::string text = units_text(*w);
        EXPECT_TRUE(sema::path_matches(ps[i], b, text) && !sema::path_matches(ps[j], b, text))
            << g.patterns[i] << " minus " << g.patterns[j] << ": witness " << text;
      }
    }
  }
}

TEST(Automaton, MinimizingMergesWhatNoInputTellsApart) {
  // `/a/**/x.pem` and `/a/**/y.pem`, each covering what lies below a match:
  // their union needs no memory of which matched, and the minimal
  // automaton has none; the subset construction of a union of n such
  // patterns tracks it (2^n). 12 patterns, joined and minimised one by one.
  sema::PathBindings b;
  b.home = "/h";
  b.workspace = "/h/w";
  std::string error;
  std::optional<Dfa> all;
  Nfa together;
  together.start = together.add_state();
  for (char c = 'a'; c < 'a' + 12; ++c) {
    const auto nfa = path_nfa(parse(std::string("/a/**/") + c + ".pem"), b);
    ASSERT_TRUE(nfa);
    const auto d = determinize(*nfa, error);
    ASSERT_TRUE(d);
    if (!all) {
      all = minimize(*d);
    } else {
      const auto u = combine(*all, *d, Combine::Union, error);
      ASSERT_TRUE(u) << error;
      all = minimize(*u);
    }
  }
  EXPECT_LT(all->states.size(), 40u);
  EXPECT_TRUE(all->accepts(path_units("/a/q/r/c.pem/z")));
  EXPECT_TRUE(all->accepts(path_units("/a/b.pem")));
  EXPECT_FALSE(all->accepts(path_units("/a/q/m.pem")));
  EXPECT_FALSE(all->accepts(path_units("/b/c.pem")));
  // Equivalent automata minimise to the same size: `/a/{b,c}` two ways.
  const auto one = determinize(*path_nfa(parse("/a/{b,c}"), b), error);
  Nfa two;
  two.start = two.add_state();
  for (const char* p : {"/a/b", "/a/c"}) {
    const auto part = path_nfa(parse(p), b);
    const std::size_t offset = two.states.size();
    for (auto st : part->states) {
      for (auto& e : st.edges) e.to += offset;
      for (auto& t : st.epsilon) t += offset;
      two.states.push_back(std::move(st));
    }
    two.states[two.start].epsilon.push_back(part->start + offset);
  }
  const auto two_d = determinize(two, error);
  EXPECT_EQ(minimize(*one).states.size(), minimize(*two_d).states.size());
}

// Moore's rounds over single units, the textbook way: the reference the
// minimisation is checked against.
std::size_t reference_classes(const Dfa& a) {
  std::vector<std::uint32_t> atoms;  // the first unit of every interval anywhere
  for (const auto& st : a.states) {
    for (const auto& e : st.edges) atoms.push_back(e.lo);
  }
  std::sort(atoms.begin(), atoms.end());
  atoms.erase(std::unique(atoms.begin(), atoms.end()), atoms.end());
  std::vector<std::size_t> cls(a.states.size());
  for (std::size_t s = 0; s < a.states.size(); ++s) cls[s] = a.states[s].accepting ? 1 : 0;
  std::size_t count = 0;
  for (;;) {
    std::map<std::vector<std::size_t>, std::size_t> ids;
    std::vector<std::size_t> next(a.states.size());
    for (std::size_t s = 0; s < a.states.size(); ++s) {
      std::vector<std::size_t> sig{cls[s]};
      for (std::uint32_t u : atoms) sig.push_back(cls[a.next(s, u)]);
      next[s] = ids.emplace(std::move(sig), ids.size()).first->second;
    }
    cls = std::move(next);
    if (ids.size() == count) return count;
    count = ids.size();
  }
}

TEST(Automaton, MinimizingAgreesWithMooresRoundsOnGeneratedAutomata) {
  // Random complete automata over a few intervals (some adjacent intervals
  // to the same target, some cycles, unreachable states): the minimal
  // automaton has as many states as the reference finds classes, accepts
  // the same inputs, and minimising it again changes nothing.
  std::mt19937 rng(1611);
  std::string error;
  std::size_t checked = 0;
  for (int round = 0; round < 400; ++round) {
    const std::size_t n = 1 + rng() % 40;
    Dfa a;
    a.states.resize(n);
    for (auto& st : a.states) {
      st.accepting = rng() % 3 == 0;
      std::vector<std::uint32_t> cuts{0};
      for (std::uint32_t c : {std::uint32_t{'/'}, std::uint32_t{'0'}, std::uint32_t{'a'}, std::uint32_t{'b'}, std::uint32_t{'c'}, std::uint32_t{'z' + 1}, std::uint32_t{0x80}}) {
        if (rng() % 2 == 0) cuts.push_back(c);
      }
      for (std::size_t k = 0; k < cuts.size(); ++k) {
        const std::uint32_t hi = k + 1 < cuts.size() ? cuts[k + 1] - 1 : kUnitEnd - 1;
        // Targets drawn from a few states make equivalent states likely;
        // from all of them, long chains to refine.
        const std::size_t among = round % 2 == 0 ? std::min<std::size_t>(n, 1 + rng() % 6) : n;
        st.edges.push_back({cuts[k], hi, rng() % among});
      }
    }
    a.start = rng() % n;
    mark_live(a);
    const Dfa m = minimize(a);
    ASSERT_EQ(m.states.size(), reference_classes(a)) << "round " << round;
    ASSERT_EQ(minimize(m).states.size(), m.states.size());
    ASSERT_TRUE(*includes(m, a, error) && *includes(a, m, error)) << "round " << round;
    for (const auto& st : m.states) {
      ASSERT_EQ(st.edges.front().lo, 0u);
      ASSERT_EQ(st.edges.back().hi, kUnitEnd - 1);
      for (std::size_t k = 1; k < st.edges.size(); ++k) {
        ASSERT_EQ(st.edges[k - 1].hi + 1, st.edges[k].lo);
        ASSERT_FALSE(st.edges[k - 1].to == st.edges[k].to);  // adjacent intervals to one state merge
      }
    }
    ++checked;
  }
  std::printf("minimisation: %zu generated automata agree with Moore's rounds\n", checked);
}

TEST(Automaton, DeterminizingIsBounded) {
  // (a|b)* a (a|b)^11: its DFA needs 2^12 states, past a bound of 1,000
  // (the same code path as kMaxStates, reached sooner).
  Nfa n;
  n.start = n.add_state();
  const UnitSet ab = UnitSet::range('a', 'b');
  n.add_edge(n.start, ab, n.start);
  std::size_t at = n.add_state();
  n.add_edge(n.start, 'a', 'a', at);
  for (int i = 0; i < 11; ++i) {
    const std::size_t next = n.add_state();
    n.add_edge(at, ab, next);
    at = next;
  }
  n.states[at].accepting = true;
  std::string error;
  EXPECT_FALSE(determinize(n, error, 1000));
  EXPECT_NE(error.find("past 1000 states"), std::string::npos);
  EXPECT_TRUE(determinize(n, error, 5000));  // 4,096 and the dead state fit
}

}  // namespace
}  // namespace sbpolicy::analysis
