// The escape tests' harness (tests/runtime/escape_test.cpp,
// tests/runtime/hardening_test.cpp): a fresh fake environment per case (a
// home with canary secrets, a workspace with `.env` and `.git`), sbrun run on
// a `use std.agent;` policy with a hostile command (mostly
// tests/runtime/probe.cpp, `sbrun_probe`), and checks from both sides: what
// the probe reports inside, and what changed on the host.
//
// Every case runs twice (TEST_P over {root, user}): sbrun started as root
// (which runs the sandbox as the environment's owner, the unprivileged user
// `sbrun-test`: runtime/identity.hpp), and sbrun started as `sbrun-test`
// through `setpriv` (created with `useradd -m` when missing). Run as a
// non-root user, only the `user` half runs, as that user.
//
// After every sbrun run, whatever the case: no canary string in the command's
// stdout/stderr, no canary copied into another file of the environment, and no
// process whose command line names the environment's directory survives. At the
// end of every case the environment is compared with a snapshot taken before
// it: only the files a case names may appear or change (placeholders must be
// gone).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#ifndef SBRUN_PATH
#define SBRUN_PATH "sbrun"
#endif
#ifndef PROBE_PATH
#define PROBE_PATH "sbrun_probe"
#endif

namespace sbtest {

inline std::string g_sbrun = SBRUN_PATH;
inline std::string g_probe = PROBE_PATH;
inline constexpr const char* kTestUser = "sbrun-test";

using Clock = std::chrono::steady_clock;

enum class Mode { Root, User };

inline void PrintTo(Mode m, std::ostream* os) { *os << (m == Mode::Root ? "root" : "user"); }

inline std::string random_hex(std::size_t bytes) {
  std::random_device rd;
  std::string out;
  static const char* hex = "0123456789abcdef";
  for (std::size_t i = 0; i < bytes; ++i) {
    const unsigned v = rd() & 0xff;
    out += hex[v >> 4];
    out += hex[v & 0xf];
  }
  return out;
}

inline std::string random_digits(std::size_t n) {
  std::random_device rd;
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += static_cast<char>('1' + rd() % 9);
  return out;
}

inline bool exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::string& path, const std::string& content, mode_t mode = 0644) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  ASSERT_GE(fd, 0) << path << ": " << std::strerror(errno);
  ASSERT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  close(fd);
}

inline void mkdirs(const std::string& path) {
  std::size_t at = 1;
  while (at <= path.size()) {
    const std::size_t slash = path.find('/', at);
    mkdir(path.substr(0, slash).c_str(), 0755);
    if (slash == std::string::npos) break;
    at = slash + 1;
  }
}

// Walks a tree without following symlinks; `fn(path, st)` for every entry below `root`, parents first.
template <typename F>
inline void walk(const std::string& root, F&& fn) {
  DIR* d = opendir(root.c_str());
  if (d == nullptr) return;
  std::vector<std::string> names;
  while (const dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.emplace_back(e->d_name);
  }
  closedir(d);
  for (const auto& n : names) {
    const std::string p = root + "/" + n;
    struct stat st {};
    if (lstat(p.c_str(), &st) != 0) continue;
    fn(p, st);
    if (S_ISDIR(st.st_mode)) walk(p, fn);
  }
}

inline void remove_tree(const std::string& root) {
  std::vector<std::pair<std::string, bool>> entries;
  walk(root, [&](const std::string& p, const struct stat& st) { entries.emplace_back(p, S_ISDIR(st.st_mode)); });
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (it->second) rmdir(it->first.c_str());
    else unlink(it->first.c_str());
  }
  rmdir(root.c_str());
}

inline void chown_tree(const std::string& root, uid_t uid, gid_t gid) {
  lchown(root.c_str(), uid, gid);
  walk(root, [&](const std::string& p, const struct stat&) { lchown(p.c_str(), uid, gid); });
}

