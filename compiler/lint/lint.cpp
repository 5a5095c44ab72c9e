#include "lint/lint.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>
#include <map>

#include "analysis/path_automaton.hpp"
#include "analysis/policy_sets.hpp"
#include "analysis/subjects.hpp"
#include "lower/fs_view.hpp"
#include "lower/mount_plan.hpp"
#include "lower/sbpl/profile.hpp"

namespace sbpolicy::lint {

namespace {

using analysis::Combine;
using analysis::Dfa;
using ir::Effect;
using ir::Operation;

// Rules are compared within a group: paths by their anchor (a relation
// between `~/a` and `~/**` holds for every home; one between `~/a` and
// `/home/**` does not), hosts with hosts, variables with variables.
int group_of(const sema::Pattern& p) {
  if (const auto* path = std::get_if<sema::PathPattern>(&p)) return static_cast<int>(path->anchor);
  return std::holds_alternative<sema::HostPattern>(p) ? 100 : 101;
}

// The literal components a path pattern starts with.
std::vector<std::string> literal_prefix(const sema::Pattern& p) {
  const auto* path = std::get_if<sema::PathPattern>(&p);
  if (path == nullptr) return {};
  return {path->components.begin(), path->components.begin() + static_cast<std::ptrdiff_t>(path->literal_prefix_length())};
}

bool has_glob(const sema::Pattern& p) {
  if (const auto* path = std::get_if<sema::PathPattern>(&p)) return path->has_glob();
  if (const auto* env = std::get_if<sema::EnvPattern>(&p)) return env->has_wildcard();
  const auto& host = std::get<sema::HostPattern>(p);
  return host.kind != sema::HostPattern::Kind::Exact;
}

// Does the file of `from` see `rule`: is it the rule's own file, or did the
// rule come in through a `use` of that file? A module is judged with what
// it uses, not with what a policy happens to use beside it.
bool sees(const ir::Rule& from, const ir::Rule& rule) {
  // The statement's file: a rule may take its string from another file's `export let`.
  const std::string& file = from.origin.statement.file;
  if (rule.origin.statement.file == file) return true;
  return std::any_of(rule.origin.via.begin(), rule.origin.via.end(),
                     [&](const ir::SourceLocation& step) { return step.file == file; });
}

class Linter {
 public:
  Linter(const driver::Compilation& c, const Options& o)
      : c_(c), policy_(*c.policy), o_(o), sets_(policy_, o.bindings) {}

  Diagnostics run(std::string& error) {
    if (on(Code::L0501)) missing_version();
    for (const ir::Rule& r : policy_.rules) {
      if (!ok_) break;
      // An ask that is dead never fires either: one finding says so.
      const bool is_dead = on(Code::L0101) && r.effect != Effect::Deny && dead(r);
      if (on(Code::L0104) && r.effect == Effect::Ask && !is_dead) ask_never_fires(r);
      if (on(Code::L0102)) redundant(r);
      if (on(Code::L0103)) excepts(r);
    }
    if (ok_) exposure();
    if (ok_ && (on(Code::L0301) || on(Code::L0302))) protections();
    if (ok_ && on(Code::L0401)) fidelity();
    if (!ok_) error = error_;
    out_.sort();
    return std::move(out_);
  }

 private:
  bool on(Code code) const { return o_.enabled.count(code) != 0; }

  // Records the automata's failure once; the checks stop.
  template <typename T>
  bool good(const T& value) {
    if (!value && ok_) {
      ok_ = false;
      error_ = error_.empty() ? "the automata's bound was reached" : error_;
    }
    return static_cast<bool>(value);
  }

  const Dfa* rule_set(const ir::Rule& r) {
    const Dfa* d = sets_.rule(r, error_);
    good(d);
    return d;
  }

  // The rules of `effect` that apply to `op`, in the group of `from`, that
  // the file of `from` sees.
  std::vector<const ir::Rule*> rules_in(Operation op, Effect effect, const ir::Rule& from) {
    std::vector<const ir::Rule*> out;
    for (const ir::Rule* r : sets_.rules_of(op, effect)) {
      if (group_of(r->pattern) == group_of(from.pattern) && sees(from, *r)) out.push_back(r);
    }
    return out;
  }

