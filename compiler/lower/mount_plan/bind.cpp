// Stage 1: each path rule's target and excepts bound to the filesystem.
//
// A pattern's literal prefix (what comes before its first wildcard) is bound
// to its anchor (`~`, `.`, `/`). A pattern without wildcards is that path;
// a glob becomes a query: the prefix, resolved as a named path for the
// pattern's role (its links are judged before anything is expanded below
// it), and the wildcard rest. A deny, or an except of a grant, that cannot
// be bound would grant more if left out: E0402, every such error in one run.
#include <fmt/format.h>

#include "lower/mount_plan/stages.hpp"
#include "sema/glob.hpp"

namespace sbpolicy::lower::plan {
namespace {

BoundPattern bind_pattern(LoweringContext& cx, PathResolver& resolver, std::vector<GlobQuery>& queries,
                          const sema::PathPattern& p, Role role, const ir::Rule& rule) {
  BoundPattern out;
  const auto bound = sema::bind_literal_prefix(p, cx.options.bindings);
  if (!bound) return out;
  out.ok = true;
  if (bound->rest.empty()) {
    out.literal = bound->prefix;
    return out;
  }
  const auto root = resolver.resolve(bound->prefix, role, rule, nullptr, p.text());
  if (!root) {
    out.dropped = true;
    return out;
  }
  out.query = queries.size();
  // Protections see what cannot be listed, and what links lead to.
  queries.push_back({root->path, bound->rest, role == Role::Protect, role == Role::Protect});
  return out;
}

}  // namespace

BoundRules bind_rules(LoweringContext& cx, PathResolver& resolver) {
  BoundRules out;
  for (const ir::Rule& r : cx.policy.rules) {
    if (r.operation != ir::Operation::Read && r.operation != ir::Operation::Write &&
        r.operation != ir::Operation::Unix) {
      continue;
    }
    ir::Effect effect = r.effect;
    if (effect == ir::Effect::Ask) {
      if (cx.options.asks_allowed.count(r.id) == 0) continue;  // an ask not granted grants nothing
      effect = ir::Effect::Allow;
    }
    const Role role = effect == ir::Effect::Deny ? Role::Protect : Role::Grant;
    const Role except_role = role == Role::Protect ? Role::Grant : Role::Protect;
    BoundRule b{&r, effect, role, except_role,
                bind_pattern(cx, resolver, out.queries, std::get<sema::PathPattern>(r.pattern), role, r), {}};
    for (const auto& e : r.excepts) {
      b.excepts.push_back(bind_pattern(cx, resolver, out.queries, std::get<sema::PathPattern>(e), except_role, r));
    }
    out.rules.push_back(std::move(b));
  }
  // Dropping a deny, or an except of a grant, would grant more: fail closed.
  // (Every error is reported in one run: a refusal above does not stop this.)
  for (const BoundRule& b : out.rules) {
    const bool deny_lost = b.effect == ir::Effect::Deny && !b.target.ok;
    std::size_t lost_except = b.excepts.size();
    for (std::size_t i = 0; i < b.excepts.size() && b.effect != ir::Effect::Deny; ++i) {
      if (!b.excepts[i].ok) lost_except = std::min(lost_except, i);
    }
    if (deny_lost || lost_except < b.excepts.size()) {
      cx.diags
          .report(Code::E0402, b.rule->origin.target.span,
                  fmt::format("`{}` cannot be bound to a real directory here (unknown anchor, or `..` above `/`)",
                              sema::pattern_text(deny_lost ? b.rule->pattern : b.rule->excepts[lost_except])))
          .label("would be left out")
          .help("check --workspace and $HOME, or write the path without climbing above `/`");
      cx.failed = true;
    }
  }
  return out;
}

}  // namespace sbpolicy::lower::plan
