#include "lower/resolved_paths.hpp"

#include <algorithm>
#include <utility>
#include <variant>

#include "ir/evaluator.hpp"
#include "sema/glob.hpp"

namespace sbpolicy::lower {

namespace {

// Does the policy let the command write `dir` (an ask counts: a link there
// may have been planted by a run that was allowed)?
bool writable(const ir::Policy& policy, const sema::PathBindings& bindings, const std::string& dir) {
  const ir::Effect e = ir::decide(policy, ir::Operation::Write, dir, bindings).effect;
  return e == ir::Effect::Allow || e == ir::Effect::Ask;
}

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
      if (writable(policy, bindings, link.link.substr(0, std::max<std::size_t>(1, link.link.rfind('/'))))) follow = false;
    }
  }
  sema::PathPattern out;
  out.anchor = sema::PathAnchor::Root;
  for (const std::string& c : split_path(follow ? resolved.path : bound->prefix)) {
    out.components.push_back(sema::glob::escape_literal(c));
  }
  out.components.insert(out.components.end(), bound->rest.begin(), bound->rest.end());
  *path = std::move(out);
}

}  // namespace

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
