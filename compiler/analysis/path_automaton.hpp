// Path patterns as automata: the subjects a pattern covers.
//
// A subject is an absolute normalised path, read as its units ("/a/b"; the
// root is "/"). A pattern covers a subject when its glob matches the subject
// or one of its ancestors (sema/path_pattern.hpp), so its automaton is the
// bound pattern followed by any number of further components, none of them
// `.` or `..`. Built from the
// same glob compiler the reference matcher uses (sema/glob.hpp), and tested
// against the reference matcher on generated patterns and paths.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/automaton.hpp"
#include "sema/path_pattern.hpp"

namespace sbpolicy::analysis {

// The automaton of the subjects `pattern` covers, bound with `bindings`;
// nullopt when it cannot be bound (a leading `..` above `/`).
std::optional<Nfa> path_nfa(const sema::PathPattern& pattern, const sema::PathBindings& bindings);
// The states path patterns added to one Nfa share: what follows a
// pattern's literal prefix (its glob components, then everything below a
// match) depends only on those components, so patterns that end alike lead
// into one copy of their ending. The subset construction of a union then
// has one ending per distinct ending instead of one per pattern (a union of
// 1,000 `./src/moduleN/**` has one "everything below", not 1,000).
struct PathEnds {
  std::optional<std::size_t> below;                      // a match and everything below it
  std::map<std::vector<std::string>, std::size_t> rests;  // the components after the prefix
};
// The pieces add_path is made of, for a caller that shares more: the steps
// of literal components ("/a/b", or "" for none) from `from`, returning the
// state after them; and the state from which `rest` (glob components) and
// everything below lead to acceptance, made once per `ends`.
std::size_t add_literal_steps(Nfa& n, std::size_t from, std::string_view components);
std::optional<std::size_t> add_ending(Nfa& n, const std::vector<std::string>& rest, PathEnds& ends);
// The same states added to `n`; returns their start.
std::optional<std::size_t> add_path(Nfa& n, const sema::PathPattern& pattern, const sema::PathBindings& bindings,
                                    PathEnds& ends);

// Every path that is a subject: absolute, no component `.` or `..` (the
// evaluator normalises them away). The pattern automata accept only such
// paths, even where a glob (`.*`, `*`) would match `.` or `..`; the tests
// check that they stay inside this.
const Dfa& real_paths();

// A subject path as units, and back.
std::vector<std::uint32_t> path_units(std::string_view path);
std::string units_text(const std::vector<std::uint32_t>& units);

}  // namespace sbpolicy::analysis
