#include "sbpl/regex.hpp"

#include <fmt/format.h>

#include <cctype>

namespace sbpolicy::sbpl {

std::string translate_regex(std::string_view apple, std::string& error) {
  std::string out;
  int depth = 0;
  bool quantifiable = false;  // something a quantifier may follow
  bool quantified = false;    // the last thing was a quantifier
  const auto fail = [&](std::string message) {
    error = fmt::format("regex `{}`: {}", apple, message);
    return std::string();
  };
  for (std::size_t i = 0; i < apple.size(); ++i) {
    const char c = apple[i];
    const bool was_quantified = quantified;
    quantified = false;
    switch (c) {
      case '\\': {
        if (i + 1 >= apple.size()) return fail("ends with `\\`");
        const char e = apple[++i];
        if (std::isalnum(static_cast<unsigned char>(e))) {
          return fail(fmt::format("`\\{}` is not in the subset AppleMatch is known to read", e));
        }
        out += '\\';
        out += e;
        quantifiable = true;
        break;
      }
      case '[': {
        std::size_t j = i + 1;
        std::string cls = "[";
        if (j < apple.size() && apple[j] == '^') cls += apple[j++];
        // A `]` first in the class is a literal.
        if (j < apple.size() && apple[j] == ']') {
          cls += "\\]";
          ++j;
        }
        for (; j < apple.size() && apple[j] != ']'; ++j) {
          if (apple[j] == '\\') return fail("a `\\` inside a class means something else to AppleMatch");
          if (apple[j] == '[' && j + 1 < apple.size() && (apple[j + 1] == ':' || apple[j + 1] == '=' || apple[j + 1] == '.')) {
            return fail("POSIX classes (`[:alpha:]`) are not in the known subset");
          }
          if (apple[j] == '[') {
            cls += "\\[";
            continue;
          }
          cls += apple[j];
        }
        if (j >= apple.size()) return fail("a `[` class is not closed");
        cls += ']';
        out += cls;
        i = j;
        quantifiable = true;
        break;
      }
      case '(':
        if (i + 1 < apple.size() && apple[i + 1] == '?') {
          return fail("`(?` is not AppleMatch: `(?:` is silently mis-compiled and `(?i)` refused");
        }
        ++depth;
        out += '(';
        quantifiable = false;
        break;
      case ')':
        if (depth == 0) return fail("a `)` closes no group");
        --depth;
        out += ')';
        quantifiable = true;
        break;
      case '*':
      case '+':
      case '?':
        if (was_quantified) return fail(fmt::format("`{}` after a quantifier (lazy or possessive) is not known", c));
        if (!quantifiable) return fail(fmt::format("`{}` has nothing to repeat", c));
        out += c;
        quantified = true;
        break;
      case '{': {
        std::size_t j = i + 1;
        std::string count = "{";
        bool digits = false, comma = false;
        for (; j < apple.size() && apple[j] != '}'; ++j) {
          if (std::isdigit(static_cast<unsigned char>(apple[j]))) {
            digits = true;
          } else if (apple[j] == ',' && !comma && digits) {
            comma = true;
          } else {
            return fail("a `{` that is not a count `{n}`, `{n,}` or `{n,m}`");
          }
          count += apple[j];
        }
        if (j >= apple.size() || !digits) return fail("a `{` that is not a count `{n}`, `{n,}` or `{n,m}`");
        if (was_quantified) return fail("a count after a quantifier is not known");
        if (!quantifiable) return fail("a count has nothing to repeat");
        out += count + "}";
        i = j;
        quantified = true;
        break;
      }
      case '}':
        return fail("a `}` closes no count");
      case '|':
        out += '|';
        quantifiable = false;
        break;
      case '^':
      case '$':
        out += c;
        quantifiable = false;
        break;
      case '.':
        out += '.';
        quantifiable = true;
        break;
      default:
        // A literal byte (RE2 reads the pattern as Latin-1, as the path
        // is); `]` alone is a literal in both dialects.
        if (c == ']') out += '\\';
        out += c;
        quantifiable = true;
    }
  }
  if (depth != 0) return fail("a `(` group is not closed");
  return out.empty() ? std::string("(?:)") : out;
}

}  // namespace sbpolicy::sbpl
