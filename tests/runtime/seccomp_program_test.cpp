// The seccomp programs built into sbrun-init at build time are what
// libseccomp builds from runtime/seccomp_filter.cpp now, and loading one
// refuses what the filter refuses (in a child, so this process stays free).
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>
#include <vector>

#include "seccomp_filter.hpp"
#include "seccomp_load.h"

namespace sbpolicy::runtime {
namespace {

#include "seccomp_programs.inc"

bool same(const std::vector<sock_filter>& a, const sock_filter* b, std::size_t n) {
  if (a.size() != n) return false;
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i].code != b[i].code || a[i].jt != b[i].jt || a[i].jf != b[i].jf || a[i].k != b[i].k) return false;
  }
  return true;
}

TEST(SeccompProgram, BuiltProgramsMatchTheFilterSource) {
  std::vector<sock_filter> deny, allow, deny_ptrace, allow_ptrace;
  ASSERT_EQ(build_seccomp_program({false, false}, deny), "");
  ASSERT_EQ(build_seccomp_program({true, false}, allow), "");
  ASSERT_EQ(build_seccomp_program({false, true}, deny_ptrace), "");
  ASSERT_EQ(build_seccomp_program({true, true}, allow_ptrace), "");
  EXPECT_TRUE(same(deny, kSeccompDenyUnix, std::size(kSeccompDenyUnix)));
  EXPECT_TRUE(same(allow, kSeccompAllowUnix, std::size(kSeccompAllowUnix)));
  EXPECT_TRUE(same(deny_ptrace, kSeccompDenyUnixPtrace, std::size(kSeccompDenyUnixPtrace)));
  EXPECT_TRUE(same(allow_ptrace, kSeccompAllowUnixPtrace, std::size(kSeccompAllowUnixPtrace)));
  EXPECT_NE(deny.size(), allow.size()) << "the AF_UNIX rule makes the two programs differ";
  EXPECT_NE(deny.size(), deny_ptrace.size()) << "the ptrace rules make the two programs differ";
}

// Runs `probe` in a child under the filter; its exit status.
template <typename F>
int under_filter(bool allow_unix, F probe, bool allow_ptrace = false) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (sbrun_load_seccomp_filter(allow_unix ? 1 : 0, allow_ptrace ? 1 : 0) != nullptr) _exit(99);
    _exit(probe());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(SeccompProgram, LoadedFilterRefusesAndAllows) {
  auto refused = [](long rc, int want) { return rc == -1 && errno == want ? 0 : 1; };
  EXPECT_EQ(under_filter(false, [&] { return refused(unshare(CLONE_NEWUSER), EPERM); }), 0);
  EXPECT_EQ(under_filter(false, [&] { return refused(socket(AF_UNIX, SOCK_STREAM, 0), EAFNOSUPPORT); }), 0);
  EXPECT_EQ(under_filter(false, [&] { return refused(socket(40 /* AF_VSOCK */, SOCK_STREAM, 0), EAFNOSUPPORT); }), 0);
  EXPECT_EQ(under_filter(true, [] { return socket(AF_UNIX, SOCK_STREAM, 0) >= 0 ? 0 : 1; }), 0);
  EXPECT_EQ(under_filter(false, [] { return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 0 : 1; }), 0);
  EXPECT_EQ(under_filter(false, [] { return getpid() > 0 ? 0 : 1; }), 0);
  // ptrace: refused, unless allowed; the rest of the filter holds either way.
  const auto trace_a_child = [] {
    const pid_t child = fork();
    if (child == 0) {
      pause();
      _exit(0);
    }
    const long rc = ptrace(PTRACE_ATTACH, child, nullptr, nullptr);
    const int e = errno;
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    return rc == 0 ? 0 : e == EPERM ? 1 : 2;
  };
  EXPECT_EQ(under_filter(false, trace_a_child), 1);
  EXPECT_EQ(under_filter(true, trace_a_child), 1);
  EXPECT_EQ(under_filter(false, trace_a_child, true), 0);
  EXPECT_EQ(under_filter(true, trace_a_child, true), 0);
  EXPECT_EQ(under_filter(false, [&] { return refused(unshare(CLONE_NEWUSER), EPERM); }, true), 0);
  EXPECT_EQ(under_filter(false, [&] { return refused(socket(AF_UNIX, SOCK_STREAM, 0), EAFNOSUPPORT); }, true), 0);
}

}  // namespace
}  // namespace sbpolicy::runtime
