// sbc compile FILE --target ir|bwrap|proxy|sbpl [-o OUT] [--emit ast|ir|bind|expand|resolve|points]
//                  [--proxy-port N --params (with --target sbpl)]
//                  [--format table (with --target proxy)]
#include <cstdio>

#include "driver/bindings.hpp"
#include "driver/guards.hpp"
#include "driver/lints.hpp"
#include "driver/pipeline.hpp"
#include "lower/bwrap_args.hpp"
#include "lower/proxy_table.hpp"
#include "lower/sbpl/profile.hpp"
#include "ir/ir_json.hpp"
#include "sbc/commands.hpp"
#include "sbc/output.hpp"
#include "syntax/ast_json.hpp"

namespace sbpolicy::sbc {

int run_compile(const CommonOptions& common, const CompileOptions& options) {
  const bool table_wanted = common.format == "table";
  if (table_wanted && (options.target != "proxy" || !options.emit.empty())) {
    std::fprintf(stderr, "sbc: --format table prints the proxy table: use it with --target proxy and no --emit\n");
    return kUsage;
  }
  // The front end's dumps are the same for every target: a target named
  // with them would be ignored, so it is refused.
  if ((options.emit == "ast" || options.emit == "ir") && options.target_given && options.target != "ir") {
    std::fprintf(stderr, "sbc: --emit %s dumps the front end's output, which no target changes: drop --target %s\n",
                 options.emit.c_str(), options.target.c_str());
    return kUsage;
  }
  // The sbpl target's directories are a Mac's: not looked up here.
  const bool here = options.target != "sbpl";
  if ((options.proxy_port != 3128 || options.params) && options.target != "sbpl") {
    std::fprintf(stderr, "sbc: --proxy-port and --params are for --target sbpl\n");
    return kUsage;
  }
  if (here && !options.home.empty() && !is_directory(options.home)) {
    std::fprintf(stderr, "sbc: --home %s: no such directory\n", options.home.c_str());
    return kUsage;
  }
  if (here && !options.workspace.empty() && !is_directory(options.workspace)) {
    std::fprintf(stderr, "sbc: --workspace %s: no such directory\n", options.workspace.c_str());
    return kUsage;
  }
  const RenderOptions render = render_options(common);
  driver::Compilation c;
  driver::compile_file(c, options.file, load_options(common));
  driver::warn_shadowed_allows(c);
  const Findings front = findings(c, c.diags, common);
  if (!front.shown.all().empty()) std::fputs(render_diagnostics(front.shown, c.sources, render).c_str(), stderr);
  if (!front.library_summary.empty() && render.format != RenderFormat::Json) {
    std::fputs(front.library_summary.c_str(), stderr);
  }
  if (c.root_unreadable) return kUsage;

  const bool lowering_stage = lower::LoweringDumps{}.stage(options.emit) != nullptr;
  if (lowering_stage && options.target != "bwrap") {
    std::fprintf(stderr, "sbc: --emit %s is a stage of the bwrap lowering: add --target bwrap\n", options.emit.c_str());
    return kUsage;
  }
  std::string content;
  bool lowering_failed = false;
  if (options.emit == "ast") {
    // The parser's view, even of a policy with semantic errors.
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : c.program.files) files.push_back(syntax::module_to_json(f.module, c.sources));
    content = nlohmann::json{{"schema_version", 1}, {"files", files}}.dump(2) + "\n";
  } else if (options.target == "bwrap" && options.emit != "ir") {
    if (!c.policy) return kPolicyErrors;
    // The plan as sbrun would build it here and now: bindings, canonical
    // paths and glob expansions come from this machine's filesystem, and the
    // policy's own files are read-only.
    driver::protect_policy_files(c);
    lower::LowerOptions lo = driver::lowering_options(options.workspace, options.home);
    driver::protect_git_metadata(c, lo.bindings);
    lo.target_strict = options.target_strict;
    for (const sema::LoadedFile& f : c.program.files) {
      if (f.is_stdlib) lo.library_files.insert(f.file);
    }
    lower::PosixFs fs;
    Diagnostics lowering;
    lower::LoweringDumps dumps;
    const auto plan = lower::lower_to_mount_plan(*c.policy, fs, lo, lowering, &dumps);
    // The standard library's own findings: one line, unless -v.
    const Findings found = findings(c, lowering, common);
    if (!found.shown.all().empty()) std::fputs(render_diagnostics(found.shown, c.sources, render).c_str(), stderr);
    if (!found.library_summary.empty() && render.format != RenderFormat::Json) {
      std::fputs(found.library_summary.c_str(), stderr);
    }
    if (lowering_stage) {
      // A stage's output is shown even when a later stage refused the plan:
      // it is how far the lowering got.
      const nlohmann::json& stage = *dumps.stage(options.emit);
      if (stage.is_null()) return kPolicyErrors;  // an earlier stage stopped the lowering
      content = stage.dump(2) + "\n";
      lowering_failed = !plan;
    } else {
      if (!plan) return kPolicyErrors;
      auto j = lower::mount_plan_to_json(*plan, *c.policy);
      j["note"] = "ask rules are shown as denied; sbrun settles them at launch";
      content = j.dump(2) + "\n";
    }
    // --fail-level is about the user's own files.
    if (common.fail_level == "warning" && found.own.warning_count() > 0) return kPolicyErrors;
  } else if (options.target == "sbpl" && options.emit != "ir") {
    if (!c.policy) return kPolicyErrors;
    // The bindings are the Mac's, given, not this machine's.
    sema::PathBindings bindings;
    std::string error;
    const auto profile = macos_profile(c, options.workspace, options.home, options.proxy_port, bindings, error);
    if (!profile.error.empty()) {
      std::fprintf(stderr, "sbc: %s\n", profile.error.c_str());
      return kPolicyErrors;
    }
    for (const std::string& n : profile.narrowed) std::fprintf(stderr, "sbc: warning: %s\n", n.c_str());
    if (!error.empty()) {
      std::fprintf(stderr, "sbc: %s\n", error.c_str());
      return kUsage;
    }
    if (options.params) {
      nlohmann::ordered_json params = nlohmann::ordered_json::object();
      for (const auto& [k, v] : profile.params) params[k] = v;
      content = params.dump(2) + "\n";
    } else {
      content = profile.text;
    }
  } else if (options.target == "proxy" && options.emit != "ir") {
    if (!c.policy) return kPolicyErrors;
    auto table = lower::ProxyRuleTable::build(*c.policy);
    if (const auto* error = std::get_if<std::string>(&table)) {
      std::fprintf(stderr, "sbc: %s\n", error->c_str());
      return kPolicyErrors;
    }
    const auto& built = std::get<lower::ProxyRuleTable>(table);
    content = table_wanted ? lower::proxy_table_to_text(built) : lower::proxy_table_to_json(built).dump(2) + "\n";
  } else {
    if (!c.policy) return kPolicyErrors;
    content = ir::policy_to_json(*c.policy).dump(2) + "\n";
  }
  if (const std::string error = write_output(options.output, content); !error.empty()) {
    std::fprintf(stderr, "sbc: %s\n", error.c_str());
    return kUsage;
  }
  if (c.diags.has_errors() || lowering_failed) return kPolicyErrors;
  if (common.fail_level == "warning" && front.own.warning_count() > 0) return kPolicyErrors;
  return kOk;
}

}  // namespace sbpolicy::sbc
