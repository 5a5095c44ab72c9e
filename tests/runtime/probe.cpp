// sbrun_probe: one escape attempt per invocation, run INSIDE an sbrun sandbox by
// tests/runtime/escape_test.cpp. Plain libc/libstdc++, nothing of the project.
//
//   sbrun_probe ATTACK [ARGS...]
//
// prints exactly one result line on stdout:
//   kernel attacks:  `blocked ERRNO` (the call failed) or `allowed` (it worked),
//                    sometimes `allowed <detail>`;
//   file operations: `ok` or `errno NAME` (`read` prints `ok <content>` with
//                    newlines escaped, so a leaked secret shows in the output);
//   listings:        `pids N: ...`, `fds N: ...`.
// Exit status 0 unless the probe itself was misused (2). The `x32` and `i386`
// attacks are expected to kill the process (SIGSYS); if they return, they print
// what happened.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <cstring>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif

namespace {

std::string errname(int e) {
  const char* n = strerrorname_np(e);
  return n != nullptr ? n : "E" + std::to_string(e);
}

int result_blocked_or_allowed(long rc, const std::string& detail = "") {
  if (rc < 0) {
    std::printf("blocked %s\n", errname(errno).c_str());
  } else {
    std::printf("allowed%s%s\n", detail.empty() ? "" : " ", detail.c_str());
  }
  return 0;
}

int result_ok_or_errno(long rc) {
  if (rc < 0) {
    std::printf("errno %s\n", errname(errno).c_str());
  } else {
    std::printf("ok\n");
  }
  return 0;
}

// One line: control characters escaped, so the result stays a single line.
std::string one_line(const std::string& s, std::size_t max = 4096) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\n') out += "\\n";
    else if (c == '\0') out += "\\0";
    else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else out += static_cast<char>(c);
  }
  return out;
}

bool slurp(const std::string& path, std::string& out, int& err) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    err = errno;
    return false;
  }
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = errno;
      close(fd);
      return false;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > (1u << 20)) break;
  }
  close(fd);
  return true;
}

// --- file operations ---------------------------------------------------------------

int op_read(const std::vector<std::string>& a) {
  std::string content;
  int err = 0;
  if (!slurp(a.at(0), content, err)) {
    std::printf("errno %s\n", errname(err).c_str());
  } else {
    std::printf("ok %s\n", one_line(content).c_str());
  }
  return 0;
}

