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
