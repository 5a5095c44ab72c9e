// The `--log FILE` stream: one JSON object per line, one line per decision
// (launch decisions, mounts, asks, network connections), each with its time.
// Lines are written with one write(2) each on an O_APPEND descriptor, so a
// reader never sees half a line.
//
// The file is opened only once the mount plan is known (host_files.hpp
// refuses a log the sandbox could write or redirect); events before that are
// kept and written first. A run writes at most `max_bytes`: a flood of
// denied connections must not fill the disk. The line that would pass the
// limit is replaced by one `{"event": "log-truncated"}` line, and nothing
// more is written.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <mutex>
#include <vector>

namespace sbpolicy::runtime {

inline constexpr std::size_t kDefaultLogMaxBytes = std::size_t{16} << 20;

class EventLog {
 public:
  // `wanted`: a log will be attached; until then events are kept.
  explicit EventLog(bool wanted, std::size_t max_bytes = kDefaultLogMaxBytes)
      : keeping_(wanted), max_bytes_(max_bytes) {}
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;
  ~EventLog();

  // Takes the open log file and writes the events kept so far.
  void attach(int fd);
  bool enabled() const { return fd_ >= 0 || keeping_; }
  // Safe from several threads (on macOS the unified log's reader and the
  // proxy both write).
  void write(nlohmann::json event);

 private:
  void emit(const std::string& line);
  std::mutex mutex_;
  int fd_ = -1;
  bool keeping_;
  std::vector<std::string> kept_;
  std::size_t max_bytes_;
  std::size_t written_ = 0;
  bool truncated_ = false;
};

}  // namespace sbpolicy::runtime