// relative path -> description (type, mode, owner, content or link target).
using Snapshot = std::map<std::string, std::string>;

inline Snapshot snapshot(const std::string& root) {
  Snapshot s;
  walk(root, [&](const std::string& p, const struct stat& st) {
    std::string d;
    char mode[16];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    const std::string owner = " uid=" + std::to_string(st.st_uid);
    if (S_ISDIR(st.st_mode)) {
      d = std::string("dir ") + mode + owner;
    } else if (S_ISREG(st.st_mode)) {
      d = std::string("file ") + mode + owner + " nlink=" + std::to_string(st.st_nlink) + " content=" + read_file(p);
    } else if (S_ISLNK(st.st_mode)) {
      char target[4096] = {};
      const ssize_t n = readlink(p.c_str(), target, sizeof target - 1);
      d = "symlink -> " + std::string(target, n > 0 ? static_cast<std::size_t>(n) : 0);
    } else if (S_ISSOCK(st.st_mode)) {
      d = "socket";
    } else {
      d = "other";
    }
    s[p.substr(root.size())] = d;
  });
  return s;
}

// Differences between two snapshots, ignoring the relative paths in `allowed`
// (and anything below them).
inline std::vector<std::string> diff(const Snapshot& before, const Snapshot& after, const std::set<std::string>& allowed) {
  auto is_allowed = [&](const std::string& rel) {
    for (const auto& a : allowed) {
      if (rel == a || rel.rfind(a + "/", 0) == 0) return true;
    }
    return false;
  };
  std::vector<std::string> out;
  for (const auto& [p, d] : before) {
    if (is_allowed(p)) continue;
    auto it = after.find(p);
    if (it == after.end()) out.push_back("removed " + p + " (" + d.substr(0, 80) + ")");
    else if (it->second != d) out.push_back("changed " + p + ": " + d.substr(0, 120) + " => " + it->second.substr(0, 120));
  }
  for (const auto& [p, d] : after) {
    if (!is_allowed(p) && before.count(p) == 0) out.push_back("new " + p + " (" + d.substr(0, 80) + ")");
  }
  return out;
}

struct ProcessInfo {
  pid_t pid;
  std::string cmdline;
};

// Every process (other than this one) whose command line contains `needle`.
inline std::vector<ProcessInfo> processes_matching(const std::string& needle) {
  std::vector<ProcessInfo> out;
  DIR* d = opendir("/proc");
  if (d == nullptr) return out;
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::atol(name.c_str()));
    if (pid == getpid()) continue;
    std::string cmd = read_file("/proc/" + name + "/cmdline");
    if (cmd.empty()) continue;  // a kernel thread, or a zombie
    for (char& c : cmd) {
      if (c == '\0') c = ' ';
    }
    if (cmd.find(needle) != std::string::npos) out.push_back({pid, cmd});
  }
  closedir(d);
  return out;
}

// Processes whose command line starts with `prefix` (the program itself, not a parent naming it).
inline std::vector<ProcessInfo> processes_starting(const std::string& prefix) {
  std::vector<ProcessInfo> out;
  for (auto& p : processes_matching(prefix)) {
    if (p.cmdline.rfind(prefix, 0) == 0) out.push_back(p);
  }
  return out;
}

