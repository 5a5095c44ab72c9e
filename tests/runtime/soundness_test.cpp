// Lowering soundness (issue: the mount plan agrees with the evaluator on
// every tree): symlinks met by globs, excepts and grants, denials inside the
// sandbox's own /proc and /dev, a home reached through a link. Each case
// runs the real sbrun (as root and as an unprivileged user) and checks the
// host side, over the escape tests' harness.
//
//   runtime_soundness_tests [--sbrun=PATH] [--probe=PATH] [gtest options]
#include <unistd.h>

#include "escape_harness.hpp"

namespace sbtest {
namespace {

class Soundness : public Escape {
 protected:
  void link(const std::string& target, const std::string& at) {
    ASSERT_EQ(symlink(target.c_str(), at.c_str()), 0) << at << ": " << std::strerror(errno);
  }
  // The launch is refused with `code`, and the command never ran.
  void expect_refused(const std::string& code) {
    const Result r = sbrun({"/bin/sh", "-c", "echo ran > " + shell_quote(ws_ + "/ran")});
    EXPECT_EQ(r.status, 125) << r.err;
    EXPECT_NE(r.err.find(code), std::string::npos) << r.err;
    EXPECT_FALSE(exists(ws_ + "/ran"));
  }
};

// ---------------------------------------------------------------------------------------------
// Globs are held to the symlink rules of literal paths.

// `deny write "./conf/x"` through `conf -> conf-real` in the writable
// workspace is refused (the command could swap the link for a directory of
// its own); the glob `./conf/*` must be too.
TEST_P(Soundness, GlobUnderAReplaceableLinkIsRefusedLikeALiteral) {
  mkdirs(ws_ + "/conf-real");
  write_file(ws_ + "/conf-real/app.cfg", "setting\n");
  link("conf-real", ws_ + "/conf");
  for (const char* rule : {"deny write \"./conf/*\";", "deny write \"./conf/**/*.cfg\";", "deny write \"./conf/app.cfg\";"}) {
    set_base_policy(std::string("allow read \"./**\";\nallow write \"./**\";\n") + rule);
    resnapshot();
    SCOPED_TRACE(rule);
    expect_refused("E0401");
  }
}

// A write denial whose wildcard finds its path through a replaceable link
// (`./*/pre-commit` through `hooks -> hooks-real`): after a swap the path
// would be the command's own. Refused.
TEST_P(Soundness, WriteDenialFoundThroughAReplaceableLinkIsRefused) {
  mkdirs(ws_ + "/hooks-real");
  write_file(ws_ + "/hooks-real/pre-commit", "#!/bin/sh\n", 0755);
  link("hooks-real", ws_ + "/hooks");
  set_base_policy("allow read \"./**\";\nallow write \"./**\";\ndeny write \"./*/pre-commit\";");
  resnapshot();
  expect_refused("E0401");
}

// An except carves a protection out of a grant: through a replaceable link
// it is refused, as the equivalent denial is.
TEST_P(Soundness, ExceptThroughAReplaceableLinkIsRefused) {
  mkdirs(ws_ + "/conf-real");
  write_file(ws_ + "/conf-real/app.cfg", "setting\n");
  link("conf-real", ws_ + "/conf");
  set_base_policy("allow read \"./**\";\nallow write \"./**\" except \"./conf\";");
  resnapshot();
  expect_refused("E0401");
}

// `vendor -> ~/.ssh`, planted by an earlier run: `allow read "./vendor"` is
// not followed (W0101), and neither is `allow read "./vendor/*"`.
TEST_P(Soundness, GrantGlobUnderAPlantedLinkIsNotFollowed) {
  link(home_ + "/.ssh", ws_ + "/vendor");
  set_base_policy("allow read \"./**\";\nallow write \"./**\";\nallow read \"./vendor/*\";");
  resnapshot();
  auto r = probes({{"through", {"read", ws_ + "/vendor/id_ed25519"}}, {"direct", {"read", home_ + "/.ssh/id_ed25519"}}});
  EXPECT_ERRNO(r, "through");
  EXPECT_ERRNO(r, "direct");
}

// A link a grant's wildcard finds is not followed: `allow read "./*.md"`
// with `sshdir.md -> ~/.ssh` grants the Markdown files, not the keys.
TEST_P(Soundness, GrantGlobDoesNotFollowAMatchedLink) {
  write_file(ws_ + "/notes.md", "notes\n");
  link(home_ + "/.ssh", ws_ + "/sshdir.md");
  set_base_policy("allow read \"./*.md\";");
  resnapshot();
  Result run;
  auto r = probes({{"md", {"read", ws_ + "/notes.md"}},
                   {"through", {"read", ws_ + "/sshdir.md/id_ed25519"}},
                   {"direct", {"read", home_ + "/.ssh/id_ed25519"}}},
                  &run);
  EXPECT_RESULT(r, "md", "ok notes\\n");
  EXPECT_ERRNO(r, "through");
  EXPECT_ERRNO(r, "direct");
  RunOptions verbose;
  verbose.extra_args = {"-v"};
  const Result v = sbrun({"/bin/true"}, verbose);
  EXPECT_NE(v.err.find("W0101"), std::string::npos) << v.err;
}

// A denial's wildcard looks through linked directories, as a literal
// denial follows its link: `./**/*.pem` hides `vendor/lib/secret.pem`
// with `vendor -> ../elsewhere`, read-only or writable workspace.
TEST_P(Soundness, DenyGlobLooksInsideLinkedDirectories) {
  const std::string elsewhere = root_ + "/sibling/elsewhere";
  mkdirs(elsewhere + "/lib");
  write_file(elsewhere + "/lib/secret.pem", canary_id_ + "-pem\n");
  canary_paths_.push_back(elsewhere + "/lib/secret.pem");
  write_file(elsewhere + "/lib/ok.txt", "plain\n");
  link(elsewhere, ws_ + "/vendor");
  for (const char* write : {"", "allow write \"./**\";\n"}) {
    set_base_policy(std::string("allow read \"./**\";\n") + write + "allow read \"" + elsewhere +
              "\";\ndeny read \"./**/*.pem\";");
    resnapshot();
    SCOPED_TRACE(write);
    auto r = probes({{"through", {"read", ws_ + "/vendor/lib/secret.pem"}},
                     {"direct", {"read", elsewhere + "/lib/secret.pem"}},
                     {"plain", {"read", ws_ + "/vendor/lib/ok.txt"}}});
    EXPECT_EQ(r["through"].find(canary_id_), std::string::npos) << r["through"];
    EXPECT_EQ(r["direct"].find(canary_id_), std::string::npos) << r["direct"];
    EXPECT_RESULT(r, "plain", "ok plain\\n");
  }
}

// Following links is bounded: a link planted to `/` or to the home (the
// tree's root or above) is not walked again, so std.agent's deny globs
// still launch at once, and the secrets behind the links stay hidden.
TEST_P(Soundness, LinksPlantedToTheRootOrHomeDoNotStopLaunches) {
  link("/", ws_ + "/everything");
  link(home_, ws_ + "/home");
  write_file(ws_ + "/key.pem", canary_id_ + "-ws-pem\n");
  canary_paths_.push_back(ws_ + "/key.pem");
  resnapshot();  // std.agent
  auto r = probes({{"pem", {"read", ws_ + "/key.pem"}},
                   {"ssh", {"read", ws_ + "/home/.ssh/id_ed25519"}},
                   {"readme", {"read", ws_ + "/README.md"}}});
  EXPECT_ERRNO(r, "ssh");
  EXPECT_EQ(r["pem"].find(canary_id_), std::string::npos) << r["pem"];
  EXPECT_RESULT(r, "readme", "ok # project\\n");
}

// ---------------------------------------------------------------------------------------------
// Denials inside the sandbox's own /proc and /dev hold, or stop the launch.

TEST_P(Soundness, DenialsInsideProcAndDevHold) {
  set_base_policy("deny read \"/proc/cpuinfo\", \"/dev/urandom\";\ndeny write \"/proc\";");
  resnapshot();
  const Result r = sbrun({"/bin/sh", "-c",
                          "echo cpu $(cat /proc/cpuinfo 2>/dev/null | wc -c); "
                          "echo rnd $(head -c 8 /dev/urandom 2>/dev/null | wc -c); "
                          "echo rand $(head -c 8 /dev/random 2>/dev/null | wc -c); "
                          "(echo x > /proc/self/comm) 2>/dev/null && echo comm-written || echo comm-refused"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("cpu 0\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rnd 0\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rand 8\n"), std::string::npos) << r.out;  // the rest of /dev is untouched
  EXPECT_NE(r.out.find("comm-refused"), std::string::npos) << r.out;
}

TEST_P(Soundness, PerProcessDenialsStopTheLaunch) {
  for (const char* rule : {"deny read \"/proc/self/environ\";", "deny read \"/dev/stdin\";", "deny read \"/dev/fd\";"}) {
    set_base_policy(rule);
    resnapshot();
    SCOPED_TRACE(rule);
    expect_refused("E0403");
  }
}

// ---------------------------------------------------------------------------------------------
// A home reached through a symlink (`/home -> /var/home`): bound at its
// resolved path, and the path the command is told ($HOME) still leads there.

TEST_P(Soundness, HomeThroughASymlinkStillWorks) {
  const std::string real = root_ + "/var-home";
  mkdirs(real + "/u");
  write_file(real + "/u/notes.txt", "notes\n");
  link("var-home", root_ + "/homes");
  const std::string linked_home = root_ + "/homes/u";
  set_base_policy("allow read \"~\";");
  resnapshot();
  Spawn s = sbrun_spawn({"/bin/sh", "-c", "cat \"$HOME/notes.txt\"; cd \"$HOME\" && pwd -P"}, {});
  for (auto& e : s.env) {
    if (e.rfind("HOME=", 0) == 0) e = "HOME=" + linked_home;
  }
  const Result r = run_process(s, std::chrono::seconds(20));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "notes\n" + real + "/u\n") << r.err;
  check_run(r);
}

INSTANTIATE_TEST_SUITE_P(Runtime, Soundness, ::testing::Values(Mode::Root, Mode::User), mode_name);

}  // namespace
}  // namespace sbtest

int main(int argc, char** argv) { return sbtest::run_all_tests(argc, argv); }
