#include "lower/mount_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>

#include "ir/evaluator.hpp"
#include "lower/glob_expand.hpp"
#include "lower/resolved_paths.hpp"
#include "sema/glob.hpp"
#include "support/text.hpp"

namespace sbpolicy::lower {

std::string_view mount_kind_name(Mount::Kind k) {
  switch (k) {
    case Mount::Kind::Bind: return "bind";
    case Mount::Kind::RoBind: return "ro-bind";
    case Mount::Kind::MaskDir: return "mask-dir";
    case Mount::Kind::RemountRo: return "remount-ro";
    case Mount::Kind::MaskFile: return "mask-file";
    case Mount::Kind::Symlink: return "symlink";
    case Mount::Kind::Proc: return "proc";
    case Mount::Kind::Dev: return "dev";
    case Mount::Kind::Tmpfs: return "tmpfs";
  }
  return "?";
}

std::vector<const ir::Rule*> launch_asks(const ir::Policy& policy) {
  std::vector<const ir::Rule*> out;
  for (const auto& r : policy.rules) {
    if (r.effect == ir::Effect::Ask && r.operation != ir::Operation::Net) out.push_back(&r);
  }
  return out;
}

namespace {

// Inside `top`, not `top` itself.
bool strictly_below(std::string_view path, std::string_view top) { return path != top && at_or_below(path, top); }

// "/usr/lib" -> "usr"; "/" -> "".
std::string_view first_component(std::string_view path) {
  path.remove_prefix(1);
  return path.substr(0, path.find('/'));
}

// Orders canonical absolute paths as their lists of components compare:
// '/' before every other byte, so a directory comes right before everything
// inside it ("/a", "/a/b", "/a-b"), which emit() relies on.
struct PathOrder {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const {
    const std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
      const auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
      if (x == y) continue;
      if (x == '/') return true;
      if (y == '/') return false;
      return x < y;
    }
    return a.size() < b.size();
  }
};

// Protected paths that git reads whenever they exist, so that a directory in
// their place would break git inside the sandbox: their placeholder is a
// file with this content. `.git/commondir` holds "." (the repository is its
// own common directory): git dies on any commondir it cannot read. (Inside
// `.git`, a file placeholder does not show in `git status`; elsewhere it
// would, and an agent might commit it, so other names keep directories.)
constexpr std::pair<std::string_view, std::string_view> kFilePlaceholders[] = {
    {"/.git/commondir", ".\n"}, {"/.git/config", ""}, {"/.git/config.worktree", ""}};

std::optional<std::string_view> file_placeholder_content(std::string_view path) {
  for (const auto& [suffix, content] : kFilePlaceholders) {
    if (path.size() > suffix.size() && path.substr(path.size() - suffix.size()) == suffix) return content;
  }
  return std::nullopt;
}

// One point of the plan: a path whose access is decided on its own.
struct Point {
  enum class Kind { Policy, Pin, Proc, Dev, PrivateTmp, PrivateShm, Symlink, UnixSocket, SystemDenial } kind = Kind::Policy;
  Access access = Access::None;
  std::vector<std::uint32_t> rules;
  std::string link_target;  // for Symlink
};

class Lowering {
 public:
  Lowering(const ir::Policy& policy, FsView& fs, const LowerOptions& o, Diagnostics& diags)
      : policy_(policy), fs_(fs), canonical_(fs), o_(o), diags_(diags) {}

  std::optional<MountPlan> run() {
    resolve_rules();
    if (failed_) return std::nullopt;
    keep_anchor_links();
    decide_unix_sockets();
    decide_points();
    mask_other_sockets();
    if (failed_) return std::nullopt;
    add_pins();
    bound_points();
    warn_links_out_of_denials();
    emit();
    plan_.env = environment();
    if (failed_) return std::nullopt;
    return std::move(plan_);
  }

 private:
  // --- Fidelity diagnostics --------------------------------------------------
  void fidelity(Code code, const ir::Rule& rule, std::string message) {
    auto key = std::make_pair(code, rule.id);
    if (!reported_.insert(key).second) return;
    auto d = diags_.report(code, rule.origin.target.span, std::move(message));
    d.label("on Linux (bubblewrap)");
    if (o_.target_strict) {
      d.as_error();
      failed_ = true;
    }
  }

  // --- Rules to concrete, canonical paths -------------------------------------
  //
  // Every path a rule names, or a glob finds, goes through resolve(): one
  // place that canonicalises it and applies the symlink policy of its role.
  //   Grant   (a grant's target; an except of a deny, which grants back):
  //           links the policy names are followed when they sit in a
  //           directory the command cannot write; a link in a writable
  //           directory could have been planted, and a link a wildcard found
  //           was named by nobody: either drops the path (W0101). A grant
  //           never reaches past a link to what it was not given.
  //   Protect (a deny's target; an except of a grant, which protects):
  //           links are followed, so the object behind them is protected,
  //           including links a wildcard found. A link in a writable
  //           directory could be swapped for a real path after launch, which
  //           the protection would no longer cover: the launch is refused
  //           (E0401), except for a read denial through a link a wildcard
  //           found, whose object stays hidden whatever the link becomes.
  enum class Role { Grant, Protect };
  static constexpr std::size_t kNoQuery = static_cast<std::size_t>(-1);

  struct PendingPattern {
    std::size_t query = kNoQuery;  // glob query index, or none
    std::string literal;                               // canonical-to-be path when not a glob
    bool ok = false;                                   // bound (a lost deny or except is E0402)
    bool dropped = false;                              // a grant not followed (W0101): nothing
  };

  PendingPattern prepare(const sema::PathPattern& p, Role role, const ir::Rule& rule) {
    PendingPattern out;
    const auto bound = sema::bind_literal_prefix(p, o_.bindings);
    if (!bound) return out;
    out.ok = true;
    if (bound->rest.empty()) {
      out.literal = bound->prefix;
    } else {
      // The literal prefix is named by the policy: its links are judged as
      // a literal path's would be, before anything is expanded below it.
      const CanonicalPath root = canonical_(bound->prefix);
      if (!resolve(root, role, rule, bound->prefix, nullptr, p.text())) {
        out.dropped = true;
        return out;
      }
      out.query = queries_.size();
      // Protections see what cannot be listed, and what links lead to.
      queries_.push_back({root.path, bound->rest, role == Role::Protect, role == Role::Protect});
    }
    return out;
  }

