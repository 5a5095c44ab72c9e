// Environment variable patterns for `env` rules.
//
// A pattern is a variable name in which `*` stands for any run of name
// characters: `PATH`, `LC_*`, `NPM_CONFIG_*`, `*_PROXY`. Names are case
// sensitive, as the environment is. The variable itself is what is granted:
// an allowed name passes the invoking environment's value to the command.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "sema/pattern_error.hpp"

namespace sbpolicy::sema {

struct EnvPattern {
  std::string glob;
  bool has_wildcard() const { return glob.find('*') != std::string::npos; }
  const std::string& text() const { return glob; }
  friend bool operator==(const EnvPattern&, const EnvPattern&) = default;
  friend auto operator<=>(const EnvPattern&, const EnvPattern&) = default;
};

// E0309 for characters outside [A-Za-z0-9_*] or a leading digit, E0310 for
// an empty pattern, E0311 for control characters. Runs of `*` collapse.
std::variant<EnvPattern, PatternErrors> parse_env_pattern(std::string_view text);

bool env_matches(const EnvPattern& pattern, std::string_view name);

}  // namespace sbpolicy::sema
