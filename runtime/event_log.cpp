#include "event_log.hpp"

#include <unistd.h>

#include <chrono>

namespace sbpolicy::runtime {

void EventLog::attach(int fd) {
  fd_ = fd;
  keeping_ = false;
  for (const std::string& line : kept_) emit(line);
  kept_.clear();
}

void EventLog::write(nlohmann::json event) {
  if (fd_ < 0 && !keeping_) return;
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  event["time"] = std::chrono::duration_cast<std::chrono::milliseconds>(now).count() / 1000.0;
  // Subjects come from the sandbox: never let invalid UTF-8 break a line.
  std::string line = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  const std::lock_guard<std::mutex> lock(mutex_);
  if (keeping_) {
    kept_.push_back(std::move(line));
    return;
  }
  emit(line);
}

void EventLog::emit(const std::string& line) {
  if (fd_ < 0 || truncated_) return;
  if (written_ + line.size() > max_bytes_) {
    truncated_ = true;
    const nlohmann::json notice = {{"event", "log-truncated"},
                                   {"limit_bytes", max_bytes_},
                                   {"why", "this run's log reached its limit; later events are not written"}};
    const std::string last = notice.dump() + "\n";
    (void)!::write(fd_, last.data(), last.size());
    return;
  }
  written_ += line.size();
  (void)!::write(fd_, line.data(), line.size());
}

EventLog::~EventLog() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace sbpolicy::runtime
