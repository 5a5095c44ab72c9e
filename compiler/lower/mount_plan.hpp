// Lowering the IR to a bubblewrap mount plan (Linux).
//
// The sandbox starts from an empty tmpfs root and sees only what the plan
// mounts into it. The plan is built from *points*: the canonical path of every
// path rule and every `except` (globs expanded against the filesystem now).
// Between points a policy's decision cannot change, because a rule covers
// its whole subtree; so deciding each point with the reference evaluator and
// mounting it when its access differs from its parent's gives a mount tree
// that enforces exactly the decisions at every existing path:
//   read+write -> --bind,  read-only -> --ro-bind,
//   none under a visible parent -> a mask (an empty mode-0 read-only tmpfs
//   over a directory, /dev/null over a file). A masked directory with a
//   grant below it (`deny read "~/.ssh" except "~/.ssh/config"`) is mode 0111
//   instead, so the grant can be reached but the directory not listed, and
//   it is made read-only only after the mounts below it.
// Points are mounted in path order, so deeper rules come after shallower ones.
//
// What the kernel cannot express by itself, the plan adds:
//  - Paths that do not exist yet but must stay unwritable inside a writable
//    grant (`.git/hooks` before `git init`) get a placeholder directory,
//    created on the host by the runtime before launch and removed after.
//  - Every directory between a writable grant and a protected point inside it
//    is self-bound, making it a mount point, so it cannot be renamed or
//    replaced to walk around the protection (rename of a mount point: EBUSY).
//  - Symlinks on the way to a grant that live outside every mount (merged-usr
//    `/bin -> usr/bin`) are recreated.
//  - A grant whose path goes through a symlink inside a writable directory is
//    not followed (W0101): a previous run could have planted it.
// The sandbox gets a fresh /proc, a minimal /dev and a private /tmp (unless
// the policy grants write to /tmp); `ask` rules arrive already settled.
//
// The lowering is a pipeline of stages, one file each under lower/mount_plan/
// (bind, expand, resolve, decide, pins, emit; stages.hpp teaches them), and
// every path that becomes a mount passes its one resolver.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string_view>
#include <string>
#include <utility>
#include <vector>

#include "ir/ir.hpp"
#include "lower/fs_view.hpp"
#include "support/diagnostic.hpp"

