// Path patterns: parsing, normalisation, binding and matching.
//
// A path pattern is written relative to an anchor: `/` (the root), `~` or
// `$HOME` (the invoking user's home), `.` or `$WORKSPACE` (the workspace),
// `$TMPDIR`, or one of the `$XDG_*` base directories. Patterns stay symbolic
// (anchor + components) in the IR; they are bound to real directories only
// when a target is lowered or the reference evaluator runs.
//
// Normalisation makes every spelling of one set of paths identical: `//` and
// trailing `/` vanish, `.` components vanish, `..` is resolved lexically
// (leading `..` of a non-root anchor is kept and resolved at bind time), and
// a trailing `**` is dropped because every pattern already covers the paths
// below what it matches ("~/.ssh" == "~/.ssh/" == "~/.ssh/**").
//
// Glob syntax inside one component: `*` (any run of characters except `/`),
// `?` (one character except `/`), `[abc]`, `[a-z]`, `[!x]`/`[^x]` classes,
// `{a,b}` alternatives (no `/` inside), and `\x` for a literal x. `**` must be
// a whole component and spans any number of components, including none.
//
// Matching ("covers" semantics): a pattern matches an absolute, normalised
// subject path P when its glob matches P itself or any ancestor of P.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sema/pattern_error.hpp"

namespace sbpolicy::sema {

enum class PathAnchor : std::uint8_t {
  Root,           // /
  Home,           // ~, $HOME
  Workspace,      // ., $WORKSPACE
  Tmpdir,         // $TMPDIR
  XdgConfigHome,  // $XDG_CONFIG_HOME
  XdgCacheHome,   // $XDG_CACHE_HOME
  XdgDataHome,    // $XDG_DATA_HOME
  XdgStateHome,   // $XDG_STATE_HOME
  XdgRuntimeDir,  // $XDG_RUNTIME_DIR
};
inline constexpr int kPathAnchorCount = 9;

// The canonical spelling of an anchor: "/", "~", ".", "$TMPDIR", "$XDG_CONFIG_HOME", ...
std::string_view anchor_spelling(PathAnchor anchor);

struct PathPattern {
  PathAnchor anchor = PathAnchor::Root;
  // Normalised components below the anchor. Leading ".." entries are only
  // possible for non-root anchors. Never a trailing "**". Empty means the
  // anchor directory itself (and so everything under it).
  std::vector<std::string> components;

  // True when some component contains glob syntax (`*`, `?`, `[`, `{`).
  bool has_glob() const;
  // Number of leading components that are plain names (no glob, no escapes needed).
  std::size_t literal_prefix_length() const;
  // The spelling ends in `/` or `/**` ("~/.npm/_cacache/"): the author says
  // the pattern names a directory. It matches the same paths either way;
  // only sbrun reads it, to create a granted directory that is missing
  // (runtime/granted_directories.hpp). Not part of the comparisons.
  bool spelled_as_directory = false;

  // The canonical text: "/", "/etc", "~", "~/.ssh", ".", "./src/**/.env", "$TMPDIR/x".
  std::string text() const;

  friend bool operator==(const PathPattern& a, const PathPattern& b) {
    return a.anchor == b.anchor && a.components == b.components;
  }
  friend auto operator<=>(const PathPattern& a, const PathPattern& b) {
    if (const auto c = a.anchor <=> b.anchor; c != 0) return c;
    return a.components <=> b.components;
  }
};

// Parses and normalises the decoded text of a path pattern string literal.
// Errors carry offsets into `text`: E0300 (not anchored: looks like a host or
// a bare name), E0302 (bad glob), E0303 (`..` above `/`), E0304 (unknown
// `$VARIABLE`), E0310 (empty), E0311 (control character or NUL).
std::variant<PathPattern, PatternErrors> parse_path_pattern(std::string_view text);

// Real directories for each anchor: absolute, normalised paths.
struct PathBindings {
  std::string home;
  std::string workspace;
  std::string tmpdir = "/tmp";
  // When empty, the XDG defaults apply: ~/.config, ~/.cache, ~/.local/share,
  // ~/.local/state; an empty runtime dir binds to /run/user/<uid>.
  std::string xdg_config_home, xdg_cache_home, xdg_data_home, xdg_state_home, xdg_runtime_dir;

  // The absolute directory for `anchor` ("/" for Root).
  std::string directory(PathAnchor anchor) const;
};

// Lexically normalises an absolute path or a path relative to the workspace
// (`~`, `~/x`, `./x`, `x`, `/x`): the subject of a decision. Returns nullopt and
// sets `error` when the path climbs above `/` or contains NUL.
std::optional<std::string> normalize_subject_path(std::string_view text, const PathBindings& bindings,
                                                  std::string* error);

// The pattern bound to real directories, split where the globs start: the
// absolute literal prefix (anchor directory, leading `..` resolved, literal
// components unescaped) and the glob components after it. Nullopt when the
// anchor is unknown or a leading `..` climbs above `/`.
struct BoundPrefix {
  std::string prefix;
  std::vector<std::string> rest;
};
std::optional<BoundPrefix> bind_literal_prefix(const PathPattern& pattern, const PathBindings& bindings);

// The pattern as an absolute glob: the anchor's directory with its glob
// characters escaped, then the components. Leading `..` components are
// resolved here; nullopt when they climb above `/`.
std::optional<std::string> bind_path_pattern(const PathPattern& pattern, const PathBindings& bindings);

// Does `pattern` (bound with `bindings`) match the absolute normalised path
// `subject` or one of its ancestors? This is the reference matcher: a direct
// component-by-component glob match, no regular expressions.
bool path_matches(const PathPattern& pattern, const PathBindings& bindings, std::string_view subject);

// Matches one glob component (no `/`) against one name. Exposed for tests.
bool glob_component_matches(std::string_view glob, std::string_view name);

}  // namespace sbpolicy::sema
