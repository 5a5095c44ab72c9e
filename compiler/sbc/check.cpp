// sbc check FILE…: parse, resolve and type-check each policy.
#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "driver/lints.hpp"
#include "driver/pipeline.hpp"
#include "sbc/commands.hpp"

namespace sbpolicy::sbc {

int run_check(const CommonOptions& common, const CheckOptions& options) {
  const RenderOptions render = render_options(common);
  bool unreadable = false, failed = false;
  std::size_t errors = 0, warnings = 0;
  nlohmann::json reports = nlohmann::json::array();
  for (const std::string& file : options.files) {
    driver::Compilation c;
    driver::compile_file(c, file, load_options(common));
    unreadable = unreadable || c.root_unreadable;
    driver::warn_shadowed_allows(c);
    driver::warn_launch_globs(c);
    // The user's own findings; the standard library's are one line, or
    // shown with -v, and never fail --fail-level warning.
    const Findings found = findings(c, c.diags, common);
    const Diagnostics& shown = found.shown;
    const std::string& library_summary = found.library_summary;
    errors += shown.error_count();
    warnings += shown.warning_count();
    failed = failed || c.diags.has_errors() || (common.fail_level == "warning" && found.own.warning_count() > 0);
    if (render.format == RenderFormat::Json) {
      auto doc = nlohmann::json::parse(render_diagnostics(shown, c.sources, render));
      doc["file"] = file;
      doc["rules"] = c.policy ? nlohmann::json(c.policy->rules.size()) : nlohmann::json(nullptr);
      reports.push_back(std::move(doc));
    } else {
      std::fputs(render_diagnostics(shown, c.sources, render).c_str(), stderr);
      if (!library_summary.empty()) std::fputs(library_summary.c_str(), stderr);
      if (!c.diags.has_errors() && !c.root_unreadable) {
        std::fprintf(stderr, "%s: ok, %zu rules from %zu files\n", file.c_str(), c.policy->rules.size(),
                     c.program.files.size());
      }
    }
  }
  if (render.format == RenderFormat::Json) {
    const nlohmann::json out = {{"schema_version", kDiagnosticsSchemaVersion},
                                {"files", reports},
                                {"summary", {{"errors", errors}, {"warnings", warnings}}}};
    std::fputs((out.dump(2) + "\n").c_str(), stdout);
  } else if (errors + warnings > 0) {
    std::fprintf(stderr, "%s\n",
                 fmt::format("{} error{}, {} warning{}", errors, errors == 1 ? "" : "s", warnings,
                             warnings == 1 ? "" : "s")
                     .c_str());
  }
  if (unreadable) return kUsage;
  return failed ? kPolicyErrors : kOk;
}

}  // namespace sbpolicy::sbc
