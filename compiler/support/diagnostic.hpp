// Diagnostics are values.
//
// The library never prints and never throws for bad input: every stage
// appends Diagnostic values to a Diagnostics list, and the tools render them
// once, at the edge (render.hpp), as human text, plain text or JSON. The set
// of codes, their severities, names and documentation slugs come from the
// one table in diagnostics.def.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "support/source.hpp"

namespace sbpolicy {

// A note is a finding to know about that never fails a run (lint's `note` level).
enum class Severity { Error, Warning, Note };

enum class Code {
#define DIAG(code, severity, name, summary, slug) code,
#include "support/diagnostics.def"
#undef DIAG
};

struct CodeInfo {
  Code code;
  std::string_view id;  // "E0201"
  Severity severity;
  std::string_view name;
  std::string_view summary;
  std::string_view slug;
};

const CodeInfo& code_info(Code code);
// Is `id` ("W0100") the id of a code whose severity is a warning or a note?
bool is_warning_code(std::string_view id);
const std::vector<CodeInfo>& all_codes();
// The lint rules (support/lint_rules.def): what `sbc lint` finds, beyond
// the code's own row (id, severity, name, summary).
struct LintRule {
  Code code;
  std::string_view category;  // correctness, exposure, protection, fidelity, style
  std::string_view why;
  std::string_view fix;
};
const std::vector<LintRule>& lint_rules();
// The lint rule of `code`, or null when it is not one (L0xxx).
const LintRule* lint_rule(Code code);
std::string_view severity_name(Severity severity);

struct Label {
  Span span;
  std::string message;
};

// A suggested edit: replace the text at `span` by `replacement`.
struct FixIt {
  Span span;
  std::string replacement;
};

struct Diagnostic {
  Code code;
  Severity severity;
  std::string message;           // lowercase, user input in backticks
  Label primary;                 // where; its message is the caret label
  std::vector<Label> secondary;  // related places (previous definition, …)
  std::vector<std::string> notes;
  std::string help;              // "did you mean `read`?"; empty when none
  std::vector<FixIt> fixits;
};

// Builder for one diagnostic, so emit sites read as one expression:
//   diags.error(Code::E0201, span, "unknown operation `reed`").label("not an operation").help(...);
class DiagnosticBuilder {
 public:
  explicit DiagnosticBuilder(Diagnostic& d) : d_(d) {}
  DiagnosticBuilder& label(std::string message);
  DiagnosticBuilder& secondary(Span span, std::string message);
  DiagnosticBuilder& note(std::string note);
  DiagnosticBuilder& help(std::string help);
  DiagnosticBuilder& fixit(Span span, std::string replacement);
  // Raises a warning to an error (`--target-strict`, `--fail-level`).
  DiagnosticBuilder& as_error();

 private:
  Diagnostic& d_;
};

class Diagnostics {
 public:
  // Adds a diagnostic with the severity of `code` from the table.
  DiagnosticBuilder report(Code code, Span span, std::string message);

  const std::vector<Diagnostic>& all() const { return list_; }
  std::size_t error_count() const;
  std::size_t warning_count() const;
  std::size_t note_count() const;
  bool has_errors() const { return error_count() > 0; }
  // Sorts by file, position and code, so output never depends on the order
  // in which stages happened to find problems.
  void sort();
  void append(const Diagnostics& other);
  void push(Diagnostic d) { list_.push_back(std::move(d)); }
  // The diagnostics of `other` for which `keep(d)` holds.
  template <typename Keep>
  void append_if(const Diagnostics& other, Keep keep) {
    for (const Diagnostic& d : other.list_) {
      if (keep(d)) list_.push_back(d);
    }
  }

 private:
  std::vector<Diagnostic> list_;
};

}  // namespace sbpolicy
