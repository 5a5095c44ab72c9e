#include "syntax/source_check.hpp"

#include <fmt/format.h>

namespace sbpolicy::syntax {

namespace {

// Decodes one UTF-8 sequence at `i`; returns its length, or 0 when invalid
// (overlong forms, surrogates and values above U+10FFFF are invalid).
std::size_t decode(std::string_view s, std::size_t i, char32_t& cp) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  std::size_t len;
  char32_t min;
  if (c < 0x80) {
    cp = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

bool is_bidi_control(char32_t cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F ||
         cp == 0x061C;
}

}  // namespace

bool check_source_text(const SourceFile& file, Diagnostics& diags, std::size_t max_file_bytes,
                       std::size_t max_errors) {
  const std::string_view text = file.text();
  const FileId id = file.id();
  if (text.size() > max_file_bytes) {
    diags.report(Code::E0105, Span{id, 0, 0}, fmt::format("file is {} bytes, above the limit of {}", text.size(), max_file_bytes))
        .help("split the policy into files joined with `use \"…\"`");
    return false;
  }
  std::size_t errors = 0;
  std::size_t i = 0;
  // A byte order mark at the very start is harmless and common.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;
  while (i < text.size()) {
    char32_t cp = 0;
    const std::size_t len = decode(text, i, cp);
    const auto at = static_cast<std::uint32_t>(i);
    if (len == 0) {
      diags.report(Code::E0100, Span{id, at, at + 1},
                   fmt::format("invalid UTF-8 byte 0x{:02x}", static_cast<unsigned char>(text[i])))
          .label("not valid UTF-8")
          .help("save the policy as UTF-8");
      return false;
    }
    const auto end = static_cast<std::uint32_t>(i + len);
    if (cp == 0) {
      diags.report(Code::E0101, Span{id, at, end}, "NUL byte in source").label("NUL");
      ++errors;
    } else if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
      diags.report(Code::E0101, Span{id, at, end}, fmt::format("control character U+{:04X} in source", static_cast<unsigned>(cp)))
          .label("control character")
          .help(fmt::format("write it as an escape inside a string (`\\u{{{:04X}}}`), or remove it",
                            static_cast<unsigned>(cp)));
      ++errors;
    } else if (is_bidi_control(cp)) {
      diags.report(Code::E0101, Span{id, at, end},
                   fmt::format("bidirectional formatting character U+{:04X} in source", static_cast<unsigned>(cp)))
          .label("can make the text display differently from what it means")
          .help(fmt::format("remove it; inside a string write it as `\\u{{{:04X}}}` if it is really meant",
                            static_cast<unsigned>(cp)));
      ++errors;
    }
    if (errors >= max_errors) {
      diags.report(Code::E0105, Span{id, end, end}, "too many errors in this file; stopping");
      return false;
    }
    i += len;
  }
  return errors == 0;
}

}  // namespace sbpolicy::syntax
