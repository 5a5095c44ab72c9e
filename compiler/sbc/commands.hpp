// sbc's subcommands. main.cpp parses options with CLI11 and calls one of
// these; each returns the process exit status:
//   0 success, 1 policy errors (or warnings with --fail-level warning),
//   2 usage or I/O error, 3 internal error; explain --exit-code: 4 ask, 5 deny.
#pragma once

#include <string>
#include <vector>

#include "driver/pipeline.hpp"
#include "lower/sbpl/profile.hpp"
#include "sema/loader.hpp"
#include "support/render.hpp"

namespace sbpolicy::sbc {

enum Exit { kOk = 0, kPolicyErrors = 1, kUsage = 2, kInternal = 3, kExplainAsk = 4, kExplainDeny = 5 };

// Where a rule is: file:line:col, the rule that uses an exported string,
// the `use` chain. (What it says: ir::rule_text.)
using ir::rule_text;
std::string rule_place(const ir::Rule& r);

// Is `path` an existing directory (following links)?
bool is_directory(const std::string& path);

struct CommonOptions {
  std::string format = "human";  // human | plain | json
  std::string color = "auto";    // auto | always | never
  std::string fail_level = "error";
  std::string stdlib_dir;        // development: a directory to use instead of the embedded stdlib
  bool verbose = false;          // show the standard library's own findings too
  std::vector<std::string> allowed;  // warning codes accepted (--allow W0100)
};

RenderOptions render_options(const CommonOptions& common);

// What a command reports of `all`: `shown` (the user's own findings, and
// the standard library's with -v; codes the user allowed left out),
// `own` (the user's own, not allowed: what --fail-level looks at), and a
// line counting the standard library's findings when they are not shown.
struct Findings {
  Diagnostics shown;
  Diagnostics own;
  std::string library_summary;
};
Findings findings(const driver::Compilation& c, const Diagnostics& all, const CommonOptions& common);
sema::LoadOptions load_options(const CommonOptions& common);

// The macOS profile of `c` for a Mac's `workspace` and `home` (absolute,
// not looked up here; defaults: the current directory and $HOME), with
// what every sandbox protects added to the IR. Empty `error` on success.
lower::sbpl::SbplProfile macos_profile(driver::Compilation& c, const std::string& workspace, const std::string& home,
                                       int proxy_port, sema::PathBindings& bindings, std::string& error);

struct CheckOptions {
  std::vector<std::string> files;
};
int run_check(const CommonOptions& common, const CheckOptions& options);

struct CompileOptions {
  std::string file;
  std::string target = "ir";
  std::string emit;    // "", "ast" or "ir"
  std::string output;  // "" or "-": stdout
  std::string workspace;  // bindings for path targets
  std::string home;
  bool target_strict = false;
  bool target_given = false;  // --target was on the command line
  int proxy_port = 3128;      // sbpl: the proxy sbrun listens on
  bool params = false;        // sbpl: print the parameter values instead of the profile
};
int run_compile(const CommonOptions& common, const CompileOptions& options);

struct ExplainOptions {
  std::string file;
  std::string operation;
  std::string subject;
  std::string workspace;
  std::string home;
  bool exit_code = false;  // exit by the decision: 0 allow, 4 ask, 5 deny
  std::string target;      // "" (the rules and the Linux sandbox) or "sbpl" (the macOS profile)
  int proxy_port = 3128;   // sbpl: the proxy's port
};
int run_explain(const CommonOptions& common, const ExplainOptions& options);

struct DiffOptions {
  std::string old_file, new_file;
  std::string workspace, home;  // the bindings of the comparison (analysis_bindings by default)
  std::string fail_on;          // "", "new-access" or "any-change"
  std::size_t max_examples = 5; // per operation and direction
};
int run_diff(const CommonOptions& common, const DiffOptions& options);

struct TestOptions {
  std::vector<std::string> paths;  // files, or directories searched for *_test.sbpolicy; default "."
  std::string workspace, home;     // the bindings (analysis_bindings by default)
  std::string format = "pretty";   // pretty | json | junit
  std::string run;                 // a regular expression the test names must match (partially)
  bool coverage = false;           // report the rules that decided no expectation
  double threshold = 0;            // with coverage: fail below this percentage
};
int run_test(const CommonOptions& common, const TestOptions& options);

struct LintOptions {
  std::vector<std::string> files;
  std::vector<std::string> enable, disable;  // rule names, codes or categories
  std::string config;                        // "": found by walking up from the first file
  std::string format = "human";              // human | plain | json | sarif | github
  std::string fail_level;                    // "": the configuration's, else warning
  std::string workspace, home;               // the analysis bindings
  bool list_rules = false;                   // print the rules (human or json) instead
  std::string write_docs;                    // write the rules' pages into this directory instead
};
int run_lint(const CommonOptions& common, const LintOptions& options);

struct FmtOptions {
  std::vector<std::string> files;  // none, or "-": standard input to standard output
  bool check = false;              // exit 1 and list the files that are not formatted
  bool diff = false;               // print what would change, as a unified diff
  bool write = false;              // rewrite the files in place (atomically)
};
int run_fmt(const CommonOptions& common, const FmtOptions& options);

}  // namespace sbpolicy::sbc
