#include "terminal.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "sandbox/protocol.h"

namespace sbpolicy::runtime {
namespace {

// The relay's wake-up pipe: signal handlers and the other threads write one
// byte each, a signal number or one of these.
int g_wake[2] = {-1, -1};
constexpr char kWakeHold = 'h', kWakeRelease = 'r', kWakeFinish = 'f';

void wake(char what) {
  const int saved = errno;
  if (g_wake[1] >= 0) (void)!write(g_wake[1], &what, 1);
  errno = saved;
}

void on_signal(int sig) { wake(static_cast<char>(sig)); }

constexpr int kRelayedSignals[] = {SIGWINCH, SIGTSTP, SIGCONT};

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool is_fifo(int fd, struct stat* st) { return fstat(fd, st) == 0 && S_ISFIFO(st->st_mode); }

}  // namespace

bool Terminal::wanted() { return isatty(STDIN_FILENO) == 1 && tcgetpgrp(STDIN_FILENO) == getpgrp(); }

Terminal::~Terminal() { finish(); }

bool Terminal::prepare(bool relay_pipes, std::string& error) {
  real_ = STDIN_FILENO;
  const auto failed = [&](const char* what) {
    error = fmt::format("cannot give the sandbox a terminal of its own ({}: {}); run with --no-pty to share this one",
                        what, std::strerror(errno));
    return false;
  };
  if (tcgetattr(real_, &saved_) != 0) return failed("the terminal's modes");
  null_ = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_ < 0) return failed("/dev/null");
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return failed("a socket for the init");
  socket_ = pair[0];
  theirs_ = pair[1];
  stdio_.in = null_;
  stdio_.terminal = theirs_;
  stdio_.terminal_fds = 1;  // stdin
  // Each of stdout and stderr: the pty when it is a terminal; a relay pipe
  // when it is a pipe and questions can come (one for both when they are
  // the same pipe); otherwise itself.
  struct stat first {};
  for (int fd : {STDOUT_FILENO, STDERR_FILENO}) {
    int& given = fd == STDOUT_FILENO ? stdio_.out : stdio_.err;
    struct stat st {};
    if (isatty(fd) == 1) {
      // bubblewrap binds its stdout at /dev/console when it is a terminal:
      // /dev/null instead. Its descriptor 8, the init's stderr, stays the
      // real one for the init's own messages (before the pty exists); the
      // command gets the pty in its place.
      if (fd == STDOUT_FILENO) given = null_;
      stdio_.terminal_fds |= 1u << fd;
    } else if (relay_pipes && is_fifo(fd, &st)) {
      if (fd == STDERR_FILENO && pipes_[0].to == STDOUT_FILENO && st.st_dev == first.st_dev &&
          st.st_ino == first.st_ino) {
        given = pipes_[0].write;
        continue;
      }
      Pipe& p = pipes_[fd - 1];
      int ends[2];
      if (pipe2(ends, O_CLOEXEC) != 0) return failed("a pipe for the command's output");
      p = {ends[0], ends[1], fd};
      (void)fcntl(p.read, F_SETFL, fcntl(p.read, F_GETFL) | O_NONBLOCK);
      given = p.write;
      if (fd == STDOUT_FILENO) first = st;
    }
  }
  // The pty's output (the command's, and the echo of keys) goes to the
  // terminal: sbrun's stdout or stderr when one is it, else the terminal
  // itself.
  if (isatty(STDOUT_FILENO) == 1) {
    out_ = STDOUT_FILENO;
  } else if (isatty(STDERR_FILENO) == 1) {
    out_ = STDERR_FILENO;
  } else {
    out_ = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (out_ < 0) return failed("/dev/tty");
  }
  return true;
}

