#include "event_log.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace sbpolicy::runtime {

bool EventLog::open(const std::string& path, std::string& error) {
  if (path.empty()) return true;
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) error = fmt::format("cannot open the log `{}`: {}", path, std::strerror(errno));
  return fd_ >= 0;
}

void EventLog::write(nlohmann::json event) {
  if (fd_ < 0) return;
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  event["time"] = std::chrono::duration_cast<std::chrono::milliseconds>(now).count() / 1000.0;
  // Subjects come from the sandbox: never let invalid UTF-8 break a line.
  const std::string line = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  (void)!::write(fd_, line.data(), line.size());
}

EventLog::~EventLog() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace sbpolicy::runtime