  // Judges the links `c` crossed for `role` (see above). `wildcard_root`:
  // the canonical directory a glob was expanded from, for a path the glob
  // found (the links below it were found, not named). False: do not use `c`
  // (dropped with W0101, or refused with E0401, which sets failed_).
  bool resolve(const CanonicalPath& c, Role role, const ir::Rule& r, const std::string& lexical,
               const std::string* wildcard_root, std::string_view shown) {
    if (anchor_moved(c, r)) return false;
    const bool found = wildcard_root != nullptr && !c.links.empty() && strictly_below(c.links.front().link, *wildcard_root);
    std::string parent;
    const SymlinkStep* replaceable = link_in_writable_dir(c, parent);
    if (role == Role::Grant) {
      if (replaceable != nullptr) {
        fidelity(Code::W0101, r,
                 fmt::format("`{}` goes through the symlink `{}` in writable `{}`; the grant is not followed",
                             shown, replaceable->link, parent));
        return false;
      }
      if (found) {
        const SymlinkStep& link = c.links.front();
        const std::string how = link.link == lexical
                                    ? fmt::format("it is a symlink (to `{}`)", link.target)
                                    : fmt::format("it goes through the symlink `{}` (to `{}`)", link.link, link.target);
        fidelity(Code::W0101, r,
                 fmt::format("`{}` was found by this rule's wildcard, but {}; a grant does not follow a link its "
                             "wildcard found",
                             lexical, how));
        return false;
      }
      return true;
    }
    if (replaceable == nullptr) return true;
    // Sockets are decided on their canonical paths, and nothing is mounted
    // for a denial of one: following the link only ever denies more.
    if (r.operation == ir::Operation::Unix) return true;
    if (found && r.operation == ir::Operation::Read) return true;
    diags_.report(Code::E0401, r.origin.target.span,
                  fmt::format("`{}` is protected, but `{}` is a symlink (to `{}`) in writable `{}`", lexical,
                              replaceable->link, replaceable->target, parent))
        .label("this protection could be walked around")
        .help("replace the symlink with the real file or directory, or deny writing its parent");
    failed_ = true;
    return false;
  }

  const std::string* wildcard_root(const PendingPattern& p) const {
    return p.query == kNoQuery ? nullptr : &queries_[p.query].root;
  }

  std::vector<std::string> paths_of(const PendingPattern& p) const {
    if (!p.ok || p.dropped) return {};
    if (p.query == kNoQuery) return {p.literal};
    return expansion_.matches[p.query];
  }

  // Is `path` one that names a different file for every process:
  // /proc/self, /proc/thread-self, /proc/PID, /dev/fd, /dev/std{in,out,err}?
  static bool per_process_path(std::string_view path) {
    const auto parts = split_path(path);
    if (parts.size() < 2) return false;
    if (parts[0] == "proc") {
      return parts[1] == "self" || parts[1] == "thread-self" ||
             std::all_of(parts[1].begin(), parts[1].end(), text::is_digit);
    }
    return parts[0] == "dev" && (parts[1] == "fd" || parts[1] == "stdin" || parts[1] == "stdout" || parts[1] == "stderr");
  }

  // Is `path` (canonical) inside the sandbox's own /proc or /dev?
  static bool system_path(const std::string& path) {
    const std::string_view top = first_component(path);
    return top == "proc" || top == "dev";
  }

