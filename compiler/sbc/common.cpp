#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "sbc/commands.hpp"

namespace sbpolicy::sbc {

RenderOptions render_options(const CommonOptions& common) {
  RenderOptions r;
  if (common.format == "json") {
    r.format = RenderFormat::Json;
  } else if (common.format == "plain") {
    r.format = RenderFormat::Plain;
  } else {
    r.format = RenderFormat::Human;
    const char* no_color = std::getenv("NO_COLOR");
    const char* term = std::getenv("TERM");
    if (common.color == "always") {
      r.color = true;
    } else if (common.color == "auto") {
      r.color = isatty(STDERR_FILENO) && (no_color == nullptr || *no_color == '\0') &&
                !(term != nullptr && std::strcmp(term, "dumb") == 0);
    }
  }
  return r;
}

sema::LoadOptions load_options(const CommonOptions& common) {
  sema::LoadOptions o;
  o.stdlib_dir = common.stdlib_dir;
  return o;
}

}  // namespace sbpolicy::sbc
