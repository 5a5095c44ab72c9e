// The front-end pipeline as one object: load → parse → resolve → IR.
//
// Tools (sbc, sbrun) run a Compilation and then render its diagnostics; each
// stage's output stays available for the dump flags (`--emit ast|ir`). Later
// stages run only when earlier ones found no errors, so a broken policy
// never produces an IR.
#pragma once

#include <optional>
#include <string>

#include "ir/ir.hpp"
#include "sema/loader.hpp"
#include "sema/resolve.hpp"
#include "support/diagnostic.hpp"
#include "support/source.hpp"

namespace sbpolicy::driver {

struct Compilation {
  SourceMap sources;
  Diagnostics diags;
  sema::Program program;
  std::optional<ir::Policy> policy;  // set when there were no errors
  bool root_unreadable = false;      // the root file itself could not be read
};

// Compiles the policy file at `path` ("-" reads standard input).
void compile_file(Compilation& c, const std::string& path, const sema::LoadOptions& options);

// Compiles policy text that is not in a file; relative imports resolve
// against `base_dir`.
void compile_text(Compilation& c, const std::string& display_name, const std::string& base_dir, std::string text,
                  const sema::LoadOptions& options);

// Is `span` in a standard library module of `c` (a file the user cannot
// edit)? Findings there are summarised, and strict modes do not apply.
bool in_stdlib(const Compilation& c, Span span);

// The diagnostics of `all` to show: everything, or with `verbose` false
// everything but the warnings and notes located in standard library
// modules, which `summary` then counts in one line ("" when none).
Diagnostics users_own(const Compilation& c, const Diagnostics& all, bool verbose, std::string& summary);

}  // namespace sbpolicy::driver
