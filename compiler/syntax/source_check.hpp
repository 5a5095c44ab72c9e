// Whole-file checks on source text that come before parsing.
#pragma once

#include "support/diagnostic.hpp"
#include "support/source.hpp"

namespace sbpolicy::syntax {

// Reports E0100 for the first invalid UTF-8 sequence, E0101 for NUL, control
// characters and bidirectional formatting characters (at most `max_errors`),
// E0105 for an oversized file. Returns true when the text may be parsed.
bool check_source_text(const SourceFile& file, Diagnostics& diags, std::size_t max_file_bytes, std::size_t max_errors);

}  // namespace sbpolicy::syntax