  void resolve_rules() {
    struct Pending {
      const ir::Rule* rule;
      ir::Effect effect;
      Role role;         // of the target; the excepts have the other one
      Role except_role;
      PendingPattern target;
      std::vector<PendingPattern> excepts;
    };
    std::vector<Pending> pending;
    for (const ir::Rule& r : policy_.rules) {
      if (r.operation != ir::Operation::Read && r.operation != ir::Operation::Write &&
          r.operation != ir::Operation::Unix) {
        continue;
      }
      ir::Effect effect = r.effect;
      if (effect == ir::Effect::Ask) {
        if (o_.asks_allowed.count(r.id) == 0) continue;  // an ask not granted grants nothing
        effect = ir::Effect::Allow;
      }
      const Role role = effect == ir::Effect::Deny ? Role::Protect : Role::Grant;
      const Role except_role = role == Role::Protect ? Role::Grant : Role::Protect;
      Pending p{&r, effect, role, except_role, prepare(std::get<sema::PathPattern>(r.pattern), role, r), {}};
      for (const auto& e : r.excepts) p.excepts.push_back(prepare(std::get<sema::PathPattern>(e), except_role, r));
      pending.push_back(std::move(p));
    }
    // Dropping a deny, or an except of a grant, would grant more: fail closed.
    // (Every error is reported in one run: a refusal above does not stop this.)
    for (const Pending& p : pending) {
      const bool deny_lost = p.effect == ir::Effect::Deny && !p.target.ok;
      std::size_t lost_except = p.excepts.size();
      for (std::size_t i = 0; i < p.excepts.size() && p.effect != ir::Effect::Deny; ++i) {
        if (!p.excepts[i].ok) lost_except = std::min(lost_except, i);
      }
      if (deny_lost || lost_except < p.excepts.size()) {
        diags_.report(Code::E0402, p.rule->origin.target.span,
                      fmt::format("`{}` cannot be bound to a real directory here (unknown anchor, or `..` above `/`)",
                                  sema::pattern_text(deny_lost ? p.rule->pattern : p.rule->excepts[lost_except])))
            .label("would be left out")
            .help("check --workspace and $HOME, or write the path without climbing above `/`");
        failed_ = true;
      }
    }
    expansion_ = expand_globs(fs_, queries_, o_.glob_entry_budget);
    if (expansion_.budget_exceeded) {
      for (const Pending& p : pending) {
        if (p.target.query != kNoQuery && queries_[p.target.query].root == expansion_.budget_root) {
          diags_.report(Code::E0400, p.rule->origin.target.span,
                        fmt::format("expanding this glob walked more than {} entries under `{}`",
                                    o_.glob_entry_budget, expansion_.budget_root))
              .label("too broad to expand at launch")
              .help("give the glob a longer literal prefix, or use a plain subtree");
          break;
        }
      }
      if (!diags_.has_errors()) {
        diags_.report(Code::E0400, Span{}, fmt::format("glob expansion under `{}` walked more than {} entries",
                                                      expansion_.budget_root, o_.glob_entry_budget));
      }
      failed_ = true;
      return;
    }
    if (!expansion_.links_cut_short.empty()) {
      // Links no longer followed: protections beyond what the evaluator
      // promises (it decides on resolved paths) were left out. Said aloud.
      const auto cut = [&](const PendingPattern& q) {
        return q.query != kNoQuery && queries_[q.query].follow_links &&
               queries_[q.query].root == expansion_.links_cut_short;
      };
      for (const Pending& p : pending) {
        if (cut(p.target) || std::any_of(p.excepts.begin(), p.excepts.end(), cut)) {
          fidelity(Code::W0100, *p.rule,
                   fmt::format("symlinks under `{}` lead to more than {} entries; past them, links are not followed",
                               expansion_.links_cut_short, kLinkEntryBudget));
          break;
        }
      }
    }

    for (const Pending& p : pending) {
      const ir::Rule& r = *p.rule;
      const bool glob = p.target.query != kNoQuery ||
                        std::any_of(p.excepts.begin(), p.excepts.end(),
                                    [](const PendingPattern& e) { return e.query != kNoQuery; });
      if (glob) {
        fidelity(Code::W0100, r,
                 fmt::format("`{}` is expanded against the filesystem at launch; paths created later are not covered",
                             sema::pattern_text(r.pattern)));
      }
      std::vector<std::string> except_paths;
      for (std::size_t i = 0; i < p.excepts.size(); ++i) {
        const PendingPattern& e = p.excepts[i];
        const std::string written = sema::pattern_text(r.excepts[i]);
        for (const std::string& path : paths_of(e)) {
          const CanonicalPath c = canonical_(path);
          // Not followed: an except of a deny (the deny covers more), or refused (failed_).
          if (!resolve(c, p.except_role, r, path, wildcard_root(e), e.query == kNoQuery ? written : path)) continue;
          except_paths.push_back(c.path);
        }
      }
      const std::string written = sema::pattern_text(r.pattern);
      for (const std::string& raw : paths_of(p.target)) {
        const CanonicalPath c = canonical_(raw);
        if (!resolve(c, p.role, r, raw, wildcard_root(p.target), p.target.query == kNoQuery ? written : raw)) continue;
        // `/dev/stdin` resolves to whatever sbrun's stdin is now: judged by
        // the way there, not only by where it led.
        const bool per_process = per_process_path(raw) || std::any_of(c.links.begin(), c.links.end(), [](const SymlinkStep& l) {
                                   return per_process_path(l.link);
                                 });
        if (system_path(c.path) || per_process) {
          if (p.effect == ir::Effect::Deny && r.operation != ir::Operation::Unix) {
            deny_system_path(c.path, r, raw, per_process);
          } else {
            fidelity(Code::W0102, r,
                     fmt::format("`{}` is inside the sandbox's own /proc or /dev and is not mounted from the host",
                                 sema::pattern_text(r.pattern)));
          }
          continue;
        }
        if (p.effect == ir::Effect::Allow) {
          for (const auto& l : c.links) grant_links_.emplace_back(l.link, l.target);
        }
        if (r.operation == ir::Operation::Unix) {
          ir::Rule concrete{r.id, p.effect, r.operation, literal_pattern(c.path), {}, r.origin};
          for (const auto& e : except_paths) concrete.excepts.push_back(literal_pattern(e));
          if (p.effect == ir::Effect::Allow && c.exists) add_unix_candidates(c.path, r);
          unix_concrete_.rules.push_back(std::move(concrete));
          continue;
        }
        by_path_[c.path].push_back(concrete_.size());
        concrete_.push_back({r.id, p.effect, r.operation, except_paths});
        add_point(c.path);
        for (const auto& e : except_paths) add_point(e);
      }
    }
  }

  // A denial inside the sandbox's own /proc or /dev holds over the fresh
  // mount: what is the same object for every process (a global /proc entry,
  // a device node bubblewrap makes) is hidden, or made read-only, after the
  // mount; what does not exist there holds already. What differs per process
  // (/proc/self, /proc/PID, /dev/fd, /dev/stdin) no mount can hide: E0403,
  // as every denial the target cannot enforce stops the launch.
  void deny_system_path(const std::string& path, const ir::Rule& r, const std::string& lexical, bool per_process) {
    Access access = r.operation == ir::Operation::Read ? Access::None : Access::ReadOnly;
    const auto parts = split_path(path);
    const auto refuse = [&](std::string_view why) {
      // The lexical path only: where /proc/self leads is a different pid every run.
      diags_.report(Code::E0403, r.origin.target.span,
                    fmt::format("`{}` cannot be denied inside the sandbox: {}", lexical, why))
          .label("this denial cannot be enforced")
          .help("deny the whole `/proc` or `/dev`, or drop the rule");
      failed_ = true;
    };
    if (per_process || per_process_path(path)) {
      refuse("it is a different file for every process");
      return;
    }
    if (parts.front() == "proc") {
      if (parts.size() >= 2 && access == Access::ReadOnly) {
        // Already read-only: the kernel's settings are bound read-only over /proc.
        const bool settings = std::find(std::begin(kProcReadOnly), std::end(kProcReadOnly), parts[1]) != std::end(kProcReadOnly);
        if (settings) return;
      }
      if (parts.size() >= 2 && fs_.kind(path) == FileKind::Missing) return;  // not in any /proc of this kernel
    } else {
      // /dev: what bubblewrap's minimal /dev holds (the private /dev/shm too).
      static const std::set<std::string, std::less<>> kSandboxDev = {"null",   "zero", "full", "random", "urandom",
                                                                      "tty",    "ptmx", "pts",  "shm"};
      if (parts.size() >= 2 && kSandboxDev.count(parts[1]) == 0) return;  // not in the sandbox's /dev: nothing to hide
      if (parts.size() > 2) {
        refuse(parts[1] == "shm" ? "the sandbox's /dev/shm is its own, empty at start"
                                 : "the entries below it are made per terminal");
        return;
      }
      if (access == Access::ReadOnly) {
        // A device stays writable on a read-only mount: /dev, or a device in
        // it, is hidden instead; so is the private /dev/shm, empty but for
        // what the command itself would write there.
        const bool shm = parts.size() == 2 && parts[1] == "shm";
        fidelity(Code::W0102, r,
                 shm ? fmt::format("`{}`: a write denial hides the sandbox's own /dev/shm, which only the command "
                                   "could fill",
                                   lexical)
                     : fmt::format("`{}`{}: a write denial hides it, since a read-only mount does not stop writes "
                                   "to a device",
                                   lexical, parts.size() == 1 ? "" : " is a device"));
        access = Access::None;
      }
    }
    SystemDenial& d = system_denials_[path];
    d.access = std::min(d.access, access);
    d.rules.push_back(r.id);
  }

