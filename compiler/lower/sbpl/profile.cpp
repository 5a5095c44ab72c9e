#include "lower/sbpl/profile.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>

#include "lower/sbpl/glob_regex.hpp"

namespace sbpolicy::lower::sbpl {

namespace {

using ir::Effect;
using ir::Operation;

// A string for the profile: printable ASCII only reaches it (paths and
// regexes are parameters), so escaping `"` and `\` is all there is.
std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

class Emitter {
 public:
  explicit Emitter(const SbplOptions& options) : options_(options) {}

  // A parameter holding `value`, once per distinct value.
  std::string param(const std::string& value) {
    if (auto it = by_value_.find(value); it != by_value_.end()) return it->second;
    std::string name = fmt::format("P{}", params_.size());
    params_.emplace_back(name, value);
    return by_value_.emplace(value, fmt::format("(param \"{}\")", name)).first->second;
  }

  // The filter of a path pattern for `side`, or nullopt when it cannot be
  // written (an allow then grants nothing there).
  std::optional<std::string> path_filter(const sema::PathPattern& pattern, RegexSide side) {
    auto bound = sema::bind_literal_prefix(pattern, options_.bindings);
    if (!bound) return std::nullopt;
    const std::string prefix = canonical_macos_path(bound->prefix);
    if (bound->rest.empty()) {
      // A literal path: `subpath` (the path and everything below it), and for
      // a deny also `literal` and a case-insensitive regex.
      if (side == RegexSide::Allow) return fmt::format("(subpath {})", param(prefix));
      const std::string p = param(prefix);
      return fmt::format("(require-any (literal {}) (subpath {}) (regex {}))", p, p,
                         param(pattern_regex(prefix, {}, side).value()));
    }
    auto re = pattern_regex(prefix, bound->rest, side);
    if (!re) return std::nullopt;
    return fmt::format("(regex {})", param(*re));
  }

  // `pattern` minus its excepts: (require-all P (require-not E)…).
  std::optional<std::string> rule_filter(const ir::Rule& r, RegexSide side) {
    const auto* path = std::get_if<sema::PathPattern>(&r.pattern);
    if (path == nullptr) return std::nullopt;
    auto f = path_filter(*path, side);
    if (!f) return std::nullopt;
    std::string excepts;
    for (const auto& e : r.excepts) {
      const auto* ep = std::get_if<sema::PathPattern>(&e);
      if (ep == nullptr) continue;
      // An except narrows the rule: for an allow it must cover at least
      // what it says (its deny-side regex), for a deny at most (allow side).
      auto ef = path_filter(*ep, side == RegexSide::Allow ? RegexSide::Deny : RegexSide::Allow);
      if (!ef) {
        if (side == RegexSide::Allow) return std::nullopt;  // cannot narrow the grant: grant nothing
        continue;  // a deny that cannot be narrowed covers more
      }
      excepts += " (require-not " + *ef + ")";
    }
    if (excepts.empty()) return f;
    return "(require-all " + *f + excepts + ")";
  }

  std::vector<std::pair<std::string, std::string>> take_params() { return std::move(params_); }

