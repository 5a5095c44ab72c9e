// Globs: scanners, syntax checking, brace expansion and component matching.
// What the syntax is and why it is matched this way: see glob.hpp.
#include "sema/glob.hpp"

#include <algorithm>
#include <cstdio>

namespace sbpolicy::sema::glob {
namespace {

constexpr std::size_t kMaxGlobBytes = 4096;  // as long as a whole path pattern may be
constexpr std::size_t kMaxBraceDepth = 8;
constexpr std::size_t kMaxAlternatives = 256;
constexpr std::size_t kNpos = std::string_view::npos;

// Parses the class s[open, end) where end came from class_end().
CharClass parse_class(std::string_view s, std::size_t open, std::size_t end) {
  CharClass r;
  std::size_t j = open + 1;
  const std::size_t close = end - 1;
  if (s[j] == '!' || s[j] == '^') r.negated = true, ++j;
  auto item = [&](std::size_t& k) {
    if (s[k] == '\\') ++k;
    std::size_t len;
    const std::uint32_t v = decode_unit(s, k, &len);
    k += len;
    return v;
  };
  while (j < close) {
    const std::size_t start = j;
    // Other glob engines read `[:`, `[.` and `[=` as POSIX bracket syntax.
    if (r.error.empty() && s[j] == '[' && j + 1 < close && std::string_view(":.=").find(s[j + 1]) != kNpos) {
      r.error = "POSIX bracket expressions like `[:alpha:]` are not supported (write `\\[` for a literal `[`)";
      r.error_begin = open, r.error_end = end;
    }
    const std::uint32_t lo = item(j);
    std::uint32_t hi = lo;
    if (j + 1 < close && s[j] == '-') {
      ++j;
      hi = item(j);
      if (lo > hi && r.error.empty()) {
        r.error = "range " + quote(s.substr(start, j - start)) + " is reversed";
        r.error_begin = start, r.error_end = j;
      }
    }
    r.ranges.emplace_back(lo, hi);
  }
  return r;
}

// Expands `{...}` groups of s[i...) up to the `,`/`}` ending this level.
// Classes and escapes are copied as written. False past the limits.
bool expand_seq(std::string_view s, std::size_t& i, std::size_t depth, std::vector<std::string>& out) {
  out.assign(1, std::string());
  while (i < s.size()) {
    const char c = s[i];
    std::size_t len = 1;
    if (c == '\\' && i + 1 < s.size()) {
      decode_unit(s, i + 1, &len);
      ++len;
    } else if (c == '[') {
      if (const std::size_t e = class_end(s, i); e != kNpos) len = e - i;
    } else if (c == '{') {
      if (depth >= kMaxBraceDepth) return false;
      ++i;
      std::vector<std::string> alts, sub;
      for (;;) {
        if (!expand_seq(s, i, depth + 1, sub) || alts.size() + sub.size() > kMaxAlternatives) return false;
        alts.insert(alts.end(), sub.begin(), sub.end());
        if (i >= s.size()) return false;
        if (s[i++] == '}') break;
      }
      if (out.size() * alts.size() > kMaxAlternatives) return false;
      std::vector<std::string> next;
      for (const auto& a : out)
        for (const auto& b : alts) next.push_back(a + b);
      out.swap(next);
      continue;
    } else if (depth > 0 && (c == ',' || c == '}')) {
      return true;
    }
    for (auto& o : out) o.append(s.substr(i, len));
    i += len;
  }
  return depth == 0;
}

bool token_matches(const Token& t, const Compiled& g, std::uint32_t u) {
  if (t.kind == Token::Any) return true;
  if (t.kind == Token::Unit) return t.value == u;
  const CharClass& c = g.classes[t.value];
  const bool in =
      std::any_of(c.ranges.begin(), c.ranges.end(), [&](const auto& r) { return r.first <= u && u <= r.second; });
  return in != c.negated;
}

}  // namespace

// Invalid bytes decode to 0x110000 + byte so they can never equal a code point.
std::vector<std::uint32_t> decode_name(std::string_view name) {
  std::vector<std::uint32_t> units;
  for (std::size_t i = 0, len = 0; i < name.size(); i += len) units.push_back(decode_unit(name, i, &len));
  return units;
}

PatternError make_error(Code code, std::size_t begin, std::size_t end, std::string message, std::string label,
                        std::string help) {
  auto clamp = [](std::size_t v) { return static_cast<std::uint32_t>(std::min<std::size_t>(v, 0xffffffffu)); };
  return PatternError{code, clamp(begin), clamp(end), std::move(message), std::move(label), std::move(help)};
}

bool is_variable_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

std::size_t class_end(std::string_view s, std::size_t i) {
  std::size_t j = i + 1;
  if (j < s.size() && (s[j] == '!' || s[j] == '^')) ++j;
  if (j < s.size() && s[j] == ']') ++j;
  for (; j < s.size(); ++j) {
    if (s[j] == '/') return kNpos;
    if (s[j] == ']') return j + 1;
    if (s[j] == '\\' && (++j == s.size() || s[j] == '/')) return kNpos;
  }
  return kNpos;
}

std::string escape_literal(std::string_view name) {
  std::string out;
  for (const char c : name) {
    if (kMeta.find(c) != kNpos) out += '\\';
    out += c;
  }
  return out;
}

std::optional<std::string> literal_value(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out += s[++i];
      continue;
    }
    if (s[i] == '*' || s[i] == '?' || s[i] == '[' || s[i] == '{') return std::nullopt;
    out += s[i];
  }
  return out;
}