  // The links on the way to the home and the workspace as given are
  // recreated (where no mount shows them), unless the command could have
  // planted them: then the paths it is told lead nowhere, which grants less.
  void keep_anchor_links() {
    for (const std::string& given : o_.anchors_as_given) {
      if (given.empty() || given.front() != '/') continue;
      const CanonicalPath c = canonical_(given);
      std::string parent;
      if (c.links.empty() || link_in_writable_dir(c, parent) != nullptr) continue;
      for (const auto& l : c.links) grant_links_.emplace_back(l.link, l.target);
    }
  }

  // Walks the trees below `stack`'s directories depth first, never through
  // a symlink, calling visit(child, entry) for each entry, and descends into
  // a directory when visit returns true. `seen` counts the entries listed
  // (shared by the walks that share `budget`). False when the budget ran out
  // with directories left to list.
  template <class Visit>
  bool walk_below(std::vector<std::string> stack, std::size_t& seen, std::size_t budget, Visit visit) {
    std::vector<DirEntry> entries;
    while (!stack.empty()) {
      if (seen >= budget) return false;
      const std::string dir = std::move(stack.back());
      stack.pop_back();
      entries.clear();
      if (!fs_.list(dir, entries)) continue;
      seen += entries.size();
      for (const DirEntry& e : entries) {
        std::string child = dir == "/" ? "/" + e.name : dir + "/" + e.name;
        if (visit(child, e) && e.kind == FileKind::Directory) stack.push_back(std::move(child));
      }
    }
    return true;
  }

  // What a `unix` grant can expose: sockets, and only sockets. A grant of a
  // socket names it; a grant of a directory names the sockets inside it (a
  // bounded walk, symlinks not followed); anything else is nothing to bind.
  // (Binding the named path itself made a directory or a file writable, past
  // every read and write deny on it.)
  void add_unix_candidates(const std::string& path, const ir::Rule& rule) {
    const FileKind kind = fs_.kind(path);
    if (kind == FileKind::Socket) {
      unix_candidates_.insert(path);
      return;
    }
    if (kind != FileKind::Directory) return;
    const bool whole = walk_below({path}, unix_walked_, kUnixWalkBudget, [&](const std::string& child, const DirEntry& e) {
      if (e.kind == FileKind::Socket) unix_candidates_.insert(child);
      return true;
    });
    if (!whole) {
      // Sockets past the walk's budget stay unreachable: fewer grants, said aloud.
      auto d = diags_.report(Code::W0103, rule.origin.target.span,
                             fmt::format("looking for sockets under `{}` stopped after {} entries; sockets further in "
                                         "are not bound",
                                         path, kUnixWalkBudget));
      d.label("on Linux (bubblewrap)").help("name the socket, or the directory that holds it");
      if (o_.target_strict) {
        d.as_error();
        failed_ = true;
      }
    }
  }
  static constexpr std::size_t kUnixWalkBudget = 10000;
  std::size_t unix_walked_ = 0;

  // A socket is bound in only when the evaluator allows it over all `unix`
  // rules (a deny, or an except, wins over the grant that named it), and no
  // read or write denial names it: a deny holds over every grant.
  void decide_unix_sockets() {
    for (const std::string& path : unix_candidates_) {
      const ir::Decision d = ir::decide(unix_concrete_, ir::Operation::Unix, path, o_.bindings);
      if (d.effect != ir::Effect::Allow) continue;
      const ir::Decision read = ir::decide(policy_, ir::Operation::Read, path, o_.bindings);
      const ir::Decision write = ir::decide(policy_, ir::Operation::Write, path, o_.bindings);
      const auto denied = [](const ir::Decision& x) { return x.effect == ir::Effect::Deny && !x.deciding.empty(); };
      if (denied(read) || denied(write)) continue;
      unix_rules_.emplace(path, d.deciding.front()->id);
    }
  }

  // The first symlink on `c`'s way that sits in a directory the policy lets
  // the command write (so a run could have planted or could swap it), or null.
  const SymlinkStep* link_in_writable_dir(const CanonicalPath& c, std::string& parent) {
    for (const SymlinkStep& link : c.links) {
      parent = parent_of(link.link);
      auto [it, fresh] = writable_.try_emplace(parent, false);
      if (fresh) {
        // Over the whole policy (globs included): many paths go through the
        // same links (/bin, /lib64, a linked home), so each parent once.
        it->second = may_plant_in(policy_, o_.bindings, parent);
      }
      if (it->second) return &link;
    }
    return nullptr;
  }

  // The bindings were canonical when the launch began: a symlink at or above
  // the workspace or the home now means a process moved it meanwhile (to
  // point the workspace's grant at the home, say). Nothing is planned from
  // such a view: the launch fails, and can be tried again.
  bool anchor_moved(const CanonicalPath& c, const ir::Rule& r) {
    for (const SymlinkStep& link : c.links) {
      for (const std::string* anchor : {&o_.bindings.workspace, &o_.bindings.home}) {
        if (anchor->empty() || !at_or_below(*anchor, link.link)) continue;
        failed_ = true;
        if (anchor_moved_) return true;  // said once
        anchor_moved_ = true;
        diags_.report(Code::E0401, r.origin.target.span,
                      fmt::format("`{}` is a symlink now, but was not when the launch began: `{}` changed while the "
                                  "sandbox was being set up",
                                  link.link, *anchor))
            .label("this rule's path goes through it")
            .help("make sure nothing moves the workspace or the home during the launch, and run again");
        return true;
      }
    }
    return false;
  }

