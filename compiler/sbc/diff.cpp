// sbc diff OLD NEW: what the new policy changes, exactly. Per operation,
// equivalent, more or less permissive, or incomparable, with shortest
// examples of every access added or removed and the rules behind them on
// both sides (analysis/compare.hpp); then the sandbox's switches and limits.
#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "analysis/compare.hpp"
#include "ir/ir_json.hpp"
#include "sbc/commands.hpp"
#include "sema/limits.hpp"

namespace sbpolicy::sbc {

namespace {

constexpr ir::Operation kOperations[] = {ir::Operation::Read, ir::Operation::Write, ir::Operation::Unix,
                                         ir::Operation::Net, ir::Operation::Env};

// A change of the sandbox as a whole: ptrace, or one limit.
struct SwitchChange {
  std::string what;    // "ptrace", "limit memory"
  std::string before;  // "denied", "512 MiB", "none"
  std::string after;
  bool loosened = false;  // the new policy allows more
};

std::vector<SwitchChange> switch_changes(const ir::Policy& before, const ir::Policy& after) {
  std::vector<SwitchChange> out;
  if (before.allows_ptrace() != after.allows_ptrace()) {
    out.push_back({"ptrace", before.allows_ptrace() ? "allowed" : "denied",
                   after.allows_ptrace() ? "allowed" : "denied", after.allows_ptrace()});
  }
  for (sema::LimitKind kind : sema::kLimitKinds) {
    const ir::Limit* a = ir::find_limit(before, kind);
    const ir::Limit* b = ir::find_limit(after, kind);
    if ((a == nullptr) == (b == nullptr) && (a == nullptr || a->value == b->value)) continue;
    const auto text = [&](const ir::Limit* l) { return l ? sema::format_limit_value(kind, l->value) : "none"; };
    out.push_back({fmt::format("limit {}", sema::limit_name(kind)), text(a), text(b),
                   b == nullptr || (a != nullptr && b->value > a->value)});
  }
  return out;
}

nlohmann::json rules_json(const std::vector<const ir::Rule*>& rules) {
  nlohmann::json out = nlohmann::json::array();
  for (const ir::Rule* r : rules) out.push_back(ir::rule_to_json(*r));
  return out;
}

nlohmann::json change_json(const analysis::Change& c, const sema::PathBindings& b) {
  return {{"subject", analysis::subject_text(c.subject, b)},
          {"before", {{"effect", sema::effect_name(c.before.effect)}, {"default", c.before.defaulted()},
                      {"rules", rules_json(c.before.deciding)}}},
          {"after", {{"effect", sema::effect_name(c.after.effect)}, {"default", c.after.defaulted()},
                     {"rules", rules_json(c.after.deciding)}}}};
}

std::string side_text(const char* label, const ir::Decision& d) {
  if (d.defaulted()) return fmt::format("      {}: deny, no rule matches\n", label);
  std::string out;
  for (const ir::Rule* r : d.deciding) out += fmt::format("      {}: {}\n        at {}\n", label, rule_text(*r), rule_place(*r));
  return out;
}

std::string change_text(char sign, ir::Operation op, const analysis::Change& c, const sema::PathBindings& b) {
  std::string out = fmt::format("  {} {} {} {}  (was {})\n", sign, sema::effect_name(c.after.effect),
                                sema::operation_name(op), analysis::subject_text(c.subject, b),
                                sema::effect_name(c.before.effect));
  out += side_text("now", c.after);
  out += side_text("was", c.before);
  return out;
}

}  // namespace

int run_diff(const CommonOptions& common, const DiffOptions& options) {
  const RenderOptions render = render_options(common);
  driver::Compilation before, after;
  driver::compile_file(before, options.old_file, load_options(common));
  driver::compile_file(after, options.new_file, load_options(common));
  for (const driver::Compilation* c : {&before, &after}) {
    const Findings f = findings(*c, c->diags, common);
    if (!f.shown.all().empty()) std::fputs(render_diagnostics(f.shown, c->sources, render).c_str(), stderr);
  }
  if (before.root_unreadable || after.root_unreadable) return kUsage;
  if (!before.policy || !after.policy) return kPolicyErrors;

  const sema::PathBindings bindings = analysis::analysis_bindings(options.workspace, options.home);
  // Only the rules a change can touch take part (analysis/compare.hpp).
  const auto touched = analysis::touched_rules(*before.policy, *after.policy, bindings);
  analysis::PolicySets old_sets(touched ? touched->first : *before.policy, bindings);
  analysis::PolicySets new_sets(touched ? touched->second : *after.policy, bindings);
  std::vector<analysis::OperationDiff> diffs;
  for (ir::Operation op : kOperations) {
    std::string error;
    auto d = analysis::compare(old_sets, new_sets, op, options.max_examples, error);
    if (!d) {
      std::fprintf(stderr, "sbc diff: cannot compare the %s rules: %s\n", std::string(sema::operation_name(op)).c_str(),
                   error.c_str());
      return kPolicyErrors;
    }
    diffs.push_back(std::move(*d));
  }
  const std::vector<SwitchChange> switches = switch_changes(*before.policy, *after.policy);

  bool added = false, changed = !switches.empty();
  for (const auto& s : switches) added |= s.loosened;
  for (const auto& d : diffs) {
    added |= !d.added.empty();
    changed |= d.relation != analysis::Relation::Equivalent;
  }
  // The whole policy: more permissive when something opened and nothing closed.
  bool any_closed = false;
  for (const auto& s : switches) any_closed |= !s.loosened;
  for (const auto& d : diffs) any_closed |= !d.removed.empty();
  const analysis::Relation overall = added && any_closed ? analysis::Relation::Incomparable
                                     : added             ? analysis::Relation::MorePermissive
                                     : any_closed        ? analysis::Relation::LessPermissive
                                                         : analysis::Relation::Equivalent;

  if (render.format == RenderFormat::Json) {
    nlohmann::json ops = nlohmann::json::array();
    for (const auto& d : diffs) {
      nlohmann::json a = nlohmann::json::array(), r = nlohmann::json::array();
      for (const auto& c : d.added) a.push_back(change_json(c, bindings));
      for (const auto& c : d.removed) r.push_back(change_json(c, bindings));
      ops.push_back({{"operation", sema::operation_name(d.operation)},
                     {"relation", analysis::relation_name(d.relation)},
                     {"added", a},
                     {"removed", r},
                     {"more_added", d.more_added},
                     {"more_removed", d.more_removed}});
    }
    nlohmann::json sw = nlohmann::json::array();
    for (const auto& s : switches) {
      sw.push_back({{"what", s.what}, {"before", s.before}, {"after", s.after}, {"loosened", s.loosened}});
    }
    const nlohmann::json out = {{"schema_version", 1},
                                {"old", options.old_file},
                                {"new", options.new_file},
                                {"relation", analysis::relation_name(overall)},
                                {"operations", ops},
                                {"sandbox", sw},
                                {"bindings", {{"workspace", bindings.workspace}, {"home", bindings.home}}}};
    std::fputs((out.dump(2) + "\n").c_str(), stdout);
  } else {
    std::string text = fmt::format("{} -> {}: {}\n", options.old_file, options.new_file,
                                   analysis::relation_name(overall));
    for (const auto& d : diffs) {
      text += fmt::format("{}: {}\n", sema::operation_name(d.operation), analysis::relation_name(d.relation));
      for (const auto& c : d.added) text += change_text('+', d.operation, c, bindings);
      if (d.more_added) text += "  + ... more access of the same kind (--max-examples)\n";
      for (const auto& c : d.removed) text += change_text('-', d.operation, c, bindings);
      if (d.more_removed) text += "  - ... more of the same kind (--max-examples)\n";
    }
    for (const auto& s : switches) {
      text += fmt::format("{} {}: {} (was {})\n", s.loosened ? '+' : '-', s.what, s.after, s.before);
    }
    text += fmt::format("(paths for workspace {}, home {})\n", bindings.workspace, bindings.home);
    std::fputs(text.c_str(), stdout);
  }
  if (options.fail_on == "new-access" && added) return kPolicyErrors;
  if (options.fail_on == "any-change" && changed) return kPolicyErrors;
  return kOk;
}

}  // namespace sbpolicy::sbc
