// The `--log FILE` stream: one JSON object per line, one line per decision
// (launch decisions, mounts, asks, network connections), each with its time.
// Lines are written with one write(2) each on an O_APPEND descriptor, so a
// reader never sees half a line.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace sbpolicy::runtime {

class EventLog {
 public:
  EventLog() = default;
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;
  ~EventLog();

  // An empty path means no log. Returns false with `error` set on failure.
  bool open(const std::string& path, std::string& error);
  bool enabled() const { return fd_ >= 0; }
  void write(nlohmann::json event);

 private:
  int fd_ = -1;
};

}  // namespace sbpolicy::runtime
