// AppleMatch regexes, the subset the research notes show working (§1.9),
// as RE2 patterns with the same meaning under search (unanchored) matching.
//
// Accepted: literal characters, `.`, `^`, `$`, classes with ranges and
// negation, `\` before a punctuation character (that character), groups,
// `|`, `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`. Refused, because AppleMatch
// does something else with them or nothing is known: `(?` in any form
// (`(?:…)` is silently mis-compiled, `(?i)` a compile error on macOS),
// `\` before a letter or digit (`\d`, `\w`, back-references), any `\`
// inside a class, lazy or possessive quantifiers, an unclosed class or
// group, a `{` that is not a count.
#pragma once

#include <string>
#include <string_view>

namespace sbpolicy::sbpl {

// The RE2 pattern for `apple`, or "" with `error` set.
std::string translate_regex(std::string_view apple, std::string& error);

}  // namespace sbpolicy::sbpl
