#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include <algorithm>

#include "driver/guards.hpp"
#include "sbc/commands.hpp"

namespace sbpolicy::sbc {

std::string rule_place(const ir::Rule& r) {
  std::string s = r.origin.target.text();
  // A string an imported file exports (`export let`), used by a rule here.
  if (r.origin.target.file != r.origin.statement.file) s += fmt::format(", in the rule at {}", r.origin.statement.text());
  for (auto it = r.origin.via.rbegin(); it != r.origin.via.rend(); ++it) s += fmt::format(" (via {})", it->text());
  return s;
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

RenderOptions render_options(const CommonOptions& common) {
  RenderOptions r;
  if (common.format == "json") {
    r.format = RenderFormat::Json;
  } else if (common.format == "plain") {
    r.format = RenderFormat::Plain;
  } else {
    r.format = RenderFormat::Human;
    r.color = common.color == "always" || (common.color == "auto" && color_wanted(STDERR_FILENO));
  }
  return r;
}

sema::LoadOptions load_options(const CommonOptions& common) {
  sema::LoadOptions o;
  o.stdlib_dir = common.stdlib_dir;
  return o;
}

Findings findings(const driver::Compilation& c, const Diagnostics& all, const CommonOptions& common) {
  const auto allowed = [&](const Diagnostic& d) {
    return d.severity != Severity::Error && std::find(common.allowed.begin(), common.allowed.end(),
                                                      code_info(d.code).id) != common.allowed.end();
  };
  Findings f;
  const Diagnostics users = driver::users_own(c, all, common.verbose, f.library_summary);
  f.shown.append_if(users, [&](const Diagnostic& d) { return !allowed(d); });
  f.own.append_if(all, [&](const Diagnostic& d) { return !allowed(d) && !driver::in_stdlib(c, d.primary.span); });
  return f;
}

lower::sbpl::SbplProfile macos_profile(driver::Compilation& c, const std::string& workspace, const std::string& home,
                                       int proxy_port, sema::PathBindings& bindings, std::string& error) {
  char cwd[4096];
  const char* home_env = std::getenv("HOME");
  bindings = sema::PathBindings{};
  bindings.workspace = workspace.empty() ? (getcwd(cwd, sizeof cwd) ? cwd : "/") : workspace;
  bindings.home = home.empty() ? (home_env != nullptr ? home_env : "/") : home;
  bindings.tmpdir = "/private/tmp";
  for (std::string* dir : {&bindings.workspace, &bindings.home}) {
    sema::PathBindings root;
    root.home = "/";
    root.workspace = "/";
    std::string why;
    const auto normal =
        dir->empty() || dir->front() != '/' ? std::nullopt : sema::normalize_subject_path(*dir, root, &why);
    if (!normal) {
      error = fmt::format("--workspace and --home for macOS are absolute paths: `{}`", *dir);
      return {};
    }
    *dir = lower::sbpl::canonical_macos_path(*normal);
  }
  // What every sandbox protects: the policy's files, and the git metadata
  // (as it is, when the workspace is on this machine).
  driver::protect_policy_files(c);
  if (is_directory(bindings.workspace)) {
    driver::protect_git_metadata(c, bindings);
  } else {
    driver::protect_git_metadata_unseen(c, bindings.workspace);
  }
  lower::sbpl::SbplOptions so;
  so.bindings = bindings;
  so.proxy_port = proxy_port;
  auto profile = lower::sbpl::lower_to_sbpl(*c.policy, so);
  if (!profile.error.empty()) error = profile.error;
  return profile;
}

}  // namespace sbpolicy::sbc
