// sbc explain FILE OP SUBJECT: the reference evaluator's decision and the
// rules behind it, each with file:line:col and its import chain.
#include <fmt/format.h>

#include <cstdio>
#include <map>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "driver/bindings.hpp"
#include "driver/pipeline.hpp"
#include "ir/evaluator.hpp"
#include "ir/ir_json.hpp"
#include "lower/fs_view.hpp"
#include "lower/linux_decisions.hpp"
#include "lower/proxy_table.hpp"
#include "sema/guarded_ranges.hpp"
#include "lower/resolved_paths.hpp"
#include "lower/sbpl/profile.hpp"
#include "sbc/commands.hpp"
#include "sbc/targets.hpp"
#include "sbpl/profile.hpp"
#include "support/suggest.hpp"

namespace sbpolicy::sbc {

namespace {

std::optional<sema::Operation> parse_operation(const std::string& op) {
  if (op == "read") return sema::Operation::Read;
  if (op == "write") return sema::Operation::Write;
  if (op == "net") return sema::Operation::Net;
  if (op == "unix") return sema::Operation::Unix;
  if (op == "env") return sema::Operation::Env;
  return std::nullopt;
}

// sbrun's proxy's refusal of a host the rules allow or ask about (targets.hpp).
std::optional<std::string> proxy_refusal(const ir::Policy& policy, const sema::HostSubject& subject,
                                         const ir::Decision& d) {
  if (d.effect == ir::Effect::Deny) return std::nullopt;
  auto built = lower::ProxyRuleTable::build(policy);
  const auto* table = std::get_if<lower::ProxyRuleTable>(&built);
  // A table that cannot be built refuses everything: sbrun would not start.
  if (table == nullptr) return "the proxy's table cannot be built: " + std::get<std::string>(built);
  return sbc::proxy_refusal(*table, subject, d);
}

// A rule that took no part in the decision although its pattern matched.
struct LostRule {
  const ir::Rule* rule;
  bool matched;     // it matched and lost to a stronger effect; else an except took the subject out
  std::string why;
};

nlohmann::json lost_json(const std::vector<LostRule>& lost) {
  nlohmann::json out = nlohmann::json::array();
  for (const LostRule& l : lost) {
    out.push_back({{"rule", ir::rule_to_json(*l.rule)}, {"matched", l.matched}, {"why", l.why}});
  }
  return out;
}

nlohmann::json targets_json(const std::vector<TargetAnswer>& targets) {
  nlohmann::json out = nlohmann::json::array();
  for (const TargetAnswer& a : targets) {
    out.push_back({{"target", a.target},
                   {"effect", a.effect ? nlohmann::json(sema::effect_name(*a.effect)) : nlohmann::json()},
                   {"detail", a.detail}});
  }
  return out;
}

// With --exit-code: the decision the command meets (the proxy's refusal
// or the Linux sandbox's own answer, where they differ from the rules').
int exit_status(const ExplainOptions& options, ir::Effect rules, const std::optional<lower::SandboxOverride>& on_linux,
                const std::optional<std::string>& at_proxy) {
  if (!options.exit_code) return kOk;
  ir::Effect effect = rules;
  if (on_linux) effect = on_linux->effect;
  if (at_proxy) effect = ir::Effect::Deny;
  return effect == ir::Effect::Allow ? kOk : effect == ir::Effect::Ask ? kExplainAsk : kExplainDeny;
}

// A form of the profile for a line of text: its start, and its message.
std::string form_summary(const sbpl::Verdict& v) {
  if (v.defaulted) return fmt::format("the default of `{}`", v.operation);
  std::string text = v.rule.size() > 120 ? v.rule.substr(0, 117) + "..." : v.rule;
  if (v.line != 0) text += fmt::format(" (line {})", v.line);
  else text += " (added by libsandbox)";
  return text;
}

// `sbc explain --target sbpl`: the rules' decision on the Mac's paths, then
// what the generated profile decides, asked through the SBPL evaluator
// (compiler/sbpl), per operation of the family, with the deciding form.
int run_explain_sbpl(const CommonOptions& common, const ExplainOptions& options, sema::Operation op) {
  const RenderOptions render = render_options(common);
  driver::Compilation c;
  driver::compile_file(c, options.file, load_options(common));
  if (!c.diags.all().empty()) std::fputs(render_diagnostics(c.diags, c.sources, render).c_str(), stderr);
  if (c.root_unreadable) return kUsage;
  if (!c.policy) return kPolicyErrors;
  sema::PathBindings bindings;
  std::string error;
  const auto profile = macos_profile(c, options.workspace, options.home, options.proxy_port, bindings, error);
  if (!error.empty()) {
    std::fprintf(stderr, "sbc explain: %s\n", error.c_str());
    return profile.error.empty() ? kUsage : kPolicyErrors;
  }
  std::map<std::string, std::string> params(profile.params.begin(), profile.params.end());
  auto loaded = sbpl::Profile::load(profile.text, params);
  if (const auto* e = std::get_if<std::string>(&loaded)) {
    std::fprintf(stderr, "sbc explain: internal error: the generated profile does not read: %s\n", e->c_str());
    return kInternal;
  }
  const sbpl::Profile& p = std::get<sbpl::Profile>(loaded);

  sbpl::Question q;
  std::vector<const char*> ops;
  std::string subject_text;
  ir::Subject subject;
  if (op == sema::Operation::Net) {
    auto h = sema::parse_host_subject(options.subject, 443);
    if (auto* err = std::get_if<std::string>(&h)) {
      std::fprintf(stderr, "sbc explain: invalid host `%s`: %s\n", options.subject.c_str(), err->c_str());
      return kUsage;
    }
    subject_text = std::get<sema::HostSubject>(h).text();
    subject = std::get<sema::HostSubject>(std::move(h));
  } else if (op == sema::Operation::Env) {
    std::fprintf(stderr, "sbc explain: env is sbrun's, not the profile's: drop --target sbpl\n");
    return kUsage;
  } else {
    auto path = sema::normalize_subject_path(options.subject, bindings, &error);
    if (!path) {
      std::fprintf(stderr, "sbc explain: invalid path `%s`: %s\n", options.subject.c_str(), error.c_str());
      return kUsage;
    }
    subject_text = lower::sbpl::canonical_macos_path(*path);
    subject = subject_text;
    q.path = subject_text;
    if (op == sema::Operation::Read) ops = {"file-read-data", "file-read-metadata"};
    if (op == sema::Operation::Write) ops = {"file-write-data", "file-write-create", "file-write-unlink"};
    if (op == sema::Operation::Unix) {
      ops = {"network-outbound"};
      q.unix_socket = true;
    }
  }
  const ir::Decision d = ir::decide(*c.policy, op, subject, bindings);
  std::string text = fmt::format("{} {} {}\n", sema::effect_name(d.effect), options.operation, subject_text);
  if (d.defaulted()) text += "  no rule matches: the default is deny\n";
  for (const ir::Rule* r : d.deciding) text += fmt::format("  decided by {}\n    at {}\n", rule_text(*r), rule_place(*r));
  text += "  in the macOS profile:\n";
  ir::Effect met = ir::Effect::Allow;
  if (op == sema::Operation::Net) {
    text += fmt::format("    network-outbound: only the proxy at localhost:{}; the proxy decides {} by the rules\n",
                        options.proxy_port, subject_text);
    met = d.effect;
  }
  for (const char* o : ops) {
    const auto v = p.decide(o, q);
    if (const auto* e = std::get_if<std::string>(&v)) {
      text += fmt::format("    {}: not known ({})\n", o, *e);
      continue;
    }
    const auto& verdict = std::get<sbpl::Verdict>(v);
    if (o == ops.front()) met = verdict.allowed ? ir::Effect::Allow : ir::Effect::Deny;
    text += fmt::format("    {}: {}, by {}\n", o, verdict.allowed ? "allow" : "deny", form_summary(verdict));
    if (!verdict.message.empty()) text += fmt::format("      message \"{}\"\n", verdict.message);
  }
  text += fmt::format("  (workspace {}, home {}, on the Mac)\n", bindings.workspace, bindings.home);
  std::fputs(text.c_str(), stdout);
  if (!options.exit_code) return kOk;
  return met == ir::Effect::Allow ? kOk : met == ir::Effect::Ask ? kExplainAsk : kExplainDeny;
}

}  // namespace

int run_explain(const CommonOptions& common, const ExplainOptions& options) {
  const auto op = parse_operation(options.operation);
  if (!op) {
    const auto near = closest_match(options.operation, {"read", "write", "net", "unix", "env"});
    std::fprintf(stderr, "sbc explain: unknown operation `%s`%s (expected read, write, net, unix or env)\n",
                 options.operation.c_str(), near ? ("; did you mean `" + *near + "`?").c_str() : "");
    return kUsage;
  }
  if (options.target == "sbpl") return run_explain_sbpl(common, options, *op);

  const RenderOptions render = render_options(common);
  driver::Compilation c;
  driver::compile_file(c, options.file, load_options(common));
  if (!c.diags.all().empty()) std::fputs(render_diagnostics(c.diags, c.sources, render).c_str(), stderr);
  if (c.root_unreadable) return kUsage;
  if (!c.policy) return kPolicyErrors;

  // The sandbox binds resolved paths, so explain decides on them too: the
  // anchors, every rule's literal prefix and the subject, through the
  // symlinks that exist now (lower/resolved_paths.hpp).
  lower::PosixFs host;
  const sema::PathBindings bindings =
      lower::canonical_bindings(host, driver::bindings_from_environment(options.workspace, options.home, false));
  const ir::Policy resolved = lower::resolve_rule_paths(*c.policy, host, bindings);

  ir::Subject subject;
  std::string subject_text;
  std::string resolved_from;  // the path as given, when symlinks lead elsewhere
  if (*op == sema::Operation::Net) {
    auto h = sema::parse_host_subject(options.subject, 443);
    if (auto* err = std::get_if<std::string>(&h)) {
      std::fprintf(stderr, "sbc explain: invalid host `%s`: %s\n", options.subject.c_str(), err->c_str());
      return kUsage;
    }
    subject_text = std::get<sema::HostSubject>(h).text();
    subject = std::get<sema::HostSubject>(std::move(h));
  } else if (*op == sema::Operation::Env) {
    subject_text = options.subject;
    subject = options.subject;
  } else {
    std::string error;
    auto p = sema::normalize_subject_path(options.subject, bindings, &error);
    if (!p) {
      std::fprintf(stderr, "sbc explain: invalid path `%s`: %s\n", options.subject.c_str(), error.c_str());
      return kUsage;
    }
    const std::string canonical = lower::canonicalize(host, *p).path;
    if (canonical != *p) resolved_from = *p;
    subject_text = canonical;
    subject = canonical;
  }

  const bool paths = sema::takes_paths(*op);
  const ir::Decision resolved_decision = ir::decide(paths ? resolved : *c.policy, *op, subject, bindings);
  // Report the rules as written: the same ids in the compiled policy.
  ir::Decision d = resolved_decision;
  const auto as_written = [&](std::vector<const ir::Rule*>& list) {
    for (const ir::Rule*& r : list) r = &c.policy->rules[r->id];
  };
  as_written(d.deciding);
  as_written(d.matching);
  // Paths the sandbox makes itself (/proc, /dev) and unix grants past a
  // denial: what the command meets on Linux, when it differs.
  std::optional<lower::SandboxOverride> on_linux;
  if (paths) on_linux = lower::linux_override(resolved, bindings, *op, subject_text, resolved_decision);
  std::optional<std::string> at_proxy;
  if (const auto* host = std::get_if<sema::HostSubject>(&subject)) at_proxy = proxy_refusal(*c.policy, *host, resolved_decision);
  // Every other rule that matched and why it lost, and every rule whose
  // pattern matched but an except took the subject out.
  std::vector<LostRule> lost;
  for (const ir::Rule& rule : (paths ? resolved : *c.policy).rules) {
    if (!ir::applies_to(rule, *op)) continue;
    const ir::Rule& as_written_rule = c.policy->rules[rule.id];
    if (std::find(d.deciding.begin(), d.deciding.end(), &as_written_rule) != d.deciding.end()) continue;
    if (ir::rule_matches(rule, subject, bindings)) {
      lost.push_back({&as_written_rule, true,
                      fmt::format("loses: {} beats {}", sema::effect_name(d.effect), sema::effect_name(rule.effect))});
    } else if (ir::pattern_matches(rule.pattern, subject, bindings)) {
      for (std::size_t i = 0; i < rule.excepts.size(); ++i) {
        if (!ir::pattern_matches(rule.excepts[i], subject, bindings)) continue;
        lost.push_back({&as_written_rule, false,
                        fmt::format("its except \"{}\" takes this subject out",
                                    sema::pattern_text(as_written_rule.excepts[i]))});
        break;
      }
    }
  }
  // What each target's own lowering decides, with the line that does it.
  std::vector<TargetAnswer> targets;
  {
    std::vector<std::pair<ir::Operation, std::string>> at;
    if (paths) at.emplace_back(*op, subject_text);
    const TargetOracle oracle(*c.policy, bindings, at);
    targets = oracle.answers(*op, subject);
  }
  if (render.format == RenderFormat::Json) {
    auto rules = [](const std::vector<const ir::Rule*>& list) {
      nlohmann::json out = nlohmann::json::array();
      for (const ir::Rule* r : list) out.push_back(ir::rule_to_json(*r));
      return out;
    };
    const nlohmann::json out = {{"schema_version", 1},
                                {"operation", options.operation},
                                {"subject", subject_text},
                                {"resolved_from", resolved_from.empty() ? nlohmann::json() : nlohmann::json(resolved_from)},
                                {"effect", sema::effect_name(d.effect)},
                                {"default", d.defaulted()},
                                {"linux", on_linux ? nlohmann::json{{"effect", sema::effect_name(on_linux->effect)},
                                                                 {"why", on_linux->why}}
                                                : nlohmann::json()},
                                {"proxy", at_proxy ? nlohmann::json{{"effect", "deny"}, {"why", *at_proxy}}
                                                   : nlohmann::json()},
                                {"deciding", rules(d.deciding)},
                                {"matching", rules(d.matching)},
                                {"lost", lost_json(lost)},
                                {"targets", targets_json(targets)},
                                {"bindings", {{"workspace", bindings.workspace}, {"home", bindings.home}, {"tmpdir", bindings.tmpdir}}}};
    std::fputs((out.dump(2) + "\n").c_str(), stdout);
    return exit_status(options, d.effect, on_linux, at_proxy);
  }
  std::string text = fmt::format("{} {} {}\n", sema::effect_name(d.effect), options.operation, subject_text);
  if (!resolved_from.empty()) text += fmt::format("  (resolved from {}, through symlinks)\n", resolved_from);
  if (d.defaulted()) {
    text += "  no rule matches: the default is deny\n";
  } else {
    for (const ir::Rule* r : d.deciding) text += fmt::format("  decided by {}\n    at {}\n", rule_text(*r), rule_place(*r));
  }
  for (const LostRule& l : lost) {
    text += fmt::format("  {} {}\n    at {}\n    {}\n", l.matched ? "also matched" : "not matched", rule_text(*l.rule),
                        rule_place(*l.rule), l.why);
  }
  if (at_proxy) text += fmt::format("  at sbrun's proxy: deny, {}\n", *at_proxy);
  if (on_linux) text += fmt::format("  in the Linux sandbox: {}, {}\n", sema::effect_name(on_linux->effect), on_linux->why);
  if (!targets.empty()) {
    text += "  each target (asks unanswered; Linux for this path existing at launch):\n";
    for (const TargetAnswer& a : targets) {
      text += fmt::format("    {}: {}, {}\n", a.target, a.effect ? sema::effect_name(*a.effect) : "not the rules'",
                          a.detail);
    }
  }
  if (*op == sema::Operation::Read || *op == sema::Operation::Write) {
    text += fmt::format("  (workspace {}, home {})\n", bindings.workspace, bindings.home);
  }
  std::fputs(text.c_str(), stdout);
  return exit_status(options, d.effect, on_linux, at_proxy);
}

}  // namespace sbpolicy::sbc
