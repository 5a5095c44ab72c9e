// Hardening escapes (issue: no host root, no planted links, no redirected
// git, bounded resources), over the escape tests' harness: each case attacks
// from inside a real sandbox and checks the host side, with sbrun started as
// root and as an unprivileged user.
//
//   runtime_hardening_tests [--sbrun=PATH] [--probe=PATH] [gtest options]
#include <fcntl.h>
#include <grp.h>
#include <sys/syscall.h>

#include <atomic>
#include <thread>

#include "escape_harness.hpp"

namespace sbtest {
namespace {

class Hardening : public Escape {
 protected:
  // A command on the host, as the run's user, in the case's environment.
  Spawn host_command(const std::vector<std::string>& argv) const {
    Spawn s;
    s.argv = as_user(argv);
    s.env = env();
    return s;
  }
  std::set<std::string> allowed_dirs_;
  // The `Uid:`/`Gid:`/`Groups:` lines of a host process, as numbers.
  static std::vector<long> ids(const std::string& status, const std::string& key) {
    std::vector<long> out;
    const auto at = status.find("\n" + key + ":");
    if (at == std::string::npos) return out;
    std::istringstream line(status.substr(at + key.size() + 2, status.find('\n', at + 1) - at - key.size() - 2));
    long v;
    while (line >> v) out.push_back(v);
    return out;
  }
};

// ---------------------------------------------------------------------------------------------
// 1. No host root: /proc and /sys hold nothing of the host's that opens for
// writing, and the command never holds host uid or gid 0.

TEST_P(Hardening, ProcAndSysHoldNothingWritableOfTheHost) {
  const std::string core_pattern = read_file("/proc/sys/kernel/core_pattern");
  // Opens only, never writes: a failure here must not change the host.
  auto r = probes({{"proc", {"writable-walk", "/proc"}},
                   {"self", {"writable-walk", "/proc/self"}},
                   {"sys", {"writable-walk", "/sys"}},
                   {"core_pattern", {"read", "/proc/sys/kernel/core_pattern"}}});
  EXPECT_RESULT(r, "proc", "writable 0:");
  EXPECT_RESULT(r, "sys", "writable 0:");
  // The command's own per-process files are its own (comm, oom_score_adj, ...).
  EXPECT_EQ(r["self"].rfind("writable ", 0), 0u) << r["self"];
  // The sysctls are readable (programs read them), just not writable.
  EXPECT_EQ(r["core_pattern"].rfind("ok ", 0), 0u) << r["core_pattern"];
  EXPECT_EQ(read_file("/proc/sys/kernel/core_pattern"), core_pattern);
}

TEST_P(Hardening, SysctlWritesFailEvenWithAGrantOfProc) {
  // A policy cannot grant the host's /proc (W0102), and the read-only guard
  // holds under every policy.
  set_policy("allow read \"/proc\";\nallow write \"/proc/sys\";");
  resnapshot();
  auto r = probes({{"sysctl", {"writable-walk", "/proc/sys"}}, {"sysrq", {"writable-walk", "/proc/irq"}}});
  EXPECT_RESULT(r, "sysctl", "writable 0:");
  EXPECT_RESULT(r, "sysrq", "writable 0:");
}

TEST_P(Hardening, CommandNeverHoldsHostRoot) {
  const std::string marker = "40." + random_digits(9);
  const pid_t pid = start_sandboxed_sleep(marker);
  ASSERT_GT(pid, 0) << "the sandboxed sleep never started";
  const auto sleeps = processes_starting("/bin/sleep " + marker);
  ASSERT_FALSE(sleeps.empty());
  const std::string status = read_file("/proc/" + std::to_string(sleeps.front().pid) + "/status");
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  // Seen from the host: the real, effective, saved and filesystem ids.
  for (const char* key : {"Uid", "Gid"}) {
    const auto v = ids(status, key);
    ASSERT_EQ(v.size(), 4u) << key << " in\n" << status;
    for (long id : v) {
      EXPECT_NE(id, 0) << key << " holds host id 0:\n" << status;
      EXPECT_EQ(id, static_cast<long>(std::string(key) == "Uid" ? uid_ : gid_)) << key;
    }
  }
  for (long g : ids(status, "Groups")) EXPECT_NE(g, 0) << "host group 0 in\n" << status;
  EXPECT_NE(status.find("CapEff:\t0000000000000000"), std::string::npos) << status;
}

TEST_P(Hardening, RootOwnedWorkspaceIsRefusedAsRoot) {
  if (GetParam() != Mode::Root) GTEST_SKIP() << "about sbrun started as root";
  lchown(ws_.c_str(), 0, 0);
  resnapshot_keep_owners();
  const Result r = sbrun({"/bin/sh", "-c", "echo ran > ran"});
  EXPECT_EQ(r.status, 125) << r.err;
  EXPECT_NE(r.err.find("--user"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(ws_ + "/ran"));
  lchown(ws_.c_str(), uid_, gid_);
  resnapshot();
}

// A checkout the sandbox's user cannot write (here: root's) cannot get a
// name made in it, inside or out: std.agent starts without placeholders
// there (it used to stop with "cannot create a placeholder"), and the
// protected names stay impossible to make.
TEST_P(Hardening, ReadOnlyCheckoutStartsWithoutPlaceholders) {
  ASSERT_EQ(lchown(ws_.c_str(), 0, 0), 0);
  ASSERT_EQ(chmod(ws_.c_str(), 0755), 0);
  resnapshot_keep_owners();
  RunOptions o;
  if (GetParam() == Mode::Root) o.extra_args = {"--user", kTestUser, "-v"};
  else o.extra_args = {"-v"};
  const Result r = sbrun({"/bin/sh", "-c",
                          "cat README.md > /dev/null && echo started; "
                          "(mkdir .vscode || touch .mcp.json) 2>/dev/null || echo refused"},
                         o);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("started"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("refused"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.err.find("its directory is not writable, so it cannot be made inside either: no placeholder"),
            std::string::npos)
      << r.err;
  const auto changes = diff(before_, snapshot(root_), allowed_changes_);
  EXPECT_TRUE(changes.empty()) << "changed:\n  " << join(changes, "\n  ");
  ASSERT_EQ(lchown(ws_.c_str(), uid_, gid_), 0);
  resnapshot();
}

// A command that is on this machine but outside what the policy shows
// (a toolchain in the home): after the init's "No such file or directory"
// and the 127, sbrun says where it is and the grant to add.
TEST_P(Hardening, CommandOutsideTheSandboxIsNamedWithTheGrantToAdd) {
  const std::string bin = home_ + "/.cargo/bin";
  mkdirs(bin);
  write_file(bin + "/cargo-like", "#!/bin/sh\necho ran\n");
  ASSERT_EQ(chmod((bin + "/cargo-like").c_str(), 0755), 0);
  chown_tree(home_ + "/.cargo", uid_, gid_);
  resnapshot();
  const Result r = sbrun({bin + "/cargo-like"});
  EXPECT_EQ(r.status, 127) << r.err;
  EXPECT_EQ(r.out.find("ran"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("is " + bin + "/cargo-like on this machine, which the policy does not let the sandbox see"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("allow read \"~/.cargo/bin\";"), std::string::npos) << r.err;
  // A command the sandbox sees but that fails with 127 itself gets no hint.
  const Result own = sbrun({"/bin/sh", "-c", "exit 127"});
  EXPECT_EQ(own.status, 127);
  EXPECT_EQ(own.err.find("on this machine"), std::string::npos) << own.err;
}

TEST_P(Hardening, UserOptionChoosesWhoRunsAndRefusesRoot) {
  if (GetParam() == Mode::Root) {
    RunOptions ok;
    ok.extra_args = {"--user", kTestUser};
    const Result r = sbrun({"/bin/sh", "-c", "id -u > whoami"}, ok);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(read_file(ws_ + "/whoami"), std::to_string(uid_) + "\n");
    allow_change("/ws/whoami");
  }
  for (const char* who : {"root", "0"}) {
    RunOptions o;
    o.extra_args = {"--user", who};
    const Result r = sbrun({"/bin/sh", "-c", "echo ran > ran"}, o);
    EXPECT_EQ(r.status, 125) << who << ": " << r.err;
    EXPECT_FALSE(exists(ws_ + "/ran")) << who;
  }
}

// ---------------------------------------------------------------------------------------------
// 3. The workspace checked is the workspace mounted: a process swaps the
// workspace between a directory and a symlink to the home while sbrun
// launches, hundreds of times. No launch may write into the home, leave a
// placeholder there, or start anywhere but in the workspace.

TEST_P(Hardening, WorkspaceSwappedWithALinkToTheHomeDuringLaunch) {
  const std::string outer = root_ + "/outer";
  const std::string proj = outer + "/proj";
  const std::string other = outer + "/other";
  mkdirs(proj);
  write_file(proj + "/README.md", "# proj\n");
  ASSERT_EQ(symlink(home_.c_str(), other.c_str()), 0);
  chown_tree(root_, uid_, gid_);
  const Snapshot home_before = snapshot(home_);
  std::atomic<bool> stop{false};
  std::atomic<long> swaps{0};
  std::thread swapper([&] {
    // Bursts of swaps (proj <-> other, atomically: a directory one moment, a
    // link to ~ the next) every 200 us for 5-60 ms, then quiet for 0-250 ms,
    // so that launches fall in, across and between bursts.
    std::mt19937 rng(std::random_device{}());
    while (!stop) {
      const auto burst_end = Clock::now() + std::chrono::milliseconds(5 + rng() % 56);
      while (!stop && Clock::now() < burst_end) {
        if (syscall(SYS_renameat2, AT_FDCWD, proj.c_str(), AT_FDCWD, other.c_str(), 2 /* RENAME_EXCHANGE */) == 0) {
          ++swaps;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 251));
    }
  });
  int ran = 0, refused = 0;
  std::string unexpected;
  const int launches = 200;
  for (int i = 0; i < launches; ++i) {
    RunOptions o;
    o.workspace = proj;
    o.timeout = std::chrono::seconds(20);
    const std::string n = std::to_string(i);
    // The command also tries the home by its absolute path: it must never be writable.
    const Result r =
        run_process(sbrun_spawn({"/bin/sh", "-c",
                                 "echo " + n + " > " + shell_quote(home_ + "/escaped-" + n) +
                                     " 2>/dev/null; pwd > where-" + n + " && echo " + n + " > launched-" + n},
                                o),
                    o.timeout);
    if (r.status == 0)
      ++ran;
    else if (r.status == 125)
      ++refused;
    else
      unexpected += "launch " + n + ": exit " + std::to_string(r.status) + ": " + r.err.substr(0, 300) + "\n";
  }
  stop = true;
  swapper.join();
  EXPECT_GT(swaps.load(), launches) << "the swapper did not race the launches";
  EXPECT_TRUE(unexpected.empty()) << unexpected;
  EXPECT_GT(ran, 0) << "no launch ran at all (" << refused << " refused)";
  // Seen from the host: the home is exactly as it was, and every file a run
  // wrote is in the workspace directory, made there by a run that started in it.
  const auto home_changes = diff(home_before, snapshot(home_), {});
  EXPECT_TRUE(home_changes.empty()) << "the home changed:\n  " << join(home_changes, "\n  ");
  std::string dir = proj;
  struct stat st {};
  if (lstat(proj.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) dir = other;
  int found = 0;
  walk(dir, [&](const std::string& path, const struct stat&) {
    const std::string name = path.substr(path.rfind('/') + 1);
    if (name.rfind("where-", 0) == 0) {
      ++found;
      EXPECT_EQ(read_file(path), proj + "\n") << name << ": the command did not start in the workspace";
    }
  });
  EXPECT_EQ(found, ran);
  // What the runs wrote, and the swapped pair, are this case's own.
  allow_change("/outer");
}

// ---------------------------------------------------------------------------------------------
// 2. Host-side files follow no links: the log is never a file the sandbox can
// write, a symlink, or another file's second name.

TEST_P(Hardening, LogPlantedAsSymlinkByAnEarlyRunIsRefused) {
  const std::string bashrc = read_file(home_ + "/.bashrc");
  // The first run plants the link where a later `--log sbrun.log` in the workspace would write.
  Result plant = sbrun({"/bin/sh", "-c", "ln -s ../home/.bashrc sbrun.log && ln -s ../home logs"});
  ASSERT_EQ(plant.status, 0) << plant.err;
  allow_change("/ws/sbrun.log");
  allow_change("/ws/logs");
  for (const std::string& log : {ws_ + "/sbrun.log", ws_ + "/logs/.bashrc", ws_ + "/fresh.log"}) {
    RunOptions o;
    o.extra_args = {"--log", log};
    const Result r = sbrun({"/bin/sh", "-c", "echo ran > ran"}, o);
    EXPECT_EQ(r.status, 125) << log << ": " << r.err;
    EXPECT_NE(r.err.find("which the sandbox can write"), std::string::npos) << log << ": " << r.err;
    EXPECT_FALSE(exists(ws_ + "/ran")) << log;
    EXPECT_FALSE(exists(ws_ + "/fresh.log")) << log;
  }
  EXPECT_EQ(read_file(home_ + "/.bashrc"), bashrc);
}

TEST_P(Hardening, LogOutsideTheSandboxFollowsNoLinkAndNoHardLink) {
  const std::string bashrc = read_file(home_ + "/.bashrc");
  ASSERT_EQ(symlink((home_ + "/.bashrc").c_str(), (root_ + "/link.log").c_str()), 0);
  ASSERT_EQ(link((home_ + "/notes.txt").c_str(), (root_ + "/hard.log").c_str()), 0);
  resnapshot();
  for (const std::string& log : {root_ + "/link.log", root_ + "/hard.log"}) {
    RunOptions o;
    o.extra_args = {"--log", log};
    const Result r = sbrun({"/bin/true"}, o);
    EXPECT_EQ(r.status, 125) << log << ": " << r.err;
  }
  EXPECT_EQ(read_file(home_ + "/.bashrc"), bashrc);
  EXPECT_EQ(read_file(home_ + "/notes.txt"), "notes-" + tag_ + "\n");
  // A plain path outside the sandbox's reach is created, the user's own, 0600.
  mkdirs(root_ + "/logs");
  resnapshot();
  RunOptions o;
  o.extra_args = {"--log", root_ + "/logs/run.log"};
  const Result r = sbrun({"/bin/true"}, o);
  EXPECT_EQ(r.status, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(lstat((root_ + "/logs/run.log").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, uid_);
  EXPECT_NE(read_file(root_ + "/logs/run.log").find("\"event\":\"exit\""), std::string::npos);
  // A second run appends to its own log; a file it did not write is refused.
  const Result again = sbrun({"/bin/true"}, o);
  EXPECT_EQ(again.status, 0) << again.err;
  write_file(root_ + "/logs/notes.txt", "# my notes\n");
  lchown((root_ + "/logs/notes.txt").c_str(), uid_, gid_);
  RunOptions other;
  other.extra_args = {"--log", root_ + "/logs/notes.txt"};
  const Result refused = sbrun({"/bin/true"}, other);
  EXPECT_EQ(refused.status, 125) << refused.err;
  EXPECT_EQ(read_file(root_ + "/logs/notes.txt"), "# my notes\n");
  allow_change("/logs/notes.txt");
  allow_change("/logs/run.log");
}

TEST_P(Hardening, LogIsCapped) {
  mkdirs(root_ + "/logs");
  resnapshot();
  RunOptions o;
  o.extra_args = {"--log", root_ + "/logs/run.log", "--log-max-bytes", "4096"};
  const Result r = sbrun({"/bin/true"}, o);
  EXPECT_EQ(r.status, 0) << r.err;
  const std::string log = read_file(root_ + "/logs/run.log");
  EXPECT_LE(log.size(), 4096u + 256u);
  const auto last = log.rfind('\n', log.size() - 2);
  EXPECT_NE(log.find("log-truncated", last == std::string::npos ? 0 : last), std::string::npos) << log;
  allow_change("/logs/run.log");
}

// Every file of the policy being run is read-only inside, whatever its name:
// the root file and the files it uses.
TEST_P(Hardening, EveryFileOfThePolicyIsReadOnly) {
  const std::string root_file = ws_ + "/agent.policy";
  write_file(root_file, policy_text("use \"./rules/extra.inc\";"));
  mkdirs(ws_ + "/rules");
  write_file(ws_ + "/rules/extra.inc", "allow read \"/opt\";\n");
  resnapshot();
  RunOptions o;
  o.policy = root_file;
  auto r = probes({{"root", {"write", root_file}},
                   {"used", {"write", ws_ + "/rules/extra.inc"}},
                   {"replace", {"rename", ws_ + "/README.md", ws_ + "/rules/extra.inc"}},
                   {"unlink", {"unlink", root_file}},
                   {"control", {"create", ws_ + "/rules/other.inc"}}},
                  nullptr, o);
  EXPECT_ERRNO(r, "root");
  EXPECT_ERRNO(r, "used");
  EXPECT_ERRNO(r, "replace");
  EXPECT_ERRNO(r, "unlink");
  EXPECT_RESULT(r, "control", "ok");
  allow_change("/ws/rules/other.inc");
}

// A policy file reached through a symlink the sandbox could replace is
// refused at launch: the next run would read what the sandbox put there.
TEST_P(Hardening, PolicyThroughAReplaceableSymlinkIsRefused) {
  mkdirs(ws_ + "/policies");
  write_file(ws_ + "/policies/real.sbpolicy", policy_text(""));
  ASSERT_EQ(symlink("policies/real.sbpolicy", (ws_ + "/agent.sbpolicy").c_str()), 0);
  resnapshot();
  RunOptions o;
  o.policy = ws_ + "/agent.sbpolicy";
  const Result r = sbrun({"/bin/sh", "-c", "echo ran > ran"}, o);
  EXPECT_EQ(r.status, 125) << r.err;
  EXPECT_NE(r.err.find("E0401"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(ws_ + "/ran"));
}

// ---------------------------------------------------------------------------------------------
// 6. Bounded resources: the private /tmp and /dev/shm have sizes, and the
// sandbox's own root takes no writes.

TEST_P(Hardening, PrivateTmpAndShmAreBounded) {
  RunOptions o;
  o.extra_args = {"--tmp-size", "4M", "--shm-size", "2M"};
  const Result r = sbrun(
      {"/bin/sh", "-c",
       "dd if=/dev/zero of=/tmp/fill bs=1M count=8 2>/dev/null; echo tmp $(($(wc -c < /tmp/fill) / 1048576)); "
       "dd if=/dev/zero of=/dev/shm/fill bs=1M count=8 2>/dev/null; echo shm $(($(wc -c < /dev/shm/fill) / 1048576))"},
      o);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("tmp 4\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("shm 2\n"), std::string::npos) << r.out;
  // Without options, the documented defaults.
  RunOptions dry;
  dry.extra_args = {"--dry-run"};
  const Result plan = sbrun({"/bin/true"}, dry);
  EXPECT_NE(plan.out.find("\"size\": 2147483648"), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("\"size\": 268435456"), std::string::npos) << plan.out;
}

TEST_P(Hardening, WritesOutsideEveryGrantFailWithEROFS) {
  // A grant whose parents bubblewrap makes in the sandbox's root: /var and
  // /var/lib exist only on the way to it. (Not the probe's own directory: a
  // checkout under /tmp puts that inside the private, writable /tmp.)
  ASSERT_TRUE(exists("/var/lib/dpkg")) << "a Debian machine has /var/lib/dpkg";
  set_policy("allow read \"/var/lib/dpkg\";");
  resnapshot();
  auto r = probes({{"root", {"create", "/created-in-root"}},
                   {"root_dir", {"mkdir", "/made-in-root"}},
                   {"on_the_way", {"create", "/var/lib/beside-the-grant"}},
                   {"on_the_way_dir", {"mkdir", "/var/made-on-the-way"}},
                   {"dev", {"create", "/dev/created"}},
                   {"tmp", {"create", "/tmp/ok"}},
                   {"shm", {"create", "/dev/shm/ok"}}});
  EXPECT_RESULT(r, "root", "errno EROFS");
  EXPECT_RESULT(r, "root_dir", "errno EROFS");
  EXPECT_RESULT(r, "on_the_way", "errno EROFS");
  EXPECT_RESULT(r, "on_the_way_dir", "errno EROFS");
  EXPECT_RESULT(r, "dev", "errno EROFS");
  EXPECT_RESULT(r, "tmp", "ok");
  EXPECT_RESULT(r, "shm", "ok");
}

// ---------------------------------------------------------------------------------------------
// 7. Fail closed without a denial of service: files planted to match deny
// globs must not stop every later launch, and each stays protected.

TEST_P(Hardening, ManyPlantedDenyMatchesStillLaunchAndStayProtected) {
  // 3,100 `.env` files, one per directory (once: bubblewrap's 9,000-argument limit, exit 125).
  for (int i = 0; i < 3100; ++i) {
    mkdirs(ws_ + "/d" + std::to_string(i));
    write_file(ws_ + "/d" + std::to_string(i) + "/.env", "planted-" + tag_ + "\n");
  }
  resnapshot();
  const Result r = probe({"read", ws_ + "/d7/.env"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("errno ", 0), 0u) << r.out;
  EXPECT_NE(r.err.find("W0104"), std::string::npos) << "the user is not told:\n" << r.err;
}

TEST_P(Hardening, HundredThousandDenyMatchesStillLaunchAndStayProtected) {
  // 100,000 files matching `./**/*.pem` (std.secrets), 1,000 in each of 100 directories.
  for (int d = 0; d < 100; ++d) {
    const std::string dir = ws_ + "/certs" + std::to_string(d);
    mkdirs(dir);
    for (int f = 0; f < 1000; ++f) write_file(dir + "/k" + std::to_string(f) + ".pem", "k\n");
  }
  write_file(ws_ + "/certs0/README.md", "readme\n");
  resnapshot();
  RunOptions o;
  o.timeout = std::chrono::seconds(60);
  auto r = probes({{"pem", {"read", ws_ + "/certs42/k17.pem"}},
                   {"pem_first", {"read", ws_ + "/certs0/k0.pem"}},
                   {"sibling", {"read", ws_ + "/certs0/README.md"}},
                   {"workspace", {"read", ws_ + "/README.md"}}},
                  nullptr, o);
  EXPECT_ERRNO(r, "pem");
  EXPECT_ERRNO(r, "pem_first");
  EXPECT_ERRNO(r, "sibling");  // hidden with its directory: restrictive, and said (W0104)
  EXPECT_RESULT(r, "workspace", "ok # project\\n");
}

TEST_P(Hardening, LinkOutOfADeniedDirectoryIsNamed) {
  mkdirs(home_ + "/dotfiles");
  write_file(home_ + "/dotfiles/id_rsa", canary_id_ + "-dotfiles-key\n", 0600);
  canary_paths_.push_back(home_ + "/dotfiles/id_rsa");
  ASSERT_EQ(symlink((home_ + "/dotfiles/id_rsa").c_str(), (home_ + "/.ssh/id_rsa").c_str()), 0);
  set_policy("allow read \"~/dotfiles\";\ndeny read \"~/dotfiles/id_rsa\";");
  resnapshot();
  // Denied explicitly: no warning.
  Result quiet = sbrun({"/bin/true"});
  EXPECT_EQ(quiet.status, 0) << quiet.err;
  EXPECT_EQ(quiet.err.find("W0105"), std::string::npos) << quiet.err;
  // Readable: named at launch, without -v.
  set_policy("allow read \"~/dotfiles\";");
  resnapshot();
  Result loud = sbrun({"/bin/true"});
  EXPECT_EQ(loud.status, 0) << loud.err;
  EXPECT_NE(loud.err.find("W0105"), std::string::npos) << loud.err;
  EXPECT_NE(loud.err.find(home_ + "/dotfiles/id_rsa"), std::string::npos) << loud.err;
}

// bubblewrap's messages never reach the user raw: each becomes sbrun's,
// saying what to fix (bubblewrap replaced here by a script that fails as it
// does where user namespaces are disabled).
TEST_P(Hardening, BubblewrapMessagesBecomeSbrunDiagnostics) {
  if (GetParam() != Mode::Root) GTEST_SKIP() << "covering /usr/bin/bwrap needs a mount namespace of root's";
  const std::string fake = root_ + "/fake-bwrap";
  write_file(fake,
             "#!/bin/sh\ncat >/dev/null <&3\necho 'bwrap: Creating new namespace failed: Operation not permitted' "
             ">&2\nexit 1\n",
             0755);
  resnapshot();
  Spawn s = sbrun_spawn({"/bin/sh", "-c", "echo ran > ran"}, {});
  std::string line = "mount --bind " + shell_quote(fake) + " /usr/bin/bwrap && exec";
  for (const auto& a : s.argv) line += " " + shell_quote(a);
  s.argv = {"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", line};
  const Result r = run_process(s, std::chrono::seconds(20));
  EXPECT_EQ(r.status, 125) << r.err;
  EXPECT_EQ(r.err.rfind("sbrun: ", 0), 0u) << "the first line is not sbrun's:\n" << r.err;
  EXPECT_NE(r.err.find("enable unprivileged user namespaces"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bubblewrap said: bwrap: Creating new namespace failed"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("\nbwrap:"), std::string::npos) << "a raw bubblewrap line:\n" << r.err;
  EXPECT_FALSE(exists(ws_ + "/ran"));
}

// ---------------------------------------------------------------------------------------------
// A `unix` grant exposes sockets and nothing else (the lowering issue's
// first item, here because it was a way past every deny): not a directory,
// not a file, never where a read or write denial holds.

TEST_P(Hardening, UnixGrantExposesOnlySockets) {
  mkdirs(ws_ + "/run");
  write_file(ws_ + "/run/file.txt", "host file\n");
  HostSocket* agent = listen_on(ws_ + "/run/agent.sock");
  ASSERT_NE(agent, nullptr);
  // std.agent makes the workspace writable: a read-only workspace here, so
  // that only the unix grant could make anything in it writable.
  set_base_policy("allow read \"./**\";\n"
                  "allow unix \"./run\";\n");
  resnapshot();
  auto r = probes({{"append", {"write", ws_ + "/run/file.txt"}},
                   {"create", {"create", ws_ + "/run/new"}},
                   {"connect", {"unix-connect", ws_ + "/run/agent.sock"}}});
  EXPECT_ERRNO(r, "append");
  EXPECT_ERRNO(r, "create");
  EXPECT_RESULT(r, "connect", "allowed");
  EXPECT_TRUE(agent->touched(SOCK_STREAM)) << "the granted socket was not reached";
  EXPECT_EQ(read_file(ws_ + "/run/file.txt"), "host file\n");
}

// A directory grant searches for sockets within a budget; past it the
// sockets further in stay unreachable, and sbrun says so.
TEST_P(Hardening, UnixGrantWalkPastItsBudgetIsSaidAndBindsNothingFurther) {
  // `run` alone lists more entries than the budget: the walk never reaches `run/z`.
  mkdirs(ws_ + "/run/z");
  for (int i = 0; i < 10050; ++i) write_file(ws_ + "/run/f" + std::to_string(i), "");
  HostSocket* deep = listen_on(ws_ + "/run/z/deep.sock");
  ASSERT_NE(deep, nullptr);
  set_base_policy("allow read \"./**\";\n"
                  "allow unix \"./run\";\n");
  resnapshot();
  Result run;
  auto r = probes({{"deep", {"unix-connect", ws_ + "/run/z/deep.sock"}}}, &run);
  EXPECT_BLOCKED(r, "deep");
  EXPECT_FALSE(deep->touched(SOCK_STREAM));
  EXPECT_NE(run.err.find("W0103"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("stopped after 10000 entries"), std::string::npos) << run.err;
  RunOptions strict;
  strict.extra_args = {"--target-strict"};
  const Result refused = sbrun({"/bin/true"}, strict);
  EXPECT_EQ(refused.status, 125) << refused.err;
}

TEST_P(Hardening, UnixGrantOfTheHomeDoesNotUndoItsDenials) {
  set_base_policy("allow write \"./**\";\n"
                  "deny read \"~\";\nallow unix \"~\";\n");
  HostSocket* sock = listen_on(home_ + "/app.sock");
  ASSERT_NE(sock, nullptr);
  resnapshot();
  const std::string bashrc = read_file(home_ + "/.bashrc");
  auto r = probes({{"key", {"read", home_ + "/.ssh/id_ed25519"}},
                   {"bashrc", {"write", home_ + "/.bashrc"}},
                   {"plant", {"create", home_ + "/planted"}},
                   {"socket", {"unix-connect", home_ + "/app.sock"}}});
  EXPECT_ERRNO(r, "key");
  EXPECT_ERRNO(r, "bashrc");
  EXPECT_ERRNO(r, "plant");
  EXPECT_BLOCKED(r, "socket");  // `deny read "~"` holds over the grant
  EXPECT_FALSE(sock->touched(SOCK_STREAM));
  EXPECT_EQ(read_file(home_ + "/.bashrc"), bashrc);
}

// ---------------------------------------------------------------------------------------------
// 8. Smaller leaks: the locale variables are named, not matched by `LC_*`.

TEST_P(Hardening, LocaleVariablesByNameOnly) {
  Spawn s = sbrun_spawn({"/bin/sh", "-c", "env"}, {});
  s.env.push_back("LC_ALL=C.UTF-8");
  s.env.push_back("LC_GITHUB_TOKEN=" + canary_id_ + "-lc");
  s.env.push_back("LC_TIME=C");
  const Result r = run_process(s, std::chrono::seconds(20));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("LC_ALL=C.UTF-8"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("LC_TIME=C"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("LC_GITHUB_TOKEN"), std::string::npos) << r.out;
  check_run(r);
}

// `*` spans name characters only: `BASH_FUNC_*` passes no exported shell
// function (which every bash inside would import and run); the exact name does.
TEST_P(Hardening, ExportedShellFunctionsPassOnlyByExactName) {
  set_policy("allow env \"BASH_FUNC_*\", \"MY_*\", \"BASH_FUNC_greet%%\";");
  resnapshot();
  Spawn s = sbrun_spawn({"/bin/bash", "-c", "ls /; greet; env"}, {});
  s.env.push_back("BASH_FUNC_ls%%=() {  echo " + canary_id_ + "-redefined; }");
  s.env.push_back("BASH_FUNC_greet%%=() {  echo hello-from-greet; }");
  s.env.push_back("MY_VAR=plain");
  const Result r = run_process(s, std::chrono::seconds(20));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find(canary_id_ + "-redefined"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("BASH_FUNC_ls"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hello-from-greet"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MY_VAR=plain"), std::string::npos) << r.out;
  check_run(r);
}

// ---------------------------------------------------------------------------------------------
// 4. Git metadata cannot be redirected: every file through which git finds
// configuration or code, for every policy that makes the workspace writable.

TEST_P(Hardening, GitMetadataCannotBeRedirected) {
  // Not std.agent: the protection holds for any policy.
  set_base_policy("allow write \"./**\";\n");
  mkdirs(ws_ + "/.git/modules/sub/hooks");
  write_file(ws_ + "/.git/modules/sub/config", "[core]\n");
  mkdirs(ws_ + "/.git/worktrees/wt");
  write_file(ws_ + "/.git/worktrees/wt/gitdir", "/elsewhere/wt/.git\n");
  write_file(ws_ + "/.git/worktrees/wt/commondir", "../..\n");
  resnapshot();
  auto r = probes({{"commondir", {"create", ws_ + "/.git/commondir"}},
                   {"config", {"write", ws_ + "/.git/config"}},
                   {"config_worktree", {"create", ws_ + "/.git/config.worktree"}},
                   {"hook", {"create", ws_ + "/.git/hooks/pre-commit"}},
                   {"info", {"create", ws_ + "/.git/info/attributes"}},
                   {"module_config", {"write", ws_ + "/.git/modules/sub/config"}},
                   {"module_hook", {"create", ws_ + "/.git/modules/sub/hooks/post-checkout"}},
                   {"worktree_gitdir", {"write", ws_ + "/.git/worktrees/wt/gitdir"}},
                   {"worktree_commondir", {"write", ws_ + "/.git/worktrees/wt/commondir"}},
                   {"gitmodules", {"create", ws_ + "/.gitmodules"}},
                   {"replace_dot_git", {"rename", ws_ + "/.git", ws_ + "/.git-old"}},
                   // What git itself writes keeps working.
                   {"head", {"write", ws_ + "/.git/HEAD"}},
                   {"index_lock", {"create", ws_ + "/.git/index.lock"}}});
  for (const char* label : {"commondir", "config", "config_worktree", "hook", "info", "module_config", "module_hook",
                            "worktree_gitdir", "worktree_commondir", "gitmodules", "replace_dot_git"}) {
    EXPECT_ERRNO(r, label);
  }
  EXPECT_RESULT(r, "head", "ok");
  EXPECT_RESULT(r, "index_lock", "ok");
  allow_change("/ws/.git/HEAD");
  allow_change("/ws/.git/index.lock");
  EXPECT_FALSE(exists(ws_ + "/.git/commondir")) << "a placeholder was left behind";
}

TEST_P(Hardening, GitStillWorksInsideWithItsMetadataProtected) {
  // A real repository, made by the run's user outside the sandbox.
  remove_tree(ws_ + "/.git");
  const Result init = run_process(host_command({"/usr/bin/git", "-c", "init.defaultBranch=main", "init", "-q", ws_}),
                                  std::chrono::seconds(20));
  ASSERT_EQ(init.status, 0) << init.err;
  resnapshot();
  const Result r = sbrun({"/bin/sh", "-c",
                          "git status --short >/dev/null && git add README.md && "
                          "git -c user.email=a@b.test -c user.name=agent commit -q -m inside && echo committed; "
                          "echo ../evil > .git/commondir 2>/dev/null || echo refused"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("committed"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("refused"), std::string::npos) << r.out;
  EXPECT_FALSE(exists(ws_ + "/.git/commondir"));
  allow_change("/ws/.git");
}

TEST_P(Hardening, GitAbsentAtLaunchCannotBeCreated) {
  remove_tree(ws_ + "/.git");
  resnapshot();
  const Result r = sbrun({"/bin/sh", "-c",
                          "git init -q . 2>/dev/null && echo initialised; mkdir -p .git/x 2>/dev/null && echo made; "
                          "echo 'gitdir: ../evil' > .git 2>/dev/null && echo wrote; true"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find("initialised"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("made"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("wrote"), std::string::npos) << r.out;
  EXPECT_FALSE(exists(ws_ + "/.git"));
}

TEST_P(Hardening, LinkedWorktreeStartsAndItsRepositoryIsProtected) {
  const std::string main_repo = root_ + "/main";
  const std::string wt = root_ + "/wt";
  mkdirs(main_repo);
  write_file(main_repo + "/README.md", "# main\n");
  chown_tree(root_, uid_, gid_);
  const auto git = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/git",
                                     "-C",
                                     main_repo,
                                     "-c",
                                     "user.email=a@b.test",
                                     "-c",
                                     "user.name=u",
                                     "-c",
                                     "init.defaultBranch=main",
                                     "-c",
                                     "safe.directory=*"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(host_command(argv), std::chrono::seconds(20));
  };
  ASSERT_EQ(git({"init", "-q"}).status, 0);
  ASSERT_EQ(git({"add", "README.md"}).status, 0);
  ASSERT_EQ(git({"commit", "-q", "-m", "init"}).status, 0);
  const Result add = git({"worktree", "add", "-q", wt});
  ASSERT_EQ(add.status, 0) << add.err;
  write_file(policy_, policy_text("allow write \"" + main_repo + "/.git\";"));
  chown_tree(root_, uid_, gid_);
  resnapshot();
  RunOptions o;
  o.workspace = wt;
  const std::string gitdir = main_repo + "/.git/worktrees/wt";
  auto r = probes({{"dot_git", {"write", wt + "/.git"}},
                   {"main_config", {"write", main_repo + "/.git/config"}},
                   {"main_hook", {"create", main_repo + "/.git/hooks/pre-commit"}},
                   {"wt_commondir", {"write", gitdir + "/commondir"}},
                   {"wt_gitdir", {"write", gitdir + "/gitdir"}},
                   {"wt_config", {"create", gitdir + "/config.worktree"}},
                   {"wt_head", {"write", gitdir + "/HEAD"}}},
                  nullptr, o);
  for (const char* label : {"dot_git", "main_config", "main_hook", "wt_commondir", "wt_gitdir", "wt_config"}) {
    EXPECT_ERRNO(r, label);
  }
  EXPECT_RESULT(r, "wt_head", "ok");
  allow_change("/main/.git/worktrees/wt/HEAD");
}

// ---------------------------------------------------------------------------------------------
// 5. Files that run later cannot be planted, in the home (granted for writing
// here) and in the workspace: each path is created from inside (parents
// first), and must not exist on the host afterwards.

TEST_P(Hardening, PersistenceFilesCannotBePlanted) {
  set_policy("allow read \"~\";\nallow write \"~\";");
  resnapshot();
  const std::vector<std::string> targets = {
      // Shells: completion, drop-in directories, compiled startup files.
      "home/.bash_completion", "home/.bashrc.d/evil.sh", "home/.local/share/bash-completion/completions/git",
      "home/.config/fish/conf.d/evil.fish", "home/.zshenv", "home/.zshrc.zwc",
      // Window managers and compositors, user services.
      "home/.config/i3/config", "home/.config/sway/config", "home/.config/hypr/hyprland.conf",
      "home/.config/containers/systemd/evil.container", "home/.config/systemd/user/evil.service",
      "home/.config/autostart/evil.desktop",
      // Build tools, debuggers and REPLs.
      "home/.gradle/init.d/evil.gradle", "home/.gdbinit", "home/.psqlrc", "home/.Rprofile",
      "home/.ipython/profile_default/startup/evil.py",
      // Python's user site-packages: .pth files and the customize modules.
      "home/.local/lib/python3.11/site-packages/evil.pth", "home/.local/lib/python3.11/site-packages/sitecustomize.py",
      "home/.local/lib/python3.11/site-packages/usercustomize.py",
      // The workspace: direnv, cargo, dev containers, editors, agents.
      "ws/.envrc", "ws/.cargo/config.toml", "ws/.cargo/config", "ws/rust-toolchain.toml", "ws/.devcontainer/x.json",
      "ws/.devcontainer.json", "ws/.vscode/tasks.json", "ws/.idea/workspace.xml", "ws/.mcp.json",
      "ws/.claude/settings.json", "ws/.cursor/mcp.json", "ws/.mvn/extensions.xml", "ws/.direnv/bin/ls"};
  std::string script;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const std::string path = root_ + "/" + targets[i];
    script += "mkdir -p " + shell_quote(path.substr(0, path.rfind('/'))) + " 2>/dev/null; if (echo planted > " +
              shell_quote(path) + ") 2>/dev/null; then echo '@@" + std::to_string(i) + " planted'; else echo '@@" +
              std::to_string(i) + " refused'; fi\n";
  }
  const Result r = sbrun({"/bin/sh", "-c", script});
  EXPECT_EQ(r.status, 0) << r.err;
  auto results = parse_labels(r.out);
  // Directories on the way that the sandbox may create (`~` is writable) may
  // stay; the targets must not exist, and nothing else may be new.
  for (std::size_t i = 0; i < targets.size(); ++i) {
    EXPECT_EQ(results[std::to_string(i)], "refused") << targets[i];
    EXPECT_FALSE(exists(root_ + "/" + targets[i])) << targets[i] << " was planted on the host";
    for (std::string up = targets[i]; up.find('/') != std::string::npos;) {
      up = up.substr(0, up.rfind('/'));
      struct stat st {};
      if (up.find('/') != std::string::npos && lstat((root_ + "/" + up).c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
          before_.count("/" + up) == 0) {
        allowed_dirs_.insert("/" + up);
      }
    }
  }
  // TearDown's snapshot comparison ignores subtrees; check new directories here instead.
  for (const auto& change : diff(before_, snapshot(root_), {})) {
    const std::string rel = change.substr(4, change.find(' ', 4) - 4);
    const bool new_dir = change.rfind("new ", 0) == 0 && change.find("(dir ") != std::string::npos;
    EXPECT_TRUE(new_dir && allowed_dirs_.count(rel) > 0) << "the host changed: " << change;
  }
  for (const auto& d : allowed_dirs_) allow_change(d);
}

INSTANTIATE_TEST_SUITE_P(Runtime, Hardening, ::testing::Values(Mode::Root, Mode::User), mode_name);

}  // namespace
}  // namespace sbtest

int main(int argc, char** argv) { return sbtest::run_all_tests(argc, argv); }