namespace sbpolicy::lower {

enum class Access : std::uint8_t { None, ReadOnly, ReadWrite };

struct Mount {
  enum class Kind : std::uint8_t {
    Bind,      // --bind SRC DEST
    RoBind,    // --ro-bind SRC DEST
    MaskDir,   // --perms 0000 --tmpfs DEST (0111 when a grant lies below: traversable, not listable)
    RemountRo, // --remount-ro DEST: closes a MaskDir after the mounts below it
    MaskFile,  // --ro-bind /dev/null DEST
    Symlink,   // --symlink SRC DEST (SRC is the link text)
    Proc,      // --proc DEST
    Dev,       // --dev DEST
    Tmpfs,     // --size N --tmpfs DEST (a private, writable directory)
  };
  Kind kind;
  std::string source;
  std::string dest;
  std::vector<std::uint32_t> rules;  // IR rule ids behind this mount
  std::string why;
  bool traversable = false;  // MaskDir: a visible path lies below it
  bool optional = false;     // RoBind: skipped when SOURCE does not exist (--ro-bind-try)
  std::uint64_t size = 0;    // Tmpfs: its size in bytes (--size), 0 for none
};

// The entries of /proc outside the process directories through which a
// process can change the host's kernel (sysctls, the SysRq trigger, IRQ
// affinity, PCI config space, dynamic debug, PSI triggers, ...): bound
// read-only over the sandbox's fresh /proc, those that exist on this kernel.
// They are the kernel's and not a namespace's, so no policy can grant them.
inline constexpr std::string_view kProcReadOnly[] = {
    "acpi",  "asound",  "bus",  "driver", "dynamic_debug", "fs",           "irq",         "latency_stats",
    "mtrr",  "pressure", "scsi", "sys",    "sysrq-trigger", "sysvipc",     "timer_stats", "tty"};
// What bubblewrap's minimal /dev holds (and the sandbox's private /dev/shm):
// nothing else of the host's /dev is there, whatever a policy grants.
inline constexpr std::string_view kSandboxDev[] = {"full", "null", "ptmx", "pts",  "random",
                                                   "shm",  "tty",  "urandom", "zero"};
std::string_view mount_kind_name(Mount::Kind k);

struct MountPlan {
  // Directories the runtime creates on the host before launch (parents
  // first), because a mount must go there: granted directories that do not
  // exist yet, and a `.git` inside another repository; it removes the ones
  // it created, and that are still empty, after the sandbox is gone.
  std::vector<std::string> placeholders;
  // Placeholders that are files (path, content): every missing protected
  // name gets one, at its first missing level (emit.cpp), so that it looks
  // like an empty read-only file, never like a directory that would break
  // the tools that read it (`.bashrc`, `.mcp.json`, `.git/config`).
  std::vector<std::pair<std::string, std::string>> placeholder_files;
  // Missing protected names in a directory the sandbox's user cannot write
  // (a read-only checkout): they cannot be made inside either, so they get
  // no placeholder (reported by -v).
  std::vector<std::string> unneeded_placeholders;
  std::vector<Mount> mounts;
  std::vector<std::pair<std::string, std::string>> env;  // the command's whole environment
  std::string chdir = "/";
  // Grants that name paths that do not exist: nothing to mount (reported by -v).
  std::vector<std::string> skipped;
  // Of the placeholders: directories granted write that did not exist
  // (emit.cpp, missing_grant), made for the run and kept once written to.
  std::vector<std::string> granted_placeholders;
  // Unix sockets that are bound in (the seccomp filter then allows AF_UNIX).
  std::vector<std::string> unix_sockets;
};

struct LowerOptions {
  sema::PathBindings bindings;  // canonical directories
  // The home and the workspace as given (HOME, --workspace), before
  // symlinks were resolved: the links on their way (`/home -> var/home`)
  // are recreated inside, so the paths the command is told still lead there.
  std::vector<std::string> anchors_as_given;
  bool target_strict = false;
  // Files of the standard library: --target-strict is for the user's own
  // rules, never for files the user cannot edit.
  std::set<FileId> library_files;
  bool strict_for(const ir::Rule& rule) const {
    return target_strict && library_files.count(rule.origin.target.span.file) == 0;
  }
  // The ids of `ask` rules the user allowed at launch; other asks grant nothing.
  std::set<std::uint32_t> asks_allowed;
  // The invoking environment; `env` rules choose what passes.
  std::vector<std::pair<std::string, std::string>> environment;
  // Variables the runtime sets itself (TMPDIR, proxy variables), after the policy's.
  std::vector<std::pair<std::string, std::string>> runtime_env;
  std::size_t glob_entry_budget = 2000000;
  // Points (each can cost a mount) before directories full of them are
  // protected whole (W0104): bubblewrap takes at most 9,000 arguments.
  std::size_t max_points = 1000;
  // The sizes of the private /tmp and /dev/shm (memory the command can fill).
  std::uint64_t tmp_size = std::uint64_t{2} << 30;
  std::uint64_t shm_size = std::uint64_t{256} << 20;
};

// The `ask` rules that must be settled before lowering (every operation but
// `net`, whose asks are settled per connection), in IR order.
std::vector<const ir::Rule*> launch_asks(const ir::Policy& policy);

// The variables of `environment` the policy's `env` rules pass (an `ask`
// when it was allowed at launch), in their order. Every target's.
std::vector<std::pair<std::string, std::string>> passed_environment(
    const ir::Policy& policy, const std::vector<std::pair<std::string, std::string>>& environment,
    const sema::PathBindings& bindings, const std::set<std::uint32_t>& asks_allowed);

// The mount that decides what `path` (canonical) shows inside: the last
// one at or above it, leaving out the ones that change no content
// (RemountRo, Symlink). Null: nothing is mounted there.
const Mount* covering_mount(const MountPlan& plan, const std::string& path);

// Would `path` (as written, symlinks and all) be readable inside a sandbox
// built from `plan`? Used to avoid binding the runtime's own files over
// paths the policy already shows.
bool visible_in_plan(const MountPlan& plan, FsView& fs, const std::string& path);

// What the stages before emit produced, as JSON (`sbc compile --emit`): each
// is filled once its stage has run, so a failed lowering still shows how far
// it got.
struct LoweringDumps {
  nlohmann::json bind, expand, resolve, points;
  // The dump of the stage named `name` ("bind", "expand", "resolve",
  // "points"), or null for another name.
  const nlohmann::json* stage(std::string_view name) const;
};

// Builds the plan. Fidelity diagnostics (W01xx) go to `diags` (as errors with
// target_strict); returns nullopt when an error was reported.
std::optional<MountPlan> lower_to_mount_plan(const ir::Policy& policy, FsView& fs, const LowerOptions& options,
                                             Diagnostics& diags, LoweringDumps* dumps = nullptr);

// The plan over a tree in memory that holds only the anchors of `bindings`
// (home, workspace, temporary directory) and `paths`: the Linux target's
// answer as `sbc test` and `sbc lint` read it, the same on every machine.
std::optional<MountPlan> lower_in_memory(const ir::Policy& policy, const sema::PathBindings& bindings,
                                         const std::vector<std::pair<std::string, FileKind>>& paths,
                                         Diagnostics& diags);

}  // namespace sbpolicy::lower