// Waits until no process matches `needle`, at most `timeout`; returns the survivors.
inline std::vector<ProcessInfo> wait_no_processes(const std::string& needle, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto left = processes_matching(needle);
    if (left.empty() || Clock::now() >= deadline) return left;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

struct Spawn {
  std::vector<std::string> argv;
  std::vector<std::string> env;
  int stdin_fd = -1;                          // -1: /dev/null
  std::vector<std::pair<int, int>> pass_fds;  // (fd here, fd in the child)
  bool capture = true;                        // false: stdout and stderr go to /dev/null
  bool stdin_is_ctty = false;                 // new session, stdin its controlling terminal
};

struct Result {
  int status = -1;  // exit code, 128+N for signal N, -1 not finished
  std::string out;
  std::string err;
  bool timed_out = false;
};

inline pid_t start_process(const Spawn& s, int* out_fd, int* err_fd) {
  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  if (s.capture) {
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) return -1;
  }
  std::vector<char*> argv, envp;
  for (const auto& a : s.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : s.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    const int devnull = open("/dev/null", O_RDWR);
    const int in = s.stdin_fd >= 0 ? s.stdin_fd : devnull;
    const int out = s.capture ? out_pipe[1] : devnull;
    const int err = s.capture ? err_pipe[1] : devnull;
    // Everything to high numbers first, so no dup2 overwrites another source.
    std::vector<std::pair<int, int>> moves = {{in, 0}, {out, 1}, {err, 2}};
    for (const auto& p : s.pass_fds) moves.push_back(p);
    std::vector<int> high;
    for (const auto& [from, to] : moves) high.push_back(fcntl(from, F_DUPFD_CLOEXEC, 200));
    int max_target = 2;
    for (std::size_t i = 0; i < moves.size(); ++i) {
      if (high[i] < 0 || dup2(high[i], moves[i].second) < 0) _exit(126);
      max_target = std::max(max_target, moves[i].second);
    }
    syscall(SYS_close_range, static_cast<unsigned>(max_target + 1), ~0u, 0u);
    if (s.stdin_is_ctty && (setsid() < 0 || ioctl(0, TIOCSCTTY, 0) != 0)) _exit(126);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  if (s.capture) {
    close(out_pipe[1]);
    close(err_pipe[1]);
    *out_fd = out_pipe[0];
    *err_fd = err_pipe[0];
  }
  return pid;
}

inline int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

inline Result run_process(const Spawn& s, std::chrono::milliseconds timeout) {
  Result r;
  int out_fd = -1, err_fd = -1;
  const pid_t pid = start_process(s, &out_fd, &err_fd);
  if (pid < 0) {
    r.err = std::string("cannot start: ") + std::strerror(errno);
    return r;
  }
  const auto deadline = Clock::now() + timeout;
  bool exited = false;
  int status = 0;
  // Read until both pipes close (sbrun's janitor holds stderr until sbrun dismisses
  // it), the process is reaped, or the deadline passes.
  while (true) {
    if (!exited && waitpid(pid, &status, WNOHANG) == pid) exited = true;
    if (exited && out_fd < 0 && err_fd < 0) break;
    const auto now = Clock::now();
    if (now >= deadline) {
      if (!exited) {
        r.timed_out = true;
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        exited = true;
      }
      break;
    }
    pollfd fds[2];
    int n = 0;
    if (out_fd >= 0) fds[n++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) fds[n++] = {err_fd, POLLIN, 0};
    if (n == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    const int ms = static_cast<int>(std::min<long>(
        50, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1));
    if (poll(fds, static_cast<nfds_t>(n), ms) <= 0) continue;
    for (int i = 0; i < n; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      char buf[8192];
      const ssize_t got = read(fds[i].fd, buf, sizeof buf);
      std::string& sink = fds[i].fd == out_fd ? r.out : r.err;
      if (got > 0) {
        sink.append(buf, static_cast<std::size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        if (fds[i].fd == out_fd) {
          close(out_fd);
          out_fd = -1;
        } else {
          close(err_fd);
          err_fd = -1;
        }
      }
    }
  }
  if (out_fd >= 0) close(out_fd);
  if (err_fd >= 0) close(err_fd);
  r.status = exited ? decode_status(status) : -1;
  return r;
}

// The lines `LABEL RESULT` printed by a probe script, as a map.
inline std::map<std::string, std::string> parse_labels(const std::string& out) {
  std::map<std::string, std::string> m;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("@@", 0) != 0) continue;
    const auto sp = line.find(' ');
    m[line.substr(2, sp == std::string::npos ? std::string::npos : sp - 2)] =
        sp == std::string::npos ? "" : line.substr(sp + 1);
  }
  return m;
}

struct ProbeCall {
  std::string label;
  std::vector<std::string> args;
};

// A unix socket on the host: listening stream (path or `@abstract`) or bound datagram.
struct HostSocket {
  int fd = -1;
  std::string path;  // empty for abstract
  ~HostSocket() {
    if (fd >= 0) close(fd);
    if (!path.empty()) unlink(path.c_str());
  }
  // Whether anything connected (stream) or arrived (datagram); non-blocking.
  bool touched(int type) const {
    if (type == SOCK_STREAM) {
      const int c = accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (c >= 0) {
        close(c);
        return true;
      }
      return false;
    }
    char buf[64];
    return recv(fd, buf, sizeof buf, MSG_DONTWAIT) >= 0;
  }
};

inline std::unique_ptr<HostSocket> host_socket(const std::string& spec, int type) {
  auto s = std::make_unique<HostSocket>();
  s->fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s->fd < 0) return nullptr;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  socklen_t len;
  if (spec[0] == '@') {
    std::memcpy(addr.sun_path + 1, spec.data() + 1, spec.size() - 1);
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + spec.size());
  } else {
    std::memcpy(addr.sun_path, spec.data(), spec.size());
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + spec.size() + 1);
    s->path = spec;
    unlink(spec.c_str());
  }
  if (bind(s->fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) return nullptr;
  if (type == SOCK_STREAM && listen(s->fd, 8) != 0) return nullptr;
  if (!s->path.empty()) chmod(s->path.c_str(), 0777);
  return s;
}

