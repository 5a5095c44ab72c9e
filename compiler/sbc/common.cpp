#include <sys/stat.h>

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

}  // namespace sbpolicy::sbc