  // A cache key for the rules `from`'s file sees in its group.
  std::string key_of(std::string_view what, const ir::Rule& from) const {
    return fmt::format("{}/{}/{}/{}", what, static_cast<int>(from.operation), group_of(from.pattern),
                       from.origin.statement.file);
  }

  // The union of `rules`' sets, cached by `key`.
  const Dfa* union_cached(const std::string& key, const std::vector<const ir::Rule*>& rules) {
    if (auto it = unions_.find(key); it != unions_.end()) return &it->second;
    auto u = sets_.union_of(rules, error_);
    if (!good(u)) return nullptr;
    return &unions_.emplace(key, std::move(*u)).first->second;
  }

  // Is every subject of `a` also one of `b`'s?
  bool covered(const Dfa& a, const Dfa& b) {
    const auto in = analysis::includes(b, a, error_);
    return good(in) && *in;
  }

  bool intersects(const Dfa& a, const Dfa& b) {
    auto d = analysis::combine(a, b, Combine::Intersection, error_);
    return good(d) && !d->empty();
  }

  // Up to three of `rules` whose sets meet `set`, as secondary labels.
  void point_at(DiagnosticBuilder& d, const Dfa& set, const std::vector<const ir::Rule*>& rules, std::string_view label) {
    int shown = 0;
    for (const ir::Rule* s : rules) {
      const Dfa* sd = rule_set(*s);
      if (sd == nullptr || !intersects(set, *sd)) continue;
      d.secondary(s->origin.target.span, std::string(label));
      if (++shown == 3) break;
    }
  }

  // The operations a grant of `r` takes part in: a write grant also grants read.
  static std::vector<Operation> granted_ops(const ir::Rule& r) {
    if (r.operation == Operation::Write) return {Operation::Write, Operation::Read};
    return {r.operation};
  }

  // The rules of `effects` (as the file of `r` sees them) that together
  // cover every subject `r` matches, for each operation a grant of `r`
  // takes part in; empty when they do not (or there are none).
  std::vector<const ir::Rule*> overruled_by(const ir::Rule& r, std::initializer_list<Effect> effects,
                                            std::string_view what) {
    const Dfa* mine = rule_set(r);
    if (mine == nullptr || mine->empty()) return {};
    std::vector<const ir::Rule*> out;
    for (Operation op : granted_ops(r)) {
      std::vector<const ir::Rule*> these;
      for (Effect e : effects) {
        const auto of = rules_in(op, e, r);
        these.insert(these.end(), of.begin(), of.end());
      }
      if (these.empty()) return {};
      const Dfa* decided = union_cached(key_of(fmt::format("{}-as-{}", what, static_cast<int>(op)), r), these);
      if (decided == nullptr || !covered(*mine, *decided)) return {};
      for (const ir::Rule* d : these) {
        if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(d);
      }
    }
    return out;
  }

  bool dead(const ir::Rule& r) {
    const auto denies = overruled_by(r, {Effect::Deny}, "deny");
    if (denies.empty()) return false;
    auto d = out_.report(Code::L0101, r.origin.target.span,
                         fmt::format("`{}` grants nothing: deny rules cover everything it matches", ir::rule_text(r)));
    d.label("denied everywhere it matches");
    point_at(d, *rule_set(r), denies, "denied here");
    d.help("remove the rule, or narrow the deny");
    return true;
  }

  void ask_never_fires(const ir::Rule& r) {
    const auto over = overruled_by(r, {Effect::Deny, Effect::Allow}, "over-ask");
    if (over.empty()) return;
    auto d = out_.report(Code::L0104, r.origin.target.span,
                         fmt::format("`{}` never asks: allow or deny rules decide everything it matches", ir::rule_text(r)));
    d.label("never asked");
    point_at(d, *rule_set(r), over, "decided here first");
    d.help("remove the ask rule, or narrow the rules that overrule it");
  }

