#include <sys/stat.h>

#include <algorithm>

#include "sbc/commands.hpp"

namespace sbpolicy::sbc {

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

}  // namespace sbpolicy::sbc
