// The parser: source text to AST, with every syntax error reported.
//
// Before any grammar rule runs, the text is checked as a whole: it must be
// valid UTF-8 without NUL, control characters (other than tab, CR and LF) or
// bidirectional overrides (which can make a policy read differently from what
// it means), and it must fit the size limit. A file that fails this is not
// parsed at all.
//
// Parsing then runs the PEGTL grammar (grammar/policy_grammar.hpp) one
// statement at a time. After an error it resumes after the next `;` (or at
// the next line that starts a statement), so every statement with an error is
// reported once and the good statements around it still reach the AST.
// Nested lists, string and identifier lengths are bounded, so no input can
// exhaust the stack or the memory.
#pragma once

#include <cstddef>

#include "support/diagnostic.hpp"
#include "support/source.hpp"
#include "syntax/ast.hpp"

namespace sbpolicy::syntax {

struct ParseLimits {
  std::size_t max_file_bytes = 16u << 20;
  std::size_t max_string_bytes = 4096;
  std::size_t max_identifier_bytes = 128;
  std::size_t max_list_depth = 16;
  std::size_t max_errors = 100;  // per file; then one E0105 saying so
};

ast::Module parse_module(const SourceFile& file, Diagnostics& diags, const ParseLimits& limits = {});

// The names that cannot be `let` names.
bool is_reserved_word(std::string_view word);

}  // namespace sbpolicy::syntax
