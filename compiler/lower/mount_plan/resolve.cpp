// Stage 3: every path a rule names or its glob found, resolved for its
// role, becomes a concrete rule on a canonical path.
//
// What resolves into the sandbox's own /proc or /dev is not mounted from
// the host: a denial there becomes a system denial (applied over the fresh
// mounts), a grant is W0102. A `unix` rule becomes a literal rule for the
// socket decision, and a `unix` grant names the sockets it may expose.
#include <fmt/format.h>

#include <algorithm>

#include "lower/mount_plan/stages.hpp"
#include "lower/resolved_paths.hpp"
#include "sema/glob.hpp"
#include "support/text.hpp"

namespace sbpolicy::lower::plan {
namespace {

// Is `path` one that names a different file for every process:
// /proc/self, /proc/thread-self, /proc/PID, /dev/fd, /dev/std{in,out,err}?
bool per_process_path(std::string_view path) {
  const auto parts = split_path(path);
  if (parts.size() < 2) return false;
  if (parts[0] == "proc") {
    return parts[1] == "self" || parts[1] == "thread-self" ||
           std::all_of(parts[1].begin(), parts[1].end(), text::is_digit);
  }
  return parts[0] == "dev" && (parts[1] == "fd" || parts[1] == "stdin" || parts[1] == "stdout" || parts[1] == "stderr");
}

// Is `path` (canonical) inside the sandbox's own /proc or /dev?
bool system_path(const std::string& path) {
  const std::string_view top = first_component(path);
  return top == "proc" || top == "dev";
}

class Resolution {
 public:
  Resolution(LoweringContext& cx, PathResolver& resolver, const BoundRules& bound, const GlobExpansion& expansion)
      : cx_(cx), resolver_(resolver), bound_(bound), expansion_(expansion) {}

  ResolvedRules run() {
    for (const BoundRule& b : bound_.rules) resolve_rule(b);
    keep_anchor_links();
    return std::move(out_);
  }

 private:
  const std::string* wildcard_root(const BoundPattern& p) const {
    return p.query == kNoQuery ? nullptr : &bound_.queries[p.query].root;
  }

  std::vector<std::string> paths_of(const BoundPattern& p) const {
    if (!p.ok || p.dropped) return {};
    if (p.query == kNoQuery) return {p.literal};
    return expansion_.matches[p.query];
  }

  void resolve_rule(const BoundRule& b) {
    const ir::Rule& r = *b.rule;
    std::vector<std::string> except_paths;
    for (std::size_t i = 0; i < b.excepts.size(); ++i) {
      const BoundPattern& e = b.excepts[i];
      const std::string written = sema::pattern_text(r.excepts[i]);
      for (const std::string& path : paths_of(e)) {
        // Not followed: an except of a deny (the deny covers more), or refused (failed).
        const auto c = resolver_.resolve(path, b.except_role, r, wildcard_root(e), e.query == kNoQuery ? written : path);
        if (c) except_paths.push_back(c->path);
      }
    }
    const std::string written = sema::pattern_text(r.pattern);
    std::set<std::string> resolved;  // a protection's glob can reach one object by several ways
    for (const std::string& raw : paths_of(b.target)) {
      const auto c = resolver_.resolve(raw, b.role, r, wildcard_root(b.target),
                                       b.target.query == kNoQuery ? written : raw);
      if (!c) continue;
      const bool again = !resolved.insert(c->path).second;
      // `/dev/stdin` resolves to whatever sbrun's stdin is now: judged by
      // the way there, not only by where it led.
      const bool per_process = per_process_path(raw) || std::any_of(c->links.begin(), c->links.end(),
                                                                      [](const SymlinkStep& l) {
                                                                        return per_process_path(l.link);
                                                                      });
      if (system_path(c->path) || per_process) {
        if (b.effect == ir::Effect::Deny && r.operation != ir::Operation::Unix) {
          deny_system_path(c->path, r, raw, per_process);
        } else {
          cx_.fidelity(Code::W0102, r,
                       fmt::format("`{}` is inside the sandbox's own /proc or /dev and is not mounted from the host",
                                   written));
        }
        continue;
      }
      if (b.effect == ir::Effect::Allow) {
        for (const auto& l : c->links) out_.grant_links.emplace_back(l.link, l.target);
      }
      if (r.operation == ir::Operation::Unix) {
        ir::Rule concrete{r.id, b.effect, r.operation, literal_pattern(c->path), {}, r.origin};
        for (const auto& e : except_paths) concrete.excepts.push_back(literal_pattern(e));
        if (b.effect == ir::Effect::Allow && c->exists) add_unix_sockets(c->path, r);
        out_.unix_rules.rules.push_back(std::move(concrete));
        continue;
      }
      if (!again) out_.rules.push_back({r.id, b.effect, r.operation, c->path, except_paths});
    }
  }

