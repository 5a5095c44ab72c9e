// The seccomp filter every sandboxed command runs under.
//
// bubblewrap draws the filesystem boundary; this filter closes the kernel
// doors that would let a process inside step around it or attack what is
// outside. It is built with libseccomp inside the sandbox by sbrun's init and
// loaded just before the command is executed, so the init itself keeps what
// it needs (the network relays need AF_UNIX to reach the proxy) and the
// command and everything it spawns do not. Default: allow; refused:
//  - io_uring (its operations bypass seccomp argument checks entirely),
//  - new namespaces (unshare, setns, clone with CLONE_NEW*; clone3 returns
//    ENOSYS so libcs fall back to clone, whose flags can be checked),
//  - mount and the new mount API (open_tree, move_mount, fsopen, ...),
//  - ptrace and cross-process memory access,
//  - TIOCSTI and TIOCLINUX ioctls (typing into a terminal), compared on the
//    low 32 bits because the kernel ignores the upper half of `cmd`,
//  - AF_VSOCK sockets (the hypervisor's host), and AF_UNIX sockets unless the
//    policy grants a `unix` socket; datagram socketpairs too, since sendto()
//    with a path on one reaches any datagram socket that is visible,
//  - keyrings, bpf, perf events and userfaultfd (kernel attack surface).
// Syscalls of another architecture (i386 via int 0x80, x32) kill the process.
#pragma once

#include <string>

namespace sbpolicy::runtime {

struct SeccompOptions {
  bool allow_unix_sockets = false;
};

// Builds and loads the filter into the calling thread (and so into what it
// executes). Returns an empty string on success, else what went wrong.
std::string load_seccomp_filter(const SeccompOptions& options);

}  // namespace sbpolicy::runtime
