// Writing a tool's output: to stdout, or to a file replaced atomically (a
// temporary file in the same directory, then rename), so a failed run never
// leaves a half-written or truncated output behind.
#pragma once

#include <string>

namespace sbpolicy::sbc {

// Returns an empty string on success, else a message.
std::string write_output(const std::string& path, const std::string& content);

}  // namespace sbpolicy::sbc
