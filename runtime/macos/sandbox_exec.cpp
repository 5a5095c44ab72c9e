#include "macos/sandbox_exec.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "sandbox/proxy_doors.hpp"

namespace sbpolicy::runtime::macos {

std::vector<std::string> sandbox_exec_argv(const std::string& profile_path,
                                           const std::vector<std::pair<std::string, std::string>>& params,
                                           const std::vector<std::string>& command) {
  std::vector<std::string> argv = {kSandboxExec, "-f", profile_path};
  for (const auto& [k, v] : params) {
    argv.push_back("-D");
    argv.push_back(k + "=" + v);
  }
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

std::vector<std::string> command_environment(const std::vector<std::pair<std::string, std::string>>& passed,
                                             int http_port, int socks_port, const std::string& tmpdir) {
  // The host's loopback is the sandbox's: nothing is exempt from the proxy.
  std::vector<std::pair<std::string, std::string>> ours = sandbox::proxy_environment(http_port, socks_port, "");
  ours.emplace_back("TMPDIR", tmpdir);
  std::vector<std::string> env;
  for (const auto& [k, v] : passed) {
    bool replaced = false;
    for (const auto& o : ours) replaced = replaced || o.first == k;
    if (!replaced) env.push_back(k + "=" + v);
  }
  for (const auto& [k, v] : ours) env.push_back(k + "=" + v);
  return env;
}

bool write_private_file(const std::string& dir, const std::string& name, const std::string& text, std::string& path,
                        std::string& error) {
  const int d = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (d < 0) {
    error = fmt::format("cannot open {}: {}", dir, std::strerror(errno));
    return false;
  }
  const int fd = openat(d, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  close(d);
  if (fd < 0) {
    error = fmt::format("cannot create {}/{}: {}", dir, name, std::strerror(errno));
    return false;
  }
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = fmt::format("cannot write {}/{}: {}", dir, name, std::strerror(errno));
      close(fd);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  close(fd);
  path = dir + "/" + name;
  return true;
}

namespace {

// Empties the directory open at `fd` (which it closes), `depth` levels at most.
bool empty_directory(int fd, int depth, std::string& error) {
  DIR* d = fdopendir(fd);
  if (d == nullptr) {
    close(fd);
    error = std::strerror(errno);
    return false;
  }
  bool ok = true;
  std::vector<std::string> names;
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  for (const std::string& name : names) {
    if (unlinkat(dirfd(d), name.c_str(), 0) == 0 || errno == ENOENT) continue;
    if (errno != EISDIR && errno != EPERM) {
      error = fmt::format("{}: {}", name, std::strerror(errno));
      ok = false;
      continue;
    }
    const int sub = openat(dirfd(d), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0 || depth == 0) {
      if (sub >= 0) close(sub);
      error = fmt::format("{}: {}", name, depth == 0 ? "nested too deeply" : std::strerror(errno));
      ok = false;
      continue;
    }
    if (!empty_directory(sub, depth - 1, error) || unlinkat(dirfd(d), name.c_str(), AT_REMOVEDIR) != 0) {
      if (error.empty()) error = fmt::format("{}: {}", name, std::strerror(errno));
      ok = false;
    }
  }
  closedir(d);
  return ok;
}

}  // namespace

bool remove_tree(const std::string& dir, std::string& error) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return true;
    error = fmt::format("{}: {}", dir, std::strerror(errno));
    return false;
  }
  if (!empty_directory(fd, 64, error)) return false;
  if (rmdir(dir.c_str()) != 0) {
    error = fmt::format("{}: {}", dir, std::strerror(errno));
    return false;
  }
  return true;
}

std::vector<std::string> violation_log_argv() {
  return {kLog, "stream", "--style", "ndjson", "--predicate",
          "sender == \"Sandbox\" AND eventMessage CONTAINS \"deny\""};
}

std::optional<Violation> parse_violation(std::string_view line, const std::string& run_tag) {
  const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("eventMessage") || !j["eventMessage"].is_string()) return std::nullopt;
  const std::string message = j["eventMessage"].get<std::string>();
  // "Sandbox: NAME(PID) deny(N) OPERATION SUBJECT…"
  std::string_view m = message;
  if (m.rfind("Sandbox: ", 0) != 0) return std::nullopt;
  m.remove_prefix(9);
  const std::size_t open = m.find('('), close = m.find(") deny(");
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return std::nullopt;
  // This run's: its tag is in the message.
  const std::string tag = "sbpolicy " + run_tag + " ";
  if (message.find(tag) == std::string::npos) return std::nullopt;
  Violation v;
  v.process = std::string(m.substr(0, open));
  const std::string_view pid = m.substr(open + 1, close - open - 1);
  if (pid.empty() || pid.size() > 9) return std::nullopt;
  for (char c : pid) {
    if (c < '0' || c > '9') return std::nullopt;
    v.pid = v.pid * 10 + (c - '0');
  }
  m.remove_prefix(close + 7);
  const std::size_t count_end = m.find(") ");
  if (count_end == std::string_view::npos) return std::nullopt;
  m.remove_prefix(count_end + 2);
  const std::size_t op_end = m.find(' ');
  v.operation = std::string(m.substr(0, op_end));
  std::string subject = op_end == std::string_view::npos ? "" : std::string(m.substr(op_end + 1));
  // The rule's message, wherever macOS puts it in the line.
  if (const std::size_t at = subject.find(tag); at != std::string::npos) {
    const std::string rule_word = tag + "rule ";
    if (subject.compare(at, rule_word.size(), rule_word) == 0) {
      int id = 0;
      std::size_t i = at + rule_word.size(), digits = 0;
      while (i < subject.size() && subject[i] >= '0' && subject[i] <= '9' && digits < 9) {
        id = id * 10 + (subject[i++] - '0');
        ++digits;
      }
      if (digits > 0) v.rule = id;
    }
    subject.erase(at);
    while (!subject.empty() && (subject.back() == ' ' || subject.back() == '(' || subject.back() == '"')) {
      subject.pop_back();
    }
  }
  v.subject = std::move(subject);
  return v;
}

std::string describe_violation(const Violation& v, const std::string& rule) {
  if (rule.empty()) {
    return fmt::format("sbrun: denied {} {} to {}({}): nothing in the policy grants it\n", v.operation, v.subject,
                       v.process, v.pid);
  }
  return fmt::format("sbrun: denied {} {} to {}({}) by {}\n", v.operation, v.subject, v.process, v.pid, rule);
}

}  // namespace sbpolicy::runtime::macos
