// Stage 2: the globs expanded against the filesystem (lower/glob_expand),
// and what that costs in fidelity said aloud.
#include <fmt/format.h>

#include <algorithm>

#include "lower/mount_plan/stages.hpp"

namespace sbpolicy::lower::plan {

GlobExpansion expand_rules(LoweringContext& cx, const BoundRules& bound) {
  GlobExpansion expansion = expand_globs(cx.fs, bound.queries, cx.options.glob_entry_budget);
  if (expansion.budget_exceeded) {
    // A partial expansion would leave denials out: fail closed.
    for (const BoundRule& b : bound.rules) {
      if (b.target.query != kNoQuery && bound.queries[b.target.query].root == expansion.budget_root) {
        cx.diags
            .report(Code::E0400, b.rule->origin.target.span,
                    fmt::format("expanding this glob walked more than {} entries under `{}`",
                                cx.options.glob_entry_budget, expansion.budget_root))
            .label("too broad to expand at launch")
            .help("give the glob a longer literal prefix, or use a plain subtree");
        break;
      }
    }
    if (!cx.diags.has_errors()) {
      cx.diags.report(Code::E0400, Span{},
                      fmt::format("glob expansion under `{}` walked more than {} entries", expansion.budget_root,
                                  cx.options.glob_entry_budget));
    }
    cx.failed = true;
    return expansion;
  }
  const auto is_glob = [](const BoundPattern& p) { return p.query != kNoQuery; };
  if (!expansion.links_cut_short.empty()) {
    // Links no longer followed: protections beyond what the evaluator
    // promises (it decides on resolved paths) were left out. Said aloud.
    const auto cut = [&](const BoundPattern& p) {
      return is_glob(p) && bound.queries[p.query].follow_links &&
             bound.queries[p.query].root == expansion.links_cut_short;
    };
    for (const BoundRule& b : bound.rules) {
      if (cut(b.target) || std::any_of(b.excepts.begin(), b.excepts.end(), cut)) {
        cx.fidelity(Code::W0100, *b.rule,
                    fmt::format("symlinks under `{}` lead to more than {} entries; past them, links are not followed",
                                expansion.links_cut_short, kLinkEntryBudget));
        break;
      }
    }
  }
  for (const BoundRule& b : bound.rules) {
    if (is_glob(b.target) || std::any_of(b.excepts.begin(), b.excepts.end(), is_glob)) {
      cx.fidelity(Code::W0100, *b.rule,
                  fmt::format("`{}` is expanded against the filesystem at launch; paths created later are not covered",
                              sema::pattern_text(b.rule->pattern)));
    }
  }
  return expansion;
}

}  // namespace sbpolicy::lower::plan
