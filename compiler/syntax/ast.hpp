// The abstract syntax tree of one policy file.
//
// The AST is what the file says, before any meaning is given to it: effects
// and operations are still words (checked by sema, which can suggest
// corrections), strings are decoded but not yet patterns. Every node keeps
// its span so that later stages can point at the source.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "support/source.hpp"

namespace sbpolicy::ast {

struct StringLit {
  std::string value;  // decoded
  Span span;          // including the quotes
  // For strings with escapes: the source offset of each decoded byte, plus one
  // entry for the end. Empty when the string has no escapes, in which case
  // decoded byte i sits at span.begin + 1 + i.
  std::vector<std::uint32_t> source_offsets;

  // The source span of decoded bytes [begin, end); a zero-width range becomes
  // a one-byte span so a caret can be drawn.
  Span sub_span(std::uint32_t begin, std::uint32_t end) const;
};

struct Name {
  std::string text;
  Span span;
};

struct Value;
struct ListValue {
  std::vector<Value> items;
  Span span;
};
struct Value {
  std::variant<StringLit, Name, ListValue> node;
  Span span() const;
};

struct VersionStmt {
  std::uint32_t number = 0;
  Span number_span;
};

struct UseStmt {
  bool is_stdlib = false;
  std::string module;  // "std.dev.node" when is_stdlib
  StringLit path;      // when !is_stdlib
  Span target_span;
  // `except ...`: paths the imported module's deny rules (and those of the
  // modules it imports) do not cover, each a StringLit or a Name.
  std::vector<Value> excepts;
  Span except_keyword;  // invalid when there is no carve-out
};

struct LetStmt {
  Name name;
  Value value;
  // `export let`: the files that import this one may use the name.
  bool exported = false;
  Span export_keyword;
};

struct RuleStmt {
  Name effect;
  Name operation;
  std::vector<Value> targets;  // each a StringLit or a Name
  std::vector<Value> excepts;
  Span except_keyword;  // invalid when there is no except clause
};

// `limit KIND VALUE;`: a resource limit for the sandboxed command (sema
// reads the kind and the value's number and unit).
struct LimitStmt {
  Name kind;
  std::string value;  // the quantity as written, or the string's decoded text
  Span value_span;
  bool quoted = false;
};

// `expect EFFECT OP "subject" [by "file:line"];` inside a test block.
struct Expectation {
  Name effect;
  Name operation;
  StringLit subject;
  std::optional<StringLit> by;  // the deciding rule's place
  Span span;                    // from `expect` to the `;`
};

// `test "name" { expect …; … }`: checked by `sbc test`, not part of the
// policy's meaning (sema checks its words; the IR holds no tests).
struct TestStmt {
  StringLit name;
  std::vector<Expectation> expects;
};

struct Statement {
  std::variant<VersionStmt, UseStmt, LetStmt, RuleStmt, LimitStmt, TestStmt> node;
  Span span;  // from the first token to the `;`
};

struct Module {
  FileId file = kNoFile;
  std::vector<Statement> statements;
  // Names of `let` statements that had a syntax error: their uses are not
  // also reported as undefined (one mistake, one error).
  std::vector<std::string> unparsed_lets;
};

}  // namespace sbpolicy::ast