void Terminal::started() {
  for (int* fd : {&theirs_, &null_, &pipes_[0].write, &pipes_[1].write}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

bool Terminal::attach() {
  char tag = 0;
  struct iovec iov = {&tag, 1};
  union {
    struct cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(int))];
  } control{};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.bytes;
  msg.msg_controllen = sizeof control.bytes;
  ssize_t n;
  while ((n = recvmsg(socket_, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  const struct cmsghdr* c = n == 1 ? CMSG_FIRSTHDR(&msg) : nullptr;
  if (c == nullptr || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
      c->cmsg_len != CMSG_LEN(sizeof(int))) {
    return false;
  }
  std::memcpy(&master_, CMSG_DATA(c), sizeof master_);
  if (tag != SB_TERM_MASTER) {
    close(master_);
    master_ = -1;
    return false;
  }
  (void)fcntl(master_, F_SETFL, fcntl(master_, F_GETFL) | O_NONBLOCK);
  // The modes and size ioctls on a master apply to its pty.
  (void)tcsetattr(master_, TCSANOW, &saved_);
  copy_size();
  if (pipe2(g_wake, O_CLOEXEC | O_NONBLOCK) != 0) g_wake[0] = g_wake[1] = -1;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int s : kRelayedSignals) sigaction(s, &sa, nullptr);
  set_raw(foreground());
  attached_ = true;
  thread_ = std::thread([this] { run(); });
  const char ready = SB_TERM_READY;
  (void)send(socket_, &ready, 1, MSG_NOSIGNAL);
  return true;
}

void Terminal::hold() {
  if (!attached_) return;
  std::unique_lock lock(mutex_);
  hold_wanted_ = true;
  wake(kWakeHold);
  // A relay stuck writing into a pipe nobody reads does not keep the
  // question from being asked.
  changed_.wait_for(lock, std::chrono::seconds(2), [&] { return held_; });
}

void Terminal::release() {
  if (!attached_) return;
  {
    std::lock_guard lock(mutex_);
    hold_wanted_ = false;
  }
  wake(kWakeRelease);
}

void Terminal::finish() {
  if (finished_) return;
  finished_ = true;
  if (thread_.joinable()) {
    wake(kWakeFinish);
    thread_.join();
  }
  if (attached_) {
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (int s : kRelayedSignals) sigaction(s, &sa, nullptr);
  }
  // What the terminal answered to the command's last queries (cursor
  // position, a reported title) is not left for the shell to read as typed.
  if (raw_) (void)tcflush(real_, TCIFLUSH);
  set_raw(false);
  started();
  for (int* fd : {&socket_, &master_, &pipes_[0].read, &pipes_[1].read, &g_wake[0], &g_wake[1]}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
  if (out_ > STDERR_FILENO) close(out_);
  out_ = -1;
}

bool Terminal::foreground() const { return tcgetpgrp(real_) == getpgrp(); }

void Terminal::set_raw(bool raw) {
  if (raw == raw_ || real_ < 0) return;
  // Restoring the modes from the background must not stop sbrun (SIGTTOU
  // is not sent while it is blocked); raw mode is only set in the
  // foreground.
  sigset_t ttou, before;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);
  pthread_sigmask(SIG_BLOCK, &ttou, &before);
  struct termios t = saved_;
  if (raw) cfmakeraw(&t);
  while (tcsetattr(real_, TCSADRAIN, &t) != 0 && errno == EINTR) {
  }
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  raw_ = raw;
}

void Terminal::copy_size() {
  struct winsize size {};
  if (master_ >= 0 && ioctl(real_, TIOCGWINSZ, &size) == 0) (void)ioctl(master_, TIOCSWINSZ, &size);
}

// Copies what `from` (non-blocking) holds to `to`, at most `limit` bytes.
// False when `from` is at its end: EOF, or EIO for a master whose pty is
// closed on every side.
bool Terminal::copy_out(int from, int to, std::size_t limit) {
  char buf[65536];
  std::size_t done = 0;
  while (done < limit) {
    const ssize_t n = read(from, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    if (n <= 0) return false;
    // A reader that went away: what it would have got is dropped (a relay
    // pipe is closed instead, below, so the command sees EPIPE as before).
    if (!write_all(to, buf, static_cast<std::size_t>(n)) && errno == EPIPE && from != master_) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

void Terminal::drain(std::size_t limit) {
  if (master_ >= 0 && !copy_out(master_, out_, limit)) {
    close(master_);
    master_ = -1;
  }
  for (Pipe& p : pipes_) {
    if (p.read >= 0 && !copy_out(p.read, p.to, limit)) {
      close(p.read);
      p.read = -1;
    }
  }
}

// Stops sbrun as a terminal's stop would, with the terminal in its own
// modes; once continued, takes it back and, when the stop was the
// command's, lets the command go on.
void Terminal::stop_self(bool command_stopped) {
  drain(std::size_t{1} << 20);  // what the command wrote before it stopped
  set_raw(false);
  kill(getpid(), SIGSTOP);
  set_raw(foreground() && !held_);
  copy_size();
  if (command_stopped) {
    const char go_on = SB_TERM_CONTINUE;
    (void)send(socket_, &go_on, 1, MSG_NOSIGNAL);
  }
}

void Terminal::run() {
  bool input_open = true;
  for (;;) {
    enum { kWake, kSocket, kMaster, kReal, kPipe0, kPipe1, kCount };
    const bool relay = !held_;
    pollfd fds[kCount] = {
        {g_wake[0], POLLIN, 0},
        {socket_, POLLIN, 0},
        {relay ? master_ : -1, static_cast<short>(POLLIN | (to_master_.empty() ? 0 : POLLOUT)), 0},
        {relay && raw_ && input_open && to_master_.empty() ? real_ : -1, POLLIN, 0},
        {relay ? pipes_[0].read : -1, POLLIN, 0},
        {relay ? pipes_[1].read : -1, POLLIN, 0},
    };
    if (poll(fds, kCount, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[kWake].revents & POLLIN) {
      char what[64];
      const ssize_t n = read(g_wake[0], what, sizeof what);
      for (ssize_t i = 0; i < n; ++i) {
        switch (what[i]) {
          case SIGWINCH: copy_size(); break;
          case SIGTSTP: stop_self(false); break;
          case SIGCONT:
            set_raw(foreground() && !held_);
            copy_size();
            break;
          case kWakeHold: {
            // What the command wrote before the question shows before it.
            drain(std::size_t{1} << 20);
            set_raw(false);
            std::lock_guard lock(mutex_);
            held_ = true;
            changed_.notify_all();
            break;
          }
          case kWakeRelease: {
            {
              std::lock_guard lock(mutex_);
              if (hold_wanted_) break;
              held_ = false;
            }
            set_raw(foreground());
            break;
          }
          case kWakeFinish: {
            // The sandbox is gone: what it wrote is in the pty and the
            // pipes until their ends (bounded, in case a writer survived).
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
            while ((master_ >= 0 || pipes_[0].read >= 0 || pipes_[1].read >= 0) &&
                   std::chrono::steady_clock::now() < deadline) {
              drain(std::size_t{1} << 20);
              pollfd left[3] = {{master_, POLLIN, 0}, {pipes_[0].read, POLLIN, 0}, {pipes_[1].read, POLLIN, 0}};
              (void)poll(left, 3, 50);
            }
            return;
          }
          default: break;
        }
      }
    }
    if (fds[kSocket].revents & (POLLIN | POLLHUP | POLLERR)) {
      char order = 0;
      const ssize_t n = recv(socket_, &order, 1, MSG_DONTWAIT);
      if (n == 1 && order == SB_TERM_STOPPED) stop_self(true);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        close(socket_);
        socket_ = -1;
      }
    }
    if (held_) continue;
    if (fds[kMaster].revents & (POLLIN | POLLHUP | POLLERR)) drain(std::size_t{1} << 16);
    if ((fds[kMaster].revents & POLLOUT) && master_ >= 0) {
      const ssize_t n = write(master_, to_master_.data(), to_master_.size());
      if (n > 0) to_master_.erase(0, static_cast<std::size_t>(n));
    }
    if (fds[kReal].revents & (POLLIN | POLLHUP | POLLERR)) {
      char keys[4096];
      const ssize_t n = read(real_, keys, sizeof keys);
      if (n > 0) {
        to_master_.append(keys, static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        input_open = false;  // the terminal hung up
      }
    }
    for (int i : {kPipe0, kPipe1}) {
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) drain(std::size_t{1} << 16);
    }
  }
}

}  // namespace sbpolicy::runtime