  // With a `unix` grant the filter allows AF_UNIX sockets, so every other
  // socket file visible at launch is masked (see W0103).
  void mask_other_sockets() {
    if (unix_rules_.empty()) return;
    for (const auto& [path, id] : unix_rules_) {
      fidelity(Code::W0103, policy_.rules[id],
               "other unix sockets in visible directories are masked at launch; ones created later stay reachable");
    }
    static const std::set<std::string> kSystemTrees = {"usr", "etc", "opt", "lib", "lib32", "lib64", "libx32",
                                                        "bin", "sbin", "proc", "dev", "sys"};
    std::vector<std::string> roots;
    for (const auto& entry : points_) {
      // Named, not structured, bindings: the lambda below captures them.
      const std::string& path = entry.first;
      const Point& p = entry.second;
      if (p.kind != Point::Kind::Policy || p.access == Access::None) continue;
      if (path != "/" && kSystemTrees.count(std::string(first_component(path))) > 0) continue;
      const bool covered = std::any_of(roots.begin(), roots.end(), [&](const std::string& r) {
        return at_or_below(path, r);
      });
      if (!covered) roots.push_back(path);
    }
    std::size_t seen = 0;
    const bool whole = walk_below(roots, seen, o_.glob_entry_budget, [&](const std::string& child, const DirEntry& e) {
      if (e.kind == FileKind::Socket && unix_rules_.count(child) == 0) {
        Point& p = points_[child];
        p.kind = Point::Kind::Policy;
        p.access = Access::None;
      }
      return !(parent_of(child) == "/" && kSystemTrees.count(e.name) > 0);
    });
    if (!whole) {
      // A partial search would leave sockets reachable: fail closed.
      diags_.report(Code::E0400, policy_.rules[unix_rules_.begin()->second].origin.target.span,
                    fmt::format("looking for other unix sockets to mask walked more than {} entries",
                                o_.glob_entry_budget))
          .label("a unix grant needs every visible socket found at launch")
          .help("grant less of the filesystem, or drop the `unix` grant");
      failed_ = true;
    }
  }

  // Points start undecided; decide_points() gives each its access and the
  // rules behind it.
  void add_point(const std::string& path) { points_[path]; }

  // --- Decisions ----------------------------------------------------------------
  // The concrete rules that can match `path`, as indices in IR order: those
  // naming it or an ancestor. Every concrete rule is a literal subtree, so
  // these are exactly the rules whose pattern matches `path`; deciding over
  // them is deciding over all, without matching hundreds of rules per point.
  std::vector<std::size_t> candidates(const std::string& path) const {
    std::vector<std::size_t> subset;
    std::string prefix = path;
    while (true) {
      if (auto it = by_path_.find(prefix.empty() ? std::string("/") : prefix); it != by_path_.end()) {
        subset.insert(subset.end(), it->second.begin(), it->second.end());
      }
      if (prefix.empty() || prefix == "/") break;
      prefix.resize(prefix.rfind('/'));
    }
    std::sort(subset.begin(), subset.end(), [&](std::size_t a, std::size_t b) {
      return std::make_pair(concrete_[a].id, a) < std::make_pair(concrete_[b].id, b);
    });
    return subset;
  }

  // What the concrete rules decide for `op` on `path`: the effect and the
  // ids of the deciding rules.
  struct ConcreteDecision {
    ir::Effect effect = ir::Effect::Deny;
    std::vector<std::uint32_t> deciding;
  };

  // The reference evaluator's answer for `op` on `path` over the concrete
  // rules: a candidate matches unless one of its (literal) excepts covers
  // `path`; then deny > allow > ask (ir::settle_by). The conformance tests
  // hold this to ir::decide over the source policy in real sandboxes.
  ConcreteDecision decide_concrete(const std::vector<std::size_t>& subset, ir::Operation op,
                                   const std::string& path) const {
    std::vector<const Concrete*> matching;
    for (std::size_t i : subset) {
      const Concrete& c = concrete_[i];
      if (!ir::applies_to(c.operation, c.effect, op)) continue;
      const bool excepted =
          std::any_of(c.excepts.begin(), c.excepts.end(), [&](const std::string& e) { return at_or_below(path, e); });
      if (!excepted) matching.push_back(&c);
    }
    std::vector<const Concrete*> deciding;
    ConcreteDecision d;
    d.effect = ir::settle_by(matching, [](const Concrete* c) { return c->effect; }, deciding);
    for (const Concrete* c : deciding) d.deciding.push_back(c->id);
    return d;
  }

  Access access(const std::string& path, std::vector<std::uint32_t>* rules = nullptr) const {
    const std::vector<std::size_t> subset = candidates(path);
    const ConcreteDecision w = decide_concrete(subset, ir::Operation::Write, path);
    const ConcreteDecision r = decide_concrete(subset, ir::Operation::Read, path);
    if (rules != nullptr) {
      // Read-write: the write grants. Read-only: the read grants and the
      // write denials. None: the denials (or nothing: the default).
      if (w.effect == ir::Effect::Allow) {
        rules->insert(rules->end(), w.deciding.begin(), w.deciding.end());
      } else {
        rules->insert(rules->end(), r.deciding.begin(), r.deciding.end());
        if (r.effect == ir::Effect::Allow) rules->insert(rules->end(), w.deciding.begin(), w.deciding.end());
      }
      std::sort(rules->begin(), rules->end());
      rules->erase(std::unique(rules->begin(), rules->end()), rules->end());
    }
    if (w.effect == ir::Effect::Allow) return Access::ReadWrite;
    if (r.effect == ir::Effect::Allow) return Access::ReadOnly;
    return Access::None;
  }

  void decide_points() {
    for (auto& [path, p] : points_) p.access = access(path, &p.rules);
    // The sandbox's own system directories. /tmp is the host's only when the
    // policy grants writing it; otherwise a private one.
    points_["/proc"] = Point{Point::Kind::Proc, Access::None, {}, {}};
    points_["/dev"] = Point{Point::Kind::Dev, Access::None, {}, {}};
    points_["/dev/shm"] = Point{Point::Kind::PrivateShm, Access::None, {}, {}};
    std::vector<std::uint32_t> tmp_rules;
    const Access tmp = access("/tmp", &tmp_rules);
    if (tmp != Access::ReadWrite) {
      if (tmp == Access::ReadOnly) {
        for (std::uint32_t id : tmp_rules) {
          fidelity(Code::W0102, policy_.rules[id], "a read-only grant of /tmp is replaced by a private, writable /tmp");
        }
      }
      points_["/tmp"] = Point{Point::Kind::PrivateTmp, Access::None, {}, {}};
    } else if (points_.count("/tmp") == 0) {
      points_["/tmp"] = Point{Point::Kind::Policy, Access::ReadWrite, tmp_rules, {}};
    }
    for (const auto& [path, id] : unix_rules_) {
      points_[path] = Point{Point::Kind::UnixSocket, Access::ReadWrite, {id}, {}};
    }
    for (const auto& [path, d] : system_denials_) {
      if (path == "/dev/shm" || (d.access == Access::None && (path == "/proc" || path == "/dev"))) {
        // Hidden whole: nothing of it is mounted (nor /dev/shm inside /dev).
        if (path == "/dev") points_.erase("/dev/shm");
        points_[path] = Point{Point::Kind::SystemDenial, Access::None, d.rules, {}};
      } else if (path == "/proc") {
        points_[path].rules = d.rules;  // made read-only after its mounts (emit)
        points_[path].access = Access::ReadOnly;
      } else {
        points_[path] = Point{Point::Kind::SystemDenial, d.access, d.rules, {}};
      }
    }
    for (const auto& [link, target] : grant_links_) {
      auto& p = points_[link];
      if (p.kind == Point::Kind::Policy && p.rules.empty()) {
        p.kind = Point::Kind::Symlink;
        p.link_target = target;
      }
    }
  }

