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
// The states every path pattern added to one Nfa can share: the tail that
// accepts a match and everything below it is the same for all of them, so
// patterns added with one PathTail lead into one copy of it, and the subset
// construction of their union has one tail instead of one per pattern.
struct PathTail {
  std::optional<std::size_t> below;  // made on first use
};
// The same states added to `n`; returns their start.
std::optional<std::size_t> add_path(Nfa& n, const sema::PathPattern& pattern, const sema::PathBindings& bindings,
                                    PathTail& tail);

// Every path that is a subject: absolute, no component `.` or `..` (the
// evaluator normalises them away). The pattern automata accept only such
// paths, even where a glob (`.*`, `*`) would match `.` or `..`; the tests
// check that they stay inside this.
const Dfa& real_paths();

// A subject path as units, and back.
std::vector<std::uint32_t> path_units(std::string_view path);
std::string units_text(const std::vector<std::uint32_t>& units);

}  // namespace sbpolicy::analysis
