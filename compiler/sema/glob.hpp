// Globs: the syntax of one path component, and matching it against one name.
//
// A glob is a name with wildcards: `*` matches any run of characters, `?` any
// one character, `[abc]`, `[a-z]` and `[!x]`/`[^x]` one character from (or
// not from) a set, `{a,b}` either alternative, and `\x` the character x
// itself. A glob is one component, so nothing here ever spans or matches a
// `/`. The path layer (sema/path_pattern) splits a pattern at `/`, gives `**`
// (a whole component spanning any number of components) its meaning and
// walks the components; this stage only answers "is this component well
// formed?" and "does this component match this name?".
//
// Every reader of glob text (the path splitter, the syntax checker, the
// canonicaliser, the brace expander and the matcher) finds the end of a
// `[...]` with the one class_end() declared here and skips a `\` escape the
// same way, so they agree on where a class or an escape ends. If two of them
// disagreed, a pattern could be checked as one thing and matched as another,
// and a `deny` would silently cover less than it says.
//
// Braces are expanded, not matched: `{a,b}c` compiles to the alternatives `ac`
// and `bc`, each a flat list of tokens. The expansion is capped (at most 256
// alternatives, nested at most 8 deep) and stops as soon as it would pass a
// cap, so its size is known before any matching starts. Each alternative is
// then matched by the classic wildcard loop that backtracks only to the last
// `*`: O(tokens x characters), so `*a*a*a*b` cannot go exponential. Nothing
// recurses on the length of the input: the checker keeps its own brace
// stack, expansion recurses once per nesting level (at most 8), and matching
// is a loop, so a long or deeply nested pattern cannot exhaust the stack.
//
// Text is read in units: a valid UTF-8 sequence is one unit (its code point),
// and any other byte is a unit of its own whose value, 0x110000 + byte, no
// code point has. So `?` never splits a character, `[é]` is one character,
// and an invalid byte never equals a valid character.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sema/pattern_error.hpp"
#include "support/text.hpp"

namespace sbpolicy::sema::glob {

// The characters whose `\` escape stays in canonical text (check_component
// drops the other escapes outside classes and alternatives); the path layer
// escapes them when it binds a directory name into a glob.
inline constexpr std::string_view kMeta = "\\*?[]{},$";

// `name` as a glob that matches exactly `name`: every kMeta character escaped.
std::string escape_literal(std::string_view name);

// The unit starting at s[i]; sets *len to its length in bytes (1 to 4).
using text::decode_unit;

// All units of a name, for matching.
std::vector<std::uint32_t> decode_name(std::string_view name);

// The path layer uses the next three too, so that every pattern message
// quotes text one way and `$NAME` is read one way.

// User text for a message: backticked, control and invalid bytes as \xNN, long text cut.
using text::quote;

// A PatternError with its offsets clamped to 32 bits.
PatternError make_error(Code code, std::size_t begin, std::size_t end, std::string message, std::string label,
                        std::string help = {});

// A character of a `$NAME` variable: ASCII letter, digit or `_`.
bool is_variable_char(char c);

// One past the `]` closing the class that opens at s[i], or npos. A `]` right
// after `[`, `[!` or `[^` is literal; a class never spans a `/`.
std::size_t class_end(std::string_view s, std::size_t i);

// The unescaped text of a component without glob syntax, else nullopt.
std::optional<std::string> literal_value(std::string_view s);

// Every alternative of `s` with its `{...}` groups expanded, in order;
// classes and escapes are copied as written. Nullopt for an unclosed `{` or
// past the limits (more than 256 alternatives, nesting deeper than 8).
std::optional<std::vector<std::string>> expand_braces(std::string_view s);

// Checks the glob syntax of one component; `base` is its offset in the
// pattern text. `policy` adds the checks that only apply to written patterns
// (a `$` variable past the anchor, and alternatives that expand to an empty
// name, `.` or `..`, which could not be normalised). `canonical` receives the
// component without the escapes that change nothing outside classes and
// alternatives, so `~/\.ssh` and `~/.ssh` get one text. `errors` and
// `canonical` may be null.
bool check_component(std::string_view s, std::size_t base, bool policy, PatternErrors* errors,
                     std::string* canonical = nullptr);

// A parsed `[...]`: inclusive ranges of units, and why it is invalid if it is.
struct CharClass {
  bool negated = false;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges;
  std::string error;  // empty when the class is valid
  std::size_t error_begin = 0, error_end = 0;
};

// One step of a compiled alternative.
struct Token {
  enum Kind : std::uint8_t { Unit, Any, Star, Class } kind;
  std::uint32_t value;  // the character for Unit, the class index for Class
};

// A component glob with its braces expanded: one token list per alternative.
struct Compiled {
  std::vector<std::vector<Token>> alternatives;
  std::vector<CharClass> classes;
};

// Nullopt when `text` is not a valid component glob (or is over 4096 bytes).
std::optional<Compiled> compile(std::string_view text);

// Does some alternative of `g` match the whole name `units` (from decode_name)?
bool matches(const Compiled& g, const std::vector<std::uint32_t>& units);

}  // namespace sbpolicy::sema::glob
