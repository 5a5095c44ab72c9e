// The standard library policies, compiled into the binary
// (stdlib-policies/embed.cmake generates the table).
#pragma once

#include <string_view>
#include <vector>

namespace sbpolicy::sema {

struct StdlibModule {
  std::string_view name;  // "std.dev.node"
  std::string_view path;  // "std/dev/node.sbpolicy", shown in diagnostics
  std::string_view text;
};

const std::vector<StdlibModule>& stdlib_modules();

}  // namespace sbpolicy::sema
