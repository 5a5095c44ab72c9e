// Name resolution and type checking: from loaded ASTs to checked rules.
//
// For every file of a Program this pass
//  - checks `version` (first statement, at most once, and 1),
//  - binds `let` names (file scope, defined before use, no duplicates,
//    unused ones warned about) and flattens lists,
//  - reads each rule's effect and operation words (with "did you mean"),
//  - parses every target and `except` target with the pattern type the
//    operation takes: paths for read/write/unix, hosts for net, variable
//    names for env, reporting errors on the offending part of the string.
// The result is one flat list of checked rules, in file and statement
// order; ir::build_policy turns it into the IR.
#pragma once

#include <cstdint>
#include <string_view>
#include <variant>
#include <vector>

#include "sema/env_pattern.hpp"
#include "sema/host_pattern.hpp"
#include "sema/limits.hpp"
#include "sema/loader.hpp"
#include "sema/path_pattern.hpp"

namespace sbpolicy::sema {

enum class Effect : std::uint8_t { Allow, Deny, Ask };
enum class Operation : std::uint8_t { Read, Write, Net, Unix, Env };

std::string_view effect_name(Effect effect);
std::string_view operation_name(Operation op);
// Do rules of `op` take path patterns (read, write, unix)?
constexpr bool takes_paths(Operation op) {
  return op == Operation::Read || op == Operation::Write || op == Operation::Unix;
}

using Pattern = std::variant<PathPattern, HostPattern, EnvPattern>;
std::string pattern_text(const Pattern& pattern);

struct CheckedRule {
  Effect effect;
  Operation operation;
  Pattern pattern;
  std::vector<Pattern> excepts;
  FileId file;
  Span statement;  // the whole rule statement
  Span target;     // the string literal the pattern came from
  Span reference;  // the `let` name in the rule, when the target came through one
  std::vector<ImportStep> chain;
};

// `use M except P, ...;`: the paths P that the deny rules of M, and of the
// modules M imports, no longer cover (applied by resolve_program).
struct CarveOut {
  FileId file;        // the file with the `use`
  Span use_target;    // the use's target (what it loaded: LoadedFile::imports)
  Span except_keyword;
  std::vector<Pattern> patterns;  // path patterns
};

// `allow ptrace;` / `deny ptrace;`: a switch of the whole sandbox.
struct CheckedSwitch {
  Effect effect;
  FileId file = kNoFile;
  Span statement;
  std::vector<ImportStep> chain;
};

struct CheckedPolicy {
  std::vector<CheckedRule> rules;
  std::vector<CarveOut> carve_outs;
  // Every file's limits; the IR keeps the smallest of each kind.
  std::vector<CheckedLimit> limits;
  // Every file's ptrace switches; the IR keeps a deny over an allow.
  std::vector<CheckedSwitch> ptrace;
};

CheckedPolicy resolve_program(const Program& program, const SourceMap& sources, Diagnostics& diags);

}  // namespace sbpolicy::sema
