#include "lower/sbpl/glob_regex.hpp"

#include <cctype>

#include "sema/glob.hpp"
#include "support/text.hpp"

namespace sbpolicy::lower::sbpl {

namespace {

constexpr std::string_view kMeta = ".[]()*+?{}|^$\\";

void append_literal_byte(std::string& out, unsigned char c, RegexSide side) {
  if (side == RegexSide::Deny && std::isalpha(c)) {
    out += '[';
    out += static_cast<char>(std::toupper(c));
    out += static_cast<char>(std::tolower(c));
    out += ']';
    return;
  }
  if (kMeta.find(static_cast<char>(c)) != std::string_view::npos) out += '\\';
  out += static_cast<char>(c);
}

void append_unit(std::string& out, std::uint32_t unit, RegexSide side) {
  std::string bytes;
  text::append_unit(bytes, unit);
  for (char b : bytes) append_literal_byte(out, static_cast<unsigned char>(b), side);
}

// One character of a name, any: a deny takes up to the four bytes of a
// UTF-8 character (and so at times more than one ASCII character: it covers
// more, never less); an allow takes one byte (never a multi-byte character:
// it grants less).
std::string any_char(RegexSide side) { return side == RegexSide::Deny ? "[^/]{1,4}" : "[^/]"; }

// A class `[…]` as AppleMatch reads it: no backslash inside, `]` first,
// `-` last, `^` not first. Non-ASCII ranges cannot be written over bytes:
// a deny matches any character instead, an allow keeps the ASCII part.
std::optional<std::string> class_regex(const sema::glob::CharClass& c, RegexSide side) {
  bool wide = false;
  std::vector<bool> in(128, false);
  for (const auto& [lo, hi] : c.ranges) {
    for (std::uint32_t u = lo; u <= hi && u < 128; ++u) in[u] = true;
    if (hi >= 128) wide = true;
  }
  // What a class cannot hold over bytes here: a `\` (AppleMatch reads it
  // otherwise), control characters and DEL, non-ASCII.
  bool unwritable = wide || in['\\'] || in[127];
  for (int u = 0; u < 0x20; ++u) unwritable = unwritable || in[u];
  if (side == RegexSide::Deny) {
    if (unwritable || c.negated) return any_char(side);  // covers more: never less
    for (int u = 'a'; u <= 'z'; ++u) {
      if (in[u] || in[u - 32]) in[u] = in[u - 32] = true;
    }
  }
  if (c.negated) {
    // Any ASCII character but these and `/`; a multi-byte character is not
    // granted (one byte at a time would split it).
    in['/'] = true;
    for (int u = 0; u < 128; ++u) in[u] = !in[u];
    for (int u = 0; u < 0x20; ++u) in[u] = false;
    in[127] = false;
  }
  in['/'] = false;
  in['\\'] = false;  // cannot be written in an AppleMatch class
  std::string body;
  if (in[']']) body += ']';
  for (int u = 0x20; u < 127; ++u) {
    if (!in[u] || u == ']' || u == '-' || u == '^') continue;
    // Runs of three or more as ranges, for the reader of the profile.
    int end = u;
    while (end + 1 < 127 && in[end + 1] && end + 1 != ']' && end + 1 != '-' && end + 1 != '^' &&
           std::isalnum(end + 1) && std::isalnum(u)) {
      ++end;
    }
    if (end - u >= 2) {
      body += static_cast<char>(u);
      body += '-';
      body += static_cast<char>(end);
      u = end;
    } else {
      body += static_cast<char>(u);
    }
  }
  if (in['^']) body += '^';
  if (in['-']) body += '-';
  if (body.empty()) return std::nullopt;  // nothing this side can match
  if (body == "^") return std::string("\\^");
  return "[" + body + "]";
}

std::optional<std::string> component_regex(std::string_view component, RegexSide side) {
  const auto compiled = sema::glob::compile(component);
  if (!compiled) return std::nullopt;
  std::vector<std::string> alternatives;
  for (const auto& tokens : compiled->alternatives) {
    std::string alt;
    bool ok = true;
    for (const auto& t : tokens) {
      switch (t.kind) {
        case sema::glob::Token::Unit: append_unit(alt, t.value, side); break;
        case sema::glob::Token::Any: alt += any_char(side); break;
        case sema::glob::Token::Star: alt += "[^/]*"; break;
        case sema::glob::Token::Class: {
          auto c = class_regex(compiled->classes[t.value], side);
          if (!c) ok = false;
          else alt += *c;
          break;
        }
      }
    }
    if (ok) alternatives.push_back(std::move(alt));
  }
  if (alternatives.empty()) return std::nullopt;
  if (alternatives.size() == 1) return alternatives.front();
  std::string out = "(";
  for (std::size_t i = 0; i < alternatives.size(); ++i) out += (i ? "|" : "") + alternatives[i];
  return out + ")";
}

}  // namespace

std::string literal_regex(std::string_view text, RegexSide side) {
  std::string out;
  for (char c : text) append_literal_byte(out, static_cast<unsigned char>(c), side);
  return out;
}

std::optional<std::string> pattern_regex(std::string_view prefix, const std::vector<std::string>& rest,
                                         RegexSide side, bool exact) {
  std::string out = "^" + literal_regex(prefix == "/" ? "" : prefix, side);
  for (const std::string& component : rest) {
    if (component == "**") {
      out += "(/.*)?";
      continue;
    }
    auto c = component_regex(component, side);
    if (!c && side == RegexSide::Deny) c = "[^/]+";  // any name: covers more, never less
    if (!c) return std::nullopt;
    out += "/" + *c;
  }
  return out + (exact ? "$" : "(/.*)?$");
}

}  // namespace sbpolicy::lower::sbpl