// Reads at most N bytes (devices like /dev/zero never end): `ok COUNT`.
int op_read_bytes(const std::vector<std::string>& a) {
  const int fd = open(a.at(0).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return result_ok_or_errno(-1);
  std::string buf(static_cast<std::size_t>(std::atoi(a.at(1).c_str())), '\0');
  const ssize_t n = read(fd, buf.data(), buf.size());
  const int e = errno;
  close(fd);
  if (n < 0) {
    errno = e;
    return result_ok_or_errno(-1);
  }
  std::printf("ok %zd\n", n);
  return 0;
}

int op_write(const std::vector<std::string>& a) {
  // Opens an existing file (or creates one) for writing and appends a line.
  const int fd = open(a.at(0).c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return result_ok_or_errno(-1);
  const std::string line = "sbrun-probe was here\n";
  const ssize_t n = write(fd, line.data(), line.size());
  const int e = errno;
  close(fd);
  errno = e;
  return result_ok_or_errno(n < 0 ? -1 : 0);
}

int op_create(const std::vector<std::string>& a) {
  const int fd = open(a.at(0).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd >= 0) {
    (void)!write(fd, "x\n", 2);
    close(fd);
  }
  return result_ok_or_errno(fd);
}

int op_mkdir(const std::vector<std::string>& a) { return result_ok_or_errno(mkdir(a.at(0).c_str(), 0755)); }
int op_rename(const std::vector<std::string>& a) { return result_ok_or_errno(rename(a.at(0).c_str(), a.at(1).c_str())); }
int op_unlink(const std::vector<std::string>& a) { return result_ok_or_errno(unlink(a.at(0).c_str())); }
int op_rmdir(const std::vector<std::string>& a) { return result_ok_or_errno(rmdir(a.at(0).c_str())); }
int op_symlink(const std::vector<std::string>& a) { return result_ok_or_errno(symlink(a.at(0).c_str(), a.at(1).c_str())); }
int op_hardlink(const std::vector<std::string>& a) { return result_ok_or_errno(link(a.at(0).c_str(), a.at(1).c_str())); }

int op_ls(const std::vector<std::string>& a) {
  DIR* d = opendir(a.at(0).c_str());
  if (d == nullptr) return result_ok_or_errno(-1);
  std::string names;
  while (const dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names += " ";
    names += e->d_name;
  }
  closedir(d);
  std::printf("ok%s\n", one_line(names).c_str());
  return 0;
}

extern "C" char** environ;

int op_env(const std::vector<std::string>&) {
  std::string all;
  for (char** e = environ; *e != nullptr; ++e) {
    all += *e;
    all += '\n';
  }
  std::printf("ok %s\n", one_line(all).c_str());
  return 0;
}

// The names of the environment's variables (values can hold anything).
int op_env_names(const std::vector<std::string>&) {
  std::string names;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    names += " " + kv.substr(0, kv.find('='));
  }
  std::printf("ok%s\n", names.c_str());
  return 0;
}

// --- namespaces, mounts --------------------------------------------------------------

int op_io_uring(const std::vector<std::string>&) {
  io_uring_params p{};
  const long fd = syscall(SYS_io_uring_setup, 8, &p);
  return result_blocked_or_allowed(fd);
}

int op_unshare_user(const std::vector<std::string>&) { return result_blocked_or_allowed(unshare(CLONE_NEWUSER)); }
int op_unshare_ns(const std::vector<std::string>&) { return result_blocked_or_allowed(unshare(CLONE_NEWNS)); }

int op_clone_newuser(const std::vector<std::string>&) {
  // Raw clone (x86_64 order: flags, stack, parent_tid, child_tid, tls).
  const long pid = syscall(SYS_clone, static_cast<unsigned long>(CLONE_NEWUSER | SIGCHLD), nullptr, nullptr,
                           nullptr, nullptr);
  if (pid == 0) _exit(0);
  if (pid > 0) waitpid(static_cast<pid_t>(pid), nullptr, 0);
  return result_blocked_or_allowed(pid);
}

int op_clone3(const std::vector<std::string>&) {
  clone_args args{};
  args.flags = CLONE_NEWUSER;
  args.exit_signal = SIGCHLD;
  const long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) _exit(0);
  if (pid > 0) waitpid(static_cast<pid_t>(pid), nullptr, 0);
  return result_blocked_or_allowed(pid);
}

int op_mount(const std::vector<std::string>&) {
  return result_blocked_or_allowed(mount("none", "/tmp", "tmpfs", 0, nullptr));
}

int op_open_tree(const std::vector<std::string>&) {
  return result_blocked_or_allowed(syscall(SYS_open_tree, AT_FDCWD, "/", OPEN_TREE_CLONE));
}

int op_fsopen(const std::vector<std::string>&) { return result_blocked_or_allowed(syscall(SYS_fsopen, "tmpfs", 0)); }

// --- other processes --------------------------------------------------------------------

int op_ptrace(const std::vector<std::string>& a) {
  const pid_t pid = a.empty() ? 1 : static_cast<pid_t>(std::atol(a[0].c_str()));
  const long rc = ptrace(PTRACE_ATTACH, pid, nullptr, nullptr);
  if (rc == 0) ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
  return result_blocked_or_allowed(rc);
}

int op_process_vm_readv(const std::vector<std::string>&) {
  // Our own memory: without a filter this always works, so `blocked` means seccomp.
  static char secret[16] = "probe-memory";
  char copy[16] = {};
  iovec local{copy, sizeof copy};
  iovec remote{secret, sizeof secret};
  const long n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
  return result_blocked_or_allowed(n);
}