  // The rules that could cover `r`: same effect, applying to its
  // operation, same group, and (paths) a literal prefix that is a prefix
  // of `r`'s (a pattern cannot cover paths outside its literal prefix).
  std::vector<const ir::Rule*> cover_candidates(const ir::Rule& r) {
    if (index_.empty()) {
      for (const ir::Rule& s : policy_.rules) {
        std::string key = fmt::format("{}/{}", static_cast<int>(s.effect), group_of(s.pattern));
        for (const std::string& c : literal_prefix(s.pattern)) key += "/" + c;
        index_[key].push_back(&s);
      }
    }
    std::vector<const ir::Rule*> out;
    std::string key = fmt::format("{}/{}", static_cast<int>(r.effect), group_of(r.pattern));
    const auto prefix = literal_prefix(r.pattern);
    for (std::size_t i = 0;; ++i) {
      if (auto it = index_.find(key); it != index_.end()) {
        for (const ir::Rule* s : it->second) {
          if (s != &r && ir::applies_to(*s, r.operation) && sees(r, *s)) out.push_back(s);
        }
      }
      if (i == prefix.size()) break;
      key += "/" + prefix[i];
    }
    return out;
  }

  // A cheap necessary condition for `outer` to cover `inner`, before the
  // automata: a host pattern only covers the same name, a subdomain of its
  // suffix, or (`*`) any name, an address block only addresses inside it; a
  // variable pattern only names that start with its text before its `*`.
  static bool may_cover(const sema::Pattern& outer, const sema::Pattern& inner) {
    if (const auto* o = std::get_if<sema::EnvPattern>(&outer)) {
      const auto& i = std::get<sema::EnvPattern>(inner);
      const std::string_view op = std::string_view(o->glob).substr(0, o->glob.find('*'));
      const std::string_view ip = std::string_view(i.glob).substr(0, i.glob.find('*'));
      return ip.starts_with(op);
    }
    const auto* o = std::get_if<sema::HostPattern>(&outer);
    const auto* i = std::get_if<sema::HostPattern>(&inner);
    if (o == nullptr || i == nullptr) return true;
    using Kind = sema::HostPattern::Kind;
    if ((o->kind == Kind::Address) != (i->kind == Kind::Address)) return false;
    if (o->kind == Kind::Address) return o->net.contains(i->net);
    if (o->kind == Kind::AnyName) return true;
    if (o->kind == Kind::Exact) return i->kind == Kind::Exact && i->name == o->name;
    return i->name == o->name || i->name.ends_with("." + o->name);
  }

  void redundant(const ir::Rule& r) {
    // A literal path covered only by globs is not redundant (lint_rules.def).
    const bool literal = !has_glob(r.pattern);
    const Dfa* mine = nullptr;
    for (const ir::Rule* s : cover_candidates(r)) {
      if (literal && has_glob(s->pattern)) continue;
      if (!may_cover(s->pattern, r.pattern)) continue;
      // The same rule twice in one file is W0002's.
      if (s->pattern == r.pattern && s->excepts == r.excepts && s->operation == r.operation &&
          s->origin.target.file == r.origin.target.file) {
        continue;
      }
      if (mine == nullptr && (mine = rule_set(r)) == nullptr) return;
      const Dfa* theirs = rule_set(*s);
      if (theirs == nullptr || !covered(*mine, *theirs)) continue;
      // Two rules that cover each other: report one of them, the later one
      // unless it is the standard library's.
      if (s->operation == r.operation && sees(*s, r) && covered(*theirs, *mine)) {
        const bool r_lib = driver::in_stdlib(c_, r.origin.target.span), s_lib = driver::in_stdlib(c_, s->origin.target.span);
        if (r_lib != s_lib ? r_lib : r.id < s->id) continue;
      }
      auto d = out_.report(Code::L0102, r.origin.target.span,
                           fmt::format("`{}` is redundant: `{}` already matches everything it does", ir::rule_text(r),
                                       ir::rule_text(*s)));
      d.label("covered by another rule");
      d.secondary(s->origin.target.span, "covers it");
      d.help("remove the redundant rule");
      return;
    }
  }

