#include "limits.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace sbpolicy::runtime {

namespace {

constexpr long kCgroup2Magic = 0x63677270;  // CGROUP2_SUPER_MAGIC
constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

std::string read_small_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool has_word(const std::string& text, std::string_view word) {
  std::istringstream in(text);
  std::string w;
  while (in >> w) {
    if (w == word) return true;
  }
  return false;
}

std::string busctl_path() {
  for (const char* p : {"/usr/bin/busctl", "/bin/busctl"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return {};
}

// The cgroup v2 path of `pid` ("/user.slice/.../x.scope"), or "".
std::string cgroup_of(pid_t pid) {
  std::istringstream in(read_small_file(fmt::format("/proc/{}/cgroup", pid)));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  }
  return {};
}

// Runs argv, waits; its output is discarded, its first line of errors kept.
bool run_quietly(const std::vector<std::string>& argv, std::string& error) {
  int errors[2];
  if (pipe2(errors, O_CLOEXEC) != 0) {
    error = std::strerror(errno);
    return false;
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(errors[1], STDERR_FILENO);
    execv(args[0], args.data());
    _exit(127);
  }
  close(errors[1]);
  std::string text;
  char buf[512];
  ssize_t n;
  while ((n = read(errors[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0 && text.size() < 4096) text.append(buf, static_cast<std::size_t>(n));
  }
  close(errors[0]);
  int status = 0;
  while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  text = text.substr(0, text.find('\n'));
  error = text.empty() ? fmt::format("`{}` failed", argv.front()) : text;
  return false;
}

std::string describe_one(const AppliedLimit& l) {
  const std::string value = sema::format_limit_value(l.kind, l.value);
  std::string how;
  switch (l.how) {
    case Enforcement::Cgroup:
      how = l.kind == LimitKind::Memory ? "for the whole sandbox, cgroup v2 memory.max, no swap"
                                        : "for the whole sandbox (threads count), cgroup v2 pids.max";
      break;
    case Enforcement::Timer: how = "wall-clock, sbrun's timer: SIGTERM, then SIGKILL 5 s later, exit status 124"; break;
    case Enforcement::Rlimit:
      switch (l.kind) {
        case LimitKind::Memory: how = "per process, RLIMIT_DATA (an allocation past it fails)"; break;
        case LimitKind::Processes:
          how = l.per_process ? "RLIMIT_NPROC, counted with every process of the user (macOS)"
                              : "for the whole sandbox (threads count), RLIMIT_NPROC in its own user namespace";
          break;
        case LimitKind::CpuTime: how = "per process, RLIMIT_CPU (SIGXCPU, SIGKILL a second later)"; break;
        case LimitKind::FileSize: how = "per file written, RLIMIT_FSIZE (SIGXFSZ)"; break;
        case LimitKind::OpenFiles: how = "per process, RLIMIT_NOFILE"; break;
        case LimitKind::WallTime: break;
      }
      break;
  }
  return fmt::format("{} {} ({}): {}", sema::limit_name(l.kind), value, l.from, how);
}

}  // namespace

bool parse_limit_override(const std::string& text, LimitOverride& out, std::string& error) {
  const std::size_t eq = text.find('=');
  const std::string name = text.substr(0, eq);
  const auto kind = sema::limit_kind_named(name);
  if (!kind) {
    error = fmt::format("`--limit {}`: unknown limit `{}`; the limits are memory, processes, cpu_time, wall_time, "
                        "file_size and open_files",
                        text, name);
    return false;
  }
  if (eq == std::string::npos) {
    error = fmt::format("`--limit {}`: give a value, as in `--limit {}=...` (or `={}` to lift the policy's)", text,
                        name, "none");
    return false;
  }
  const std::string value = text.substr(eq + 1);
  out.kind = *kind;
  if (value == "none") {
    out.value.reset();
    return true;
  }
  auto parsed = sema::parse_limit_value(*kind, value);
  if (const auto* e = std::get_if<sema::LimitValueError>(&parsed)) {
    error = fmt::format("`--limit {}`: {}; {}", text, e->message, e->help);
    return false;
  }
  out.value = std::get<std::uint64_t>(parsed);
  return true;
}

CgroupSupport CgroupSupport::detect() {
  CgroupSupport s;
  struct statfs fs {};
  if (statfs(kCgroupRoot, &fs) != 0 || fs.f_type != kCgroup2Magic) {
    s.why_not = "this system does not run the unified cgroup v2 hierarchy";
    return s;
  }
  const std::string controllers = read_small_file(std::string(kCgroupRoot) + "/cgroup.controllers");
  if (!has_word(controllers, "memory") || !has_word(controllers, "pids")) {
    s.why_not = "cgroup v2 has no memory and pids controllers here";
    return s;
  }
  struct stat st {};
  if (stat("/run/systemd/system", &st) != 0 || busctl_path().empty()) {
    s.why_not = "systemd (and its busctl) does not manage this system, so no transient scope can be made";
    return s;
  }
  s.user_manager = geteuid() != 0;
  if (s.user_manager) {
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    const std::string bus = fmt::format("{}/bus", runtime != nullptr ? runtime : fmt::format("/run/user/{}", getuid()));
    if (stat(bus.c_str(), &st) != 0) {
      s.why_not = fmt::format("no user systemd bus at {}", bus);
      return s;
    }
  }
  s.available = true;
  return s;
}

Limits::Limits(const ir::Policy& policy, const std::vector<LimitOverride>& overrides, const CgroupSupport& cgroup)
    : cgroup_(cgroup) {
  for (const LimitKind kind : sema::kLimitKinds) {
    std::optional<AppliedLimit> limit;
    if (const ir::Limit* l = ir::find_limit(policy, kind)) {
      limit = AppliedLimit{kind, l->value, l->origin.statement.text(), Enforcement::Rlimit, false};
    }
    for (const LimitOverride& o : overrides) {
      if (o.kind != kind) continue;
      if (o.value) limit = AppliedLimit{kind, *o.value, "--limit", Enforcement::Rlimit, false};
      else limit.reset();
    }
    if (!limit) continue;
    switch (kind) {
      case LimitKind::WallTime: limit->how = Enforcement::Timer; break;
      case LimitKind::Memory:
        limit->how = cgroup.available ? Enforcement::Cgroup : Enforcement::Rlimit;
        limit->per_process = !cgroup.available;
        break;
      case LimitKind::Processes:
        limit->how = cgroup.available ? Enforcement::Cgroup : Enforcement::Rlimit;
        limit->per_process = cgroup.user_wide_processes;  // not the sandbox's alone: W0106
        break;
      case LimitKind::CpuTime:
      case LimitKind::OpenFiles: limit->per_process = true; break;
      case LimitKind::FileSize: break;  // a file's size is per file whatever enforces it
    }
    applied_.push_back(std::move(*limit));
  }
}

const AppliedLimit* Limits::find(LimitKind kind) const {
  for (const AppliedLimit& l : applied_) {
    if (l.kind == kind) return &l;
  }
  return nullptr;
}

bool Limits::wants_cgroup() const {
  return std::any_of(applied_.begin(), applied_.end(), [](const AppliedLimit& l) { return l.how == Enforcement::Cgroup; });
}

std::vector<std::string> scope_command(const std::string& unit, const std::vector<pid_t>& pids,
                                       const std::vector<AppliedLimit>& limits, bool user_manager) {
  std::vector<std::string> argv = {busctl_path().empty() ? "/usr/bin/busctl" : busctl_path()};
  if (user_manager) argv.push_back("--user");
  argv.insert(argv.end(), {"call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                           "org.freedesktop.systemd1.Manager", "StartTransientUnit", "ssa(sv)a(sa(sv))", unit, "fail"});
  std::vector<std::string> properties;
  std::size_t count = 0;
  const auto property = [&](std::initializer_list<std::string> words) {
    properties.insert(properties.end(), words);
    ++count;
  };
  std::vector<std::string> pid_words = {"PIDs", "au", std::to_string(pids.size())};
  for (pid_t p : pids) pid_words.push_back(std::to_string(p));
  properties.insert(properties.end(), pid_words.begin(), pid_words.end());
  ++count;
  for (const AppliedLimit& l : limits) {
    if (l.how != Enforcement::Cgroup) continue;
    if (l.kind == LimitKind::Memory) {
      property({"MemoryMax", "t", std::to_string(l.value)});
      property({"MemorySwapMax", "t", "0"});
    } else if (l.kind == LimitKind::Processes) {
      // bubblewrap and the init are tasks of the scope too: the command
      // gets the value.
      property({"TasksMax", "t", std::to_string(l.value + 2)});
    }
  }
  property({"CollectMode", "s", "inactive-or-failed"});
  argv.push_back(std::to_string(count));
  argv.insert(argv.end(), properties.begin(), properties.end());
  argv.push_back("0");  // no auxiliary units
  return argv;
}

void Limits::enter_scope(const std::vector<pid_t>& pids, std::string& note) {
  if (!wants_cgroup() || pids.empty()) return;
  const std::string unit = fmt::format("sbrun-{}-{}.scope", getpid(), pids.back());
  std::string error;
  bool entered = run_quietly(scope_command(unit, pids, applied_, cgroup_.user_manager), error);
  // systemd moves the processes as the scope's job runs: wait for it (the
  // command does not exist yet, so nothing escapes meanwhile).
  std::string path;
  for (int i = 0; entered && i < 200; ++i) {
    path = cgroup_of(pids.back());
    if (path.size() >= unit.size() + 1 && path.compare(path.size() - unit.size() - 1, std::string::npos, "/" + unit) == 0) {
      break;
    }
    path.clear();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (entered && path.empty()) {
    entered = false;
    error = "the sandbox did not move into it within a second";
  }
  const std::string dir = std::string(kCgroupRoot) + path;
  for (AppliedLimit& l : applied_) {
    if (l.how != Enforcement::Cgroup) continue;
    const char* file = l.kind == LimitKind::Memory ? "/memory.max" : "/pids.max";
    if (entered && access((dir + file).c_str(), F_OK) == 0) continue;
    l.how = Enforcement::Rlimit;
    l.per_process = l.kind == LimitKind::Memory;
    if (note.empty()) {
      note = entered ? fmt::format("the transient scope {} has no {} control; rlimits instead", unit, file + 1)
                     : fmt::format("cannot make a transient scope ({}); rlimits instead", error);
    }
  }
  if (entered) scope_dir_ = dir;
}

std::vector<CommandRlimit> Limits::command_rlimits() const {
  std::vector<CommandRlimit> out;
  for (const AppliedLimit& l : applied_) {
    if (l.how != Enforcement::Rlimit) continue;
    switch (l.kind) {
      case LimitKind::Memory: out.push_back({RLIMIT_DATA, l.value, l.value}); break;
      // The init is one of the user namespace's processes: the command
      // gets the value. On macOS (no init, no namespace) the user's count.
      case LimitKind::Processes: {
        const std::uint64_t n = cgroup_.user_wide_processes ? l.value : l.value + 1;
        out.push_back({RLIMIT_NPROC, n, n});
        break;
      }
      // SIGXCPU at the limit, SIGKILL a second later if it is ignored.
      case LimitKind::CpuTime: out.push_back({RLIMIT_CPU, l.value, l.value + 1}); break;
      case LimitKind::FileSize: out.push_back({RLIMIT_FSIZE, l.value, l.value}); break;
      case LimitKind::OpenFiles: out.push_back({RLIMIT_NOFILE, l.value, l.value}); break;
      case LimitKind::WallTime: break;
    }
  }
  return out;
}

std::vector<std::string> Limits::describe() const {
  std::vector<std::string> out;
  for (const AppliedLimit& l : applied_) out.push_back(describe_one(l));
  if (wants_cgroup() && !scope_dir_.empty()) out.push_back(fmt::format("the sandbox's cgroup: {}", scope_dir_));
  return out;
}

std::vector<std::string> Limits::per_process_notes() const {
  std::vector<std::string> out;
  for (const AppliedLimit& l : applied_) {
    if (!l.per_process) continue;
    std::string why;
    if (l.kind == LimitKind::Memory) {
      why = fmt::format("{} (cgroup v2 would bound the whole sandbox)", cgroup_.why_not.empty()
                                                                             ? "no cgroup v2 scope could be made"
                                                                             : cgroup_.why_not);
    } else if (l.kind == LimitKind::Processes) {
      why = "RLIMIT_NPROC counts every process of the user here, the sandbox's and the others (stricter)";
    } else {
      why = "no cgroup control counts it for a whole process tree";
    }
    out.push_back(fmt::format("{} {} ({}) is enforced per process here, not for the whole sandbox: {}",
                              sema::limit_name(l.kind), sema::format_limit_value(l.kind, l.value), l.from, why));
  }
  return out;
}

std::string Limits::outcome(int code) const {
  if (code == 0) return {};
  const auto value = [](const AppliedLimit& l) { return sema::format_limit_value(l.kind, l.value); };
  if (const AppliedLimit* cpu = find(LimitKind::CpuTime)) {
    if (code == 128 + SIGXCPU) {
      return fmt::format("sbrun: the command used up its CPU time limit of {} ({}) and was stopped (SIGXCPU)\n",
                         value(*cpu), cpu->from);
    }
  }
  if (const AppliedLimit* size = find(LimitKind::FileSize)) {
    if (code == 128 + SIGXFSZ) {
      return fmt::format("sbrun: the command wrote past its file size limit of {} ({}) and was stopped (SIGXFSZ)\n",
                         value(*size), size->from);
    }
  }
  if (code == 128 + SIGKILL) {
    const AppliedLimit* memory = find(LimitKind::Memory);
    if (memory != nullptr && memory->how == Enforcement::Cgroup) {
      return fmt::format("sbrun: the command was killed (SIGKILL), as the kernel ends a process of a sandbox that goes "
                         "past its memory limit of {} ({})\n",
                         value(*memory), memory->from);
    }
    if (const AppliedLimit* cpu = find(LimitKind::CpuTime)) {
      return fmt::format("sbrun: the command was killed (SIGKILL); it ran under a CPU time limit of {} per process "
                         "({}), which ends one that ignores SIGXCPU\n",
                         value(*cpu), cpu->from);
    }
  }
  // Limits that make a call fail (fork, malloc, open) rather than stop the
  // command: what it met is in its own messages; say what it ran under.
  std::string silent;
  for (const AppliedLimit& l : applied_) {
    const bool fails_calls = l.kind == LimitKind::Processes || l.kind == LimitKind::OpenFiles ||
                             (l.kind == LimitKind::Memory && l.how == Enforcement::Rlimit);
    if (!fails_calls) continue;
    silent += fmt::format("{}{} {}{} ({})", silent.empty() ? "" : ", ", sema::limit_name(l.kind), value(l),
                          l.per_process ? " per process" : "", l.from);
  }
  if (silent.empty()) return {};
  return fmt::format("sbrun: the command exited with status {}; it ran under limits that make a call fail (fork: "
                     "EAGAIN, allocation: ENOMEM, open: EMFILE) rather than stop it: {}\n",
                     code, silent);
}

}  // namespace sbpolicy::runtime
