// The seccomp filter every sandboxed command runs under.
//
// bubblewrap draws the filesystem boundary; this filter closes the kernel
// doors that would let a process inside step around it or attack what is
// outside. It is built with libseccomp when sbrun is built (the program
// seccomp-gen writes the four variants, with and without AF_UNIX and with
// and without ptrace, as BPF), and
// loaded by sbrun's init inside the sandbox just before the command is
// executed, so the init itself keeps what it needs (the network relays need
// AF_UNIX to reach the proxy) and the command and everything it spawns do
// not. (Built at launch, libseccomp's work was ~0.8 ms of every start.)
// Default: allow; refused:
//  - io_uring (its operations bypass seccomp argument checks entirely),
//  - new namespaces (unshare, setns, clone with CLONE_NEW*; clone3 returns
//    ENOSYS so libcs fall back to clone, whose flags can be checked),
//  - mount and the new mount API (open_tree, move_mount, fsopen, ...),
//  - ptrace and cross-process memory access, unless the policy says
//    `allow ptrace;` (between the sandbox's processes: docs/linux.md),
//  - TIOCSTI and TIOCLINUX ioctls (typing into a terminal), compared on the
//    low 32 bits because the kernel ignores the upper half of `cmd`,
//  - AF_VSOCK sockets (the hypervisor's host), and AF_UNIX sockets unless the
//    policy grants a `unix` socket; datagram socketpairs too, since sendto()
//    with a path on one reaches any datagram socket that is visible,
//  - keyrings, bpf, perf events and userfaultfd (kernel attack surface).
// Syscalls of another architecture (i386 via int 0x80, x32) kill the process.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

namespace sbpolicy::runtime {

struct SeccompOptions {
  bool allow_unix_sockets = false;
  // `allow ptrace;`: ptrace and process_vm_readv/writev between the
  // sandbox's own processes (the init is not dumpable, so never it).
  bool allow_ptrace = false;
};

// Builds the filter with libseccomp, as the BPF program the kernel takes
// (seccomp_filter.cpp; seccomp-gen and the tests). Returns an empty string
// on success, else what went wrong.
std::string build_seccomp_program(const SeccompOptions& options, std::vector<sock_filter>& program);

// The programs built with sbrun are loaded by sbrun_load_seccomp_filter
// (seccomp_load.h, C: the init is C).

}  // namespace sbpolicy::runtime