int op_proc_mem(const std::vector<std::string>& a) {
  // Open another process's memory for writing (the init is not under the filter).
  const std::string pid = a.empty() ? "1" : a[0];
  const int fd = open(("/proc/" + pid + "/mem").c_str(), O_RDWR | O_CLOEXEC);
  if (fd >= 0) close(fd);
  return result_blocked_or_allowed(fd);
}

// FS-22: the init (PID 1) runs without the seccomp filter. If its memory is
// writable from the command, code written at the instruction after its blocking
// syscall runs unfiltered as soon as it wakes up (when this probe exits and the
// init gets SIGCHLD). The injected code creates an AF_UNIX socket, which the
// filter forbids the command, and makes the init exit 77 if that worked (78 if
// not): sbrun's exit status then shows the escape.
int op_inject_init(const std::vector<std::string>&) {
  std::string sys;
  int err = 0;
  if (!slurp("/proc/1/syscall", sys, err)) {
    errno = err;
    return result_blocked_or_allowed(-1);
  }
  const auto last = sys.find_last_of(' ');
  if (last == std::string::npos) {
    std::printf("blocked (init not in a syscall: %s)\n", one_line(sys).c_str());
    return 0;
  }
  const unsigned long pc = std::strtoul(sys.c_str() + last + 1, nullptr, 16);
  static const unsigned char code[] = {
      0xbf, 0x01, 0x00, 0x00, 0x00,  // mov edi, AF_UNIX
      0xbe, 0x01, 0x00, 0x00, 0x00,  // mov esi, SOCK_STREAM
      0x31, 0xd2,                    // xor edx, edx
      0xb8, 0x29, 0x00, 0x00, 0x00,  // mov eax, SYS_socket
      0x0f, 0x05,                    // syscall
      0x85, 0xc0,                    // test eax, eax
      0x78, 0x07,                    // js fail
      0xbf, 0x4d, 0x00, 0x00, 0x00,  // mov edi, 77
      0xeb, 0x05,                    // jmp out
      0xbf, 0x4e, 0x00, 0x00, 0x00,  // fail: mov edi, 78
      0xb8, 0xe7, 0x00, 0x00, 0x00,  // out: mov eax, SYS_exit_group
      0x0f, 0x05,                    // syscall
  };
  const int fd = open("/proc/1/mem", O_RDWR | O_CLOEXEC);
  if (fd < 0) return result_blocked_or_allowed(-1);
  const ssize_t n = pwrite(fd, code, sizeof code, static_cast<off_t>(pc));
  close(fd);
  if (n != static_cast<ssize_t>(sizeof code)) return result_blocked_or_allowed(-1);
  char detail[64];
  std::snprintf(detail, sizeof detail, "injected at 0x%lx", pc);
  return result_blocked_or_allowed(0, detail);
}

int op_pidfd_getfd(const std::vector<std::string>& a) {
  const pid_t pid = a.empty() ? 1 : static_cast<pid_t>(std::atol(a[0].c_str()));
  const int target = a.size() > 1 ? std::atoi(a[1].c_str()) : 0;
  const long pfd = syscall(SYS_pidfd_open, pid, 0);
  if (pfd < 0) return result_blocked_or_allowed(-1);
  const long fd = syscall(SYS_pidfd_getfd, static_cast<int>(pfd), target, 0);
  return result_blocked_or_allowed(fd);
}

int op_kill(const std::vector<std::string>& a) {
  const pid_t pid = static_cast<pid_t>(std::atol(a.at(0).c_str()));
  return result_ok_or_errno(kill(pid, SIGKILL));
}

int op_kill_all(const std::vector<std::string>&) { return result_ok_or_errno(kill(-1, SIGKILL)); }

// Every process visible in /proc with its cmdline and environment (what can be read).
int op_proc_scan(const std::vector<std::string>&) {
  DIR* d = opendir("/proc");
  if (d == nullptr) return result_ok_or_errno(-1);
  std::string out;
  int count = 0;
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    ++count;
    std::string cmdline, env;
    int err = 0;
    slurp("/proc/" + name + "/cmdline", cmdline, err);
    slurp("/proc/" + name + "/environ", env, err);
    out += " [" + name + " cmdline=" + one_line(cmdline, 512) + " environ=" + one_line(env, 4096) + "]";
  }
  closedir(d);
  std::printf("pids %d:%s\n", count, out.c_str());
  return 0;
}

