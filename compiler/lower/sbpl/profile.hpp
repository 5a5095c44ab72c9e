// The macOS target: the IR lowered to a Seatbelt (SBPL) profile.
//
// Takes the IR, the canonical bindings (a macOS home, `/private/tmp`), the
// proxy's port and the `ask` rules allowed at launch; gives the profile text
// and its parameter values (`sandbox-exec -f PROFILE -D K=V ...`). Every
// path is a parameter, never profile text.
//
// The profile means the same whatever the order of its rules (docs/sbpl.md):
// after `(deny default)` and what a process needs to start, each operation
// family (`file-read*`, `file-write*`, unix sockets) has one allow whose
// filter is its grants minus every deny of the family, and the denies, each
// with `(with message "sbpolicy rule N FILE:LINE:COL")`. Allow and deny
// filters never overlap, so no precedence rule of SBPL decides anything. A
// read-protected path also denies `file-write-unlink` of itself and of its
// ancestors (a rename would carry it away). Network: only the proxy's port
// on localhost, and the unix sockets the policy grants.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ir/ir.hpp"

namespace sbpolicy::lower::sbpl {

struct SbplOptions {
  sema::PathBindings bindings;  // canonical (macOS: /private/tmp, /private/var/folders/…)
  int proxy_port = 0;           // 0: no network at all
  std::set<std::uint32_t> asks_allowed;  // rule ids of `ask` rules allowed at launch
  // The run's own temporary directory (sbrun makes one per run, as the
  // Linux sandbox has a private /tmp): readable and writable, minus denies.
  std::string private_tmp;
  // A word of this run's in every `(with message …)` ("sbpolicy TAG rule N
  // …"), so sbrun tells its own denials from other processes' and runs'.
  std::string run_tag;
  // The terminals the command may use (sbrun's own stdin/stdout/stderr when
  // they are ones, besides /dev/tty): never every terminal of the user.
  std::vector<std::string> terminals;
};

struct SbplProfile {
  std::string text;
  std::vector<std::pair<std::string, std::string>> params;  // in order: P0, P1, ...
  // Set when a rule cannot be written at all: there is no profile then
  // (a deny left out would grant what the policy forbids).
  std::string error;
  // Grants written narrower than the policy says (restrictive), one line
  // each, for the tools to show: never a silent drop.
  std::vector<std::string> narrowed;
  std::vector<std::uint32_t> narrowed_rules;  // the IR rule of each line of `narrowed`
};

SbplProfile lower_to_sbpl(const ir::Policy& policy, const SbplOptions& options);

// The paths every profile lets a process read to start (dyld, frameworks,
// devices): what the macOS sandbox grants beyond the rules, for the tests
// and `sbc explain`.
const std::vector<std::string>& baseline_read_subpaths();

// macOS's own spelling of a path the kernel resolves through its system
// links: `/tmp`, `/var` and `/etc` are under `/private`.
std::string canonical_macos_path(const std::string& path);

// What every profile lets a process read to start (dyld, frameworks,
// devices, user names), whatever the policy says, minus its denies: the
// start-up allowance (docs/sbpl.md). `path` canonical (macOS).
bool in_startup_reads(const std::string& path);

}  // namespace sbpolicy::lower::sbpl