  // The access a point's children start from: its own, except for the
  // sandbox's private directories, which show nothing of the host.
  static Access child_access(const Point& p) {
    switch (p.kind) {
      case Point::Kind::Policy:
      case Point::Kind::Pin: return p.access;
      default: return Access::None;
    }
  }

  // Every directory between a writable region's top and a protected point
  // inside it becomes a mount point, so it cannot be renamed away.
  void add_pins() {
    std::vector<std::string> pins;
    for (const auto& [path, p] : points_) {
      if (p.kind != Point::Kind::Policy || p.access == Access::ReadWrite || path == "/") continue;
      // Walk up through ancestor points while they are writable.
      std::string_view region_top;
      for (std::string_view up = path; up != "/";) {
        up = parent_of(up);
        auto it = points_.find(up);
        if (it == points_.end()) continue;
        if (child_access(it->second) != Access::ReadWrite) break;
        region_top = up;
      }
      if (region_top.empty()) continue;
      for (std::string_view up = parent_of(path); up != region_top; up = parent_of(up)) pins.emplace_back(up);
    }
    for (const std::string& path : pins) {
      Point& p = points_[path];
      if (p.kind == Point::Kind::Policy && p.rules.empty() && p.access == Access::None) {
        p.access = access(path, &p.rules);
      }
      if (p.kind == Point::Kind::Policy) p.kind = Point::Kind::Pin;
    }
  }

  // --- A bounded plan ---------------------------------------------------------------
  // Every point can cost a mount, and a workspace can hold any number of
  // paths that match deny globs (planted ones too): bubblewrap stops at 9,000
  // arguments, and each mount costs it a pass over the mount table. Over the
  // budget, directories full of points are protected whole: the deepest
  // directories with at least T points below them take the most restrictive
  // access of those points (T halves each round), with W0104. Restrictive
  // only: the sandbox sees less than the policy grants, never more.
  void bound_points() {
    const auto collapsible = [](const Point& p) { return p.kind == Point::Kind::Policy || p.kind == Point::Kind::Pin; };
    for (std::size_t threshold = 64; points_.size() > o_.max_points && threshold >= 2; threshold /= 2) {
      // Points below each directory (string_views into points_' keys).
      std::unordered_map<std::string_view, std::size_t> below;
      for (const auto& [path, p] : points_) {
        if (!collapsible(p)) continue;
        for (std::string_view up = path; up != "/";) {
          up = parent_of(up);
          ++below[up];
        }
      }
      std::set<std::string, PathOrder> heavy;
      for (const auto& [dir, n] : below) {
        if (n >= threshold && dir != "/") heavy.emplace(dir);
      }
      // The deepest of them: none of their own subdirectories is heavy.
      std::vector<std::string> chosen;
      for (auto it = heavy.begin(); it != heavy.end(); ++it) {
        const auto next = std::next(it);
        if (next == heavy.end() || !strictly_below(*next, *it)) chosen.push_back(*it);
      }
      for (const std::string& dir : chosen) collapse(dir);
    }
  }

  // Protects `dir` whole: its points go, and it takes the most restrictive
  // access among them and itself. Not where the sandbox's own directories
  // (/proc, /dev, a private /tmp) or a recreated symlink lie below.
  void collapse(const std::string& dir) {
    auto first = points_.upper_bound(dir);
    auto last = first;
    std::size_t count = 0;
    for (; last != points_.end() && strictly_below(last->first, dir); ++last, ++count) {
      if (last->second.kind != Point::Kind::Policy && last->second.kind != Point::Kind::Pin) return;
    }
    if (count == 0) return;
    std::vector<std::uint32_t> rules;
    Access least = Access::ReadWrite;
    for (auto it = first; it != last; ++it) {
      least = std::min(least, it->second.access);
      rules.insert(rules.end(), it->second.rules.begin(), it->second.rules.end());
    }
    points_.erase(first, last);
    auto [at, fresh] = points_.try_emplace(dir);
    Point& p = at->second;
    if (fresh) p.access = access(dir, &p.rules);
    least = std::min(least, p.access);
    const bool still_pinned = p.kind == Point::Kind::Pin && least == Access::ReadWrite;
    p.kind = still_pinned ? Point::Kind::Pin : Point::Kind::Policy;
    p.access = least;
    rules.insert(rules.end(), p.rules.begin(), p.rules.end());
    std::sort(rules.begin(), rules.end());
    rules.erase(std::unique(rules.begin(), rules.end()), rules.end());
    p.rules = rules;
    if (!rules.empty()) {
      // Blame a denial when there is one: it is why the points were there.
      std::uint32_t blamed = rules.front();
      for (std::uint32_t id : rules) {
        if (policy_.rules[id].effect == ir::Effect::Deny) {
          blamed = id;
          break;
        }
      }
      fidelity(Code::W0104, policy_.rules[blamed],
               fmt::format("`{}` holds {} protected paths, more than a plan can mount one by one; it is {} whole",
                           dir, count, least == Access::None ? "hidden" : "read-only"));
    }
  }

