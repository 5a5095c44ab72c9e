#include "support/text.hpp"

#include <cstdio>

namespace sbpolicy::text {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_lower(c);
  return out;
}

std::uint32_t decode_unit(std::string_view s, std::size_t i, std::size_t* len) {
  const unsigned c = static_cast<unsigned char>(s[i]);
  *len = 1;
  if (c < 0x80) return c;
  std::size_t n = 0;
  unsigned lo = 0x80, hi = 0xBF;
  std::uint32_t v = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 1, v = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 2, v = c & 0x0F, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 3, v = c & 0x07, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
  }
  if (n == 0 || i + n >= s.size()) return 0x110000 + c;
  for (std::size_t k = 1; k <= n; ++k) {
    const unsigned d = static_cast<unsigned char>(s[i + k]);
    if (d < (k == 1 ? lo : 0x80u) || d > (k == 1 ? hi : 0xBFu)) return 0x110000 + c;
    v = (v << 6) | (d & 0x3F);
  }
  *len = n + 1;
  return v;
}

bool invisible(std::uint32_t v) {
  return v < 0x20 || v == 0x7f || (v >= 0x80 && v < 0xa0) || v == 0x061c || (v >= 0x200b && v <= 0x200f) ||
         (v >= 0x202a && v <= 0x202e) || (v >= 0x2060 && v <= 0x2069) || v == 0xfeff;
}

std::string visible(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::size_t len;
    const std::uint32_t v = decode_unit(s, i, &len);
    char buf[16];
    if (v >= 0x110000) {
      std::snprintf(buf, sizeof buf, "\\x{%02X}", static_cast<unsigned char>(s[i]));
      out += buf;
    } else if (v != '\t' && invisible(v)) {
      std::snprintf(buf, sizeof buf, "\\u{%04X}", static_cast<unsigned>(v));
      out += buf;
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

namespace {

std::string quote_as(std::string_view s, bool ascii) {
  std::string out = "`";
  std::size_t i = 0;
  while (i < s.size() && out.size() < 64) {
    std::size_t len;
    const std::uint32_t v = decode_unit(s, i, &len);
    if (v >= 0x110000 || invisible(v) || (ascii && v >= 0x80)) {
      for (std::size_t k = 0; k < len; ++k) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(s[i + k]));
        out += buf;
      }
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  if (i < s.size()) out += "...";
  return out + "`";
}

}  // namespace

std::string quote(std::string_view s) { return quote_as(s, false); }

std::string quote_ascii(std::string_view s) { return quote_as(s, true); }

std::string printable(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c < 0x20 || c >= 0x7f) c = '?';
  }
  return out;
}

void append_unit(std::string& out, std::uint32_t unit) {
  if (unit >= 0x110000) {
    out += static_cast<char>(unit - 0x110000);
  } else if (unit < 0x80) {
    out += static_cast<char>(unit);
  } else if (unit < 0x800) {
    out += static_cast<char>(0xC0 | (unit >> 6));
    out += static_cast<char>(0x80 | (unit & 0x3F));
  } else if (unit < 0x10000) {
    out += static_cast<char>(0xE0 | (unit >> 12));
    out += static_cast<char>(0x80 | ((unit >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (unit & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (unit >> 18));
    out += static_cast<char>(0x80 | ((unit >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((unit >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (unit & 0x3F));
  }
}

}  // namespace sbpolicy::text
