// bubblewrap as sbrun runs it: started once the plan is known, with the
// descriptors of the plan's bind sources, and fed the plan through a pipe.
//
// (It used to start before the policy was compiled, so that its exec ran on
// the other core meanwhile. But the objects to mount must be opened, checked
// and inherited as descriptors (`--bind-fd`): a path given to bubblewrap is
// resolved again when it mounts, and a process racing the launch could swap
// a symlink to the home in between.) Its command line is the init, from a
// descriptor, and the user's command.
//
// A plan cut short must never run anything: if sbrun dies while writing it,
// bubblewrap sees the end of the pipe early and may build a sandbox from the
// part it read (it is killed with sbrun, but not at once). So the init runs
// the command only after sbrun's go on the channel (kOrderGo), which sbrun
// sends after the plan's last byte and the pipe's close; a dead sbrun sends
// none, and its end of the channel closes.
//
// The child's descriptors: 3 the plan (`--args 3`), 4 sbrun-init (the init,
// run as /proc/self/fd/4), 5 bubblewrap's JSON status, 6 the init's
// "started" byte, 7 the channel (sandbox::kChannelFd), 8 the user's stderr
// (sandbox::kStderrFd), which the init makes the command's, and 9 the
// terminal socket when the sandbox has a terminal of its own
// (sandbox::kTerminalFd, docs/terminal.md); bubblewrap's own stderr (2) is a
// pipe whose messages sbrun turns into its own.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "limits.hpp"

namespace sbpolicy::runtime {

// What bubblewrap, the init and the command get for standard descriptors:
// sbrun's own, unless the sandbox has a terminal of its own (terminal.hpp),
// which gives /dev/null in place of the real terminal and relay pipes.
struct ChildStdio {
  int in = 0, out = 1, err = 2;
  int terminal = -1;          // the init's end of the terminal socket, or -1
  unsigned terminal_fds = 0;  // bit N: the command's descriptor N is the sandbox's pty
};

class Bubblewrap {
 public:
  // Starts `bwrap --args 3 -- /proc/self/fd/4 --sbrun-init --proxy -- COMMAND`,
  // with `init` (sbrun-init) on descriptor 4, `stdio` as its 0, 1, 8 (and
  // 9), in a process group of its own
  // (terminal signals reach sbrun, which forwards them), killed if sbrun
  // dies. False (with `error`) when it cannot be started.
  // `inherited` (descriptors above 9, close-on-exec here) stay open in
  // bubblewrap under their numbers: the bind sources its plan names by
  // descriptor.
  bool start(const std::string& bwrap, const std::string& init, const std::vector<std::string>& command,
             const ChildStdio& stdio, const std::vector<int>& inherited, std::string& error);
  // bubblewrap's command line after `--args 3`, as start() passes it.
  static std::vector<std::string> command_line(const std::vector<std::string>& command, unsigned terminal_fds = 0);

  // Writes the plan (NUL-terminated arguments) and closes the pipe: the
  // sandbox is being built from here. False (with `error`) when bubblewrap
  // is gone.
  bool send_plan(const std::vector<std::string>& args, std::string& error);
  // After send_plan(): sends the init its go, with whether AF_UNIX sockets
  // are allowed and the loopback services to listen on ("127.0.0.1:5432",
  // lower/local_services.hpp). From here on the caller waits for pid(). False (with
  // `error`) when the init cannot be told.
  bool go(bool allow_unix_sockets, bool allow_ptrace, const std::vector<CommandRlimit>& rlimits,
          const std::vector<std::string>& local_services, std::string& error);

  pid_t pid() const { return pid_; }
  int status_fd() const { return status_fd_; }    // bubblewrap's JSON status
  int started_fd() const { return started_fd_; }  // one byte when the init runs
  // What bubblewrap wrote on its stderr (a pipe: the user's stderr goes to
  // the init and the command as descriptor 8), read to its end: call it once
  // bubblewrap is gone (or has failed).
  std::string take_messages();
  // bubblewrap's messages as sbrun's: what failed, in the plan's terms, and
  // what to do about it. Every message is kept (after the explanation).
  static std::string explain(const std::string& messages);
  // sbrun's end of the channel; the caller's to close once go() succeeded
  // (the proxy serves it).
  int channel_fd() const { return channel_fd_; }

  // Before go() succeeded: kills bubblewrap (the init runs nothing without
  // the go) and reaps it, so the placeholders can go. Nothing after go().
  void stop();

  // stop(), and closes the status and "started" descriptors (and the channel
  // before go()).
  ~Bubblewrap();

 private:
  pid_t pid_ = -1;
  bool gone_ = false;  // the go was sent
  int plan_fd_ = -1;
  int status_fd_ = -1;
  int started_fd_ = -1;
  int channel_fd_ = -1;
  int errors_fd_ = -1;
};

}  // namespace sbpolicy::runtime