  // A symlink inside a denied directory that points out of it
  // (`~/.ssh/id_rsa -> ~/dotfiles/id_rsa`) is hidden with the directory, but
  // its target is what the rules say of the target: readable when granted.
  // The user meant the secret hidden, so each such link whose target the
  // sandbox can read is named (W0105, shown without -v). A best effort, on
  // every launch: the first 10,000 entries of the denied directories.
  static constexpr std::size_t kLinkScanBudget = 10000;
  void warn_links_out_of_denials() {
    std::vector<std::pair<std::string, std::uint32_t>> roots;  // denied directory, a rule denying it
    for (const auto& [path, p] : points_) {
      if (p.kind == Point::Kind::Policy && p.access == Access::None && !p.rules.empty() &&
          fs_.kind(path) == FileKind::Directory) {
        roots.emplace_back(path, p.rules.front());
      }
    }
    std::size_t seen = 0;
    for (const auto& entry : roots) {
      // Named, not structured, bindings: the lambda below captures them.
      const std::string& root = entry.first;
      const std::uint32_t rule = entry.second;
      walk_below({root}, seen, kLinkScanBudget, [&](const std::string& child, const DirEntry& e) {
        if (e.kind != FileKind::Symlink) return true;
        const CanonicalPath target = canonical_(child);
        if (target.exists && !at_or_below(target.path, root) && planned_access(target.path) != Access::None) {
          fidelity(Code::W0105, policy_.rules[rule],
                   fmt::format("`{}` is hidden, but it is a symlink to `{}`, which the sandbox can read", child,
                               target.path));
        }
        return false;
      });
    }
  }

  // --- Emission -------------------------------------------------------------------
  void emit() {
    struct Frame {
      std::string_view path;  // a key of points_
      Access children;
    };
    std::vector<Frame> stack;
    const std::string workspace = o_.bindings.workspace;
    for (auto at = points_.begin(); at != points_.end(); ++at) {
      // Named, not structured, bindings: lambdas below capture them.
      const std::string& path = at->first;
      const Point& p = at->second;
      const auto next = std::next(at);
      const bool has_points_below = next != points_.end() && strictly_below(next->first, path);
      while (!stack.empty() && !strictly_below(path, stack.back().path)) stack.pop_back();
      const Access parent = stack.empty() ? Access::None : stack.back().children;
      const auto mount = [&](Mount::Kind k, std::string src, std::string why) {
        plan_.mounts.push_back({k, std::move(src), path, p.rules, std::move(why)});
      };
      switch (p.kind) {
        case Point::Kind::Proc:
          mount(Mount::Kind::Proc, "", "a fresh /proc for the sandbox's own processes");
          for (std::string_view entry : kProcReadOnly) {
            const std::string at = fmt::format("/proc/{}", entry);
            plan_.mounts.push_back({Mount::Kind::RoBind, at, at, {}, "the host kernel's settings, read-only", false,
                                    true});
          }
          break;
        case Point::Kind::Dev: mount(Mount::Kind::Dev, "", "a minimal /dev (null, zero, random, tty, pts)"); break;
        case Point::Kind::SystemDenial:
          if (p.access == Access::None) {
            const bool dir = path == "/proc" || path == "/dev" || path == "/dev/shm" || path == "/dev/pts" ||
                             fs_.kind(path) == FileKind::Directory;
            mount(dir ? Mount::Kind::MaskDir : Mount::Kind::MaskFile, "", "denied inside the sandbox's own /proc or /dev");
          } else {
            mount(Mount::Kind::RoBind, path, "read-only inside the sandbox's own /proc");
            plan_.mounts.back().optional = true;
          }
          break;
        case Point::Kind::PrivateTmp:
          mount(Mount::Kind::Tmpfs, "", "a private /tmp; TMPDIR points here");
          plan_.mounts.back().size = o_.tmp_size;
          break;
        case Point::Kind::PrivateShm:
          mount(Mount::Kind::Tmpfs, "", "a private /dev/shm");
          plan_.mounts.back().size = o_.shm_size;
          break;
        case Point::Kind::Symlink:
          if (parent == Access::None) mount(Mount::Kind::Symlink, p.link_target, "a symlink on the way to a grant");
          break;
        case Point::Kind::UnixSocket: mount(Mount::Kind::Bind, path, "an allowed unix socket"); break;
        case Point::Kind::Policy:
        case Point::Kind::Pin: {
          const FileKind kind = fs_.kind(path);
          const bool exists = kind != FileKind::Missing;
          const bool pin = p.kind == Point::Kind::Pin;
          // Nothing can be made below an existing file: it is pinned (a
          // mount point: not replaced by a directory) and needs no placeholder.
          const bool under_file = !exists && !under_directory(path);
          const bool placeholder =
              !exists && !under_file && parent == Access::ReadWrite && (pin || p.access != Access::ReadWrite);
          if (!exists && !placeholder) {
            if (p.access != Access::None && !under_file) plan_.skipped.push_back(path);
            stack.push_back({path, parent});
            continue;
          }
          // A leaf some tool reads when present gets an empty file (or the
          // content it needs), not a directory that would break the tool.
          const std::optional<std::string_view> content =
              placeholder && !has_points_below && !pin ? file_placeholder_content(path) : std::nullopt;
          if (content) {
            plan_.placeholder_files.emplace_back(path, std::string(*content));
          } else if (placeholder) {
            plan_.placeholders.push_back(path);
          }
          const bool dir = content ? false : !exists || kind == FileKind::Directory;
          if (p.access == Access::ReadWrite && (parent != Access::ReadWrite || pin)) {
            mount(Mount::Kind::Bind, path,
                  pin ? "a parent of a protected path, pinned so it cannot be renamed" : "read and write");
          } else if (p.access == Access::ReadOnly && parent != Access::ReadOnly) {
            mount(Mount::Kind::RoBind, path, placeholder ? "read-only; a placeholder, so it cannot be created" : "read only");
          } else if (p.access == Access::None && parent != Access::None) {
            mount(dir ? Mount::Kind::MaskDir : Mount::Kind::MaskFile, "",
                  placeholder ? "denied; a placeholder, so it cannot be created" : "denied inside a visible parent");
          }
          break;
        }
      }
      stack.push_back({path, child_access(p)});
    }
    close_masks();
    if (const auto proc = points_.find("/proc");
        proc != points_.end() && proc->second.kind == Point::Kind::Proc && proc->second.access == Access::ReadOnly) {
      // After every mount below it: a write denial of /proc.
      plan_.mounts.push_back({Mount::Kind::RemountRo, "", "/proc", proc->second.rules, "/proc is denied writing"});
    }
    // Start in the workspace when any of it is visible (bwrap creates the
    // directories leading to a mount), else at the root.
    const bool workspace_visible =
        !workspace.empty() &&
        (planned_access(workspace) != Access::None ||
         std::any_of(plan_.mounts.begin(), plan_.mounts.end(), [&](const Mount& m) {
           return (m.kind == Mount::Kind::Bind || m.kind == Mount::Kind::RoBind) && at_or_below(m.dest, workspace);
         }));
    if (workspace_visible) plan_.chdir = workspace;
    for (const auto& [path, id] : unix_rules_) plan_.unix_sockets.push_back(path);
  }

