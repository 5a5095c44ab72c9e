#include "driver/lints.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "driver/bindings.hpp"
#include "ir/evaluator.hpp"

namespace sbpolicy::driver {

namespace {

// `std.secrets` for std/secrets.sbpolicy, `"../org/b.sbpolicy"` for a file:
// how a `use` names the module a rule came from.
std::string use_name(const Compilation& c, FileId file) {
  for (const sema::LoadedFile& f : c.program.files) {
    if (f.file != file) continue;
    std::string name = c.sources.file(f.file).name();
    if (!f.is_stdlib) return "\"" + name + "\"";
    if (name.ends_with(".sbpolicy")) name.resize(name.size() - 9);
    std::replace(name.begin(), name.end(), '/', '.');
    return name;
  }
  return "";
}

}  // namespace

void warn_shadowed_allows(Compilation& c) {
  if (!c.policy) return;
  sema::PathBindings bindings;
  bindings.home = "/home/user";
  bindings.workspace = "/workspace";
  // Only the imported files' denies can shadow: ask them alone (the whole
  // evaluator per grant is quadratic in the policy's size).
  std::vector<const ir::Rule*> imported;
  for (const ir::Rule& r : c.policy->rules) {
    if (r.effect == ir::Effect::Deny && r.origin.target.span.file != c.program.root) imported.push_back(&r);
  }
  if (imported.empty()) return;
  for (const ir::Rule& r : c.policy->rules) {
    if (r.effect == ir::Effect::Deny || r.origin.target.span.file != c.program.root || !sema::takes_paths(r.operation)) {
      continue;
    }
    const auto bound = sema::bind_literal_prefix(std::get<sema::PathPattern>(r.pattern), bindings);
    if (!bound || !bound->rest.empty()) continue;
    const ir::Subject subject = bound->prefix;
    const auto it = std::find_if(imported.begin(), imported.end(), [&](const ir::Rule* deny) {
      return ir::applies_to(*deny, r.operation) && ir::rule_matches(*deny, subject, bindings);
    });
    if (it == imported.end()) continue;
    const ir::Rule& deny = **it;
    const std::string module = use_name(c, deny.origin.target.span.file);
    if (module.empty()) continue;
    c.diags
        .report(Code::W0005, r.origin.target.span,
                fmt::format("this {} does nothing: `deny {} \"{}\"` of {} wins over it", sema::effect_name(r.effect),
                            sema::operation_name(deny.operation), sema::pattern_text(deny.pattern),
                            deny.origin.target.text()))
        .label("shadowed by an imported deny")
        .help(fmt::format("a deny beats an allow; carve the path out where it is imported: `use {} except \"{}\";`",
                          module, sema::pattern_text(r.pattern)));
  }
  c.diags.sort();
}

void warn_launch_globs(Compilation& c) {
  if (!c.policy) return;
  const sema::PathBindings bindings = bindings_from_environment("", "", false);
  const auto is_glob = [&](const sema::Pattern& p) {
    const auto bound = sema::bind_literal_prefix(std::get<sema::PathPattern>(p), bindings);
    return bound && !bound->rest.empty();
  };
  for (const ir::Rule& r : c.policy->rules) {
    if (!sema::takes_paths(r.operation) || in_stdlib(c, r.origin.target.span)) continue;
    if (!is_glob(r.pattern) && std::none_of(r.excepts.begin(), r.excepts.end(), is_glob)) continue;
    c.diags
        .report(Code::W0100, r.origin.target.span,
                fmt::format("`{}` is expanded against the filesystem at launch; paths created later are not covered",
                            sema::pattern_text(r.pattern)))
        .label("on Linux (bubblewrap)");
  }
  c.diags.sort();
}

}  // namespace sbpolicy::driver
