// Path patterns: why the code is shaped this way.
//
// Every path rule of every target passes through this file, and a pattern
// that silently matches less than it says turns a `deny` into a no-op. So
// the parser refuses what it cannot normalise instead of guessing, and one
// set of small scanners (escape, class end, brace depth) is shared by the
// splitter, the validator, the canonicaliser and the matcher: if two of them
// disagreed on where a `[...]` or `{...}` ends, a pattern could be checked as
// one thing and matched as another.
//
// Braces are expanded (at most 256 alternatives, depth 8) rather than matched
// recursively, so matching one component is the classic linear-backtracking
// wildcard loop, and a path is matched by a DP over (pattern, subject)
// component positions: `**/**/**` cannot go exponential and nothing recurses
// on the length of the input. Text is read as UTF-8 code points where it is
// valid and as single bytes where it is not, so `?` never splits a character
// and an invalid byte never equals a valid character.
#include "sema/path_pattern.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <utility>

#include "support/suggest.hpp"

namespace sbpolicy::sema {
namespace {

constexpr std::size_t kMaxPatternBytes = 4096;
constexpr std::size_t kMaxNameBytes = 255;            // NAME_MAX
constexpr std::size_t kMaxGlobComponentBytes = 1024;  // a glob may spell several names
constexpr std::size_t kMaxBraceDepth = 8;
constexpr std::size_t kMaxAlternatives = 256;
constexpr std::size_t kNpos = std::string_view::npos;
// Escapes that stay in canonical text and are added when binding directories.
constexpr std::string_view kMeta = "\\*?[]{},$";

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// One character: a valid UTF-8 sequence, or else a single byte with the value
// 0x110000 + byte so it can never equal a code point.
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

// User text for a message: backticked, control and invalid bytes as \xNN, long text cut.
std::string quote(std::string_view s) {
  std::string out = "`";
  std::size_t i = 0;
  while (i < s.size() && out.size() < 64) {
    std::size_t len;
    const std::uint32_t v = decode_unit(s, i, &len);
    if (v >= 0x110000 || v < 0x20 || v == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(s[i]));
      out += buf;
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  if (i < s.size()) out += "…";
  return out + "`";
}

PatternError make_error(Code code, std::size_t begin, std::size_t end, std::string message, std::string label,
                        std::string help = {}) {
  auto clamp = [](std::size_t v) { return static_cast<std::uint32_t>(std::min<std::size_t>(v, 0xffffffffu)); };
  return PatternError{code, clamp(begin), clamp(end), std::move(message), std::move(label), std::move(help)};
}

// One past the `]` closing the class that opens at s[i], or kNpos. A `]` right
// after `[`, `[!` or `[^` is literal; a class never spans a `/`.
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

struct CharClass {
  bool negated = false;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges;
  std::string error;  // empty when the class is valid
  std::size_t error_begin = 0, error_end = 0;
};

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

// The unescaped text of a component without glob syntax, else nullopt.
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

std::optional<std::vector<std::string>> expand_braces(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  if (!expand_seq(s, i, 0, out)) return std::nullopt;
  return out;
}

// Checks the glob syntax of one component; `base` is its offset in the
// pattern text. `policy` adds the checks that only apply to written patterns
// (`$`, and what alternatives expand to). `canonical` receives the component
// without the escapes that change nothing outside classes and alternatives,
// so `~/\.ssh` and `~/.ssh` get one text. `errors` and `canonical` may be null.
bool check_component(std::string_view s, std::size_t base, bool policy, PatternErrors* errors,
                     std::string* canonical = nullptr) {
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
        while (j < s.size() && is_name_char(s[j])) ++j;
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

struct Piece {
  std::size_t begin, end;
  bool broken;  // an error was already reported for it
};

// Splits text[from...) at the `/` that separate components. A `/` inside a
// matched `{...}` does not separate: it is an error, and the group stays in
// one piece so it is not reported again as two unclosed halves.
std::vector<Piece> split_components(std::string_view text, std::size_t from, PatternErrors& errors) {
  std::vector<std::size_t> slashes, open, inside;
  for (std::size_t i = from; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size() && text[i + 1] != '/') {
      ++i;
    } else if (c == '[') {
      if (const std::size_t e = class_end(text, i); e != kNpos) i = e - 1;
    } else if (c == '{') {
      open.push_back(i);
    } else if (c == '}' && !open.empty()) {
      for (; !slashes.empty() && slashes.back() > open.back(); slashes.pop_back()) inside.push_back(slashes.back());
      open.pop_back();
    } else if (c == '/') {
      slashes.push_back(i);
    }
  }
  std::sort(inside.begin(), inside.end());
  if (!inside.empty()) {
    errors.push_back(make_error(Code::E0302, inside[0], inside[0] + 1, "alternatives cannot contain `/`",
                                "`/` inside `{...}`", "write one pattern per path, or put `{...}` in each component"));
  }
  slashes.push_back(text.size());
  std::vector<Piece> pieces;
  std::size_t start = from, k = 0;
  for (const std::size_t pos : slashes) {
    bool broken = false;
    for (; k < inside.size() && inside[k] < pos; ++k) broken = true;
    if (pos > start) pieces.push_back({start, pos, broken});
    start = pos + 1;
  }
  return pieces;
}

struct KnownVariable {
  std::string_view name;
  PathAnchor anchor;
};
constexpr std::array<KnownVariable, 8> kVariables{{
    {"HOME", PathAnchor::Home},
    {"WORKSPACE", PathAnchor::Workspace},
    {"TMPDIR", PathAnchor::Tmpdir},
    {"XDG_CONFIG_HOME", PathAnchor::XdgConfigHome},
    {"XDG_CACHE_HOME", PathAnchor::XdgCacheHome},
    {"XDG_DATA_HOME", PathAnchor::XdgDataHome},
    {"XDG_STATE_HOME", PathAnchor::XdgStateHome},
    {"XDG_RUNTIME_DIR", PathAnchor::XdgRuntimeDir},
}};

std::string variable_help(std::string_view name) {
  std::string upper(name);
  for (char& c : upper)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  std::size_t best = 3;
  std::string_view best_name;
  std::string all = "path variables are";
  for (const auto& v : kVariables) {
    if (const std::size_t d = sbpolicy::edit_distance(upper, v.name); d < best) best = d, best_name = v.name;
    all += (&v == &kVariables.back()    ? " and `$"
            : &v == &kVariables.front() ? " `$"
                                        : ", `$") +
           std::string(v.name) + "`";
  }
  return best_name.empty() ? all : "did you mean `$" + std::string(best_name) + "`?";
}

// `$NAME` or `${NAME}` at the start of text; sets `from` past it.
bool parse_variable(std::string_view text, PathAnchor& anchor, std::size_t& from, PatternErrors& errors) {
  std::size_t name_begin = 1, name_end = 1, end;
  if (text.size() > 1 && text[1] == '{') {
    const std::size_t close = text.find('}'), slash = text.find('/');
    if (close == kNpos || slash < close) {
      errors.push_back(make_error(Code::E0304, 0, std::min(slash, text.size()), "`${` is not closed", "unclosed `${`",
                                  "write `${NAME}` or `$NAME`"));
      return false;
    }
    name_begin = 2, name_end = close, end = close + 1;
  } else {
    while (name_end < text.size() && is_name_char(text[name_end])) ++name_end;
    end = name_end;
  }
  const std::string_view name = text.substr(name_begin, name_end - name_begin);
  const auto known = std::find_if(kVariables.begin(), kVariables.end(), [&](const auto& v) { return v.name == name; });
  if (known == kVariables.end()) {
    errors.push_back(make_error(Code::E0304, 0, std::max<std::size_t>(end, 1),
                                name.empty() ? "`$` must be followed by a variable name"
                                             : "unknown variable " + quote(text.substr(0, end)) + " in a path",
                                "unknown variable", variable_help(name)));
    return false;
  }
  if (end < text.size() && text[end] != '/') {
    errors.push_back(make_error(Code::E0304, end, end + 1,
                                quote(text.substr(0, end)) + " must be followed by `/` or end the pattern",
                                "expected `/`", "a variable names a directory; continue with `/`"));
    return false;
  }
  anchor = known->anchor;
  from = end;
  return true;
}

void report_unanchored(std::string_view text, PatternErrors& errors) {
  bool hostish = text.find('.') != kNpos && std::all_of(text.begin(), text.end(), [](char c) {
                   return is_name_char(c) || c == '.' || c == '-' || c == '*' || c == ':';
                 });
  hostish = hostish || text.find("://") != kNpos;
  std::string help = "path patterns start with `/`, `~`, `./` or `$VAR`; ";
  help += hostish ? "did you mean a `net` rule?" : "did you mean " + quote("./" + std::string(text)) + "?";
  errors.push_back(make_error(Code::E0300, 0, text.size(), "expected a path pattern, found " + quote(text),
                              "not an anchored path", std::move(help)));
}

// Reads the anchor; `from` is where the components start.
bool parse_anchor(std::string_view text, PathAnchor& anchor, std::size_t& from, PatternErrors& errors) {
  from = 1;
  if (text[0] == '/') {
    anchor = PathAnchor::Root, from = 0;
  } else if (text[0] == '~') {
    if (text.size() > 1 && text[1] != '/') {
      const std::string_view user = text.substr(0, text.find('/'));
      errors.push_back(make_error(Code::E0300, 0, user.size(), quote(user) + " names another user's home directory",
                                  "`~user` is not supported",
                                  "`~` must stand alone or be followed by `/`; write another user's home directory "
                                  "as an absolute path"));
      return false;
    }
    anchor = PathAnchor::Home;
  } else if (text == "." || text.starts_with("./")) {
    anchor = PathAnchor::Workspace;
  } else if (text == ".." || text.starts_with("../")) {
    anchor = PathAnchor::Workspace, from = 0;  // `..` becomes the first component
  } else if (text[0] == '$') {
    return parse_variable(text, anchor, from, errors);
  } else {
    report_unanchored(text, errors);
    return false;
  }
  return true;
}

// Applies the `/`-separated path `rest` to the component stack lexically.
// False when it climbs above `/` or holds NUL.
bool apply_path(std::string_view rest, std::vector<std::string>& stack) {
  if (rest.find('\0') != kNpos) return false;
  for (std::size_t i = 0; i <= rest.size();) {
    std::size_t j = rest.find('/', i);
    if (j == kNpos) j = rest.size();
    const std::string_view c = rest.substr(i, j - i);
    if (c == "..") {
      if (stack.empty()) return false;
      stack.pop_back();
    } else if (!c.empty() && c != ".") {
      stack.emplace_back(c);
    }
    i = j + 1;
  }
  return true;
}

std::string join_absolute(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

// "" for a directory that is unknown (empty), relative or above `/`.
std::string normalized_directory(std::string_view path) {
  std::vector<std::string> parts;
  if (path.empty() || path[0] != '/' || !apply_path(path, parts)) return {};
  return join_absolute(parts);
}

struct Token {
  enum Kind : std::uint8_t { Unit, Any, Star, Class } kind;
  std::uint32_t value;  // the character for Unit, the class index for Class
};

struct CompiledGlob {
  std::vector<std::vector<Token>> alternatives;
  std::vector<CharClass> classes;
};

std::optional<CompiledGlob> compile_glob(std::string_view glob) {
  if (glob.size() > kMaxPatternBytes || !check_component(glob, 0, false, nullptr)) return std::nullopt;
  std::vector<std::string> alts;
  if (glob.find('{') == kNpos) {
    alts.emplace_back(glob);
  } else if (auto expanded = expand_braces(glob)) {
    alts = std::move(*expanded);
  } else {
    return std::nullopt;
  }
  CompiledGlob g;
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

std::vector<std::uint32_t> decode_name(std::string_view name) {
  std::vector<std::uint32_t> units;
  for (std::size_t i = 0, len = 0; i < name.size(); i += len) units.push_back(decode_unit(name, i, &len));
  return units;
}

bool token_matches(const Token& t, const CompiledGlob& g, std::uint32_t u) {
  if (t.kind == Token::Any) return true;
  if (t.kind == Token::Unit) return t.value == u;
  const CharClass& c = g.classes[t.value];
  const bool in =
      std::any_of(c.ranges.begin(), c.ranges.end(), [&](const auto& r) { return r.first <= u && u <= r.second; });
  return in != c.negated;
}

// Wildcard matching that backtracks only to the last `*`: O(tokens * units).
bool glob_matches(const CompiledGlob& g, const std::vector<std::uint32_t>& units) {
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

}  // namespace

std::string_view anchor_spelling(PathAnchor anchor) {
  static constexpr std::array<std::string_view, kPathAnchorCount> kSpellings{"/",
                                                                             "~",
                                                                             ".",
                                                                             "$TMPDIR",
                                                                             "$XDG_CONFIG_HOME",
                                                                             "$XDG_CACHE_HOME",
                                                                             "$XDG_DATA_HOME",
                                                                             "$XDG_STATE_HOME",
                                                                             "$XDG_RUNTIME_DIR"};
  const auto i = static_cast<std::size_t>(anchor);
  return i < kSpellings.size() ? kSpellings[i] : "/";
}

bool PathPattern::has_glob() const {
  return std::any_of(components.begin(), components.end(), [](const std::string& c) { return !literal_value(c); });
}

// Leading `..` components count as literal: they are resolved when binding.
std::size_t PathPattern::literal_prefix_length() const {
  std::size_t n = 0;
  while (n < components.size() && literal_value(components[n])) ++n;
  return n;
}

std::string PathPattern::text() const {
  std::string out(anchor_spelling(anchor));
  for (const auto& c : components) {
    if (out.back() != '/') out += '/';
    out += c;
  }
  return out;
}

std::variant<PathPattern, PatternErrors> parse_path_pattern(std::string_view text) {
  PatternErrors errors;
  if (text.empty()) {
    errors.push_back(make_error(Code::E0310, 0, 0, "empty path pattern", "empty", "write `.` for the workspace"));
    return errors;
  }
  if (text.size() > kMaxPatternBytes) {
    errors.push_back(make_error(Code::E0302, kMaxPatternBytes, text.size(),
                                "path pattern is " + std::to_string(text.size()) + " bytes long; the limit is 4096",
                                "beyond the limit"));
    return errors;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != 0x7f) continue;
    std::size_t j = i;
    while (j < text.size() && (static_cast<unsigned char>(text[j]) < 0x20 || text[j] == 0x7f)) ++j;
    errors.push_back(make_error(Code::E0311, i, j,
                                c ? "control character in a path pattern" : "NUL byte in a path pattern",
                                "not allowed in a path"));
    i = j;
  }
  if (!errors.empty()) return errors;

  PathPattern out;
  std::size_t from = 0;
  if (!parse_anchor(text, out.anchor, from, errors)) return errors;

  struct Component {
    std::string text;
    std::optional<std::string> literal;
    std::size_t begin, end;
  };
  std::vector<Component> parsed;
  for (const Piece& p : split_components(text, from, errors)) {
    const std::string_view raw = text.substr(p.begin, p.end - p.begin);
    std::string canon;
    if (p.broken || !check_component(raw, p.begin, true, &errors, &canon)) continue;
    auto literal = literal_value(canon);
    if (literal ? literal->size() > kMaxNameBytes : raw.size() > kMaxGlobComponentBytes) {
      errors.push_back(make_error(Code::E0302, p.begin, p.end,
                                  "path component is " + std::to_string(literal ? literal->size() : raw.size()) +
                                      " bytes long; the limit is " +
                                      std::to_string(literal ? kMaxNameBytes : kMaxGlobComponentBytes),
                                  "too long"));
      continue;
    }
    parsed.push_back({std::move(canon), std::move(literal), p.begin, p.end});
  }
  if (!errors.empty()) return errors;

  // `..` only ever stays at the front, so the kept ones are a prefix.
  std::vector<const Component*> stack;
  for (const Component& c : parsed) {
    if (c.literal == ".") continue;
    if (c.literal != "..") {
      stack.push_back(&c);
    } else if (!stack.empty() && stack.back()->literal != "..") {
      if (!stack.back()->literal) {
        errors.push_back(make_error(Code::E0302, c.begin, c.end, "cannot normalise `..` after a wildcard",
                                    "`..` after " + quote(stack.back()->text),
                                    "name the directory instead of using a wildcard before `..`"));
        return errors;
      }
      stack.pop_back();
    } else if (out.anchor == PathAnchor::Root) {
      errors.push_back(
          make_error(Code::E0303, c.begin, c.end, "`..` climbs above `/`", "above `/`", "remove this `..`"));
      return errors;
    } else {
      stack.push_back(&c);
    }
  }
  for (const Component* c : stack) {
    if (c->text == "**" && !out.components.empty() && out.components.back() == "**") continue;
    out.components.push_back(c->text);
  }
  while (!out.components.empty() && out.components.back() == "**") out.components.pop_back();
  return out;
}

// Returns "" when the anchor's directory is unknown (an empty or relative
// home or workspace); such patterns bind to nothing. Relative XDG values are
// ignored, as the XDG Base Directory specification requires.
std::string PathBindings::directory(PathAnchor anchor) const {
  auto xdg = [&](const std::string& value, std::string_view fallback) {
    if (!value.empty() && value[0] == '/') return normalized_directory(value);
    const std::string h = normalized_directory(home);
    return h.empty() ? std::string() : normalized_directory(h + "/" + std::string(fallback));
  };
  switch (anchor) {
    case PathAnchor::Root:
      return "/";
    case PathAnchor::Home:
      return normalized_directory(home);
    case PathAnchor::Workspace:
      return normalized_directory(workspace);
    case PathAnchor::Tmpdir:
      return normalized_directory(tmpdir);
    case PathAnchor::XdgConfigHome:
      return xdg(xdg_config_home, ".config");
    case PathAnchor::XdgCacheHome:
      return xdg(xdg_cache_home, ".cache");
    case PathAnchor::XdgDataHome:
      return xdg(xdg_data_home, ".local/share");
    case PathAnchor::XdgStateHome:
      return xdg(xdg_state_home, ".local/state");
    case PathAnchor::XdgRuntimeDir:
      if (!xdg_runtime_dir.empty() && xdg_runtime_dir[0] == '/') return normalized_directory(xdg_runtime_dir);
      return "/run/user/" + std::to_string(getuid());
  }
  return {};
}

std::optional<std::string> normalize_subject_path(std::string_view text, const PathBindings& bindings,
                                                  std::string* error) {
  auto fail = [&](std::string message) -> std::optional<std::string> {
    if (error) *error = std::move(message);
    return std::nullopt;
  };
  if (text.find('\0') != kNpos) return fail("path contains a NUL byte");
  std::string base = "/";
  std::string_view rest = text;
  if (text == "~" || text.starts_with("~/")) {
    base = bindings.directory(PathAnchor::Home), rest = text.substr(1);
    if (base.empty()) return fail("the home directory is not known");
  } else if (!text.starts_with("/")) {
    base = bindings.directory(PathAnchor::Workspace);
    if (base.empty()) return fail("the workspace directory is not known");
  }
  std::vector<std::string> parts;
  apply_path(base, parts);
  if (!apply_path(rest, parts)) return fail(quote(text) + " climbs above `/`");
  return join_absolute(parts);
}

std::optional<std::string> bind_path_pattern(const PathPattern& pattern, const PathBindings& bindings) {
  const std::string dir = bindings.directory(pattern.anchor);
  std::vector<std::string> parts;
  if (dir.empty() || !apply_path(dir, parts)) return std::nullopt;
  std::size_t k = 0;
  for (; k < pattern.components.size() && pattern.components[k] == ".."; ++k) {
    if (parts.empty()) return std::nullopt;
    parts.pop_back();
  }
  std::string out;
  for (const auto& p : parts) {
    out += '/';
    for (const char c : p) {
      if (kMeta.find(c) != kNpos) out += '\\';
      out += c;
    }
  }
  for (; k < pattern.components.size(); ++k) out += "/" + pattern.components[k];
  return out.empty() ? "/" : out;
}

bool path_matches(const PathPattern& pattern, const PathBindings& bindings, std::string_view subject) {
  const std::string dir = bindings.directory(pattern.anchor);
  std::vector<std::string> base, names;
  if (dir.empty() || !apply_path(dir, base)) return false;
  if (!subject.starts_with("/") || !apply_path(subject, names)) return false;
  const auto& comps = pattern.components;
  std::size_t k = 0;
  for (; k < comps.size() && comps[k] == ".."; ++k) {
    if (base.empty()) return false;
    base.pop_back();
  }
  // The anchor directory is compared literally: glob characters in a home
  // directory's name must not turn into wildcards.
  if (names.size() < base.size() || !std::equal(base.begin(), base.end(), names.begin())) return false;

  // reach[j]: the components so far match names[0, j). Any reachable j at the
  // end means the pattern matched the subject or one of its ancestors.
  const std::size_t m = names.size();
  std::vector<std::vector<std::uint32_t>> units;
  for (const auto& n : names) units.push_back(decode_name(n));
  std::vector<char> reach(m + 1, 0), next(m + 1);
  reach[base.size()] = 1;
  for (; k < comps.size(); ++k) {
    std::fill(next.begin(), next.end(), 0);
    bool any = false;
    if (comps[k] == "**") {
      for (std::size_t j = 0; j <= m; ++j) next[j] = any = any || reach[j];
    } else {
      const auto glob = compile_glob(comps[k]);
      if (!glob) return false;
      for (std::size_t j = 0; j < m; ++j) {
        if (reach[j] && glob_matches(*glob, units[j])) next[j + 1] = 1, any = true;
      }
    }
    if (!any) return false;
    reach.swap(next);
  }
  return true;
}

bool glob_component_matches(std::string_view glob, std::string_view name) {
  if (name.find('/') != kNpos) return false;
  const auto compiled = compile_glob(glob);
  return compiled && glob_matches(*compiled, decode_name(name));
}

}  // namespace sbpolicy::sema
