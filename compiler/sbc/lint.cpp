// sbc lint FILE…: the lint rules (compiler/lint) over each policy, with the
// compiler's own warnings, suppressions and a configuration file, reported
// as diagnostics (human, plain, JSON), SARIF 2.1.0 or GitHub annotations.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "analysis/policy_sets.hpp"
#include "lint/lint.hpp"
#include "lint/report.hpp"
#include "sbc/commands.hpp"
#include "sbc/output.hpp"

#include "build_info.hpp"

namespace sbpolicy::sbc {

namespace {

int rank(Severity s) { return s == Severity::Error ? 2 : s == Severity::Warning ? 1 : 0; }
int rank(const std::string& level) { return level == "error" ? 2 : level == "warning" ? 1 : 0; }

struct Linted {
  driver::Compilation c;
  Diagnostics shown;                    // what the report holds
  std::vector<lint::Suppressed> suppressed;
  std::string library_summary;
  bool failed = false;                  // a finding of the user's at or above the fail level, or errors
};

}  // namespace

int run_lint(const CommonOptions& common, const LintOptions& options) {
  if (options.list_rules) {
    std::fputs((options.format == "json" ? lint::rules_json() : lint::rules_text()).c_str(), stdout);
    return kOk;
  }
  if (!options.write_docs.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.write_docs, ec);
    for (const auto& [name, text] : lint::rules_pages()) {
      const std::string error = write_output(options.write_docs + "/" + name, text);
      if (!error.empty()) {
        std::fprintf(stderr, "sbc lint: %s\n", error.c_str());
        return kUsage;
      }
    }
    return kOk;
  }
  if (options.files.empty()) {
    std::fprintf(stderr, "sbc lint: name the policy files to lint\n");
    return kUsage;
  }

  // The configuration: --config, or the first found walking up from the first file.
  lint::Config config;
  std::string error;
  const std::string first_dir = std::filesystem::path(options.files.front()).parent_path().string();
  if (!lint::load_config(options.config, options.files.front() == "-" ? "." : first_dir, config, error)) {
    std::fprintf(stderr, "sbc lint: %s\n", error.c_str());
    return kUsage;
  }
  lint::Options lo;
  lo.enabled = lint::default_rules();
  lo.bindings = analysis::analysis_bindings(options.workspace, options.home);
  // The configuration first, then the command line, which wins.
  struct Selection {
    const std::vector<std::string>* words;
    bool enable;
    std::string where;
  };
  const Selection selections[] = {{&config.disable, false, config.path + ": "},
                                  {&config.enable, true, config.path + ": "},
                                  {&options.disable, false, ""},
                                  {&options.enable, true, ""}};
  for (const Selection& s : selections) {
    for (const std::string& w : *s.words) {
      if (!lint::select_rules(lo.enabled, w, s.enable, error)) {
        std::fprintf(stderr, "sbc lint: %s%s\n", s.where.c_str(), error.c_str());
        return kUsage;
      }
    }
  }
  const std::string fail_level =
      !options.fail_level.empty() ? options.fail_level : !config.fail_level.empty() ? config.fail_level : "warning";

  std::vector<std::unique_ptr<Linted>> results;
  bool unreadable = false, any_failed = false;
  for (const std::string& file : options.files) {
    auto r = std::make_unique<Linted>();
    driver::compile_file(r->c, file, load_options(common));
    Diagnostics all = r->c.diags;
    if (r->c.policy) {
      Diagnostics found = lint::run(r->c, lo, error);
      if (!error.empty()) {
        std::fprintf(stderr, "sbc lint: %s: %s; the findings before it are shown\n", file.c_str(), error.c_str());
        r->failed = true;
        error.clear();
      }
      all.append(found);
    }
    lint::apply_suppressions(r->c, all, r->suppressed);
    all.sort();
    const Findings f = findings(r->c, all, common);
    r->shown = f.shown;
    r->library_summary = f.library_summary;
    unreadable = unreadable || r->c.root_unreadable;
    r->failed = r->failed || !r->c.policy;
    for (const Diagnostic& d : f.own.all()) r->failed = r->failed || rank(d.severity) >= rank(fail_level);
    any_failed = any_failed || r->failed;
    results.push_back(std::move(r));
  }

  std::size_t errors = 0, warnings = 0, notes = 0, suppressed = 0;
  for (const auto& r : results) {
    errors += r->shown.error_count();
    warnings += r->shown.warning_count();
    notes += r->shown.note_count();
    suppressed += r->suppressed.size();
  }
  if (options.format == "sarif") {
    std::vector<lint::FileFindings> files;
    for (const auto& r : results) files.push_back({&r->shown, &r->suppressed, &r->c.sources});
    std::fputs(lint::sarif(files, SBPOLICY_VERSION).c_str(), stdout);
  } else if (options.format == "github") {
    for (const auto& r : results) std::fputs(lint::github_annotations(r->shown, r->c.sources).c_str(), stdout);
  } else {
    CommonOptions render_common = common;
    render_common.format = options.format;
    const RenderOptions render = render_options(render_common);
    if (render.format == RenderFormat::Json) {
      // One document for every file: the diagnostics name their files.
      nlohmann::json all;
      for (const auto& r : results) {
        nlohmann::json one = nlohmann::json::parse(render_diagnostics(r->shown, r->c.sources, render));
        if (all.is_null()) {
          all = std::move(one);
          continue;
        }
        for (auto& d : one["diagnostics"]) all["diagnostics"].push_back(std::move(d));
        for (const char* k : {"errors", "warnings", "notes"}) {
          all["summary"][k] = all["summary"][k].get<std::size_t>() + one["summary"][k].get<std::size_t>();
        }
      }
      all["summary"]["suppressed"] = suppressed;
      std::fputs((all.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n").c_str(), stdout);
    } else {
      for (const auto& r : results) {
        std::fputs(render_diagnostics(r->shown, r->c.sources, render).c_str(), stdout);
        if (!r->library_summary.empty()) std::fprintf(stderr, "%s\n", r->library_summary.c_str());
      }
    }
    if (render.format != RenderFormat::Json) {
      std::string line = fmt::format("sbc lint: {} file{}, {} error{}, {} warning{}, {} note{}", results.size(),
                                     results.size() == 1 ? "" : "s", errors, errors == 1 ? "" : "s", warnings,
                                     warnings == 1 ? "" : "s", notes, notes == 1 ? "" : "s");
      if (suppressed != 0) line += fmt::format("; {} suppressed with a reason", suppressed);
      line += fmt::format(" (fails at {})\n", fail_level);
      std::fputs(line.c_str(), stderr);
    }
  }
  if (unreadable) return kUsage;
  return any_failed ? kPolicyErrors : kOk;
}

}  // namespace sbpolicy::sbc
