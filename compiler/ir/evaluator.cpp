#include "ir/evaluator.hpp"

namespace sbpolicy::ir {

bool pattern_matches(const Pattern& pattern, const Subject& subject, const sema::PathBindings& bindings) {
  if (const auto* path = std::get_if<sema::PathPattern>(&pattern)) {
    const auto* s = std::get_if<std::string>(&subject);
    return s != nullptr && sema::path_matches(*path, bindings, *s);
  }
  if (const auto* host = std::get_if<sema::HostPattern>(&pattern)) {
    const auto* s = std::get_if<sema::HostSubject>(&subject);
    return s != nullptr && sema::host_matches(*host, *s);
  }
  const auto& env = std::get<sema::EnvPattern>(pattern);
  const auto* s = std::get_if<std::string>(&subject);
  return s != nullptr && sema::env_matches(env, *s);
}

bool applies_to(Operation operation, Effect effect, Operation op) {
  if (operation == op) return true;
  if (op == Operation::Read && operation == Operation::Write) return effect != Effect::Deny;
  if (op == Operation::Write && operation == Operation::Read) return effect == Effect::Deny;
  return false;
}

bool applies_to(const Rule& rule, Operation op) { return applies_to(rule.operation, rule.effect, op); }

bool rule_matches(const Rule& rule, const Subject& subject, const sema::PathBindings& bindings) {
  if (!pattern_matches(rule.pattern, subject, bindings)) return false;
  for (const Pattern& e : rule.excepts) {
    if (pattern_matches(e, subject, bindings)) return false;
  }
  return true;
}

Decision settle(std::vector<const Rule*> matching) {
  Decision d;
  d.matching = std::move(matching);
  d.effect = settle_by(d.matching, [](const Rule* r) { return r->effect; }, d.deciding);
  return d;
}

Decision decide(const Policy& policy, Operation op, const Subject& subject, const sema::PathBindings& bindings) {
  std::vector<const Rule*> matching;
  for (const Rule& rule : policy.rules) {
    if (applies_to(rule, op) && rule_matches(rule, subject, bindings)) matching.push_back(&rule);
  }
  return settle(std::move(matching));
}

}  // namespace sbpolicy::ir
