// The janitor: removes sbrun's placeholders even when sbrun is killed.
//
// Protecting a path that does not exist yet inside a writable grant needs a
// directory on the host to mount over (mount points are created on the host).
// sbrun removes those placeholders itself after the sandbox exits. If sbrun
// is killed (SIGKILL included), a small process forked before any
// placeholder exists does it instead: it learns each placeholder before it is
// created and the pids of bubblewrap and the sandbox's init, and on seeing
// its pipe from sbrun close without a "done", waits until those processes are
// gone (bubblewrap dies with its parent, the sandbox with bubblewrap) and
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
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace sbpolicy::runtime {

class Janitor {
 public:
  // Forks the janitor process. False (with `error`) when it cannot start.
  bool start(std::string& error);
  // Creates `paths` and their missing parents, telling the janitor about
  // them before the first is made. False (with `error`) when one cannot be
  // made; those made until then are removed by finish().
  bool create_placeholders(const std::vector<std::string>& paths, std::string& error);
  // Tell the janitor about a process that must be gone before cleanup.
  void watch(pid_t pid);
  // Removes the placeholders that are still empty, deepest first, and lets
  // the janitor go (it touches no path after that).
  void finish();
  ~Janitor();

 private:
  bool send(const std::string& line, const std::vector<int>& fds = {});
  int fd_ = -1;
  std::vector<std::string> created_;
  std::vector<int> held_;  // O_PATH descriptors of created_, where open worked
};

// Removes `created` directories, deepest first, if they are empty.
void remove_placeholders(std::vector<std::string> created);

}  // namespace sbpolicy::runtime
