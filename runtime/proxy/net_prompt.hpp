// Network `ask` prompts: a question on the controlling terminal while the
// connection that raised it waits.
//
// Questions are answered one at a time by a thread of their own, so the
// proxy's event loop never blocks on a human. Each question shows the host
// and port in canonical ASCII (punycode; nothing from the sandbox reaches
// the terminal unescaped), the registrable domain (eTLD+1, from the public
// suffix list) on a line of its own so `registry.pkgs.test.evil.test` reads
// as `evil.test`, and the rule that asked. Input typed before the question
// appears is discarded, and the sandbox is held still (SIGSTOP) while the
// question is up, so a command sharing the terminal can neither read the
// answer nor draw a fake question over it; anything but `o`/`once` or `a`/`always` is deny, and
// so is silence for the timeout.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace sbpolicy::proxy {

enum class NetAnswer { AllowOnce, AllowRun, Deny, Timeout, NoTerminal };

struct NetQuestion {
  std::string host;  // canonical, as printed by HostSubject::text() without the port
  std::uint16_t port = 0;
  std::string rule;  // `ask net "*.github.com"` (p.sbpolicy:6:11)
};

class NetPrompter {
 public:
  // `hold(true)` runs just before a question is shown and `hold(false)`
  // once it is answered (sbrun stops the sandbox meanwhile), on the
  // prompter's thread.
  explicit NetPrompter(std::string tty_path = "/dev/tty", std::chrono::milliseconds timeout = std::chrono::seconds(60),
                       std::function<void(bool)> hold = {});
  NetPrompter(const NetPrompter&) = delete;
  NetPrompter& operator=(const NetPrompter&) = delete;
  ~NetPrompter();

  // Queues a question; `done` runs on the prompter's thread.
  void ask(NetQuestion question, std::function<void(NetAnswer)> done);

 private:
  void run();
  NetAnswer prompt(const NetQuestion& q);
  void let_output_through();

  std::string tty_path_;
  std::chrono::milliseconds timeout_;
  std::function<void(bool)> hold_;
  int cancel_ = -1;  // an eventfd the destructor signals to end a question
  int tty_ = -2;     // -2: not opened yet, -1: no terminal
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<NetQuestion, std::function<void(NetAnswer)>>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

// The registrable domain of a canonical name ("github.com" for
// "api.github.com"), or the name itself when the list has none.
std::string registrable_domain(const std::string& name);

}  // namespace sbpolicy::proxy
