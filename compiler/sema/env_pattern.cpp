#include "sema/env_pattern.hpp"

#include <fmt/format.h>

#include "sema/glob.hpp"
#include "support/text.hpp"

namespace sbpolicy::sema {

namespace {

bool name_char(char c) { return text::is_alnum(c) || c == '_'; }

// Is `text` from `at` on the `%%` that ends an exported bash function's
// variable (`BASH_FUNC_name%%`), in a pattern that names it exactly?
bool exported_function_suffix(std::string_view text, std::size_t at) {
  constexpr std::string_view kPrefix = "BASH_FUNC_";
  return text.substr(at) == "%%" && at > kPrefix.size() && text.substr(0, kPrefix.size()) == kPrefix &&
         text.find('*') == std::string_view::npos;
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
    if (c == '%' && exported_function_suffix(text, i)) {
      p.glob += text.substr(i);  // `%%`, the end of an exported function's exact name
      break;
    }
    if (!name_char(text[i]) && c != '*') {
      std::string help = "variable names use letters, digits and `_`; `*` matches any run of them";
      if (c == '$') help = "write the name without `$`";
      if (c == '=') help = "`env` rules name variables; their values come from the environment sbrun runs in";
      if (c == '%') {
        help = "an exported shell function passes only when named exactly, without `*`: `BASH_FUNC_name%%`";
      }
      // The whole character, quoted as every pattern message quotes text:
      // half of a UTF-8 sequence is not text (and JSON output refuses it).
      std::size_t length = 1;
      glob::decode_unit(text, i, &length);
      errors.push_back({Code::E0309,
                        at,
                        static_cast<std::uint32_t>(i + length),
                        fmt::format("{} cannot appear in an environment variable name",
                                    glob::quote(text.substr(i, length))),
                        "not a name character",
                        help});
      return errors;
    }
    if (i == 0 && text::is_digit(text[i])) {
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
  // O(n*m) at worst. `*` spans name characters only, so `BASH_FUNC_*` never
  // matches `BASH_FUNC_ls%%`, a function that bash imports and runs.
  const std::string_view g = pattern.glob;
  std::size_t gi = 0, ni = 0, star = std::string_view::npos, mark = 0;
  while (ni < name.size()) {
    if (gi < g.size() && g[gi] == '*') {
      star = gi++;
      mark = ni;
    } else if (gi < g.size() && g[gi] == name[ni]) {
      ++gi, ++ni;
    } else if (star != std::string_view::npos && name_char(name[mark])) {
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
