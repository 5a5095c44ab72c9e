// Writing a tool's output: to stdout, or to a file replaced atomically (a
// temporary file in the same directory, then rename), so a failed run never
// leaves a half-written or truncated output behind.
#pragma once

#include <sys/stat.h>

#include <string>

namespace sbpolicy::sbc {

// Returns an empty string on success, else a message. `like`, when given,
// is the status of the file being replaced: the new file takes its mode
// (and, when run as root, its owner) before it is renamed into place, so it
// is never, even for a moment, more open than the file it replaces.
std::string write_output(const std::string& path, const std::string& content, const struct stat* like = nullptr);

}  // namespace sbpolicy::sbc
