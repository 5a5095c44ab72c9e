#include "seccomp_filter.hpp"

#include <linux/sched.h>
#include <seccomp.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif

namespace sbpolicy::runtime {

namespace {

struct Context {
  scmp_filter_ctx ctx;
  ~Context() { seccomp_release(ctx); }
};

}  // namespace

std::string build_seccomp_program(const SeccompOptions& options, std::vector<sock_filter>& program) {
  Context c{seccomp_init(SCMP_ACT_ALLOW)};
  if (c.ctx == nullptr) return "seccomp_init failed";
  if (int rc = seccomp_attr_set(c.ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS); rc != 0) {
    return std::string("seccomp: cannot set the bad-arch action: ") + std::strerror(-rc);
  }
  std::string error;
  auto rule = [&](std::uint32_t action, const char* name, unsigned count = 0, const scmp_arg_cmp* args = nullptr) {
    if (!error.empty()) return;
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) return;  // not a syscall on this architecture
    const int rc = seccomp_rule_add_array(c.ctx, action, nr, count, args);
    if (rc != 0) error = std::string("seccomp: cannot add a rule for ") + name + ": " + std::strerror(-rc);
  };
  const std::uint32_t eperm = SCMP_ACT_ERRNO(EPERM);

  for (const char* name : {"io_uring_setup", "io_uring_enter", "io_uring_register", "unshare", "setns", "mount",
                           "umount", "umount2", "pivot_root", "chroot", "open_tree", "move_mount", "fsopen",
                           "fsconfig", "fsmount", "fspick", "mount_setattr", "kcmp", "keyctl", "add_key",
                           "request_key", "bpf", "perf_event_open", "userfaultfd", "kexec_load", "kexec_file_load",
                           "init_module", "finit_module", "delete_module", "iopl", "ioperm", "syslog"}) {
    rule(eperm, name);
  }
  if (!options.allow_ptrace) {
    for (const char* name : {"ptrace", "process_vm_readv", "process_vm_writev"}) rule(eperm, name);
  }
  rule(SCMP_ACT_ERRNO(ENOSYS), "clone3");
  constexpr std::uint64_t kNewNamespaceFlags[] = {CLONE_NEWNS,  CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
                                                  CLONE_NEWUSER, CLONE_NEWPID,   CLONE_NEWNET,
                                                  0x00000080 /* CLONE_NEWTIME */};
  for (std::uint64_t flag : kNewNamespaceFlags) {
    const scmp_arg_cmp a = SCMP_A0_64(SCMP_CMP_MASKED_EQ, flag, flag);
    rule(eperm, "clone", 1, &a);
  }
  // The kernel reads ioctl's `cmd` as 32 bits; compare only those.
  for (std::uint64_t cmd : {static_cast<std::uint64_t>(TIOCSTI), static_cast<std::uint64_t>(TIOCLINUX)}) {
    const scmp_arg_cmp a = SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, cmd);
    rule(eperm, "ioctl", 1, &a);
  }
  {
    const scmp_arg_cmp a = SCMP_A0_64(SCMP_CMP_EQ, AF_VSOCK);
    rule(SCMP_ACT_ERRNO(EAFNOSUPPORT), "socket", 1, &a);
    rule(SCMP_ACT_ERRNO(EAFNOSUPPORT), "socketpair", 1, &a);
  }
  if (!options.allow_unix_sockets) {
    const scmp_arg_cmp a = SCMP_A0_64(SCMP_CMP_EQ, AF_UNIX);
    rule(SCMP_ACT_ERRNO(EAFNOSUPPORT), "socket", 1, &a);
  }
  // Datagram and seqpacket socketpairs can sendto() a path; stream pairs
  // cannot (EISCONN), and many programs use them for pipes.
  for (std::uint64_t type : {static_cast<std::uint64_t>(SOCK_DGRAM), static_cast<std::uint64_t>(SOCK_SEQPACKET)}) {
    const scmp_arg_cmp args[2] = {SCMP_A0_64(SCMP_CMP_EQ, AF_UNIX), SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xF, type)};
    rule(SCMP_ACT_ERRNO(EAFNOSUPPORT), "socketpair", 2, args);
  }
  if (!error.empty()) return error;
  // The program as the kernel takes it, through a memory file.
  const int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
  if (fd < 0) return std::string("seccomp: memfd_create: ") + std::strerror(errno);
  std::string bytes;
  if (int rc = seccomp_export_bpf(c.ctx, fd); rc != 0) {
    error = std::string("seccomp: cannot export the filter: ") + std::strerror(-rc);
  } else if (lseek(fd, 0, SEEK_SET) != 0) {
    error = std::string("seccomp: lseek: ") + std::strerror(errno);
  } else {
    char chunk[4096];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0) bytes.append(chunk, static_cast<std::size_t>(n));
    if (n < 0) error = std::string("seccomp: read: ") + std::strerror(errno);
  }
  close(fd);
  if (!error.empty()) return error;
  if (bytes.empty() || bytes.size() % sizeof(sock_filter) != 0) return "seccomp: the exported filter is malformed";
  program.resize(bytes.size() / sizeof(sock_filter));
  std::memcpy(program.data(), bytes.data(), bytes.size());
  return {};
}

}  // namespace sbpolicy::runtime
