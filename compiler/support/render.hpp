// Rendering diagnostics, once, at the edge.
//
// Three renderings of the same values:
//  - human: rustc style, `error[E0201]: …`, `--> file:line:col`, the source
//    line with carets, `= help:`; ANSI colour when asked for.
//  - plain: the same layout without colour (what `NO_COLOR` selects).
//  - json:  one document with `schema_version` and stable field names.
#pragma once

#include <string>

#include "support/diagnostic.hpp"
#include "support/source.hpp"

namespace sbpolicy {

enum class RenderFormat { Human, Plain, Json };

struct RenderOptions {
  RenderFormat format = RenderFormat::Human;
  bool color = false;  // only for Human
};

// Every diagnostic, in order. The json rendering is one whole document with a
// `summary` object; the human and plain renderings leave the summary line to
// the tool, which knows what it checked.
std::string render_diagnostics(const Diagnostics& diags, const SourceMap& sources, const RenderOptions& options);

// Should human output on `fd` be coloured? Only on a terminal, and not when
// NO_COLOR is set (non-empty) or TERM is `dumb`.
bool color_wanted(int fd);

// JSON schema version of render_diagnostics(Json) output.
inline constexpr int kDiagnosticsSchemaVersion = 1;

}  // namespace sbpolicy
