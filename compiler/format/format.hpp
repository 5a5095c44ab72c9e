// `sbc fmt`: a policy's canonical layout, comments kept.
//
// The layout: one statement per line, single spaces, `, ` between items,
// `;` ending every statement (the last one's too); a rule, `use` or list
// that does not fit in 100 columns, holds a comment, or was written over
// several lines is broken one item per line, indented by two, with
// `except` on a line of its own (the standard library's style); lists
// broken so keep a trailing comma; test blocks one expectation per line. At
// most one blank line between statements, none at the start, one newline at
// the end. Comments stay where they were: on their own line before what
// followed them, or at the end of the line of what preceded them.
//
// The result is checked before it is given: it must parse to the same
// syntax tree (positions aside) as the input, else no output (a bug here
// never loses a policy). Formatting the result again gives it unchanged.
#pragma once

#include <string>
#include <variant>

namespace sbpolicy::format {

inline constexpr std::size_t kWidth = 100;

struct Refused {
  std::string message;  // why the text was not formatted
};

// The canonical text of `text` (a policy named `name` for messages).
// Refused for text that does not parse (its syntax errors are the
// compiler's to report) and for an internal failure of the check.
std::variant<std::string, Refused> format_policy(const std::string& name, const std::string& text);

}  // namespace sbpolicy::format