  // An except removes nothing when it meets none of the targets of its
  // statement (the except list is shared by all of them): judged once per
  // statement, at its first rule.
  void excepts(const ir::Rule& r) {
    if (r.excepts.empty()) return;
    std::vector<const ir::Rule*> statement;
    for (const ir::Rule& s : policy_.rules) {
      if (s.origin.statement.span.file == r.origin.statement.span.file &&
          s.origin.statement.span.begin == r.origin.statement.span.begin) {
        statement.push_back(&s);
      }
    }
    if (statement.front() != &r) return;
    std::vector<Dfa> targets;
    for (const ir::Rule* s : statement) {
      const auto pattern = analysis::pattern_nfa(s->pattern, o_.bindings);
      if (!pattern) return;
      auto d = analysis::determinize(*pattern, error_);
      if (!good(d)) return;
      targets.push_back(std::move(*d));
    }
    for (const sema::Pattern& e : r.excepts) {
      const auto except = analysis::pattern_nfa(e, o_.bindings);
      if (!except) continue;
      auto ed = analysis::determinize(*except, error_);
      if (!good(ed)) return;
      bool removes = false;
      for (std::size_t i = 0; i < targets.size() && !removes; ++i) {
        // Only an except anchored like its rule can be judged for every binding.
        removes = group_of(e) != group_of(statement[i]->pattern) || intersects(targets[i], *ed);
        if (!ok_) return;
      }
      if (removes) continue;
      out_.report(Code::L0103, r.origin.target.span,
                  fmt::format("the except `{}` removes nothing: {} does not match what it names", sema::pattern_text(e),
                              statement.size() == 1 ? "the rule" : "no target of the statement"))
          .label("its except removes nothing")
          .help("fix the except pattern so it lies inside the rule's pattern, or remove it");
    }
  }

  void missing_version() {
    const auto& root = c_.program.files.front();
    const bool has = std::any_of(root.module.statements.begin(), root.module.statements.end(),
                                 [](const ast::Statement& s) { return std::holds_alternative<ast::VersionStmt>(s.node); });
    if (has || root.is_stdlib) return;
    out_.report(Code::L0501, Span{root.file, 0, 0}, "the policy does not say its language version")
        .label("add `version 1;` here")
        .help("write `version 1;` as the first statement")
        .fixit(Span{root.file, 0, 0}, "version 1;\n");
  }

  // The paths that matter, under the analysis bindings.
  std::string home(const std::string& rest = "") const { return o_.bindings.home + rest; }
  std::string workspace(const std::string& rest = "") const { return o_.bindings.workspace + rest; }

  void exposure() {
    for (const ir::Rule& r : policy_.rules) {
      if (r.effect != Effect::Allow) continue;
      const ir::Subject home_dir = o_.bindings.home;
      if (on(Code::L0201) && r.operation == Operation::Write &&
          (ir::rule_matches(r, home_dir, o_.bindings) || ir::rule_matches(r, std::string("/"), o_.bindings))) {
        out_.report(Code::L0201, r.origin.target.span,
                    fmt::format("`{}` grants write on {}", ir::rule_text(r),
                                ir::rule_matches(r, std::string("/"), o_.bindings) ? "the whole filesystem" : "the whole home"))
            .label("write access this wide")
            .help("grant write on the workspace (`./**`) and the caches the tools need; `use std.persistence`");
      }
      if (on(Code::L0202) && r.operation == Operation::Read && ir::rule_matches(r, home_dir, o_.bindings)) {
        out_.report(Code::L0202, r.origin.target.span, fmt::format("`{}` grants read on the whole home", ir::rule_text(r)))
            .label("the home, credentials and all")
            .help("grant read on what the tools need; `use std.secrets` denies the well-known credentials");
      }
      if (r.operation == Operation::Net) {
        const auto& host = std::get<sema::HostPattern>(r.pattern);
        const bool any = host.kind == sema::HostPattern::Kind::AnyName ||
                         (host.kind == sema::HostPattern::Kind::Address && host.net.prefix == 0);
        if (on(Code::L0203) && any) {
          out_.report(Code::L0203, r.origin.target.span, fmt::format("`{}` allows every host without asking", ir::rule_text(r)))
              .label("every host")
              .help("allow the hosts the tools need by name, and `ask net \"*\"` for the rest");
        }
        if (on(Code::L0205) && !any) upload_hosts(r);
      }
      if (on(Code::L0204) && sema::takes_paths(r.operation)) runtime(r);
    }
  }