  // A denial inside the sandbox's own /proc or /dev holds over the fresh
  // mount: what is the same object for every process (a global /proc entry,
  // a device node bubblewrap makes) is hidden, or made read-only, after the
  // mount; what does not exist there holds already. What differs per process
  // (/proc/self, /proc/PID, /dev/fd, /dev/stdin) no mount can hide, and
  // /proc cannot be hidden whole (the init starts through /proc/self/fd):
  // E0403, as every denial the target cannot enforce stops the launch.
  void deny_system_path(const std::string& path, const ir::Rule& r, const std::string& lexical, bool per_process) {
    Access access = r.operation == ir::Operation::Read ? Access::None : Access::ReadOnly;
    const auto parts = split_path(path);
    const auto refuse = [&](std::string_view why, std::string help) {
      // The lexical path only: where /proc/self leads is a different pid every run.
      cx_.diags
          .report(Code::E0403, r.origin.target.span,
                  fmt::format("`{}` cannot be denied inside the sandbox: {}", lexical, why))
          .label("this denial cannot be enforced")
          .help(std::move(help));
      cx_.failed = true;
    };
    if (per_process || per_process_path(path)) {
      refuse("it is a different file for every process",
             "drop the rule: inside, these are the sandboxed processes' own files and descriptors");
      return;
    }
    if (parts.front() == "proc") {
      if (parts.size() == 1 && access == Access::None) {
        refuse("the sandbox's init starts through /proc, and most programs need it",
               "deny the entries that must stay hidden (`/proc/cpuinfo`), or deny writing `/proc`");
        return;
      }
      if (parts.size() >= 2 && access == Access::ReadOnly) {
        // Already read-only: the kernel's settings are bound read-only over /proc.
        const bool settings =
            std::find(std::begin(kProcReadOnly), std::end(kProcReadOnly), parts[1]) != std::end(kProcReadOnly);
        if (settings) return;
      }
      if (parts.size() >= 2 && cx_.fs.kind(path) == FileKind::Missing) return;  // not in any /proc of this kernel
    } else {
      const bool in_sandbox_dev =
          parts.size() < 2 ||
          std::find(std::begin(kSandboxDev), std::end(kSandboxDev), parts[1]) != std::end(kSandboxDev);
      if (!in_sandbox_dev) return;  // not in the sandbox's /dev: nothing to hide
      if (parts.size() > 2) {
        refuse(parts[1] == "shm" ? "the sandbox's /dev/shm is its own, empty at start"
                                 : "the entries below it are made per terminal",
               fmt::format("deny the whole `/dev/{}`, or drop the rule", parts[1]));
        return;
      }
      if (access == Access::ReadOnly) {
        // A device stays writable on a read-only mount: /dev, or a device in
        // it, is hidden instead; so is the private /dev/shm, empty but for
        // what the command itself would write there.
        const bool shm = parts.size() == 2 && parts[1] == "shm";
        cx_.fidelity(Code::W0102, r,
                     shm ? fmt::format("`{}`: a write denial hides the sandbox's own /dev/shm, which only the command "
                                       "could fill",
                                       lexical)
                         : fmt::format("`{}`{}: a write denial hides it, since a read-only mount does not stop writes "
                                       "to a device",
                                       lexical, parts.size() == 1 ? "" : " is a device"));
        access = Access::None;
      }
    }
    SystemDenial& d = out_.system_denials[path];
    d.access = std::min(d.access, access);
    d.rules.push_back(r.id);
  }

  // What a `unix` grant can expose: sockets, and only sockets. A grant of a
  // socket names it; a grant of a directory names the sockets inside it (a
  // bounded walk, symlinks not followed); anything else is nothing to bind.
  // (Binding the named path itself made a directory or a file writable, past
  // every read and write deny on it.)
  void add_unix_sockets(const std::string& path, const ir::Rule& rule) {
    const FileKind kind = cx_.fs.kind(path);
    if (kind == FileKind::Socket) {
      out_.unix_sockets.insert(path);
      return;
    }
    if (kind != FileKind::Directory) return;
    const bool whole =
        cx_.walk_below({path}, unix_walked_, kUnixWalkBudget, [&](const std::string& child, const DirEntry& e) {
          if (e.kind == FileKind::Socket) out_.unix_sockets.insert(child);
          return true;
        });
    if (!whole) {
      // Sockets past the walk's budget stay unreachable: fewer grants, said aloud.
      auto d = cx_.diags.report(Code::W0103, rule.origin.target.span,
                                fmt::format("looking for sockets under `{}` stopped after {} entries; sockets further "
                                            "in are not bound",
                                            path, kUnixWalkBudget));
      d.label("on Linux (bubblewrap)").help("name the socket, or the directory that holds it");
      if (cx_.options.strict_for(rule)) {
        d.as_error();
        cx_.failed = true;
      }
    }
  }

  // The links on the way to the home and the workspace as given are
  // recreated (where no mount shows them), unless the command could have
  // planted them: then the paths it is told lead nowhere, which grants less.
  void keep_anchor_links() {
    for (const std::string& given : cx_.options.anchors_as_given) {
      if (given.empty() || given.front() != '/') continue;
      const CanonicalPath c = cx_.canonical(given);
      std::string parent;
      if (c.links.empty() || resolver_.link_in_writable_dir(c, parent) != nullptr) continue;
      for (const auto& l : c.links) out_.grant_links.emplace_back(l.link, l.target);
    }
  }

  static constexpr std::size_t kUnixWalkBudget = 10000;

  LoweringContext& cx_;
  PathResolver& resolver_;
  const BoundRules& bound_;
  const GlobExpansion& expansion_;
  ResolvedRules out_;
  std::size_t unix_walked_ = 0;
};

}  // namespace

ResolvedRules resolve_rules(LoweringContext& cx, PathResolver& resolver, const BoundRules& bound,
                            const GlobExpansion& expansion) {
  return Resolution(cx, resolver, bound, expansion).run();
}

}  // namespace sbpolicy::lower::plan
