// Test helper for the proxy's HTTP heads.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace sbpolicy::proxy::http_testing {

// A request or response head from its lines: CRLF after each, then the
// empty line.
inline std::string head(std::initializer_list<std::string_view> lines) {
  std::string out;
  for (std::string_view line : lines) {
    out += line;
    out += "\r\n";
  }
  return out + "\r\n";
}

}  // namespace sbpolicy::proxy::http_testing
