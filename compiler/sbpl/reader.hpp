// Reading SBPL text: TinyScheme's lexical rules as libsandbox has them.
//
// Part of the SBPL evaluator (profile.hpp), which is written from the
// research notes on SBPL and shares no code with the lowering that emits
// profiles (lower/sbpl), so that their agreement is evidence.
//
// Lists `( … )`, symbols (case-sensitive), integers, `#t`/`#f`, `#o` octal,
// cooked strings `"…"` (escapes `\n \t \r \" \\ \xHH` and octal `\0…`; any
// other `\c` reads as `c`, as TinyScheme does), raw strings `#"…"` (no
// escapes, ending at the next `"`), and `;` comments to the end of a line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sbpolicy::sbpl {

struct Datum {
  enum class Kind : std::uint8_t { List, Symbol, String, Integer, Boolean };
  Kind kind = Kind::List;
  std::string text;          // a symbol's name, a string's value
  std::int64_t number = 0;   // an integer; a boolean as 0 or 1
  bool raw = false;          // a string written `#"…"`
  std::vector<Datum> items;  // a list's
  std::uint32_t line = 0, column = 0;

  bool is_symbol(std::string_view name) const { return kind == Kind::Symbol && text == name; }
};

struct ReadError {
  std::uint32_t line = 0, column = 0;
  std::string message;
  std::string text() const;  // "LINE:COL: message"
};

// The top-level forms of `text`, or where it cannot be read.
std::variant<std::vector<Datum>, ReadError> read(std::string_view text);

}  // namespace sbpolicy::sbpl
