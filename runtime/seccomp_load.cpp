// Loading the seccomp programs seccomp-gen built with libseccomp when sbrun
// was built (seccomp_filter.hpp). Only system calls: safe in a vfork child.
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <iterator>

#include "seccomp_filter.hpp"

namespace sbpolicy::runtime {

namespace {

#include "seccomp_programs.inc"  // kSeccompDenyUnix, kSeccompAllowUnix (generated)

}  // namespace

const char* load_seccomp_filter(const SeccompOptions& options) {
  // The kernel copies the program; the cast only satisfies its signature.
  sock_fprog program{};
  if (options.allow_unix_sockets) {
    program.len = static_cast<unsigned short>(std::size(kSeccompAllowUnix));
    program.filter = const_cast<sock_filter*>(kSeccompAllowUnix);
  } else {
    program.len = static_cast<unsigned short>(std::size(kSeccompDenyUnix));
    program.filter = const_cast<sock_filter*>(kSeccompDenyUnix);
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return "seccomp: cannot set no_new_privs";
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) return "seccomp: cannot load the filter";
  return nullptr;
}

}  // namespace sbpolicy::runtime
