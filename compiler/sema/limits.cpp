#include "sema/limits.hpp"

#include <fmt/format.h>

#include <cctype>

namespace sbpolicy::sema {

namespace {

// Above these a value is a typo, not a limit.
constexpr std::uint64_t kMaxBytes = std::uint64_t{1} << 60;  // 1 EiB
constexpr std::uint64_t kMaxSeconds = 366ull * 24 * 3600;    // a year
constexpr std::uint64_t kMaxProcesses = 4194304;             // the kernel's pid_max ceiling
constexpr std::uint64_t kMaxOpenFiles = 1048576;             // the kernel's default nr_open
constexpr std::uint64_t kMinMemory = std::uint64_t{1} << 20;  // 1 MiB: below, nothing starts

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view example(LimitKind kind) {
  switch (kind) {
    case LimitKind::Memory: return "`limit memory 4G;`";
    case LimitKind::FileSize: return "`limit file_size 1G;`";
    case LimitKind::CpuTime: return "`limit cpu_time 10m;`";
    case LimitKind::WallTime: return "`limit wall_time 30m;`";
    case LimitKind::Processes: return "`limit processes 512;`";
    case LimitKind::OpenFiles: return "`limit open_files 4096;`";
  }
  return "";
}

std::string units_help(LimitKind kind) {
  switch (limit_unit(kind)) {
    case LimitUnit::Bytes:
      return fmt::format("a size is a whole number of bytes or of K, M, G or T (binary: 1K = 1024 bytes), as in {}",
                         example(kind));
    case LimitUnit::Seconds:
      return fmt::format("a time is a whole number of seconds, or of `s`, `m` (minutes) or `h`, as in {}",
                         example(kind));
    case LimitUnit::Count: return fmt::format("a count is a whole number, without a unit, as in {}", example(kind));
  }
  return "";
}

}  // namespace

std::string_view limit_name(LimitKind kind) {
  switch (kind) {
    case LimitKind::Memory: return "memory";
    case LimitKind::Processes: return "processes";
    case LimitKind::CpuTime: return "cpu_time";
    case LimitKind::WallTime: return "wall_time";
    case LimitKind::FileSize: return "file_size";
    case LimitKind::OpenFiles: return "open_files";
  }
  return "?";
}

std::optional<LimitKind> limit_kind_named(std::string_view name) {
  for (LimitKind k : kLimitKinds) {
    if (limit_name(k) == name) return k;
  }
  return std::nullopt;
}

LimitUnit limit_unit(LimitKind kind) {
  switch (kind) {
    case LimitKind::Memory:
    case LimitKind::FileSize: return LimitUnit::Bytes;
    case LimitKind::CpuTime:
    case LimitKind::WallTime: return LimitUnit::Seconds;
    case LimitKind::Processes:
    case LimitKind::OpenFiles: return LimitUnit::Count;
  }
  return LimitUnit::Count;
}

std::variant<std::uint64_t, LimitValueError> parse_limit_value(LimitKind kind, std::string_view text) {
  const auto fail = [&](std::string message) { return LimitValueError{std::move(message), units_help(kind)}; };
  std::size_t i = 0;
  std::uint64_t n = 0;
  bool overflow = false;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (n > (~std::uint64_t{0} - 9) / 10) overflow = true;
    else n = n * 10 + static_cast<std::uint64_t>(text[i] - '0');
    ++i;
  }
  if (i == 0) return fail(fmt::format("`{}` is not a number", text));
  if (i < text.size() && (text[i] == '.' || text[i] == ',')) {
    return fail(fmt::format("`{}` is not a whole number", text));
  }
  const std::string unit = lower(text.substr(i));
  std::uint64_t scale = 1;
  switch (limit_unit(kind)) {
    case LimitUnit::Bytes: {
      static constexpr std::string_view kPrefixes = "kmgt";
      std::string_view rest = unit;
      if (!rest.empty() && kPrefixes.find(rest.front()) != std::string_view::npos) {
        scale = std::uint64_t{1} << (10 * (kPrefixes.find(rest.front()) + 1));
        rest.remove_prefix(1);
        if (rest == "ib" || rest == "b") rest = {};
      } else if (rest == "b") {
        rest = {};
      }
      if (!rest.empty()) return fail(fmt::format("`{}` is not a unit of size", text.substr(i)));
      break;
    }
    case LimitUnit::Seconds:
      if (unit.empty() || unit == "s") scale = 1;
      else if (unit == "m" || unit == "min") scale = 60;
      else if (unit == "h") scale = 3600;
      else if (unit == "ms") return fail("a time limit is counted in whole seconds");
      else return fail(fmt::format("`{}` is not a unit of time", text.substr(i)));
      break;
    case LimitUnit::Count:
      if (!unit.empty()) {
        return fail(fmt::format("{} is a count and takes no unit (`{}`)", limit_name(kind), text.substr(i)));
      }
      break;
  }
  const std::uint64_t max = limit_unit(kind) == LimitUnit::Bytes     ? kMaxBytes
                            : limit_unit(kind) == LimitUnit::Seconds ? kMaxSeconds
                            : kind == LimitKind::Processes           ? kMaxProcesses
                                                                     : kMaxOpenFiles;
  if (overflow || n > max / scale) {
    return fail(fmt::format("`{}` is above the largest {} limit, {}", text, limit_name(kind),
                            format_limit_value(kind, max)));
  }
  const std::uint64_t value = n * scale;
  if (value == 0) {
    return LimitValueError{fmt::format("a {} limit of 0 would stop everything", limit_name(kind)),
                           "remove the limit, or give it a value above 0"};
  }
  if (kind == LimitKind::Memory && value < kMinMemory) {
    return LimitValueError{fmt::format("a memory limit of {} is too small for any program to start",
                                       format_limit_value(kind, value)),
                           fmt::format("sizes without a unit are bytes; {}", units_help(kind))};
  }
  return value;
}

std::string format_limit_value(LimitKind kind, std::uint64_t value) {
  switch (limit_unit(kind)) {
    case LimitUnit::Bytes: {
      static constexpr std::array<std::string_view, 5> kUnits = {"bytes", "KiB", "MiB", "GiB", "TiB"};
      std::size_t u = 0;
      std::uint64_t v = value;
      while (u + 1 < kUnits.size() && v >= 1024 && v % 1024 == 0) {
        v /= 1024;
        ++u;
      }
      return fmt::format("{} {}", v, kUnits[u]);
    }
    case LimitUnit::Seconds: {
      const std::uint64_t h = value / 3600, m = value / 60 % 60, s = value % 60;
      std::string out;
      if (h != 0) out += fmt::format("{} h", h);
      if (m != 0) out += fmt::format("{}{} min", out.empty() ? "" : " ", m);
      if (s != 0 || out.empty()) out += fmt::format("{}{} s", out.empty() ? "" : " ", s);
      return out;
    }
    case LimitUnit::Count: return fmt::format("{}", value);
  }
  return "";
}

}  // namespace sbpolicy::sema
