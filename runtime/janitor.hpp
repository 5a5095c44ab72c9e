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
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace sbpolicy::runtime {

class Janitor {
 public:
  // Forks the janitor process. False (with `error`) when it cannot start.
  bool start(std::string& error);
  // Tell the janitor about a placeholder before creating it.
  void will_create(const std::string& path);
  // Tell the janitor about a process that must be gone before cleanup.
  void watch(pid_t pid);
  // sbrun cleaned up itself: the janitor exits without touching anything.
  void dismiss();
  ~Janitor();

 private:
  void send(const std::string& line);
  int fd_ = -1;
  pid_t pid_ = -1;
};

// Removes the directories sbrun created, deepest first, if they are empty.
void remove_placeholders(std::vector<std::string> created);

// Creates `path` and any missing parents, telling the janitor about each one
// before it is made; appends each created directory to `created`.
bool create_placeholder(const std::string& path, Janitor& janitor, std::vector<std::string>& created, std::string& error);

}  // namespace sbpolicy::runtime