 private:
  const SbplOptions& options_;
  std::vector<std::pair<std::string, std::string>> params_;
  std::map<std::string, std::string> by_value_;
};

bool takes_effect(const ir::Rule& r, const SbplOptions& o, Effect want) {
  if (want == Effect::Allow) {
    return r.effect == Effect::Allow || (r.effect == Effect::Ask && o.asks_allowed.count(r.id) != 0);
  }
  return r.effect == Effect::Deny;
}

std::string message(const std::string& tag, const ir::Rule& r) {
  // A protection of every sandbox has no line: its origin is its name.
  const std::string origin = r.origin.target.line == 0 ? r.origin.target.file : r.origin.target.text();
  return quoted(fmt::format("{}rule {} {} {} \"{}\" {}", tag, r.id, sema::effect_name(r.effect),
                            sema::operation_name(r.operation), sema::pattern_text(r.pattern), origin));
}

std::string any_of(const std::vector<std::string>& filters) {
  if (filters.size() == 1) return filters.front();
  std::string out = "(require-any";
  for (const auto& f : filters) out += "\n    " + f;
  return out + ")";
}

// The ancestors of `path`, itself included, up to but not including `/`.
std::vector<std::string> self_and_ancestors(std::string path) {
  std::vector<std::string> out;
  while (path.size() > 1) {
    out.push_back(path);
    path = path.substr(0, std::max<std::size_t>(path.rfind('/'), 1));
  }
  return out;
}

}  // namespace

const std::vector<std::string>& baseline_read_subpaths() {
  static const std::vector<std::string> kPaths = {
      // /System/Library, not /System: /System/Volumes/Data is every user's files.
      "/usr/lib",        "/usr/share",          "/System/Library",  "/private/var/db/dyld",
      "/System/Cryptexes/OS", "/System/Volumes/Preboot/Cryptexes/OS", "/private/var/db/timezone",
      "/Library/Apple/System/Library/Frameworks", "/usr/bin", "/bin", "/usr/sbin", "/sbin"};
  return kPaths;
}

static const std::vector<std::string>& startup_read_files() {
  static const std::vector<std::string> kFiles = {"/dev/null",          "/dev/zero",           "/dev/random",
                                                  "/dev/urandom",       "/dev/dtracehelper",   "/dev/tty",
                                                  "/dev/ptmx",          "/private/etc/passwd", "/private/etc/services",
                                                  "/private/etc/protocols"};
  return kFiles;
}

bool in_startup_reads(const std::string& path) {
  if (path == "/") return true;
  for (const std::string& f : startup_read_files()) {
    if (path == f) return true;
  }
  for (const std::string& d : baseline_read_subpaths()) {
    if (path == d || (path.starts_with(d) && path[d.size()] == '/')) return true;
  }
  return false;
}

std::string canonical_macos_path(const std::string& path) {
  for (const char* link : {"/tmp", "/var", "/etc"}) {
    const std::string l = link;
    if (path == l || path.starts_with(l + "/")) return "/private" + path;
  }
  return path;
}

SbplProfile lower_to_sbpl(const ir::Policy& policy, const SbplOptions& options) {
  Emitter e(options);
  std::string out;
  out += ";; Generated by sbc from the policy's IR (docs/sbpl.md). Paths are parameters.\n";
  out += "(version 1)\n";
  // "sbpolicy " and the run's tag: what every message of this profile starts with.
  const std::string tag = options.run_tag.empty() ? "sbpolicy " : "sbpolicy " + options.run_tag + " ";
  out += "(deny default (with message " + quoted(tag + "default deny") + "))\n\n";

  // Denies per family: read denies also deny writes (the reference
  // evaluator: deny read implies deny write).
  std::vector<std::string> read_denies, write_denies, unix_denies;
  std::string deny_rules;
  // The directories a protection lies in: renaming one (`mv .git g`, write
  // `g/hooks/x`, `mv g .git`) would carry the protected path out from under
  // its rule, so none can be unlinked. As regexes, folding case like the
  // denies: the literal prefix's directories, and each directory a glob
  // component of the pattern matches on the way down.
  std::set<std::string> protected_directories;
  for (const ir::Rule& r : policy.rules) {
    if (!takes_effect(r, options, Effect::Deny) || !sema::takes_paths(r.operation)) continue;
    auto f = e.rule_filter(r, RegexSide::Deny);
    auto bound = sema::bind_literal_prefix(std::get<sema::PathPattern>(r.pattern), options.bindings);
    if (!f || !bound) {
      return SbplProfile{{}, {}, fmt::format("rule {} (`{} {} \"{}\"` at {}) cannot be written for macOS", r.id,
                                              sema::effect_name(r.effect), sema::operation_name(r.operation),
                                              sema::pattern_text(r.pattern), r.origin.target.text()),
                         {}, {}};
    }
    const std::string prefix = canonical_macos_path(bound->prefix);
    for (const std::string& a : self_and_ancestors(prefix)) {
      protected_directories.insert(pattern_regex(a, {}, RegexSide::Deny, /*exact=*/true).value());
    }
    for (std::size_t k = 1; k < bound->rest.size(); ++k) {
      const std::vector<std::string> part(bound->rest.begin(), bound->rest.begin() + static_cast<std::ptrdiff_t>(k));
      // After `**` a rename keeps the path under the pattern (any depth):
      // only the fixed-depth directories matter.
      if (part.back() == "**") continue;
      protected_directories.insert(pattern_regex(prefix, part, RegexSide::Deny, /*exact=*/true).value());
    }
    if (r.operation == Operation::Read) {
      read_denies.push_back(*f);
      write_denies.push_back(*f);
      deny_rules += fmt::format("(deny file-read* file-write* {}\n  (with message {}))\n", *f, message(tag, r));
    } else if (r.operation == Operation::Write) {
      write_denies.push_back(*f);
      deny_rules += fmt::format("(deny file-write* {}\n  (with message {}))\n", *f, message(tag, r));
    } else {
      unix_denies.push_back(*f);
      deny_rules += fmt::format("(deny network-outbound (remote unix-socket {})\n  (with message {}))\n", *f,
                                message(tag, r));
    }
  }

  const auto minus = [](const std::string& grants, const std::vector<std::string>& denies) {
    if (denies.empty()) return grants;
    return "(require-all " + grants + "\n  (require-not " + any_of(denies) + "))";
  };

  // What a process needs to start (notes §4.1), minus the policy's denies.
  out += ";; What a process needs to start (dyld, frameworks, devices), minus the policy's denies.\n";
  out += "(allow process-fork)\n";
  out += "(allow signal (target same-sandbox))\n";
  out += "(allow sysctl-read)\n";
  // Services: user and group names, logging, certificate checks (TLS), the
  // network configuration. Not the preferences daemon (any app's settings)
  // nor the keychain's SecurityServer.
  out += "(allow mach-lookup (global-name \"com.apple.system.opendirectoryd.libinfo\" \"com.apple.system.logger\"\n"
         "  \"com.apple.logd\" \"com.apple.trustd.agent\" \"com.apple.ocspd\"\n"
         "  \"com.apple.SystemConfiguration.configd\"))\n";
  out += "(allow pseudo-tty)\n";
  {
    std::vector<std::string> reads = {"(literal \"/\")"};
    for (const std::string& p : baseline_read_subpaths()) reads.push_back(fmt::format("(subpath {})", e.param(p)));
    for (const std::string& file : startup_read_files()) {
      reads.push_back(fmt::format("(literal {})", e.param(file)));
    }
    // The command's own terminals, never every terminal of the user.
    for (const std::string& t : options.terminals) reads.push_back(fmt::format("(literal {})", e.param(t)));
    out += "(allow file-read* " + minus(any_of(reads), read_denies) + ")\n";
    std::vector<std::string> metadata;
    for (const char* link : {"/tmp", "/var", "/etc"}) metadata.push_back(fmt::format("(literal {})", e.param(link)));
    // The directories above the workspace and the home, for realpath().
    std::set<std::string> above;
    for (const std::string& root : {options.bindings.workspace, options.bindings.home}) {
      if (root.empty()) continue;
      for (const std::string& a : self_and_ancestors(canonical_macos_path(root))) above.insert(a);
    }
    for (const std::string& a : above) metadata.push_back(fmt::format("(literal {})", e.param(a)));
    out += "(allow file-read-metadata " + minus(any_of(metadata), read_denies) + ")\n";
    std::vector<std::string> devices;
    for (const char* dev : {"/dev/null", "/dev/zero", "/dev/tty", "/dev/ptmx"}) {
      devices.push_back(fmt::format("(literal {})", e.param(dev)));
    }
    for (const std::string& t : options.terminals) devices.push_back(fmt::format("(literal {})", e.param(t)));
    out += "(allow file-write-data file-ioctl " + minus(any_of(devices), write_denies) + ")\n\n";
  }

  // The policy's grants: write implies read.
  std::vector<std::string> reads, writes, sockets, narrowed;
  std::vector<std::uint32_t> narrowed_rules;
  std::string grant_notes;
  if (!options.private_tmp.empty()) {
    const std::string t = fmt::format("(subpath {})", e.param(canonical_macos_path(options.private_tmp)));
    reads.push_back(t);
    writes.push_back(t);
    grant_notes += ";; the run's own temporary directory (TMPDIR)\n";
  }
  for (const ir::Rule& r : policy.rules) {
    if (!takes_effect(r, options, Effect::Allow) || !sema::takes_paths(r.operation)) continue;
    auto f = e.rule_filter(r, RegexSide::Allow);
    grant_notes += fmt::format(";; rule {}: {} {} \"{}\" ({}){}\n", r.id, sema::effect_name(r.effect),
                               sema::operation_name(r.operation), sema::pattern_text(r.pattern),
                               r.origin.target.text(), f ? "" : ": cannot be written as a regex; not granted");
    if (!f) {
      narrowed.push_back(fmt::format("rule {} (`{} {} \"{}\"` at {}) cannot be written for macOS and grants nothing there",
                                     r.id, sema::effect_name(r.effect), sema::operation_name(r.operation),
                                     sema::pattern_text(r.pattern), r.origin.target.text()));
      narrowed_rules.push_back(r.id);
      continue;
    }
    if (r.operation == Operation::Read) {
      reads.push_back(*f);
    } else if (r.operation == Operation::Write) {
      reads.push_back(*f);
      writes.push_back(*f);
    } else {
      sockets.push_back(*f);
    }
  }
  out += ";; The policy's grants, each family minus every deny of it: allow and deny never overlap.\n";
  out += grant_notes;
  if (!reads.empty()) out += "(allow file-read* " + minus(any_of(reads), read_denies) + ")\n";
  // A program runs from where it can be read: what starts a process, and
  // the policy's reads, never a read-protected path.
  {
    std::vector<std::string> runnable = reads;
    for (const std::string& p : baseline_read_subpaths()) runnable.push_back(fmt::format("(subpath {})", e.param(p)));
    out += "(allow process-exec " + minus(any_of(runnable), read_denies) + ")\n";
  }
  if (!writes.empty()) out += "(allow file-write* " + minus(any_of(writes), write_denies) + ")\n";
  if (!sockets.empty()) {
    std::vector<std::string> remote;
    for (const auto& s : sockets) remote.push_back("(remote unix-socket " + s + ")");
    std::vector<std::string> remote_denies;
    for (const auto& d : unix_denies) remote_denies.push_back("(remote unix-socket " + d + ")");
    out += "(allow network-outbound " + minus(any_of(remote), remote_denies) + ")\n";
    out += "(allow system-socket (socket-domain AF_UNIX))\n";
  }
  out += "\n;; The policy's denies.\n" + deny_rules;
  if (!protected_directories.empty()) {
    std::vector<std::string> regexes;
    for (const auto& re : protected_directories) regexes.push_back(fmt::format("(regex {})", e.param(re)));
    out += "(deny file-write-unlink " + any_of(regexes) + "\n  (with message " +
           quoted(tag + "a protected path or a directory above it cannot be renamed or removed") + "))\n";
  }
  out += "\n;; The network: only the proxy, on localhost.\n";
  if (options.proxy_port > 0) {
    out += fmt::format("(allow network-outbound (remote tcp \"localhost:{}\"))\n", options.proxy_port);
  } else {
    out += ";; no proxy port given: no network\n";
  }
  return SbplProfile{std::move(out), e.take_params(), {}, std::move(narrowed), std::move(narrowed_rules)};
}

}  // namespace sbpolicy::lower::sbpl
