// Standard library modules checked when the binary was built.
//
// A standard library module is the same text in every run (it is compiled
// into the binary), and what resolving a file gives depends on that file
// alone: a standard library module exports no `let` names (summarize_module
// refuses one that does), and a file's rules are its own. So
// each module is parsed and resolved once at build time (the program
// stdlib-summarize), and its summary, the module's `use` statements, its
// checked rules, limits and switches, is compiled into the binary as bytes (encode_summary). With
// LoadOptions::std_summaries set, the loader takes a module's summary
// instead of parsing it, and resolve_program takes its rules instead of
// resolving it: what sbrun compiles at every launch for `use std.agent;` is
// then the user's own file.
//
// The module's text still goes into the SourceMap, so every span, line and
// column, and every diagnostic a later stage reports on a standard library
// rule, is the one a full compile gives; the tests hold the two to the same
// IR. A summary is used only for the text it was made from (a hash of the
// text is part of it) and only when it decodes completely; otherwise the
// module is parsed as usual.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sema/resolve.hpp"

namespace sbpolicy::sema {

struct StdSummary {
  struct Use {
    std::string module;  // "std.base"
    std::uint32_t begin = 0, end = 0;  // the target's span in the module's text
  };
  std::uint64_t text_hash = 0;  // text_hash() of the module's text
  std::vector<Use> uses;
  // As resolve_program gives them for the module alone: every span's file
  // is the module's, and the chain is empty; the loader sets both.
  std::vector<CheckedRule> rules;
  std::vector<CheckedLimit> limits;
  std::vector<CheckedSwitch> ptrace;
};

// A summary as compiled into the binary.
struct EncodedSummary {
  std::string_view module;
  std::string_view bytes;
};

std::uint64_t text_hash(std::string_view text);

std::string encode_summary(const StdSummary& summary);
// False when `bytes` is not a whole summary; `out` is then unspecified.
bool decode_summary(std::string_view bytes, StdSummary& out);

// Parses and resolves `text` as the module `module` on its own. False, with
// the diagnostics rendered in `error`, when it has any diagnostic at all: a
// standard library module must be clean.
bool summarize_module(std::string_view module, std::string_view path, std::string_view text, StdSummary& out,
                      std::string& error);

}  // namespace sbpolicy::sema
