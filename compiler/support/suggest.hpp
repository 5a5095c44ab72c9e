// "Did you mean" suggestions: the closest candidate by edit distance.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sbpolicy {

// Optimal string alignment distance (Damerau-Levenshtein with adjacent
// transpositions), so `raed` is one edit from `read`.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`: the same word in another case, else
// one close enough to be a plausible typo: at most 1 edit for words up to 4 characters, 2 up to 8, 3 beyond.
// Ties go to the earliest candidate, so suggestions are deterministic.
std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace sbpolicy