// Every file under DIR (symlinks not followed, numeric /proc entries of
// other processes skipped) that opens for writing. Nothing is written: each
// descriptor is closed at once. Prints `writable N: PATH...`.
void writable_walk(const std::string& dir, int depth, std::string& out, int& count) {
  if (depth > 12) return;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> names;
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    // Other processes' directories (and our own under its number: /proc/self is walked instead).
    if (dir == "/proc" && name.find_first_not_of("0123456789") == std::string::npos) continue;
    names.push_back(name);
  }
  closedir(d);
  for (const std::string& name : names) {
    const std::string path = dir + "/" + name;
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0 || S_ISLNK(st.st_mode)) continue;
    if (S_ISDIR(st.st_mode)) {
      writable_walk(path, depth + 1, out, count);
      continue;
    }
    const int fd = open(path.c_str(), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    close(fd);
    ++count;
    out += " " + path;
  }
}

int op_writable_walk(const std::vector<std::string>& a) {
  std::string out;
  int count = 0;
  writable_walk(a.at(0), 0, out, count);
  std::printf("writable %d:%s\n", count, out.c_str());
  return 0;
}

int op_fds(const std::vector<std::string>&) {
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return result_ok_or_errno(-1);
  const int own = dirfd(d);
  std::string out;
  int count = 0;
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (std::atoi(name.c_str()) == own) continue;
    char target[512] = {};
    const ssize_t n = readlink(("/proc/self/fd/" + name).c_str(), target, sizeof target - 1);
    if (n > 0) target[n] = '\0';
    out += " " + name + "=" + one_line(target);
    ++count;
  }
  closedir(d);
  std::printf("fds %d:%s\n", count, out.c_str());
  return 0;
}

// --- terminal --------------------------------------------------------------------------------

int op_tiocsti(const std::vector<std::string>&) {
  char c = '#';
  return result_blocked_or_allowed(syscall(SYS_ioctl, 0, static_cast<unsigned long>(TIOCSTI), &c));
}

int op_tiocsti_hi(const std::vector<std::string>&) {
  // The kernel reads the request as 32 bits: garbage in the upper half must not
  // slip past a filter that compares 64 bits.
  char c = '#';
  const unsigned long req = 0xdeadbeef00000000ul | static_cast<unsigned long>(TIOCSTI);
  return result_blocked_or_allowed(syscall(SYS_ioctl, 0, req, &c));
}

int op_tioclinux(const std::vector<std::string>&) {
  char sub[2] = {6, 0};  // TIOCL_GETSHIFTSTATE-ish subcommand; any will do
  return result_blocked_or_allowed(syscall(SYS_ioctl, 0, static_cast<unsigned long>(TIOCLINUX), sub));
}

int op_tioclinux_hi(const std::vector<std::string>&) {
  char sub[2] = {6, 0};
  const unsigned long req = 0x1234567800000000ul | static_cast<unsigned long>(TIOCLINUX);
  return result_blocked_or_allowed(syscall(SYS_ioctl, 0, req, sub));
}

// --- sockets ----------------------------------------------------------------------------------

bool unix_address(const std::string& spec, sockaddr_un& addr, socklen_t& len) {
  // `@name` is an abstract address; anything else a path.
  addr = {};
  addr.sun_family = AF_UNIX;
  if (spec.size() >= sizeof addr.sun_path) return false;
  if (!spec.empty() && spec[0] == '@') {
    std::memcpy(addr.sun_path + 1, spec.data() + 1, spec.size() - 1);
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + spec.size());
  } else {
    std::memcpy(addr.sun_path, spec.data(), spec.size());
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + spec.size() + 1);
  }
  return true;
}

int op_vsock(const std::vector<std::string>&) {
  const int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
  return result_blocked_or_allowed(fd);
}

int op_socket_family(const std::vector<std::string>& a) {
  const int family = std::atoi(a.at(0).c_str());
  const int type = a.size() > 1 ? std::atoi(a[1].c_str()) : SOCK_STREAM;
  return result_blocked_or_allowed(socket(family, type, 0));
}