std::optional<std::vector<std::string>> expand_braces(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  if (!expand_seq(s, i, 0, out)) return std::nullopt;
  return out;
}

bool check_component(std::string_view s, std::size_t base, bool policy, PatternErrors* errors, std::string* canonical) {
  bool ok = true;
  auto fail = [&](Code code, std::size_t b, std::size_t e, std::string msg, std::string label, std::string help) {
    if (errors)
      errors->push_back(make_error(code, base + b, base + e, std::move(msg), std::move(label), std::move(help)));
    ok = false;
  };
  if (s.empty() || s.find('/') != kNpos) return false;
  std::vector<std::size_t> open;
  std::size_t copied = 0;
  bool depth_reported = false, star_reported = false;
  for (std::size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '\\') {
      if (i + 1 == s.size()) {
        fail(Code::E0302, i, i + 1, "`\\` at the end of a path component escapes nothing", "trailing `\\`",
             "write `\\\\` for a literal backslash");
        break;
      }
      std::size_t len;
      decode_unit(s, i + 1, &len);
      if (canonical && open.empty() && (len > 1 || kMeta.find(s[i + 1]) == kNpos)) {
        canonical->append(s.substr(copied, i - copied));
        copied = i + 1;
      }
      i += 1 + len;
      continue;
    }
    if (c == '[') {
      const std::size_t e = class_end(s, i);
      if (e == kNpos) {
        fail(Code::E0302, i, s.size(), "`[` is not closed in " + quote(s), "unclosed `[`",
             "close the class with `]` in the same component, or write `\\[` for a literal `[`");
      } else {
        const CharClass pc = parse_class(s, i, e);
        if (!pc.error.empty()) fail(Code::E0302, pc.error_begin, pc.error_end, pc.error, "invalid class", "");
        i = e;
        continue;
      }
    } else if (c == '{') {
      open.push_back(i);
      if (open.size() > kMaxBraceDepth && !depth_reported) {
        depth_reported = true;
        fail(Code::E0302, i, i + 1, "`{...}` alternatives are nested more than 8 deep", "too deep", "");
      }
    } else if (c == '}' && !open.empty()) {
      open.pop_back();
    } else if (c == '*' && i + 1 < s.size() && s[i + 1] == '*' && s != "**" && !star_reported) {
      star_reported = true;
      fail(Code::E0302, 0, s.size(), "`**` is mixed with other text in " + quote(s), "not a whole component",
           "`**` must be a whole path component; use `*` to match part of a name");
    } else if (c == '$' && policy) {
      std::size_t j = i + 1;
      if (j < s.size() && s[j] == '{') {
        const std::size_t close = s.find('}', j);
        j = close == kNpos ? s.size() : close + 1;
      } else {
        while (j < s.size() && is_variable_char(s[j])) ++j;
      }
      fail(Code::E0304, i, j, "variables are only allowed at the start of a path", quote(s.substr(i, j - i)),
           "write `\\$` for a literal `$`");
      i = j;
      continue;
    }
    ++i;
  }
  if (canonical) canonical->append(s.substr(copied));
  if (!open.empty()) {
    fail(Code::E0302, open.front(), s.size(), "`{` is not closed in " + quote(s), "unclosed `{`",
         "close the alternatives with `}` in the same component, or write `\\{` for a literal `{`");
  }
  if (ok && policy && s.find('{') != kNpos) {
    const auto alts = expand_braces(s);
    if (!alts) {
      fail(Code::E0302, 0, s.size(), quote(s) + " expands to more than 256 alternatives", "too many alternatives",
           "split it into several patterns");
      return ok;
    }
    for (const auto& a : *alts) {
      const auto lit = literal_value(a);
      if (lit && (lit->empty() || *lit == "." || *lit == "..")) {
        fail(Code::E0302, 0, s.size(),
             quote(s) + " can expand to " + (lit->empty() ? std::string("an empty name") : quote(*lit)),
             "cannot be normalised", "write `.`, `..` and empty components outside `{...}`");
        break;
      }
    }
  }
  return ok;
}

