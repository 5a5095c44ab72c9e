// Text helpers every stage shares: ASCII character classes that do not
// depend on the C locale, UTF-8 decoding, and the one way a message quotes
// user text. (Copies of these lived in the host, path, glob and HTTP
// parsers; one set keeps them from drifting apart.)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sbpolicy::text {

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
constexpr bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
constexpr bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
constexpr bool is_alpha(char c) { return is_upper(c) || is_lower(c); }
constexpr bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
constexpr bool is_ascii(char c) { return static_cast<unsigned char>(c) < 0x80; }
constexpr char to_lower(char c) { return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

// `s` with ASCII letters lowercased; other bytes as they are.
std::string lowercase(std::string_view s);

// The UTF-8 unit starting at s[i], and its length in bytes (1 to 4) in *len.
// A byte that does not start a valid sequence is one unit of its own,
// returned as 0x110000 + the byte (never a code point).
std::uint32_t decode_unit(std::string_view s, std::size_t i, std::size_t* len);

// The bytes of a unit, appended to `out`: a code point as UTF-8, and
// 0x110000 + byte as that byte (decode_unit's inverse).
void append_unit(std::string& out, std::uint32_t unit);

// A character that changes how text displays without being seen: C0 and C1
// controls (tab included), DEL, the bidirectional formatting characters,
// zero-width characters and the byte order mark.
bool invisible(std::uint32_t code_point);

// `s` with every invisible character (tab aside) as \u{XXXX} and every
// invalid UTF-8 byte as \x{NN}: what a diagnostic shows of the user's
// text, never the characters themselves (a U+202E would reorder the line
// that warns about it).
std::string visible(std::string_view s);

// User text for a message: in backticks, invisible characters and invalid
// UTF-8 bytes as \xNN, cut (at a character) after about 64 bytes with
// `...`, so a 4 KB input cannot flood a message and half a character never
// reaches JSON output. ASCII text stays ASCII (an HTTP reason carries it).
std::string quote(std::string_view s);
// The same with every byte outside printable ASCII as \xNN: for text that
// goes into an HTTP status line or header.
std::string quote_ascii(std::string_view s);

// `s` with every byte outside printable ASCII replaced by `?`: for what a
// sink (a header, the terminal) must never pass through raw, whatever
// produced it.
std::string printable(std::string_view s);

}  // namespace sbpolicy::text
