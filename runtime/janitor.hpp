// The janitor: removes sbrun's placeholders even when sbrun is killed.
//
// Protecting a path that does not exist yet inside a writable grant needs a
// directory on the host to mount over (mount points are created on the host).
// sbrun removes those placeholders itself after the sandbox exits. If sbrun
// is killed (SIGKILL included), a small process started before any
// placeholder exists does it instead: it learns each placeholder before it is
// created and the pids of bubblewrap and the sandbox's init, and on seeing
// its channel from sbrun close without a "done", waits until those processes
// are gone (bubblewrap dies with its parent, the sandbox with bubblewrap) and
// then removes the placeholders that are still empty, deepest first. It runs
// in its own session, so Ctrl-C at the terminal does not stop it.
//
// Removing a directory frees its block, which on a filesystem mounted with
// `discard` waits for the device (~0.2 ms a directory here, longer than
// making it). So sbrun holds each placeholder open (O_PATH) while it exists:
// its rmdir then only unlinks the name, and the inode is released when the
// last descriptor closes. sbrun hands those descriptors to the janitor with
// its "done" and exits without waiting: every name is gone before sbrun
// exits, and the janitor, holding only unlinked directories and no terminal,
// releases them just after.
//
// The janitor is the program sbrun-init in its `--sbrun-janitor` mode
// (sbrun-init/janitor.c),
// started with posix_spawn (no copy of sbrun's memory) when the first
// placeholder is about to be made; a launch that needs none starts none. (It
// used to be a copy of sbrun forked at the start: sharing sbrun's heap
// copy-on-write, every page sbrun then wrote while compiling and lowering
// took a fault and a copy: ~1-1.5 ms for std.agent here, and a huge page
// shared that way is split into small ones.)
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "sbrun-init/janitor_protocol.h"

namespace sbpolicy::runtime {

// The janitor's end of its channel from sbrun, in the janitor process.
inline constexpr int kJanitorChannelFd = SB_JANITOR_CHANNEL_FD;
// Descriptors per SCM_RIGHTS message (the kernel's limit is 253).
inline constexpr std::size_t kFdsPerMessage = SB_JANITOR_FDS_PER_MESSAGE;

class Janitor {
 public:
  // `program` is sbrun-init, run in its janitor mode.
  explicit Janitor(std::string program) : program_(std::move(program)) {}
  // Creates `paths` and their missing parents, starting the janitor and
  // telling it about them before the first is made (no janitor runs when
  // every path exists). False (with `error`) when one cannot be
  // made or the janitor is not running; those made until then are removed
  // by finish().
  //
  // Every placeholder is made by walking its path from `/` with descriptors,
  // never following a symlink (O_NOFOLLOW, mkdirat, openat): a link swapped
  // in while sbrun runs makes the launch fail, instead of a directory landing
  // where the link points. `files` (path, content) are files made with
  // O_EXCL and removed after only while they are regular files of that size.
  bool create_placeholders(const std::vector<std::string>& paths,
                           const std::vector<std::pair<std::string, std::string>>& files, std::string& error);
  // Tell the janitor about a process that must be gone before cleanup (now,
  // or when it starts).
  void watch(pid_t pid);
  // Removes the placeholders that are still empty, deepest first, and lets
  // the janitor go (it touches no path after that).
  void finish();
  ~Janitor();

 private:
  bool send(const std::string& line, const std::vector<int>& fds = {});
  bool spawn(std::string& error);
  std::string program_;
  int fd_ = -1;  // the channel to the janitor, once it runs
  std::vector<pid_t> watched_;
  std::vector<std::string> created_;
  std::vector<std::pair<std::string, std::size_t>> created_files_;  // (path, size)
  std::vector<int> held_;  // O_PATH descriptors of created_, where open worked
};

// Removes `files` that are still regular files of their size, then
// `created` directories, deepest first, if they are empty.
void remove_placeholders(const std::vector<std::pair<std::string, std::size_t>>& files,
                         std::vector<std::string> created);

}  // namespace sbpolicy::runtime