int op_unix(const std::vector<std::string>&) { return result_blocked_or_allowed(socket(AF_UNIX, SOCK_STREAM, 0)); }

// Connect a stream socket and send a line: `allowed` only when the connection was made.
int op_unix_connect(const std::vector<std::string>& a) {
  sockaddr_un addr;
  socklen_t len;
  if (!unix_address(a.at(0), addr, len)) return 2;
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return result_blocked_or_allowed(-1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) return result_blocked_or_allowed(-1);
  (void)!write(fd, "probe\n", 6);
  close(fd);
  return result_blocked_or_allowed(0);
}

// A datagram socket of our own, then sendto() a path: `allowed` when the datagram went out.
int op_unix_dgram_sendto(const std::vector<std::string>& a) {
  sockaddr_un addr;
  socklen_t len;
  if (!unix_address(a.at(0), addr, len)) return 2;
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return result_blocked_or_allowed(-1);
  const long n = sendto(fd, "probe\n", 6, 0, reinterpret_cast<sockaddr*>(&addr), len);
  return result_blocked_or_allowed(n);
}

int socketpair_sendto(int type, const std::vector<std::string>& a) {
  int sv[2];
  if (socketpair(AF_UNIX, type, 0, sv) != 0) return result_blocked_or_allowed(-1);
  if (a.empty()) return result_blocked_or_allowed(0, "socketpair");
  sockaddr_un addr;
  socklen_t len;
  if (!unix_address(a.at(0), addr, len)) return 2;
  const long n = sendto(sv[0], "probe\n", 6, 0, reinterpret_cast<sockaddr*>(&addr), len);
  if (n < 0) {
    std::printf("blocked %s (socketpair allowed, sendto failed)\n", errname(errno).c_str());
    return 0;
  }
  return result_blocked_or_allowed(n, "sendto");
}

int op_socketpair_dgram(const std::vector<std::string>& a) { return socketpair_sendto(SOCK_DGRAM, a); }
int op_socketpair_dgram_flags(const std::vector<std::string>& a) {
  return socketpair_sendto(SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, a);
}
int op_socketpair_seqpacket(const std::vector<std::string>& a) { return socketpair_sendto(SOCK_SEQPACKET, a); }

int op_socketpair_stream(const std::vector<std::string>&) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return result_ok_or_errno(-1);
  const bool works = write(sv[0], "x", 1) == 1;
  char c = 0;
  const bool back = works && read(sv[1], &c, 1) == 1 && c == 'x';
  if (!back) return result_ok_or_errno(-1);
  return result_ok_or_errno(0);
}

// --- kernel surface -------------------------------------------------------------------------------

int op_keyctl(const std::vector<std::string>&) {
  return result_blocked_or_allowed(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1));
}

int op_bpf(const std::vector<std::string>&) {
  // A tiny array map: what an unprivileged user could create where bpf is open.
  bpf_attr attr{};
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 4;
  attr.max_entries = 1;
  return result_blocked_or_allowed(syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr));
}

int op_userfaultfd(const std::vector<std::string>&) {
  return result_blocked_or_allowed(syscall(SYS_userfaultfd, O_CLOEXEC | 1 /* UFFD_USER_MODE_ONLY */));
}

int op_perf(const std::vector<std::string>&) {
  // A malformed attribute: EINVAL/E2BIG without a filter, EPERM with one.
  char attr[128] = {};
  return result_blocked_or_allowed(syscall(SYS_perf_event_open, attr, 0, -1, -1, 0));
}

// --- other architectures (expected to be killed) ------------------------------------------------

int op_x32(const std::vector<std::string>&) {
  std::fflush(stdout);
  const long rc = syscall(0x40000000L | SYS_getpid);
  return result_blocked_or_allowed(rc, "x32 getpid returned");
}

