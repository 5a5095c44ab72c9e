// The sandbox's own terminal (docs/terminal.md).
//
// When sbrun's stdin is a terminal and sbrun is its foreground job, the init
// makes a pseudo-terminal inside the sandbox and hands sbrun its master over
// the terminal socket (sandbox/protocol.h). sbrun then owns the real
// terminal: raw mode while the command runs, keys in and output out through
// a relay thread, the window size copied on SIGWINCH, stops of the command
// turned into stops of sbrun (so the user's shell gets the terminal back),
// and the real modes restored at the end. No process of the sandbox holds
// the real terminal: bubblewrap gets /dev/null in its place.
//
// While a network question is up (hold()/release(), from the prompter's
// thread) the relay copies out what the command wrote so far, then stops:
// the question owns the terminal, in the terminal's own modes, and nothing
// the command writes meanwhile appears until it is answered. A pipe on
// sbrun's stdout or stderr is relayed the same way when questions can come
// (the command writes into a pipe of sbrun's), so the order holds for
// `sbrun ... | tee log` too.
#pragma once

#include <termios.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "bubblewrap.hpp"

namespace sbpolicy::runtime {

class Terminal {
 public:
  // Whether the sandbox should get a terminal of its own: sbrun's stdin is
  // a terminal and sbrun is in its foreground process group.
  static bool wanted();

  Terminal() = default;
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;
  // finish(), if it has not run.
  ~Terminal();

  // Before bubblewrap starts: the terminal socket, /dev/null for each of
  // sbrun's terminal descriptors and, with `relay_pipes`, a pipe of sbrun's
  // in place of a pipe on its stdout or stderr. False (with `error`) when
  // any of them cannot be made.
  bool prepare(bool relay_pipes, std::string& error);
  // What bubblewrap gets; valid after prepare().
  const ChildStdio& stdio() const { return stdio_; }
  // Once bubblewrap has started: closes sbrun's copies of what it got.
  void started();

  // After the init's go: takes the master from the init, gives it the real
  // terminal's modes and size, puts the real terminal in raw mode, starts
  // the relay and lets the command run. False when the init sent no master
  // (it failed, said why and exits 125; sbrun goes on to its status).
  bool attach();

  // Around a question on the real terminal (the prompter's thread): hold()
  // returns once what the command wrote so far is out and the relay has
  // stopped, with the terminal in its own modes; release() resumes it.
  void hold();
  void release();

  // After the sandbox is gone: copies out what is left, restores the
  // terminal, ends the relay. Idempotent.
  void finish();

 private:
  struct Pipe {
    int read = -1;   // sbrun's end: what the command writes
    int write = -1;  // bubblewrap's, closed by started()
    int to = -1;     // sbrun's descriptor it is copied to (1 or 2)
  };

  void run();
  bool relay_once(int timeout_ms);
  bool copy_out(int from, int to, std::size_t limit);
  void drain(std::size_t limit);
  void stop_self(bool command_stopped);
  void set_raw(bool raw);
  void copy_size();
  bool foreground() const;

  ChildStdio stdio_;
  int socket_ = -1;  // sbrun's end of the terminal socket
  int theirs_ = -1;  // the init's end, until bubblewrap has it
  int null_ = -1;    // /dev/null, for bubblewrap's terminal descriptors
  int real_ = -1;    // the real terminal (sbrun's stdin)
  int out_ = -1;     // where the pty's output goes: sbrun's stdout, or stderr
  int master_ = -1;
  Pipe pipes_[2];
  struct termios saved_ {};
  bool raw_ = false;
  bool attached_ = false;
  bool finished_ = false;
  std::string to_master_;  // keys read, not yet taken by the pty

  std::mutex mutex_;
  std::condition_variable changed_;
  bool hold_wanted_ = false;
  bool held_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sbpolicy::runtime
