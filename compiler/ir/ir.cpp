#include "ir/ir.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

namespace sbpolicy::ir {

std::string SourceLocation::text() const { return fmt::format("{}:{}:{}", file, line, column); }

std::string rule_text(const Rule& r) {
  std::string s = fmt::format("{} {} \"{}\"", sema::effect_name(r.effect), sema::operation_name(r.operation),
                              sema::pattern_text(r.pattern));
  for (std::size_t i = 0; i < r.excepts.size(); ++i) {
    s += fmt::format("{}\"{}\"", i == 0 ? " except " : ", ", sema::pattern_text(r.excepts[i]));
  }
  return s;
}

namespace {

SourceLocation locate(const SourceMap& sources, Span span) {
  SourceLocation loc;
  if (!span.valid()) return loc;
  const SourceFile& f = sources.file(span.file);
  const LineCol lc = f.line_col(span.begin);
  loc.file = f.name();
  loc.line = lc.line;
  loc.column = lc.column;
  loc.span = span;
  return loc;
}

}  // namespace

Policy build_policy(const sema::Program& program, sema::CheckedPolicy checked, const SourceMap& sources) {
  Policy policy;
  for (const auto& f : program.files) policy.files.push_back(sources.file(f.file).name());
  policy.rules.reserve(checked.rules.size());
  for (sema::CheckedRule& c : checked.rules) {
    Rule r{0, c.effect, c.operation, std::move(c.pattern), std::move(c.excepts), {}};
    r.origin.target = locate(sources, c.target);
    r.origin.statement = locate(sources, c.statement);
    for (const auto& step : c.chain) r.origin.via.push_back(locate(sources, step.use_span));
    std::sort(r.excepts.begin(), r.excepts.end());
    r.excepts.erase(std::unique(r.excepts.begin(), r.excepts.end()), r.excepts.end());
    policy.rules.push_back(std::move(r));
  }
  auto key = [](const Rule& r) {
    return std::tie(r.operation, r.effect, r.pattern, r.excepts, r.origin.target.file, r.origin.target.line,
                    r.origin.target.column);
  };
  std::sort(policy.rules.begin(), policy.rules.end(), [&](const Rule& a, const Rule& b) { return key(a) < key(b); });
  for (std::size_t i = 0; i < policy.rules.size(); ++i) policy.rules[i].id = static_cast<std::uint32_t>(i);
  // Of equal limits, the first resolved (imports before the file) names
  // where it came from.
  for (const sema::LimitKind kind : sema::kLimitKinds) {
    const sema::CheckedLimit* lowest = nullptr;
    for (const sema::CheckedLimit& l : checked.limits) {
      if (l.kind == kind && (lowest == nullptr || l.value < lowest->value)) lowest = &l;
    }
    if (lowest == nullptr) continue;
    Limit limit{kind, lowest->value, {}};
    limit.origin.target = locate(sources, lowest->value_span);
    limit.origin.statement = locate(sources, lowest->statement);
    for (const auto& step : lowest->chain) limit.origin.via.push_back(locate(sources, step.use_span));
    policy.limits.push_back(std::move(limit));
  }
  // A deny anywhere keeps ptrace denied; the first of a kind decides.
  const sema::CheckedSwitch* decisive = nullptr;
  for (const sema::CheckedSwitch& w : checked.ptrace) {
    if (decisive == nullptr || (w.effect == Effect::Deny && decisive->effect != Effect::Deny)) decisive = &w;
  }
  if (decisive != nullptr) {
    Switch w{decisive->effect, {}};
    w.origin.statement = locate(sources, decisive->statement);
    w.origin.target = w.origin.statement;
    for (const auto& step : decisive->chain) w.origin.via.push_back(locate(sources, step.use_span));
    policy.ptrace = std::move(w);
  }
  return policy;
}

const Limit* find_limit(const Policy& policy, LimitKind kind) {
  for (const Limit& l : policy.limits) {
    if (l.kind == kind) return &l;
  }
  return nullptr;
}

}  // namespace sbpolicy::ir
