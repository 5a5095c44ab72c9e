// Path patterns as AppleMatch regexes, for the SBPL lowering (docs/sbpl.md).
//
// The translation follows the research notes (§2.2) in the subset AppleMatch
// is known to read (§1.9): the pattern's literal prefix is escaped (a literal
// path is never sniffed for glob characters), `*` is `[^/]*`, `?` one
// character, `**/` the capturing `(.*/)?` (never `(?:`), `{a,b}` expanded,
// classes kept; the whole anchored `^…(/.*)?$`, since a pattern covers the
// paths below what it matches. Where bytes and characters part (a non-ASCII
// character under `?` or in a class), the regex errs toward the rule's side:
// a deny's matches more, an allow's less. A deny's regex is case-insensitive
// by construction (`[Ss][Ss][Hh]`), as the notes advise for a case-
// insensitive file system; an allow's stays exact.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sbpolicy::lower::sbpl {

enum class RegexSide : unsigned char { Allow, Deny };

// The regex for the bound literal `prefix` (absolute, canonical) followed by
// the glob components `rest` (sema::bind_literal_prefix), and everything
// below unless `exact`. Nullopt when a component cannot be expressed for an
// allow (which then grants nothing there: fails closed); a deny's is always
// written, wider where it must be.
std::optional<std::string> pattern_regex(std::string_view prefix, const std::vector<std::string>& rest,
                                         RegexSide side, bool exact = false);

// `text` with every AppleMatch metacharacter escaped; for a deny, letters
// as two-case classes.
std::string literal_regex(std::string_view text, RegexSide side);

}  // namespace sbpolicy::lower::sbpl
