#include "lower/resolved_paths.hpp"

#include <utility>
#include <variant>

#include "ir/evaluator.hpp"
#include "sema/glob.hpp"

namespace sbpolicy::lower {

namespace {

// `grants`: the pattern widens (a grant's target, a deny's except). Such a
// pattern is not resolved through a link in a directory the command may
// write, as the lowering does not follow it (W0101): its literal prefix
// stays as written, which no resolved path lies under.
void resolve_pattern(sema::Pattern& pattern, Canonicalizer& canonical, const ir::Policy& policy,
                     const sema::PathBindings& bindings, bool grants) {
  auto* path = std::get_if<sema::PathPattern>(&pattern);
  if (path == nullptr) return;
  const auto bound = sema::bind_literal_prefix(*path, bindings);
  if (!bound) return;
  const CanonicalPath resolved = canonical(bound->prefix);
  bool follow = true;
  if (grants) {
    for (const SymlinkStep& link : resolved.links) {
      if (may_plant_in(policy, bindings, parent_of(link.link))) follow = false;
    }
  }
  sema::PathPattern out = literal_pattern(follow ? resolved.path : bound->prefix);
  out.components.insert(out.components.end(), bound->rest.begin(), bound->rest.end());
  *path = std::move(out);
}

}  // namespace

bool may_plant_in(const ir::Policy& policy, const sema::PathBindings& bindings, std::string_view dir) {
  const ir::Effect e = ir::decide(policy, ir::Operation::Write, std::string(dir), bindings).effect;
  return e == ir::Effect::Allow || e == ir::Effect::Ask;
}

sema::PathPattern literal_pattern(std::string_view absolute) {
  sema::PathPattern p;
  p.anchor = sema::PathAnchor::Root;
  for (const auto& c : split_path(absolute)) p.components.push_back(sema::glob::escape_literal(c));
  return p;
}

ir::Policy resolve_rule_paths(const ir::Policy& policy, FsView& fs, const sema::PathBindings& bindings) {
  ir::Policy out = policy;
  SnapshotFs snapshot(fs);
  Canonicalizer canonical(snapshot);
  for (ir::Rule& r : out.rules) {
    const bool deny = r.effect == ir::Effect::Deny;
    resolve_pattern(r.pattern, canonical, policy, bindings, !deny);
    for (sema::Pattern& e : r.excepts) resolve_pattern(e, canonical, policy, bindings, deny);
  }
  return out;
}

sema::PathBindings canonical_bindings(FsView& fs, const sema::PathBindings& bindings) {
  sema::PathBindings out = bindings;
  for (std::string* dir : {&out.home, &out.workspace, &out.tmpdir, &out.xdg_config_home, &out.xdg_cache_home,
                           &out.xdg_data_home, &out.xdg_state_home, &out.xdg_runtime_dir}) {
    if (!dir->empty() && dir->front() == '/') *dir = canonicalize(fs, *dir).path;
  }
  return out;
}

}  // namespace sbpolicy::lower
