// The reports of `sbc lint` beyond the diagnostics renderers (human, plain,
// JSON: support/render.hpp): SARIF 2.1.0 for code scanning, GitHub workflow
// annotations, and the rules' documentation generated from the table.
#pragma once

#include <string>
#include <vector>

#include "lint/lint.hpp"
#include "support/source.hpp"

namespace sbpolicy::lint {

// A SARIF 2.1.0 log with one run: every lint rule (and each other code
// found) in the driver's rules, each finding a result, each suppressed one a
// result with an in-source suppression and its reason.
struct FileFindings {
  const Diagnostics* findings;
  const std::vector<Suppressed>* suppressed;
  const SourceMap* sources;
};
std::string sarif(const std::vector<FileFindings>& files, const std::string& version);

// `::warning file=…,line=…,col=…,title=…::message` lines (notes as `::notice`).
std::string github_annotations(const Diagnostics& findings, const SourceMap& sources);

// The rules as a table (human), JSON, or the documentation pages: the index
// (`README.md`) and one page per rule (`NAME.md`), as (file name, text).
std::string rules_text();
std::string rules_json();
std::vector<std::pair<std::string, std::string>> rules_pages();

}  // namespace sbpolicy::lint