// The unprivileged user, created once when running as root.
inline bool ensure_test_user(uid_t& uid, gid_t& gid, std::string& error) {
  static bool tried = false;
  if (getpwnam(kTestUser) == nullptr && !tried) {
    tried = true;
    const std::string cmd = std::string("useradd -m ") + kTestUser + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0 && getpwnam(kTestUser) == nullptr) {
      error = "useradd -m sbrun-test failed";
      return false;
    }
  }
  const passwd* pw = getpwnam(kTestUser);
  if (pw == nullptr) {
    error = "no user sbrun-test";
    return false;
  }
  uid = pw->pw_uid;
  gid = pw->pw_gid;
  return true;
}

const char* const kCanaryFiles[][2] = {
    {"home/.ssh/id_ed25519", "ssh-key"},
    {"home/.aws/credentials", "aws"},
    {"home/.config/gh/hosts.yml", "gh"},
    {"home/.netrc", "netrc"},
    {"home/.docker/config.json", "docker"},
    {"home/.kube/config", "kube"},
    {"home/.git-credentials", "git-credentials"},
    {"ws/.env", "dotenv"},
};

struct RunOptions {
  std::string policy;     // default: the case's policy file
  std::string workspace;  // default: the case's workspace
  int stdin_fd = -1;
  bool stdin_is_ctty = false;
  std::vector<std::pair<int, int>> pass_fds;
  std::vector<std::string> extra_args;  // sbrun options, before the policy
  std::chrono::milliseconds timeout{20000};
};