  // The runtime directories and the sockets of the session and the system:
  // a read or write grant that reaches one of them, or a unix grant of the
  // container engine's socket.
  void runtime(const ir::Rule& r) {
    if (r.operation == Operation::Unix) {
      root_sockets(r);
      return;
    }
    const std::string run_user = o_.bindings.directory(sema::PathAnchor::XdgRuntimeDir);
    const std::vector<std::string> places = {"/run",
                                             "/var/run",
                                             run_user,
                                             run_user + "/bus",
                                             run_user + "/gnupg/S.gpg-agent",
                                             run_user + "/keyring/ssh",
                                             run_user + "/wayland-0",
                                             run_user + "/pulse/native",
                                             run_user + "/docker.sock",
                                             run_user + "/podman/podman.sock",
                                             "/run/docker.sock",
                                             "/var/run/docker.sock",
                                             "/run/containerd/containerd.sock",
                                             "/run/dbus/system_bus_socket",
                                             "/tmp/.X11-unix/X0",
                                             home("/.docker/run/docker.sock")};
    for (const std::string& p : places) {
      if (!ir::rule_matches(r, p, o_.bindings)) continue;
      out_.report(Code::L0204, r.origin.target.span,
                  fmt::format("`{}` reaches the runtime directories or their sockets, such as `{}`", ir::rule_text(r),
                              analysis::subject_text(p, o_.bindings)))
          .label("exposes the session's and the system's sockets")
          .help("grant only the one socket a tool needs with `allow unix \"...\"`");
      return;
    }
  }

  // A unix grant of the Docker or Podman socket: root on the host.
  void root_sockets(const ir::Rule& r) {
    for (const char* s : {"/run/docker.sock", "/var/run/docker.sock", "/run/podman/podman.sock"}) {
      if (!ir::rule_matches(r, std::string(s), o_.bindings)) continue;
      out_.report(Code::L0204, r.origin.target.span,
                  fmt::format("`{}` grants the container engine's socket `{}`: whoever talks to it is root on the host",
                              ir::rule_text(r), s))
          .label("root on the host")
          .help("run container commands outside the sandbox");
      return;
    }
  }

  void upload_hosts(const ir::Rule& r) {
    static const char* kUploads[] = {"pastebin.com", "gist.github.com", "gist.githubusercontent.com", "transfer.sh",
                                     "file.io",      "paste.ee",        "hastebin.com",               "0x0.st",
                                     "termbin.com",  "ix.io",           "dpaste.org",                 "webhook.site",
                                     "pipedream.net", "requestbin.com", "paste.rs",                   "catbox.moe"};
    for (const char* h : kUploads) {
      const auto s = sema::parse_host_subject(h, 443);
      const auto& subject = std::get<sema::HostSubject>(s);
      if (!sema::host_matches(std::get<sema::HostPattern>(r.pattern), subject)) continue;
      if (ir::decide(policy_, Operation::Net, subject, o_.bindings).effect != Effect::Allow) continue;
      out_.report(Code::L0205, r.origin.target.span,
                  fmt::format("`{}` allows `{}`, which accepts anonymous uploads", ir::rule_text(r), h))
          .label("data can leave here")
          .help("`ask net` for it instead, unless a tool needs it");
      return;
    }
  }

