#include "sbc/targets.hpp"

#include <fmt/format.h>

#include <map>

#include "lower/fs_view.hpp"
#include "lower/sbpl/profile.hpp"
#include "sema/guarded_ranges.hpp"

namespace sbpolicy::sbc {

std::optional<std::string> proxy_refusal(const lower::ProxyRuleTable& table, const sema::HostSubject& subject,
                                         const ir::Decision& d) {
  if (d.effect == ir::Effect::Deny) return std::nullopt;
  if (!subject.is_ip && d.effect == ir::Effect::Ask && sema::is_local_name(subject.name)) {
    return fmt::format("`{}` only ever means this machine or its network: it is never asked about, only an "
                       "`allow net` rule opens it",
                       subject.name);
  }
  if (subject.is_ip) return lower::guard_refusal(table, subject, table.decide(subject));
  // An allowed `localhost` resolves to loopback (127.0.0.1 and ::1 here),
  // which the guard holds shut unless a rule names it exactly, or IP rules
  // open the addresses too.
  const bool loopback_name = subject.name == "localhost" || subject.name.ends_with(".localhost");
  if (d.effect != ir::Effect::Allow || !loopback_name) return std::nullopt;
  if (lower::names_loopback(table, subject)) return std::nullopt;
  for (const char* address : {"127.0.0.1", "[::1]"}) {
    const auto a = std::get<sema::HostSubject>(sema::parse_host_subject(address, subject.port));
    if (lower::guard_refusal(table, a, table.decide(a))) {
      return fmt::format("`{}` resolves to loopback, which opens only for an `allow net` rule naming `{}` "
                         "itself, or the addresses too: `127.0.0.1:{}` and `[::1]:{}`",
                         subject.name, subject.name, subject.port, subject.port);
    }
  }
  return std::nullopt;
}

namespace {

std::string mount_text(const lower::Mount& m) {
  std::string rules;
  for (std::uint32_t id : m.rules) rules += (rules.empty() ? "" : ", ") + std::to_string(id);
  return fmt::format("{} {}{}", lower::mount_kind_name(m.kind), m.dest, rules.empty() ? "" : " (rules " + rules + ")");
}

std::string form_text(const sbpl::Verdict& v) {
  if (v.defaulted) return fmt::format("the default of `{}`", v.operation);
  std::string text = v.rule.size() > 100 ? v.rule.substr(0, 97) + "..." : v.rule;
  return v.line != 0 ? fmt::format("{} (line {})", text, v.line) : text;
}

}  // namespace

TargetOracle::TargetOracle(const ir::Policy& policy, const sema::PathBindings& bindings,
                           const std::vector<std::pair<ir::Operation, std::string>>& paths)
    : policy_(policy), bindings_(bindings) {
  // Linux: a mount plan over a tree that holds every subject.
  std::vector<std::pair<std::string, lower::FileKind>> subjects;
  for (const auto& [op, path] : paths) {
    subjects.emplace_back(path, op == ir::Operation::Unix ? lower::FileKind::Socket : lower::FileKind::File);
  }
  Diagnostics diags;
  plan_ = lower::lower_in_memory(policy, bindings, subjects, diags);
  if (!plan_) {
    plan_error_ = "the policy does not lower";
    for (const auto& d : diags.all()) {
      if (d.severity == Severity::Error) {
        plan_error_ = fmt::format("the policy does not lower: {}", d.message);
        break;
      }
    }
    failures.emplace_back("linux", plan_error_);
  }

  // The proxy.
  auto table = lower::ProxyRuleTable::build(policy);
  if (auto* t = std::get_if<lower::ProxyRuleTable>(&table)) {
    table_ = std::move(*t);
  } else {
    table_error_ = std::get<std::string>(table);
    failures.emplace_back("proxy", table_error_);
  }

  // macOS: the profile, read back by the SBPL evaluator.
  lower::sbpl::SbplOptions so;
  so.bindings = bindings;
  so.bindings.workspace = lower::sbpl::canonical_macos_path(bindings.workspace);
  so.bindings.home = lower::sbpl::canonical_macos_path(bindings.home);
  so.bindings.tmpdir = "/private/tmp";
  so.proxy_port = 3128;
  const auto profile = lower::sbpl::lower_to_sbpl(policy, so);
  if (!profile.error.empty()) {
    profile_error_ = profile.error;
  } else {
    std::map<std::string, std::string> params(profile.params.begin(), profile.params.end());
    auto loaded = sbpl::Profile::load(profile.text, params);
    if (auto* p = std::get_if<sbpl::Profile>(&loaded)) {
      profile_ = std::make_unique<sbpl::Profile>(std::move(*p));
    } else {
      profile_error_ = "the generated profile does not read: " + std::get<std::string>(loaded);
    }
  }
  if (!profile_error_.empty()) failures.emplace_back("macos", profile_error_);
}

TargetOracle::~TargetOracle() = default;

std::vector<TargetAnswer> TargetOracle::answers(ir::Operation op, const ir::Subject& subject) const {
  using ir::Effect;
  std::vector<TargetAnswer> out;
  if (op == ir::Operation::Net) {
    TargetAnswer a{"proxy", std::nullopt, table_error_};
    if (table_) {
      const auto& host = std::get<sema::HostSubject>(subject);
      const lower::ProxyDecision d = table_->decide(host);
      a.effect = d.effect;
      a.detail = d.rule != nullptr ? "row of " + lower::rule_reference(*d.rule) : "no row matches: deny";
      ir::Decision as_rules;
      as_rules.effect = d.effect;
      if (auto refusal = proxy_refusal(*table_, host, as_rules)) {
        a.effect = Effect::Deny;
        a.detail = "the address guard: " + *refusal;
      }
    }
    out.push_back(std::move(a));
    return out;
  }
  if (op == ir::Operation::Env) {
    const std::string& name = std::get<std::string>(subject);
    const auto passed = lower::passed_environment(policy_, {{name, "1"}}, bindings_, {});
    out.push_back({"environment", passed.empty() ? Effect::Deny : Effect::Allow,
                   passed.empty() ? "not passed to the command" : "passed to the command"});
    return out;
  }

  const std::string& path = std::get<std::string>(subject);
  TargetAnswer linux{"linux", std::nullopt, plan_error_};
  if (plan_ && op == ir::Operation::Unix) {
    const bool bound = std::find(plan_->unix_sockets.begin(), plan_->unix_sockets.end(), path) != plan_->unix_sockets.end();
    linux.effect = bound ? Effect::Allow : Effect::Deny;
    linux.detail = bound ? "the socket is bound in" : "the socket is not bound in";
  } else if (plan_) {
    const lower::Mount* m = lower::covering_mount(*plan_, path);
    using Kind = lower::Mount::Kind;
    if (m == nullptr) {
      linux.effect = Effect::Deny;
      linux.detail = "nothing is mounted at or above it";
    } else if (m->kind == Kind::Proc || m->kind == Kind::Dev || m->kind == Kind::Tmpfs) {
      linux.detail = "the sandbox's own " + m->dest + " (" + mount_text(*m) + "), not the host's";
      linux.own = true;
    } else {
      const bool writable = m->kind == Kind::Bind;
      const bool readable = writable || m->kind == Kind::RoBind;
      linux.effect = (op == ir::Operation::Write ? writable : readable) ? Effect::Allow : Effect::Deny;
      linux.detail = mount_text(*m);
    }
  }
  out.push_back(std::move(linux));

  TargetAnswer mac{"macos", std::nullopt, profile_error_};
  if (profile_) {
    sbpl::Question q;
    q.path = lower::sbpl::canonical_macos_path(path);
    std::vector<const char*> ops = {"file-read-data"};
    if (op == ir::Operation::Write) ops = {"file-write-data", "file-write-create"};
    if (op == ir::Operation::Unix) {
      ops = {"network-outbound"};
      q.unix_socket = true;
    }
    int allowed = 0, unknown = 0;
    std::string detail;
    for (const char* o : ops) {
      const auto v = profile_->decide(o, q);
      if (const auto* e = std::get_if<std::string>(&v)) {
        detail += fmt::format("{}{}: not known ({})", detail.empty() ? "" : "; ", o, *e);
        ++unknown;
        continue;
      }
      const auto& verdict = std::get<sbpl::Verdict>(v);
      allowed += verdict.allowed ? 1 : 0;
      detail += fmt::format("{}{}: {} by {}", detail.empty() ? "" : "; ", o, verdict.allowed ? "allow" : "deny",
                            form_text(verdict));
    }
    // Writing is allowed when every one of its operations is; a mix is no
    // clean answer, and counts as neither.
    // An operation the evaluator cannot answer leaves no answer at all.
    if (unknown == 0 && allowed == static_cast<int>(ops.size())) mac.effect = Effect::Allow;
    else if (unknown == 0 && allowed == 0) mac.effect = Effect::Deny;
    mac.detail = detail;
    // What every process may read to start is the profile's own, as the
    // Linux sandbox's /proc and /dev are.
    if (op == ir::Operation::Read && mac.effect == Effect::Allow && lower::sbpl::in_startup_reads(q.path)) {
      mac.effect.reset();
      mac.own = true;
      mac.detail = "the sandbox's own start-up allowance (what every process reads to start): " + detail;
    }
  }
  out.push_back(std::move(mac));
  return out;
}

}  // namespace sbpolicy::sbc
