#include "lower/resolved_paths.hpp"

#include <utility>
#include <variant>

#include "sema/glob.hpp"

namespace sbpolicy::lower {

namespace {

void resolve_pattern(sema::Pattern& pattern, Canonicalizer& canonical, const sema::PathBindings& bindings) {
  auto* path = std::get_if<sema::PathPattern>(&pattern);
  if (path == nullptr) return;
  const auto bound = sema::bind_literal_prefix(*path, bindings);
  if (!bound) return;
  sema::PathPattern out;
  out.anchor = sema::PathAnchor::Root;
  for (const std::string& c : split_path(canonical(bound->prefix).path)) {
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
    resolve_pattern(r.pattern, canonical, bindings);
    for (sema::Pattern& e : r.excepts) resolve_pattern(e, canonical, bindings);
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
