// The IR: the checked policy as one flat, ordered set of rules.
//
// Every rule has one effect, one operation, one normalised pattern, the
// `except` patterns of its statement, and where it came from: the file, the
// line and column of its target, and the chain of `use` statements through
// which that file was reached. Paths stay symbolic (`~`, `.`); targets bind
// them. Rules are sorted by operation, effect, pattern and origin, and
// numbered in that order, so the IR of a policy is the same byte for byte
// whatever the order of its statements and imports.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sema/resolve.hpp"
#include "support/source.hpp"

namespace sbpolicy::ir {

using sema::Effect;
using sema::Operation;
using sema::Pattern;

struct SourceLocation {
  std::string file;  // display name
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  Span span;
  std::string text() const;  // "file:line:col"
};

struct Origin {
  SourceLocation target;             // the pattern's string literal
  SourceLocation statement;          // the rule statement
  std::vector<SourceLocation> via;   // the `use` statements, root first
};

struct Rule {
  std::uint32_t id = 0;
  Effect effect;
  Operation operation;
  Pattern pattern;
  std::vector<Pattern> excepts;
  Origin origin;
};

// A rule as written: `allow read "~/x" except "~/x/y"`.
std::string rule_text(const Rule& r);

using sema::LimitKind;

// A resource limit of the policy: the smallest of its kind across the files
// (ties: the first resolved, a file's imports before the file), where it
// came from.
struct Limit {
  LimitKind kind;
  std::uint64_t value = 0;  // bytes, seconds or a count (sema::limit_unit)
  Origin origin;            // target: the value; statement: the `limit`
};

// A switch of the whole sandbox (`allow ptrace;`): the statement that
// decides it, a deny in any file over an allow.
struct Switch {
  Effect effect;
  Origin origin;  // target and statement: the statement
};

struct Policy {
  std::vector<std::string> files;  // display names, in load order, root first
  std::vector<Rule> rules;
  std::vector<Limit> limits;  // at most one per kind, in kind order
  std::optional<Switch> ptrace;  // absent: denied

  bool allows_ptrace() const { return ptrace && ptrace->effect == Effect::Allow; }
};

// The policy's limit of `kind`, or null.
const Limit* find_limit(const Policy& policy, LimitKind kind);

Policy build_policy(const sema::Program& program, sema::CheckedPolicy checked, const SourceMap& sources);

}  // namespace sbpolicy::ir