  // What a policy grants that a protection module would have denied.
  void protections() {
    struct Case {
      Code code;
      Operation op;
      std::string path;
    };
    std::vector<Case> cases;
    for (const char* p : {"/.bashrc", "/.profile", "/.zshrc", "/.bash_profile", "/.config/autostart/a.desktop",
                          "/.config/systemd/user/a.service", "/.gitconfig", "/.ssh/authorized_keys",
                          "/.local/share/applications/a.desktop", "/.config/git/config"}) {
      cases.push_back({Code::L0301, Operation::Write, home(p)});
    }
    for (const char* p : {"/.git/hooks/pre-commit", "/.git/config", "/.vscode/tasks.json", "/.vscode/settings.json",
                          "/.envrc", "/.github/workflows/ci.yml", "/.husky/pre-commit"}) {
      cases.push_back({Code::L0301, Operation::Write, workspace(p)});
    }
    for (const char* p : {"/.ssh/id_rsa", "/.ssh/id_ed25519", "/.aws/credentials", "/.netrc", "/.git-credentials",
                          "/.config/gh/hosts.yml", "/.kube/config", "/.docker/config.json", "/.gnupg/private-keys-v1.d/a.key",
                          "/.npmrc", "/.pypirc"}) {
      cases.push_back({Code::L0302, Operation::Read, home(p)});
    }
    for (const char* p : {"/.env", "/.env.production", "/deploy/server.key", "/terraform.tfstate"}) {
      cases.push_back({Code::L0302, Operation::Read, workspace(p)});
    }
    cases.push_back({Code::L0302, Operation::Read, "/etc/shadow"});
    // One finding per deciding rule, naming the files it exposes.
    std::map<std::pair<const ir::Rule*, Code>, std::vector<std::string>> exposed;
    for (const Case& k : cases) {
      if (!on(k.code)) continue;
      const ir::Decision d = ir::decide(policy_, k.op, k.path, o_.bindings);
      if (d.effect != Effect::Allow) continue;
      exposed[{d.deciding.front(), k.code}].push_back(analysis::subject_text(k.path, o_.bindings));
    }
    for (const auto& [key, paths] : exposed) {
      const auto& [rule, code] = key;
      std::string list;
      for (std::size_t i = 0; i < paths.size() && i < 3; ++i) list += fmt::format("{}`{}`", i ? ", " : "", paths[i]);
      if (paths.size() > 3) list += fmt::format(" and {} more", paths.size() - 3);
      if (code == Code::L0301) {
        out_.report(code, rule->origin.target.span,
                    fmt::format("`{}` grants write on files that run code later: {}", ir::rule_text(*rule), list))
            .label("nothing protects them")
            .help("`use std.persistence;`, or deny write on them");
      } else {
        out_.report(code, rule->origin.target.span,
                    fmt::format("`{}` grants read on credentials: {}", ir::rule_text(*rule), list))
            .label("nothing protects them")
            .help("`use std.secrets;`, or deny read on them");
      }
    }
  }

  // What the targets can only approximate: the Linux lowering's fidelity
  // warnings over a tree holding only the anchors, and the grants the macOS
  // profile writes narrower.
  void fidelity() {
    Diagnostics diags;
    (void)lower::lower_in_memory(policy_, o_.bindings, {}, diags);
    for (const Diagnostic& d : diags.all()) {
      if (d.severity == Severity::Error || !d.primary.span.valid()) continue;
      out_.report(Code::L0401, d.primary.span, fmt::format("on Linux: {}", d.message))
          .label("approximated on Linux")
          .note(fmt::format("{}: {}", code_info(d.code).id, code_info(d.code).summary));
    }
    lower::sbpl::SbplOptions so;
    so.bindings = o_.bindings;
    so.bindings.tmpdir = "/private/tmp";
    so.proxy_port = 3128;
    const auto profile = lower::sbpl::lower_to_sbpl(policy_, so);
    for (std::size_t i = 0; i < profile.narrowed.size() && i < profile.narrowed_rules.size(); ++i) {
      const ir::Rule& r = policy_.rules[profile.narrowed_rules[i]];
      out_.report(Code::L0401, r.origin.target.span, fmt::format("on macOS: {}", profile.narrowed[i]))
          .label("approximated on macOS");
    }
  }

  const driver::Compilation& c_;
  const ir::Policy& policy_;
  const Options& o_;
  analysis::PolicySets sets_;
  Diagnostics out_;
  std::map<std::string, Dfa> unions_;
  std::map<std::string, std::vector<const ir::Rule*>> index_;
  bool ok_ = true;
  std::string error_;
};

}  // namespace

std::set<Code> default_rules() {
  std::set<Code> out;
  for (const LintRule& r : lint_rules()) out.insert(r.code);
  return out;
}

bool select_rules(std::set<Code>& enabled, const std::string& word, bool enable, std::string& error) {
  bool found = false;
  for (const LintRule& r : lint_rules()) {
    const CodeInfo& info = code_info(r.code);
    if (word != info.id && word != info.name && word != r.category) continue;
    found = true;
    if (enable) enabled.insert(r.code);
    else enabled.erase(r.code);
  }
  if (!found) error = fmt::format("`{}` is not a lint rule, code or category (sbc lint --list-rules)", word);
  return found;
}

Diagnostics run(const driver::Compilation& c, const Options& options, std::string& error) {
  return Linter(c, options).run(error);
}

}  // namespace sbpolicy::lint