class Escape : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    if (geteuid() == 0) {
      // Both halves use the unprivileged user's environment: sbrun started
      // as root runs the sandbox as the workspace's owner, never as root.
      std::string error;
      if (!ensure_test_user(uid_, gid_, error)) GTEST_SKIP() << error;
      setpriv_ = GetParam() == Mode::User;
    } else {
      if (GetParam() == Mode::Root) GTEST_SKIP() << "not root: only the unprivileged run, as the current user";
      uid_ = geteuid();
      gid_ = getegid();
    }
    ASSERT_EQ(access(g_sbrun.c_str(), X_OK), 0) << "sbrun not found at " << g_sbrun << " (--sbrun=PATH)";
    ASSERT_EQ(access(g_probe.c_str(), X_OK), 0) << "sbrun_probe not found at " << g_probe << " (--probe=PATH)";

    char tmpl[] = "/tmp/sbrun-esc-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr) << std::strerror(errno);
    root_ = tmpl;
    chmod(root_.c_str(), 0755);
    tag_ = root_.substr(root_.rfind('-') + 1) + random_hex(4);
    canary_id_ = "SBRUN-CANARY-" + random_hex(16);
    home_ = root_ + "/home";
    ws_ = root_ + "/ws";
    token_ = canary_id_ + "-env-token";

    // The fake home: canaries, ordinary files, shell rc files.
    for (const auto& d : {"home/.ssh", "home/.aws", "home/.config/gh", "home/.docker", "home/.kube", "ws/.git/hooks",
                          "sibling"}) {
      mkdirs(root_ + "/" + d);
    }
    for (const auto& [rel, name] : kCanaryFiles) {
      canary_paths_.push_back(root_ + "/" + rel);
      write_file(root_ + "/" + rel, canary_id_ + "-" + name + "\n", 0600);
    }
    write_file(home_ + "/.ssh/known_hosts", "host.test ssh-ed25519 AAAA\n");
    write_file(home_ + "/.bashrc", "# the user's bashrc\n");
    write_file(home_ + "/notes.txt", "notes-" + tag_ + "\n");
    // The workspace: a git repository's protected files, ordinary files.
    write_file(ws_ + "/.git/config", "[core]\n\trepositoryformatversion = 0\n");
    write_file(ws_ + "/.git/HEAD", "ref: refs/heads/main\n");
    write_file(ws_ + "/.git/hooks/pre-push.sample", "#!/bin/sh\nexit 0\n", 0755);
    write_file(ws_ + "/README.md", "# project\n");
    write_file(root_ + "/sibling/file.txt", "sibling\n");
    set_policy("");
    chown_tree(root_, uid_, gid_);
    before_ = snapshot(root_);
  }

  void TearDown() override {
    for (pid_t p : host_children_) {
      kill(p, SIGKILL);
      waitpid(p, nullptr, 0);
    }
    if (!root_.empty()) {
      // Leftover sandbox processes would make the next case flaky: kill them after reporting.
      for (const auto& p : processes_matching(root_)) kill(p.pid, SIGKILL);
      if (!HasFatalFailure() && !IsSkipped()) {
        const auto changes = diff(before_, snapshot(root_), allowed_changes_);
        EXPECT_TRUE(changes.empty()) << "the host environment changed:\n  " << join(changes, "\n  ");
      }
      sockets_.clear();
      remove_tree(root_);
    }
    sockets_.clear();
    for (const auto& p : host_paths_to_remove_) unlink(p.c_str());
  }

  static std::string join(const std::vector<std::string>& v, const std::string& sep) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
    return out;
  }

  // The case's policy: std.agent, the probe, and `extra`.
  std::string policy_text(const std::string& extra) const {
    return "version 1;\nuse std.agent;\nallow read \"" + g_probe + "\";\n" + extra + "\n";
  }
  // std.base, the probe, and `rules`: not std.agent, whose own denials
  // would hide what a case shows.
  void set_base_policy(const std::string& rules) {
    write_file(policy_, "version 1;\nuse std.base;\nallow read \"" + g_probe + "\";\n" + rules + "\n");
  }
  void set_policy(const std::string& extra) {
    policy_ = root_ + "/policy.sbpolicy";
    write_file(policy_, policy_text(extra));
    lchown(policy_.c_str(), uid_, gid_);
  }
  // After a case changed the environment on purpose (before the run).
  void resnapshot() {
    chown_tree(root_, uid_, gid_);
    before_ = snapshot(root_);
  }
  // The same, keeping owners a case set on purpose.
  void resnapshot_keep_owners() { before_ = snapshot(root_); }
  void allow_change(const std::string& rel) { allowed_changes_.insert(rel); }

  std::vector<std::string> env() const {
    return {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + home_, "LANG=C.UTF-8", "USER=" + user_name(),
            "SBRUN_CANARY_TOKEN=" + token_, "TERM=dumb"};
  }
  std::string user_name() const {
    const passwd* pw = getpwuid(uid_);
    return pw != nullptr ? pw->pw_name : "nobody";
  }
  std::vector<std::string> as_user(std::vector<std::string> argv) const {
    if (!setpriv_) return argv;
    std::vector<std::string> out = {"/usr/bin/setpriv", std::string("--reuid=") + kTestUser,
                                    std::string("--regid=") + kTestUser, "--init-groups"};
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
  }

  // Starts sbrun running `sleep MARKER` in the background and waits until the
  // sleep runs in the sandbox. Returns sbrun's pid, or -1 (and kills it) when
  // the sleep never started.
  pid_t start_sandboxed_sleep(const std::string& marker) const {
    Spawn s = sbrun_spawn({"/bin/sleep", marker}, {});
    s.capture = false;
    const pid_t pid = start_process(s, nullptr, nullptr);
    if (pid <= 0) return -1;
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (processes_starting("/bin/sleep " + marker).empty()) {
      if (Clock::now() > deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pid;
  }

  Spawn sbrun_spawn(const std::vector<std::string>& command, const RunOptions& o) const {
    std::vector<std::string> argv = {g_sbrun, "--workspace", o.workspace.empty() ? ws_ : o.workspace};
    argv.insert(argv.end(), o.extra_args.begin(), o.extra_args.end());
    argv.insert(argv.end(), {o.policy.empty() ? policy_ : o.policy, "--"});
    argv.insert(argv.end(), command.begin(), command.end());
    Spawn s;
    s.argv = as_user(argv);
    s.env = env();
    s.stdin_fd = o.stdin_fd;
    s.stdin_is_ctty = o.stdin_is_ctty;
    s.pass_fds = o.pass_fds;
    return s;
  }

  // Runs sbrun, then the checks every run gets.
  Result sbrun(const std::vector<std::string>& command, const RunOptions& o = {}) {
    Result r = run_process(sbrun_spawn(command, o), o.timeout);
    EXPECT_FALSE(r.timed_out) << "sbrun did not finish in time";
    check_run(r);
    return r;
  }

  void check_run(const Result& r) {
    EXPECT_EQ(r.out.find(canary_id_), std::string::npos) << "a canary leaked to stdout:\n" << r.out;
    EXPECT_EQ(r.err.find(canary_id_), std::string::npos) << "a canary leaked to stderr:\n" << r.err;
    // No canary copied into another file of the environment.
    walk(root_, [&](const std::string& p, const struct stat& st) {
      if (!S_ISREG(st.st_mode) || p == policy_) return;
      if (std::find(canary_paths_.begin(), canary_paths_.end(), p) != canary_paths_.end()) return;
      EXPECT_EQ(read_file(p).find(canary_id_), std::string::npos) << "a canary was copied to " << p;
    });
    const auto left = wait_no_processes(root_, std::chrono::milliseconds(2000));
    for (const auto& p : left) ADD_FAILURE() << "process " << p.pid << " survived sbrun: " << p.cmdline;
  }

  // Runs the probe calls in one sandbox (a shell runs them one after the other);
  // returns label -> result line.
  std::map<std::string, std::string> probes(const std::vector<ProbeCall>& calls, Result* out = nullptr,
                                            const RunOptions& o = {}) {
    std::string script;
    for (const auto& c : calls) {
      std::string cmd = shell_quote(g_probe);
      for (const auto& a : c.args) cmd += " " + shell_quote(a);
      script += "printf '%s %s\\n' " + shell_quote("@@" + c.label) + " \"$(" + cmd + " 2>&1)\"\n";
    }
    Result r = sbrun({"/bin/sh", "-c", script}, o);
    EXPECT_EQ(r.status, 0) << "stdout:\n" << r.out << "\nstderr:\n" << r.err;
    auto m = parse_labels(r.out);
    for (const auto& c : calls) EXPECT_EQ(m.count(c.label), 1u) << "no result for " << c.label << ":\n" << r.out;
    if (out != nullptr) *out = r;
    return m;
  }

  // A single probe, run directly as the sandbox's command (no shell).
  Result probe(const std::vector<std::string>& args, const RunOptions& o = {}) {
    std::vector<std::string> cmd = {g_probe};
    cmd.insert(cmd.end(), args.begin(), args.end());
    return sbrun(cmd, o);
  }

  // A host process of the run's user: `sleep SECONDS.<digits>`, unique on the machine.
  pid_t host_sleep(std::string& marker) {
    marker = "1000." + random_digits(9);
    Spawn s;
    s.argv = as_user({"/bin/sleep", marker});
    s.env = env();
    s.capture = false;
    const pid_t pid = start_process(s, nullptr, nullptr);
    if (pid > 0) host_children_.push_back(pid);
    // Wait until it is sleep (setpriv has exec'd).
    const auto deadline = Clock::now() + std::chrono::seconds(3);
    while (Clock::now() < deadline && read_file("/proc/" + std::to_string(pid) + "/cmdline").find(marker) ==
                                          std::string::npos) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return pid;
  }

  bool alive(pid_t pid) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return false;
    const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    const auto close_paren = stat.rfind(')');
    return close_paren != std::string::npos && close_paren + 2 < stat.size() && stat[close_paren + 2] != 'Z';
  }

  HostSocket* listen_on(const std::string& spec, int type = SOCK_STREAM) {
    auto s = host_socket(spec, type);
    EXPECT_NE(s, nullptr) << "cannot listen on " << spec << ": " << std::strerror(errno);
    if (!s) return nullptr;
    if (!s->path.empty()) lchown(s->path.c_str(), uid_, gid_);
    sockets_.push_back(std::move(s));
    return sockets_.back().get();
  }

  std::string rel(const std::string& abs) const { return abs.substr(root_.size()); }

  Mode mode() const { return GetParam(); }

  std::string root_, home_, ws_, policy_, tag_, canary_id_, token_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  bool setpriv_ = false;
  Snapshot before_;
  std::set<std::string> allowed_changes_;
  std::vector<std::string> canary_paths_;
  std::vector<pid_t> host_children_;
  std::vector<std::unique_ptr<HostSocket>> sockets_;
  std::vector<std::string> host_paths_to_remove_;
};

// `errno NAME` (any name): the operation failed.
// Test names for the two modes: `.../root`, `.../user`.
inline std::string mode_name(const ::testing::TestParamInfo<Mode>& info) {
  return info.param == Mode::Root ? "root" : "user";
}

// The runtime test programs' main: gtest's options, then --sbrun=PATH and
// --probe=PATH to run other builds.
inline int run_all_tests(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--sbrun=", 0) == 0)
      g_sbrun = a.substr(8);
    else if (a.rfind("--probe=", 0) == 0)
      g_probe = a.substr(8);
  }
  return RUN_ALL_TESTS();
}

#define EXPECT_ERRNO(results, label)                                                               \
  EXPECT_EQ((results)[label].rfind("errno ", 0), 0u) << (label) << " should fail, got `" << (results)[label] << "`"
#define EXPECT_RESULT(results, label, expected) \
  EXPECT_EQ((results)[label], expected) << "for " << (label)
#define EXPECT_BLOCKED(results, label)                                                              \
  EXPECT_EQ((results)[label].rfind("blocked", 0), 0u) << (label) << " should be blocked, got `" << (results)[label] << "`"

}  // namespace sbtest