  // The access `path` ends up with: its own point's or its nearest
  // ancestor point's (W0104 may have lowered one), else the rules'.
  Access planned_access(const std::string& path) const {
    for (std::string_view up = path;; up = parent_of(up)) {
      if (const auto it = points_.find(up); it != points_.end()) {
        if (it->second.kind == Point::Kind::Policy || it->second.kind == Point::Kind::Pin) {
          return up == path ? it->second.access : child_access(it->second);
        }
        return Access::None;
      }
      if (up == "/") return access(path);
    }
  }

  // Is the nearest existing ancestor of `path` a directory?
  bool under_directory(std::string_view path) const {
    for (std::string_view up = parent_of(path);; up = parent_of(up)) {
      const FileKind k = fs_.kind(std::string(up));
      if (k != FileKind::Missing) return k == FileKind::Directory;
      if (up == "/") return true;
    }
  }

  // A masked directory is made read-only after the last mount inside it;
  // with mounts inside, it must stay traversable for them to be reachable.
  void close_masks() {
    std::vector<Mount> out;
    std::vector<std::pair<std::size_t, std::size_t>> closes;  // (insert after index, mask index)
    for (std::size_t i = 0; i < plan_.mounts.size(); ++i) {
      if (plan_.mounts[i].kind != Mount::Kind::MaskDir) continue;
      const std::string& dest = plan_.mounts[i].dest;
      std::size_t last = i;
      for (std::size_t j = i + 1; j < plan_.mounts.size(); ++j) {
        if (strictly_below(plan_.mounts[j].dest, dest)) last = j;
      }
      plan_.mounts[i].traversable = last != i;
      closes.emplace_back(last, i);
    }
    for (std::size_t i = 0; i < plan_.mounts.size(); ++i) {
      out.push_back(plan_.mounts[i]);
      // Innermost masks close first: they were opened later.
      std::vector<std::size_t> here;
      for (const auto& [after, mask] : closes) {
        if (after == i) here.push_back(mask);
      }
      std::sort(here.rbegin(), here.rend());
      for (std::size_t mask : here) {
        const Mount& m = plan_.mounts[mask];
        out.push_back({Mount::Kind::RemountRo, "", m.dest, m.rules, "the mask becomes read-only"});
      }
    }
    plan_.mounts = std::move(out);
  }

  std::vector<std::pair<std::string, std::string>> environment() const {
    std::vector<std::pair<std::string, std::string>> env;
    for (const auto& [name, value] : o_.environment) {
      const ir::Decision d = ir::decide(policy_, ir::Operation::Env, name, o_.bindings);
      bool pass = d.effect == ir::Effect::Allow;
      if (d.effect == ir::Effect::Ask) {
        pass = std::all_of(d.deciding.begin(), d.deciding.end(),
                           [&](const ir::Rule* r) { return o_.asks_allowed.count(r->id) > 0; });
      }
      if (pass) env.emplace_back(name, value);
    }
    for (const auto& kv : o_.runtime_env) {
      env.erase(std::remove_if(env.begin(), env.end(), [&](const auto& e) { return e.first == kv.first; }), env.end());
      env.push_back(kv);
    }
    std::sort(env.begin(), env.end());
    return env;
  }

  const ir::Policy& policy_;
  FsView& fs_;
  Canonicalizer canonical_;  // over fs_, which is a SnapshotFs
  std::map<std::string, bool> writable_;  // link_in_writable_dir's answers, by parent
  const LowerOptions& o_;
  Diagnostics& diags_;
  bool failed_ = false;
  bool anchor_moved_ = false;  // reported
  std::set<std::pair<Code, std::uint32_t>> reported_;
  std::vector<GlobQuery> queries_;
  GlobExpansion expansion_;
  // A rule on one canonical path (the key of by_path_): the source rule's
  // id, effect (an ask granted at launch is an allow) and operation, and
  // its excepts as canonical paths, which decide_concrete checks.
  struct Concrete {
    std::uint32_t id;
    ir::Effect effect;
    ir::Operation operation;
    std::vector<std::string> excepts;
  };
  std::vector<Concrete> concrete_;
  std::unordered_map<std::string, std::vector<std::size_t>> by_path_;  // canonical path -> concrete rule indices
  std::map<std::string, Point, PathOrder> points_;
  std::vector<std::pair<std::string, std::string>> grant_links_;
  ir::Policy unix_concrete_;                 // `unix` rules on canonical literal paths
  std::set<std::string> unix_candidates_;    // existing sockets some `unix` grant names
  std::map<std::string, std::uint32_t> unix_rules_;  // sockets bound in -> the deciding rule
  // Denials inside the sandbox's own /proc and /dev, applied after its mounts.
  struct SystemDenial {
    Access access = Access::ReadOnly;
    std::vector<std::uint32_t> rules;
  };
  std::map<std::string, SystemDenial> system_denials_;
  MountPlan plan_;
};

// The mount that decides what `path` shows: the last one at or above it.
const Mount* covering_mount(const MountPlan& plan, const std::string& path) {
  const Mount* found = nullptr;
  for (const Mount& m : plan.mounts) {
    if (at_or_below(path, m.dest)) found = &m;
  }
  return found;
}

bool shows_host(const Mount* m) {
  return m != nullptr && (m->kind == Mount::Kind::Bind || m->kind == Mount::Kind::RoBind);
}

}  // namespace

bool visible_in_plan(const MountPlan& plan, FsView& fs, const std::string& path) {
  const CanonicalPath c = canonicalize(fs, path);
  if (!c.exists || !shows_host(covering_mount(plan, c.path))) return false;
  for (const SymlinkStep& link : c.links) {
    const bool recreated = std::any_of(plan.mounts.begin(), plan.mounts.end(), [&](const Mount& m) {
      return m.kind == Mount::Kind::Symlink && m.dest == link.link && m.source == link.target;
    });
    if (!recreated && !shows_host(covering_mount(plan, link.link))) return false;
  }
  return true;
}

std::optional<MountPlan> lower_to_mount_plan(const ir::Policy& policy, FsView& fs, const LowerOptions& options,
                                             Diagnostics& diags) {
  SnapshotFs snapshot(fs);
  return Lowering(policy, snapshot, options, diags).run();
}

}  // namespace sbpolicy::lower