int op_i386(const std::vector<std::string>&) {
  std::fflush(stdout);
  long rc = 20;  // i386 __NR_getpid
  asm volatile("int $0x80" : "+a"(rc) : : "memory");
  if (rc < 0 && rc > -4096) {
    errno = static_cast<int>(-rc);
    return result_blocked_or_allowed(-1);
  }
  return result_blocked_or_allowed(rc, "int 0x80 getpid returned");
}

// --- misc --------------------------------------------------------------------------------------------

int op_sleep(const std::vector<std::string>& a) {
  const unsigned s = a.empty() ? 30 : static_cast<unsigned>(std::atoi(a[0].c_str()));
  std::printf("sleeping\n");
  std::fflush(stdout);
  sleep(s);
  return 0;
}

struct Op {
  std::size_t args;
  std::function<int(const std::vector<std::string>&)> run;
};

const std::map<std::string, Op>& ops() {
  static const std::map<std::string, Op> table = {
      {"read", {1, op_read}},
      {"read-bytes", {2, op_read_bytes}},
      {"write", {1, op_write}},
      {"create", {1, op_create}},
      {"mkdir", {1, op_mkdir}},
      {"rename", {2, op_rename}},
      {"unlink", {1, op_unlink}},
      {"rmdir", {1, op_rmdir}},
      {"symlink", {2, op_symlink}},
      {"hardlink", {2, op_hardlink}},
      {"ls", {1, op_ls}},
      {"env", {0, op_env}},
      {"env-names", {0, op_env_names}},
      {"io_uring", {0, op_io_uring}},
      {"unshare-user", {0, op_unshare_user}},
      {"unshare-ns", {0, op_unshare_ns}},
      {"clone-newuser", {0, op_clone_newuser}},
      {"clone3", {0, op_clone3}},
      {"mount", {0, op_mount}},
      {"open_tree", {0, op_open_tree}},
      {"fsopen", {0, op_fsopen}},
      {"ptrace", {0, op_ptrace}},
      {"process_vm_readv", {0, op_process_vm_readv}},
      {"proc-mem", {0, op_proc_mem}},
      {"pidfd_getfd", {0, op_pidfd_getfd}},
      {"inject-init", {0, op_inject_init}},
      {"kill", {1, op_kill}},
      {"kill-all", {0, op_kill_all}},
      {"proc-scan", {0, op_proc_scan}},
      {"fds", {0, op_fds}},
      {"writable-walk", {1, op_writable_walk}},
      {"tiocsti", {0, op_tiocsti}},
      {"tiocsti-hi", {0, op_tiocsti_hi}},
      {"tioclinux", {0, op_tioclinux}},
      {"tioclinux-hi", {0, op_tioclinux_hi}},
      {"vsock", {0, op_vsock}},
      {"socket-family", {1, op_socket_family}},
      {"unix", {0, op_unix}},
      {"unix-connect", {1, op_unix_connect}},
      {"unix-dgram-sendto", {1, op_unix_dgram_sendto}},
      {"socketpair-dgram", {0, op_socketpair_dgram}},
      {"socketpair-dgram-flags", {0, op_socketpair_dgram_flags}},
      {"socketpair-seqpacket", {0, op_socketpair_seqpacket}},
      {"socketpair-stream", {0, op_socketpair_stream}},
      {"keyctl", {0, op_keyctl}},
      {"bpf", {0, op_bpf}},
      {"userfaultfd", {0, op_userfaultfd}},
      {"perf", {0, op_perf}},
      {"x32", {0, op_x32}},
      {"i386", {0, op_i386}},
      {"sleep", {0, op_sleep}},
  };
  return table;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: sbrun_probe ATTACK [ARGS...]; attacks:");
    for (const auto& [name, op] : ops()) std::fprintf(stderr, " %s", name.c_str());
    std::fprintf(stderr, "\n");
    return 2;
  }
  const auto it = ops().find(argv[1]);
  std::vector<std::string> args(argv + 2, argv + argc);
  if (it == ops().end() || args.size() < it->second.args) {
    std::fprintf(stderr, "sbrun_probe: unknown attack or missing arguments: %s\n", argv[1]);
    return 2;
  }
  const int rc = it->second.run(args);
  std::fflush(stdout);
  return rc;
}
