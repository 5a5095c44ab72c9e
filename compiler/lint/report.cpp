#include "lint/report.hpp"

#include <fmt/format.h>

#include <cctype>

#include <map>
#include <nlohmann/json.hpp>

#include "support/text.hpp"

namespace sbpolicy::lint {

namespace {

std::string_view level_of(Severity s) {
  return s == Severity::Error ? "error" : s == Severity::Warning ? "warning" : "note";
}

// A file's display name as a URI reference: relative names stay relative
// (to the directory sbc ran in, as code scanning expects), absolute ones
// become file URIs; bytes outside the unreserved set are percent-encoded.
std::string uri_of(const std::string& name) {
  std::string out = name.starts_with('/') ? "file://" : "";
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~') out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

nlohmann::json location_json(const SourceMap& sources, Span span) {
  const SourceFile& f = sources.file(span.file);
  const LineCol b = f.line_col(span.begin);
  const LineCol e = f.line_col(std::max(span.end, span.begin));
  nlohmann::json region = {{"startLine", b.line}, {"startColumn", b.column}};
  if (span.end > span.begin) {
    region["endLine"] = e.line;
    region["endColumn"] = e.column;
  }
  return {{"physicalLocation", {{"artifactLocation", {{"uri", uri_of(f.name())}}}, {"region", region}}}};
}

std::string page_name(const CodeInfo& info) { return std::string(info.name) + ".md"; }

}  // namespace

std::string sarif(const std::vector<FileFindings>& files, const std::string& version) {
  // The rules: every lint rule, then the other codes the findings use.
  nlohmann::json rules = nlohmann::json::array();
  std::map<Code, std::size_t> index;
  const auto add_rule = [&](Code code) {
    if (index.count(code) != 0) return;
    const CodeInfo& info = code_info(code);
    const LintRule* lr = lint_rule(code);
    nlohmann::json r = {{"id", info.id},
                        {"name", info.name},
                        {"shortDescription", {{"text", info.summary}}},
                        {"defaultConfiguration", {{"level", level_of(info.severity)}}}};
    if (lr != nullptr) {
      r["fullDescription"] = {{"text", std::string(lr->why)}};
      r["help"] = {{"text", std::string(lr->fix)},
                   {"markdown", fmt::format("**Why.** {}\n\n**Fix.** {}", lr->why, lr->fix)}};
      r["properties"] = {{"tags", {std::string(lr->category)}}};
    }
    index[code] = rules.size();
    rules.push_back(std::move(r));
  };
  for (const LintRule& r : lint_rules()) add_rule(r.code);
  for (const FileFindings& f : files) {
    for (const Diagnostic& d : f.findings->all()) add_rule(d.code);
    for (const Suppressed& s : *f.suppressed) add_rule(s.finding.code);
  }

  nlohmann::json results = nlohmann::json::array();
  const auto result = [&](const Diagnostic& d, const SourceMap& sources) {
    std::string text = text::visible(d.message);
    if (!d.help.empty()) text += ". Help: " + text::visible(d.help);
    nlohmann::json r = {{"ruleId", code_info(d.code).id},
                        {"ruleIndex", index.at(d.code)},
                        {"level", level_of(d.severity)},
                        {"message", {{"text", text}}}};
    if (d.primary.span.valid()) r["locations"] = nlohmann::json::array({location_json(sources, d.primary.span)});
    nlohmann::json related = nlohmann::json::array();
    for (std::size_t i = 0; i < d.secondary.size(); ++i) {
      if (!d.secondary[i].span.valid()) continue;
      nlohmann::json l = location_json(sources, d.secondary[i].span);
      l["id"] = i;
      l["message"] = {{"text", text::visible(d.secondary[i].message)}};
      related.push_back(std::move(l));
    }
    if (!related.empty()) r["relatedLocations"] = related;
    return r;
  };
  for (const FileFindings& f : files) {
    for (const Diagnostic& d : f.findings->all()) results.push_back(result(d, *f.sources));
    for (const Suppressed& s : *f.suppressed) {
      nlohmann::json r = result(s.finding, *f.sources);
      r["suppressions"] = nlohmann::json::array({{{"kind", "inSource"}, {"justification", s.reason}}});
      results.push_back(std::move(r));
    }
  }
  const nlohmann::json log = {
      {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
      {"version", "2.1.0"},
      {"runs",
       nlohmann::json::array({{{"tool", {{"driver", {{"name", "sbc lint"}, {"version", version}, {"rules", rules}}}}},
                               {"results", results},
                               {"columnKind", "unicodeCodePoints"}}})}};
  return log.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string github_annotations(const Diagnostics& findings, const SourceMap& sources) {
  // Workflow commands escape %, CR and LF in the message, and also `:` and
  // `,` in property values.
  const auto escape = [](std::string_view s, bool property) {
    std::string out;
    for (char c : s) {
      if (c == '%') out += "%25";
      else if (c == '\r') out += "%0D";
      else if (c == '\n') out += "%0A";
      else if (property && c == ':') out += "%3A";
      else if (property && c == ',') out += "%2C";
      else out += c;
    }
    return out;
  };
  std::string out;
  for (const Diagnostic& d : findings.all()) {
    const CodeInfo& info = code_info(d.code);
    const char* kind = d.severity == Severity::Error ? "error" : d.severity == Severity::Warning ? "warning" : "notice";
    std::string props;
    if (d.primary.span.valid()) {
      const SourceFile& f = sources.file(d.primary.span.file);
      const LineCol b = f.line_col(d.primary.span.begin);
      props = fmt::format("file={},line={},col={},", escape(f.name(), true), b.line, b.column);
    }
    props += "title=" + escape(fmt::format("{} {}", info.id, info.name), true);
    std::string message = text::visible(d.message);
    if (!d.help.empty()) message += "\nhelp: " + text::visible(d.help);
    out += fmt::format("::{} {}::{}\n", kind, props, escape(message, false));
  }
  return out;
}

std::string rules_text() {
  std::string out;
  for (const LintRule& r : lint_rules()) {
    const CodeInfo& info = code_info(r.code);
    out += fmt::format("{}  {:<28} {:<12} {:<8} {}\n", info.id, info.name, r.category, severity_name(info.severity),
                       info.summary);
  }
  return out;
}

std::string rules_json() {
  nlohmann::json out = nlohmann::json::array();
  for (const LintRule& r : lint_rules()) {
    const CodeInfo& info = code_info(r.code);
    out.push_back({{"code", info.id},
                   {"name", info.name},
                   {"category", r.category},
                   {"level", severity_name(info.severity)},
                   {"summary", info.summary},
                   {"why", r.why},
                   {"fix", r.fix},
                   {"docs", "docs/lint/" + page_name(info)}});
  }
  return nlohmann::json({{"schema_version", 1}, {"rules", out}}).dump(2) + "\n";
}

std::vector<std::pair<std::string, std::string>> rules_pages() {
  std::vector<std::pair<std::string, std::string>> pages;
  std::string index =
      "# `sbc lint` rules\n\n"
      "Generated from `compiler/support/lint_rules.def` by `sbc lint --write-docs docs/lint`; a test keeps\n"
      "these pages equal to the table. How to run the linter, suppress a finding and configure it:\n"
      "[docs/cli.md](../cli.md#sbc-lint).\n\n"
      "| code | rule | category | level | finds |\n|---|---|---|---|---|\n";
  for (const LintRule& r : lint_rules()) {
    const CodeInfo& info = code_info(r.code);
    index += fmt::format("| {} | [{}]({}) | {} | {} | {} |\n", info.id, info.name, page_name(info), r.category,
                         severity_name(info.severity), info.summary);
    pages.emplace_back(page_name(info),
                       fmt::format("# {} {}\n\n"
                                   "Category: {}. Level: {} (`--fail-level` decides whether it fails the run).\n\n"
                                   "## What it finds\n\n{}.\n\n## Why it matters\n\n{}\n\n## How to fix it\n\n{}\n\n"
                                   "To keep a finding, say why on its line or the line above:\n"
                                   "`# sbc-lint: allow {} -- REASON`. To turn the rule off: `--disable {}`.\n",
                                   info.id, info.name, r.category, severity_name(info.severity),
                                   std::string(1, static_cast<char>(std::toupper(info.summary[0]))) +
                                       std::string(info.summary.substr(1)),
                                   r.why, r.fix, info.name, info.name));
  }
  pages.insert(pages.begin(), {"README.md", index});
  return pages;
}

}  // namespace sbpolicy::lint
