#include "sema/env_pattern.hpp"

#include <fmt/format.h>

namespace sbpolicy::sema {

namespace {

// The bytes of the character starting at `i`: a whole UTF-8 sequence when
// one starts there, else the one byte. A message quotes the character, never
// part of one (half a character is not text, and JSON output refuses it).
std::size_t character_length(std::string_view text, std::size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  const std::size_t n = lead >= 0xF0 && lead < 0xF5 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 && lead < 0xE0 ? 2 : 1;
  if (n == 1 || i + n > text.size()) return 1;
  for (std::size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return 1;
  }
  return n;
}

// `c`, or `\xNN` for a byte that is not a character on its own.
std::string quoted_character(std::string_view text, std::size_t i, std::size_t length) {
  const auto byte = static_cast<unsigned char>(text[i]);
  if (length == 1 && byte >= 0x80) return fmt::format("\\x{:02X}", byte);
  return std::string(text.substr(i, length));
}

}  // namespace

std::variant<EnvPattern, PatternErrors> parse_env_pattern(std::string_view text) {
  PatternErrors errors;
  if (text.empty()) {
    errors.push_back({Code::E0310, 0, 0, "empty environment variable pattern", "empty", ""});
    return errors;
  }
  EnvPattern p;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const auto at = static_cast<std::uint32_t>(i);
    if (c < 0x20 || c == 0x7f) {
      errors.push_back({Code::E0311, at, at + 1, "control character in an environment variable pattern", "", ""});
      return errors;
    }
    const bool name_char = std::isalnum(c) || c == '_';
    if (!name_char && c != '*') {
      std::string help = "variable names use letters, digits and `_`; `*` matches any run of them";
      if (c == '$') help = "write the name without `$`";
      if (c == '=') help = "`env` rules name variables; their values come from the environment sbrun runs in";
      const std::size_t length = character_length(text, i);
      errors.push_back({Code::E0309,
                        at,
                        static_cast<std::uint32_t>(i + length),
                        fmt::format("`{}` cannot appear in an environment variable name",
                                    quoted_character(text, i, length)),
                        "not a name character",
                        help});
      return errors;
    }
    if (i == 0 && std::isdigit(c)) {
      errors.push_back({Code::E0309, at, at + 1, "an environment variable name cannot start with a digit", "", ""});
      return errors;
    }
    if (c == '*' && !p.glob.empty() && p.glob.back() == '*') continue;
    p.glob += static_cast<char>(c);
  }
  return p;
}

bool env_matches(const EnvPattern& pattern, std::string_view name) {
  // Classic wildcard matching with one backtrack point: linear in practice,
  // O(n*m) at worst.
  const std::string_view g = pattern.glob;
  std::size_t gi = 0, ni = 0, star = std::string_view::npos, mark = 0;
  while (ni < name.size()) {
    if (gi < g.size() && g[gi] == '*') {
      star = gi++;
      mark = ni;
    } else if (gi < g.size() && g[gi] == name[ni]) {
      ++gi, ++ni;
    } else if (star != std::string_view::npos) {
      gi = star + 1;
      ni = ++mark;
    } else {
      return false;
    }
  }
  while (gi < g.size() && g[gi] == '*') ++gi;
  return gi == g.size();
}

}  // namespace sbpolicy::sema
