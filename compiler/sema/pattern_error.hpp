// An error found while normalising one pattern string.
//
// Pattern parsers work on the decoded contents of one string literal and
// know nothing of files; offsets are byte offsets into that decoded string.
// The type checker maps them back to source spans and turns them into
// Diagnostics, so the caret lands on the offending part of the string.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "support/diagnostic.hpp"

namespace sbpolicy::sema {

struct PatternError {
  Code code;
  std::uint32_t begin = 0;  // byte offset into the decoded pattern text
  std::uint32_t end = 0;    // exclusive; begin == end is allowed for "here"
  std::string message;      // full sentence fragment: "port `70000` is above 65535"
  std::string label;        // short caret label, may be empty
  std::string help;         // may be empty
};

using PatternErrors = std::vector<PatternError>;

}  // namespace sbpolicy::sema
