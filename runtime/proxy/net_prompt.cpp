#include "proxy/net_prompt.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <libpsl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

namespace sbpolicy::proxy {

std::string registrable_domain(const std::string& name) {
  static const psl_ctx_t* psl = [] {
    const psl_ctx_t* latest = psl_latest(nullptr);
    return latest != nullptr ? latest : psl_builtin();
  }();
  const char* r = psl != nullptr ? psl_registrable_domain(psl, name.c_str()) : nullptr;
  return r != nullptr ? std::string(r) : name;
}

NetPrompter::NetPrompter(std::string tty_path, std::chrono::milliseconds timeout, std::function<void(bool)> hold)
    : tty_path_(std::move(tty_path)),
      timeout_(timeout),
      hold_(std::move(hold)),
      cancel_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      thread_([this] { run(); }) {}

NetPrompter::~NetPrompter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  // A question still on the terminal ends now (as deny): sbrun is done.
  const std::uint64_t one = 1;
  if (cancel_ >= 0) (void)!write(cancel_, &one, sizeof one);
  thread_.join();
  if (tty_ >= 0) close(tty_);
  if (cancel_ >= 0) close(cancel_);
}

void NetPrompter::ask(NetQuestion question, std::function<void(NetAnswer)> done) {
  {
    std::lock_guard lock(mutex_);
    queue_.emplace_back(std::move(question), std::move(done));
  }
  wake_.notify_all();
}

void NetPrompter::run() {
  for (;;) {
    std::pair<NetQuestion, std::function<void(NetAnswer)>> item;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) {
        for (auto& [q, done] : queue_) done(NetAnswer::Deny);
        queue_.clear();
        return;
      }
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    if (tty_ == -2) tty_ = open(tty_path_.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY);
    const bool held = tty_ >= 0 && hold_;
    if (held) {
      hold_(true);
      let_output_through();
    }
    const NetAnswer answer = prompt(item.first);
    if (held) hold_(false);
    item.second(answer);
  }
}

// What the command wrote before the question shows before it. Written to
// a pipe (`sbrun ... | tee log`), it reaches the screen only when the
// reader at the other end copies it there: wait, while the sandbox comes
// to a stop, until the pipes on sbrun's stdout and stderr are empty (at
// least 20 ms, at most half a second), then until the terminal has sent
// what was written to it.
void NetPrompter::let_output_through() {
  std::vector<int> pipes;
  for (int fd : {STDOUT_FILENO, STDERR_FILENO}) {
    struct stat st{};
    if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) pipes.push_back(fd);
  }
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    const auto waited = std::chrono::steady_clock::now() - start;
    bool empty = true;
    for (int fd : pipes) {
      int queued = 0;
      if (ioctl(fd, FIONREAD, &queued) == 0 && queued > 0) empty = false;
    }
    if ((empty && waited >= std::chrono::milliseconds(20)) || waited >= std::chrono::milliseconds(500)) break;
    poll(nullptr, 0, 5);
  }
  tcdrain(tty_);
}

NetAnswer NetPrompter::prompt(const NetQuestion& q) {
  if (tty_ < 0) return NetAnswer::NoTerminal;
  tcflush(tty_, TCIFLUSH);  // nothing typed before the question answers it
  const std::string text = fmt::format(
      "\nsbrun: the sandbox asks to connect to {}:{}\n"
      "  registrable domain: {}\n"
      "  asked by {}\n"
      "  [o] allow once   [a] allow for this run   [d] deny (default)  > ",
      q.host, q.port, registrable_domain(q.host), q.rule);
  (void)!write(tty_, text.data(), text.size());
  std::string answer;
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      (void)!write(tty_, "\nsbrun: no answer; denied\n", 26);
      return NetAnswer::Timeout;
    }
    pollfd p[2] = {{tty_, POLLIN, 0}, {cancel_, POLLIN, 0}};
    const int r = poll(p, 2, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || (p[1].revents & POLLIN)) return NetAnswer::Deny;
    if (r == 0) continue;
    char c;
    const ssize_t n = read(tty_, &c, 1);
    if (n <= 0) return NetAnswer::Deny;
    if (c == '\n' || c == '\r') break;
    if (answer.size() < 16) answer += c;
  }
  if (answer == "o" || answer == "O" || answer == "once") return NetAnswer::AllowOnce;
  if (answer == "a" || answer == "A" || answer == "always") return NetAnswer::AllowRun;
  return NetAnswer::Deny;
}

}  // namespace sbpolicy::proxy
