#include "driver/bindings.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

extern char** environ;

#include "lower/fs_view.hpp"
#include "sandbox/proxy_doors.hpp"

namespace sbpolicy::driver {

namespace {

std::string current_directory() {
  char buf[4096];
  return getcwd(buf, sizeof buf) != nullptr ? std::string(buf) : std::string("/");
}

std::string absolute(const std::string& dir, bool canonical) {
  if (dir.empty()) return dir;
  sema::PathBindings cwd;
  cwd.workspace = current_directory();
  cwd.home = cwd.workspace;
  std::string error;
  auto n = sema::normalize_subject_path(dir, cwd, &error);
  std::string out = n ? *n : dir;
  if (canonical) {
    lower::PosixFs fs;
    out = lower::canonicalize(fs, out).path;
  }
  return out;
}

std::string env_dir(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v == '/' ? std::string(v) : std::string();
}

}  // namespace

sema::PathBindings bindings_from_environment(const std::string& workspace, const std::string& home, bool canonical) {
  sema::PathBindings b;
  b.workspace = absolute(workspace.empty() ? current_directory() : workspace, canonical);
  std::string h = home;
  if (h.empty()) h = env_dir("HOME");
  if (h.empty()) {
    if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_dir != nullptr) h = pw->pw_dir;
  }
  b.home = absolute(h.empty() ? "/" : h, canonical);
  const std::string tmp = env_dir("TMPDIR");
  b.tmpdir = absolute(tmp.empty() ? "/tmp" : tmp, canonical);
  b.xdg_config_home = absolute(env_dir("XDG_CONFIG_HOME"), canonical);
  b.xdg_cache_home = absolute(env_dir("XDG_CACHE_HOME"), canonical);
  b.xdg_data_home = absolute(env_dir("XDG_DATA_HOME"), canonical);
  b.xdg_state_home = absolute(env_dir("XDG_STATE_HOME"), canonical);
  b.xdg_runtime_dir = absolute(env_dir("XDG_RUNTIME_DIR"), canonical);
  return b;
}

std::vector<std::pair<std::string, std::string>> invoking_environment() {
  std::vector<std::pair<std::string, std::string>> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view kv = *e;
    const auto eq = kv.find('=');
    if (eq != std::string_view::npos && eq > 0) env.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

lower::LowerOptions lowering_options(const std::string& workspace, const std::string& home) {
  lower::LowerOptions o;
  o.bindings = bindings_from_environment(workspace, home, true);
  const sema::PathBindings given = bindings_from_environment(workspace, home, false);
  o.anchors_as_given = {given.home, given.workspace};
  o.environment = invoking_environment();
  o.runtime_env = {{"TMPDIR", "/tmp"}};
  for (auto& kv : sandbox::proxy_environment()) o.runtime_env.push_back(std::move(kv));
  return o;
}

}  // namespace sbpolicy::driver