std::optional<Compiled> compile(std::string_view text) {
  if (text.size() > kMaxGlobBytes || !check_component(text, 0, false, nullptr)) return std::nullopt;
  std::vector<std::string> alts;
  if (text.find('{') == kNpos) {
    alts.emplace_back(text);
  } else if (auto expanded = expand_braces(text)) {
    alts = std::move(*expanded);
  } else {
    return std::nullopt;
  }
  Compiled g;
  for (const std::string& a : alts) {
    std::vector<Token> t;
    for (std::size_t i = 0; i < a.size();) {
      if (a[i] == '*') {
        if (t.empty() || t.back().kind != Token::Star) t.push_back({Token::Star, 0});
        ++i;
        continue;
      }
      if (a[i] == '?') {
        t.push_back({Token::Any, 0});
        ++i;
        continue;
      }
      if (a[i] == '[') {
        if (const std::size_t e = class_end(a, i); e != kNpos) {
          g.classes.push_back(parse_class(a, i, e));
          t.push_back({Token::Class, static_cast<std::uint32_t>(g.classes.size() - 1)});
          i = e;
          continue;
        }
      }
      if (a[i] == '\\' && i + 1 < a.size()) ++i;
      std::size_t len;
      t.push_back({Token::Unit, decode_unit(a, i, &len)});
      i += len;
    }
    g.alternatives.push_back(std::move(t));
  }
  return g;
}

// Wildcard matching that backtracks only to the last `*`: O(tokens * units).
bool matches(const Compiled& g, const std::vector<std::uint32_t>& units) {
  for (const auto& t : g.alternatives) {
    std::size_t ti = 0, ni = 0, star = kNpos, mark = 0;
    bool failed = false;
    while (ni < units.size()) {
      if (ti < t.size() && t[ti].kind == Token::Star) {
        star = ti++, mark = ni;
      } else if (ti < t.size() && token_matches(t[ti], g, units[ni])) {
        ++ti, ++ni;
      } else if (star != kNpos) {
        ti = star + 1, ni = ++mark;
      } else {
        failed = true;
        break;
      }
    }
    while (!failed && ti < t.size() && t[ti].kind == Token::Star) ++ti;
    if (!failed && ti == t.size()) return true;
  }
  return false;
}

}  // namespace sbpolicy::sema::glob
