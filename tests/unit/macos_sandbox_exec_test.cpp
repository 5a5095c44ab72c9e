// sbrun's macOS path, the parts that need no Mac (runtime/macos/
// sandbox_exec.hpp): sandbox-exec's argv, the command's environment, the
// private profile file, and the unified log's denial lines.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "macos/sandbox_exec.hpp"

namespace sbpolicy::runtime::macos {
namespace {

TEST(MacosSandboxExec, ArgvCarriesTheProfileAndEachParameter) {
  const auto argv = sandbox_exec_argv("/tmp/p/profile.sb", {{"P0", "/Users/u/w"}, {"P1", "^/a b$"}}, {"ls", "-l"});
  const std::vector<std::string> want = {"/usr/bin/sandbox-exec", "-f", "/tmp/p/profile.sb", "-D", "P0=/Users/u/w",
                                         "-D", "P1=^/a b$", "--", "ls", "-l"};
  EXPECT_EQ(argv, want);
}

TEST(MacosSandboxExec, TheEnvironmentPointsAtTheProxyAndExemptsNothing) {
  const auto env = command_environment({{"PATH", "/usr/bin"}, {"HTTP_PROXY", "http://evil:1"}, {"LANG", "C"}}, 50001,
                                       50002, "/private/var/folders/x/T");
  const auto has = [&](const std::string& kv) { return std::find(env.begin(), env.end(), kv) != env.end(); };
  EXPECT_TRUE(has("PATH=/usr/bin"));
  EXPECT_TRUE(has("LANG=C"));
  EXPECT_TRUE(has("HTTP_PROXY=http://127.0.0.1:50001"));
  EXPECT_TRUE(has("https_proxy=http://127.0.0.1:50001"));
  EXPECT_TRUE(has("ALL_PROXY=socks5h://127.0.0.1:50002"));
  EXPECT_TRUE(has("NO_PROXY="));  // the host's loopback is the sandbox's: through the proxy
  EXPECT_TRUE(has("TMPDIR=/private/var/folders/x/T"));
  EXPECT_FALSE(has("HTTP_PROXY=http://evil:1"));
  EXPECT_EQ(std::count_if(env.begin(), env.end(), [](const std::string& kv) { return kv.rfind("HTTP_PROXY=", 0) == 0; }),
            1);
}

TEST(MacosSandboxExec, TheProfileFileIsNewPrivateAndNeverFollowsALink) {
  char templ[] = "/tmp/sbrun-macos-test-XXXXXX";
  const std::string dir = mkdtemp(templ);
  std::string path, error;
  ASSERT_TRUE(write_private_file(dir, "profile.sb", "(version 1)\n", path, error)) << error;
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 12);
  // Not replaced, not followed.
  EXPECT_FALSE(write_private_file(dir, "profile.sb", "x", path, error));
  ASSERT_EQ(symlink("/tmp/elsewhere-sbrun-test", (dir + "/link.sb").c_str()), 0);
  EXPECT_FALSE(write_private_file(dir, "link.sb", "x", path, error));
  EXPECT_NE(access("/tmp/elsewhere-sbrun-test", F_OK), 0);
  unlink((dir + "/link.sb").c_str());
  unlink((dir + "/profile.sb").c_str());
  rmdir(dir.c_str());
}

TEST(MacosSandboxExec, DenialsFromTheUnifiedLog) {
  const auto v = parse_violation(
      R"({"eventMessage":"Sandbox: cat(4242) deny(1) file-read-data /Users/u/w/.env sbpolicy k3x9 rule 12 deny read \"./.env\" p.sbpolicy:2:11","processID":4242})",
      "k3x9");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->process, "cat");
  EXPECT_EQ(v->pid, 4242);
  EXPECT_EQ(v->operation, "file-read-data");
  EXPECT_EQ(v->subject, "/Users/u/w/.env");
  EXPECT_EQ(v->rule, 12);
  EXPECT_EQ(describe_violation(*v, "deny read \"./.env\" at p.sbpolicy:2:11"),
            "sbrun: denied file-read-data /Users/u/w/.env to cat(4242) by deny read \"./.env\" at p.sbpolicy:2:11\n");
  const auto d = parse_violation(
      R"({"eventMessage":"Sandbox: curl(7) deny(1) network-outbound 93.184.216.34:443 sbpolicy k3x9 default deny"})",
      "k3x9");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->rule, -1);
  EXPECT_EQ(d->subject, "93.184.216.34:443");
  EXPECT_NE(describe_violation(*d, "").find("nothing in the policy grants it"), std::string::npos);
  for (const char* not_one :
       {"", "{", "[]", R"({"eventMessage":"kernel: something else"})",
        R"({"eventMessage":"Sandbox: x(12a) deny(1) file-read-data /a sbpolicy k3x9 default deny"})",
        R"({"eventMessage":"Sandbox: x(1) allow file-read-data /a sbpolicy k3x9 default deny"})",
        R"({"eventMessage":"Sandbox: x(99999999999999) deny(1) file-read-data /a sbpolicy k3x9 default deny"})",
        // Another process's denial, and another run's.
        R"({"eventMessage":"Sandbox: Safari(9) deny(1) file-read-data /a"})",
        R"({"eventMessage":"Sandbox: cat(9) deny(1) file-read-data /a sbpolicy zzzz rule 3 deny read"})",
        R"({"eventMessage":3})"}) {
    EXPECT_FALSE(parse_violation(not_one, "k3x9")) << not_one;
  }
}

}  // namespace
}  // namespace sbpolicy::runtime::macos

namespace sbpolicy::runtime::macos {
namespace {

TEST(MacosSandboxExec, TheRunsTemporaryDirectoryGoesWithoutFollowingLinks) {
  char outside_t[] = "/tmp/sbrun-outside-XXXXXX";
  const std::string outside = mkdtemp(outside_t);
  const std::string kept = outside + "/kept";
  FILE* f = std::fopen(kept.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  char templ[] = "/tmp/sbrun-tmp-test-XXXXXX";
  const std::string dir = mkdtemp(templ);
  ASSERT_EQ(mkdir((dir + "/a").c_str(), 0700), 0);
  ASSERT_EQ(mkdir((dir + "/a/b").c_str(), 0700), 0);
  f = std::fopen((dir + "/a/b/file").c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  // Links the sandbox planted: to a directory and a file outside.
  ASSERT_EQ(symlink(outside.c_str(), (dir + "/a/out").c_str()), 0);
  ASSERT_EQ(symlink(kept.c_str(), (dir + "/kept-link").c_str()), 0);
  std::string error;
  EXPECT_TRUE(remove_tree(dir, error)) << error;
  EXPECT_NE(access(dir.c_str(), F_OK), 0);
  EXPECT_EQ(access(kept.c_str(), F_OK), 0) << "a link was followed";
  EXPECT_TRUE(remove_tree(dir, error));  // gone already: nothing to do
  unlink(kept.c_str());
  rmdir(outside.c_str());
}

}  // namespace
}  // namespace sbpolicy::runtime::macos
