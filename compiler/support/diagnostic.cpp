#include "support/diagnostic.hpp"

#include <algorithm>
#include <tuple>

namespace sbpolicy {

namespace {

const std::vector<CodeInfo>& table() {
  static const std::vector<CodeInfo> rows = {
#define DIAG(code, severity, name, summary, slug) {Code::code, #code, Severity::severity, #name, summary, slug},
#include "support/diagnostics.def"
#undef DIAG
  };
  return rows;
}

}  // namespace

const CodeInfo& code_info(Code code) { return table().at(static_cast<std::size_t>(code)); }
const std::vector<CodeInfo>& all_codes() { return table(); }

std::string_view severity_name(Severity severity) {
  return severity == Severity::Error ? "error" : severity == Severity::Warning ? "warning" : "note";
}

const std::vector<LintRule>& lint_rules() {
  static const std::vector<LintRule> rules = {
#define LINT(code, severity, name, category, summary, why, fix) {Code::code, #category, why, fix},
#include "support/lint_rules.def"
#undef LINT
  };
  return rules;
}

const LintRule* lint_rule(Code code) {
  for (const LintRule& r : lint_rules()) {
    if (r.code == code) return &r;
  }
  return nullptr;
}

bool is_warning_code(std::string_view id) {
  for (const CodeInfo& c : all_codes()) {
    if (c.id == id) return c.severity != Severity::Error;
  }
  return false;
}

DiagnosticBuilder& DiagnosticBuilder::label(std::string message) {
  d_.primary.message = std::move(message);
  return *this;
}
DiagnosticBuilder& DiagnosticBuilder::secondary(Span span, std::string message) {
  d_.secondary.push_back({span, std::move(message)});
  return *this;
}
DiagnosticBuilder& DiagnosticBuilder::note(std::string note) {
  d_.notes.push_back(std::move(note));
  return *this;
}
DiagnosticBuilder& DiagnosticBuilder::help(std::string help) {
  d_.help = std::move(help);
  return *this;
}
DiagnosticBuilder& DiagnosticBuilder::fixit(Span span, std::string replacement) {
  d_.fixits.push_back({span, std::move(replacement)});
  return *this;
}

DiagnosticBuilder& DiagnosticBuilder::as_error() {
  d_.severity = Severity::Error;
  return *this;
}

DiagnosticBuilder Diagnostics::report(Code code, Span span, std::string message) {
  list_.push_back(Diagnostic{code, code_info(code).severity, std::move(message), {span, {}}, {}, {}, {}, {}});
  return DiagnosticBuilder(list_.back());
}

std::size_t Diagnostics::error_count() const {
  return static_cast<std::size_t>(
      std::count_if(list_.begin(), list_.end(), [](const Diagnostic& d) { return d.severity == Severity::Error; }));
}

std::size_t Diagnostics::warning_count() const {
  return static_cast<std::size_t>(
      std::count_if(list_.begin(), list_.end(), [](const Diagnostic& d) { return d.severity == Severity::Warning; }));
}

std::size_t Diagnostics::note_count() const {
  return static_cast<std::size_t>(
      std::count_if(list_.begin(), list_.end(), [](const Diagnostic& d) { return d.severity == Severity::Note; }));
}

void Diagnostics::sort() {
  std::stable_sort(list_.begin(), list_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tuple(a.primary.span.file, a.primary.span.begin, a.code) <
           std::tuple(b.primary.span.file, b.primary.span.begin, b.code);
  });
}

void Diagnostics::append(const Diagnostics& other) {
  list_.insert(list_.end(), other.list_.begin(), other.list_.end());
}

}  // namespace sbpolicy
