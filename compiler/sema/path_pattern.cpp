// Path patterns: why the code is shaped this way.
//
// Every path rule of every target passes through this file, and a pattern
// that silently matches less than it says turns a `deny` into a no-op. So
// the parser refuses what it cannot normalise instead of guessing.
//
// What one component may say, and whether it matches one name, belongs to
// the glob stage (sema/glob.hpp). This file adds what turns components into
// a path: the anchor, the split at `/`, lexical `.` and `..` resolution, `**`,
// binding to real directories, and matching a whole path. The splitter finds
// the end of a `[...]` with glob::class_end, the scanner the glob checker and
// matcher use, and each piece is then checked and canonicalised by
// glob::check_component: if the splitter and the glob stage disagreed on
// where a class or an alternative ends, a pattern could be checked as one
// thing and matched as another.
//
// A path is matched by a DP over (pattern, subject) component positions on
// top of the glob stage's linear matcher for one component: `**/**/**`
// cannot go exponential and nothing recurses on the length of the input.
// Names are compared as glob units (UTF-8 code points where valid, single
// bytes where not), so `?` never splits a character.
#include "sema/path_pattern.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <utility>

#include "sema/glob.hpp"
#include "support/suggest.hpp"

namespace sbpolicy::sema {
namespace {

constexpr std::size_t kMaxPatternBytes = 4096;
constexpr std::size_t kMaxNameBytes = 255;            // NAME_MAX
constexpr std::size_t kMaxGlobComponentBytes = 1024;  // a glob may spell several names
constexpr std::size_t kNpos = std::string_view::npos;

// Shared with the glob stage, so that every message quotes text one way.
using glob::make_error;
using glob::quote;

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
      if (const std::size_t e = glob::class_end(text, i); e != kNpos) i = e - 1;
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
    while (name_end < text.size() && glob::is_variable_char(text[name_end])) ++name_end;
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
                   return glob::is_variable_char(c) || c == '.' || c == '-' || c == '*' || c == ':';
                 });
  std::string help = "path patterns start with `/`, `~`, `./` or `$VAR`; ";
  if (text.substr(0, 7) == "file://") {
    // A file URL names a path: `file:///etc/passwd` is `/etc/passwd`.
    const std::string_view path = text.substr(7);
    help += "a file URL is a path: did you mean " + quote(path.empty() || path.front() != '/' ? "/" + std::string(path)
                                                                                              : std::string(path)) +
            "?";
  } else if (hostish || text.find("://") != kNpos) {
    help += "did you mean a `net` rule?";
  } else {
    help += "did you mean " + quote("./" + std::string(text)) + "?";
  }
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

// Already normal: absolute, no empty, `.` or `..` component, no trailing
// slash (except "/" itself), no NUL. The common case, checked without
// splitting: bindings are looked up on every match.
bool is_normal_absolute(std::string_view path) {
  if (path.empty() || path[0] != '/' || path.find('\0') != kNpos) return false;
  if (path.size() == 1) return true;
  if (path.back() == '/') return false;
  for (std::size_t i = 0; i < path.size();) {
    const std::size_t j = std::min(path.find('/', i + 1), path.size());
    const std::string_view c = path.substr(i + 1, j - i - 1);
    if (c.empty() || c == "." || c == "..") return false;
    i = j;
  }
  return true;
}

// "" for a directory that is unknown (empty), relative or above `/`.
std::string normalized_directory(std::string_view path) {
  if (is_normal_absolute(path)) return std::string(path);
  std::vector<std::string> parts;
  if (path.empty() || path[0] != '/' || !apply_path(path, parts)) return {};
  return join_absolute(parts);
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
  return std::any_of(components.begin(), components.end(),
                     [](const std::string& c) { return !glob::literal_value(c); });
}

// Leading `..` components count as literal: they are resolved when binding.
std::size_t PathPattern::literal_prefix_length() const {
  std::size_t n = 0;
  while (n < components.size() && glob::literal_value(components[n])) ++n;
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
    if (p.broken || !glob::check_component(raw, p.begin, true, &errors, &canon)) continue;
    auto literal = glob::literal_value(canon);
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
  out.spelled_as_directory = (!text.empty() && text.back() == '/') || (!parsed.empty() && parsed.back().text == "**");
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

std::optional<BoundPrefix> bind_literal_prefix(const PathPattern& pattern, const PathBindings& bindings) {
  const std::string dir = bindings.directory(pattern.anchor);
  std::vector<std::string> parts;
  if (dir.empty() || !apply_path(dir, parts)) return std::nullopt;
  std::size_t k = 0;
  for (; k < pattern.components.size() && pattern.components[k] == ".."; ++k) {
    if (parts.empty()) return std::nullopt;
    parts.pop_back();
  }
  BoundPrefix out;
  for (; k < pattern.components.size(); ++k) {
    const auto literal = glob::literal_value(pattern.components[k]);
    if (!literal) break;
    parts.push_back(*literal);
  }
  out.prefix = join_absolute(parts);
  out.rest.assign(pattern.components.begin() + static_cast<std::ptrdiff_t>(k), pattern.components.end());
  return out;
}

std::optional<std::string> bind_path_pattern(const PathPattern& pattern, const PathBindings& bindings) {
  const auto bound = bind_literal_prefix(pattern, bindings);
  if (!bound) return std::nullopt;
  std::vector<std::string> parts;
  apply_path(bound->prefix, parts);
  std::string out;
  for (const auto& p : parts) out += "/" + glob::escape_literal(p);
  for (const auto& c : bound->rest) out += "/" + c;
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
  // Names are decoded only if some component is a real glob; a literal
  // component (most of them) is a plain string comparison.
  std::vector<std::vector<std::uint32_t>> units;
  std::vector<char> reach(m + 1, 0), next(m + 1);
  reach[base.size()] = 1;
  for (; k < comps.size(); ++k) {
    std::fill(next.begin(), next.end(), 0);
    bool any = false;
    if (comps[k] == "**") {
      for (std::size_t j = 0; j <= m; ++j) next[j] = any = any || reach[j];
    } else if (const auto literal = glob::literal_value(comps[k])) {
      for (std::size_t j = 0; j < m; ++j) {
        if (reach[j] && names[j] == *literal) next[j + 1] = 1, any = true;
      }
    } else {
      const auto compiled = glob::compile(comps[k]);
      if (!compiled) return false;
      if (units.empty()) {
        for (const auto& n : names) units.push_back(glob::decode_name(n));
      }
      for (std::size_t j = 0; j < m; ++j) {
        if (reach[j] && glob::matches(*compiled, units[j])) next[j + 1] = 1, any = true;
      }
    }
    if (!any) return false;
    reach.swap(next);
  }
  return true;
}

bool glob_component_matches(std::string_view component, std::string_view name) {
  if (name.find('/') != kNpos) return false;
  const auto compiled = glob::compile(component);
  return compiled && glob::matches(*compiled, glob::decode_name(name));
}

}  // namespace sbpolicy::sema
