// Resource limits: `limit KIND VALUE;` and sbrun's `--limit KIND=VALUE`.
//
// A limit bounds what the sandboxed command may use: memory, processes, CPU
// time, wall-clock time, the size of a file it writes, open descriptors.
// The kinds and their values are read here, once, for the policy and for the
// command line; what enforces each one on a target is the runtime's business
// (docs/limits.md). Across the files of a policy the smallest value of a kind
// wins: a baseline's limit cannot be raised by a file that imports it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sema/loader.hpp"
#include "support/source.hpp"

namespace sbpolicy::sema {

enum class LimitKind : std::uint8_t { Memory, Processes, CpuTime, WallTime, FileSize, OpenFiles };
inline constexpr std::array<LimitKind, 6> kLimitKinds = {LimitKind::Memory,   LimitKind::Processes,
                                                         LimitKind::CpuTime,  LimitKind::WallTime,
                                                         LimitKind::FileSize, LimitKind::OpenFiles};

// What a kind's value counts.
enum class LimitUnit : std::uint8_t { Bytes, Count, Seconds };

std::string_view limit_name(LimitKind kind);  // "memory", "cpu_time", ...
std::optional<LimitKind> limit_kind_named(std::string_view name);
LimitUnit limit_unit(LimitKind kind);

struct LimitValueError {
  std::string message;  // what is wrong with the value
  std::string help;     // how to write it
};

// "4G", "512M", "1024" (bytes); "30m", "2h", "90" (seconds); "512" (a count).
// Units are binary (K = 1024) and case-insensitive; `B` and `iB` may follow.
std::variant<std::uint64_t, LimitValueError> parse_limit_value(LimitKind kind, std::string_view text);

// The value for people: "4 GiB", "30 min", "1 h 30 min", "512".
std::string format_limit_value(LimitKind kind, std::uint64_t value);

struct CheckedLimit {
  LimitKind kind;
  std::uint64_t value = 0;
  FileId file = kNoFile;
  Span statement;
  Span value_span;
  std::vector<ImportStep> chain;
};

}  // namespace sbpolicy::sema
