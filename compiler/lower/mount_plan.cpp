// The lowering's pipeline: its stages (lower/mount_plan/stages.hpp) in order,
// and what the runtime asks of a finished plan.
#include "lower/mount_plan.hpp"

#include <algorithm>

#include "ir/evaluator.hpp"
#include "lower/mount_plan/stages.hpp"

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

const nlohmann::json* LoweringDumps::stage(std::string_view name) const {
  if (name == "bind") return &bind;
  if (name == "expand") return &expand;
  if (name == "resolve") return &resolve;
  if (name == "points") return &points;
  return nullptr;
}

std::vector<const ir::Rule*> launch_asks(const ir::Policy& policy) {
  std::vector<const ir::Rule*> out;
  for (const auto& r : policy.rules) {
    if (r.effect == ir::Effect::Ask && r.operation != ir::Operation::Net) out.push_back(&r);
  }
  return out;
}

namespace plan {

void LoweringContext::fidelity(Code code, const ir::Rule& rule, std::string message) {
  if (!reported_.insert(std::make_pair(code, rule.id)).second) return;
  auto d = diags.report(code, rule.origin.target.span, std::move(message));
  d.label("on Linux (bubblewrap)");
  if (options.strict_for(rule)) {
    d.as_error();
    failed = true;
  }
}

}  // namespace plan

const Mount* covering_mount(const MountPlan& plan, const std::string& path) {
  const Mount* found = nullptr;
  for (const Mount& m : plan.mounts) {
    if (m.kind == Mount::Kind::RemountRo || m.kind == Mount::Kind::Symlink) continue;
    if (at_or_below(path, m.dest)) found = &m;
  }
  return found;
}

namespace {

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

std::optional<MountPlan> lower_in_memory(const ir::Policy& policy, const sema::PathBindings& bindings,
                                         const std::vector<std::pair<std::string, FileKind>>& paths,
                                         Diagnostics& diags) {
  MemoryFs fs;
  for (const std::string& dir : {bindings.home, bindings.workspace, bindings.tmpdir}) fs.add(dir, FileKind::Directory);
  for (const auto& [path, kind] : paths) fs.add(path, kind);
  LowerOptions options;
  options.bindings = bindings;
  return lower_to_mount_plan(policy, fs, options, diags);
}

std::optional<MountPlan> lower_to_mount_plan(const ir::Policy& policy, FsView& fs, const LowerOptions& options,
                                             Diagnostics& diags, LoweringDumps* dumps) {
  SnapshotFs snapshot(fs);
  plan::LoweringContext cx(policy, snapshot, options, diags);
  plan::PathResolver resolver(cx);
  const plan::BoundRules bound = plan::bind_rules(cx, resolver);
  if (dumps != nullptr) dumps->bind = plan::dump(bound);
  const GlobExpansion expansion = plan::expand_rules(cx, bound);
  if (dumps != nullptr) dumps->expand = plan::dump(bound, expansion);
  // A refusal in bind does not stop resolve: every error is reported in one
  // run. An expansion over its budget is incomplete: nothing is built on it.
  if (expansion.budget_exceeded) return std::nullopt;
  const plan::ResolvedRules resolved = plan::resolve_rules(cx, resolver, bound, expansion);
  if (dumps != nullptr) dumps->resolve = plan::dump(resolved);
  if (cx.failed) return std::nullopt;
  const plan::ConcreteDecider decider(resolved);
  plan::PointTable table = plan::decide_points(cx, resolved, decider);
  if (cx.failed) {
    if (dumps != nullptr) dumps->points = plan::dump(table);
    return std::nullopt;
  }
  plan::pin_protected_parents(table, decider);
  plan::bound_points(cx, table, decider);
  if (dumps != nullptr) dumps->points = plan::dump(table);
  plan::warn_links_out_of_denials(cx, table, decider);
  MountPlan result = plan::emit_plan(cx, table, decider);
  if (cx.failed) return std::nullopt;
  return result;
}

std::vector<std::pair<std::string, std::string>> passed_environment(
    const ir::Policy& policy, const std::vector<std::pair<std::string, std::string>>& environment,
    const sema::PathBindings& bindings, const std::set<std::uint32_t>& asks_allowed) {
  std::vector<std::pair<std::string, std::string>> env;
  for (const auto& [name, value] : environment) {
    const ir::Decision d = ir::decide(policy, ir::Operation::Env, name, bindings);
    bool pass = d.effect == ir::Effect::Allow;
    if (d.effect == ir::Effect::Ask) {
      pass = std::all_of(d.deciding.begin(), d.deciding.end(),
                         [&](const ir::Rule* r) { return asks_allowed.count(r->id) > 0; });
    }
    if (pass) env.emplace_back(name, value);
  }
  return env;
}

}  // namespace sbpolicy::lower
