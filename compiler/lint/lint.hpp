// `sbc lint`: findings about a policy that compiles, each a diagnostic with
// a lint code (support/lint_rules.def: the one table of rules, with their
// categories, reasons and fixes; docs/lint/ is generated from it).
//
// The correctness rules (dead and redundant rules, excepts that remove
// nothing, asks that never fire) are exact: they compare the sets of
// subjects rules match as automata (compiler/analysis), and only rules
// anchored alike (`~` with `~`, `.` with `.`), so a finding holds whatever
// the home, the workspace and the XDG directories are. The exposure and
// protection rules ask the reference evaluator about the paths that matter
// (the home, /run, ~/.bashrc, ~/.ssh/id_rsa, ...) under the analysis
// bindings; the fidelity rule lowers to each target and reports what it can
// only approximate. docs/lint/ has the rules; docs/analysis.md the method.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "driver/pipeline.hpp"
#include "support/diagnostic.hpp"

namespace sbpolicy::lint {

struct Options {
  std::set<Code> enabled;        // the rules to run (default_rules())
  sema::PathBindings bindings;   // for the rules that ask about paths (analysis_bindings())
};

// Every rule of the table.
std::set<Code> default_rules();

// Turns rules on or off by name (`redundant_rule`), code (`L0102`) or
// category (`correctness`); false with `error` set for an unknown word.
bool select_rules(std::set<Code>& enabled, const std::string& word, bool enable, std::string& error);

// The findings of the compiled policy `c` (which has no errors). The
// automata's bound reached is reported in `error`, with what was found before.
Diagnostics run(const driver::Compilation& c, const Options& options, std::string& error);

// Inline suppressions: a comment `# sbc-lint: allow RULE[, RULE…] -- REASON`
// on the line of a finding, or alone on the line above it, suppresses the
// rules it names (names or codes) there. One without a reason suppresses
// nothing and is itself a finding (L0502).
struct Suppressed {
  Diagnostic finding;
  std::string reason;
};
// Removes the suppressed findings of `findings` (into `suppressed`) and adds
// L0502 for the suppressions without a reason, in every file of `c`.
void apply_suppressions(const driver::Compilation& c, Diagnostics& findings, std::vector<Suppressed>& suppressed);

// The configuration file: `.sbc-lint.json`, found by walking up from a
// directory: {"enable": [...], "disable": [...], "fail_level": "warning"}.
struct Config {
  std::string path;  // "" when none was found
  std::vector<std::string> enable, disable;
  std::string fail_level;  // "" when not set
};
// Reads `path`, or finds one from `start_dir` up; false with `error` on a
// file that is not a valid configuration.
bool load_config(const std::string& path, const std::string& start_dir, Config& out, std::string& error);

}  // namespace sbpolicy::lint
