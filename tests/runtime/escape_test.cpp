// Escape tests of sbrun (ATTACKS.md section 1, FS-xx), over the harness in
// escape_harness.hpp: each case runs sbrun on a `use std.agent;` policy with a
// hostile command and checks the outcome inside and on the host, with sbrun
// started as root and as an unprivileged user.
//
//   runtime_escape_tests [--sbrun=PATH] [--probe=PATH] [gtest options]
#include "escape_harness.hpp"

namespace sbtest {
namespace {

// ---------------------------------------------------------------------------------------------
// The harness itself: the probe runs, the workspace is writable, files are the run user's.

TEST_P(Escape, Harness_ProbeRunsAndWorkspaceIsWritable) {
  auto r = probes({{"create", {"create", ws_ + "/created-inside"}},
                   {"read", {"read", ws_ + "/README.md"}},
                   {"readme", {"read", "README.md"}}});
  EXPECT_RESULT(r, "create", "ok");
  EXPECT_RESULT(r, "read", "ok # project\\n");
  EXPECT_RESULT(r, "readme", "ok # project\\n");  // the working directory is the workspace
  struct stat st {};
  ASSERT_EQ(lstat((ws_ + "/created-inside").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, uid_) << "the file was not created by the run's user";
  allow_change("/ws/created-inside");
}

// ---------------------------------------------------------------------------------------------
// 1.1 Read/write boundaries

TEST_P(Escape, FS01_WriteOutsideRoots) {
  const std::string etc_out = "/etc/OUT-sbrun-" + tag_;
  const std::string vartmp_out = "/var/tmp/OUT-sbrun-" + tag_;
  host_paths_to_remove_ = {etc_out, vartmp_out, "/usr/OUT-sbrun-" + tag_};
  auto r = probes({{"home", {"create", home_ + "/OUT"}},
                   {"home_config", {"create", home_ + "/.config/OUT"}},
                   {"home_mkdir", {"mkdir", home_ + "/OUTDIR"}},
                   {"etc", {"create", etc_out}},
                   {"sibling", {"create", "../sibling/OUT"}},
                   {"sibling_abs", {"create", root_ + "/sibling/OUT"}},
                   {"sibling_write", {"write", root_ + "/sibling/file.txt"}},
                   {"vartmp", {"create", "/tmp/../var/tmp/" + vartmp_out.substr(9)}},
                   {"usr", {"create", "/usr/OUT-sbrun-" + tag_}},
                   {"parent", {"create", "../OUT"}},
                   {"control", {"create", "./inside-ok"}}});
  for (const char* label : {"home", "home_config", "home_mkdir", "etc", "sibling", "sibling_abs", "sibling_write",
                            "vartmp", "usr"}) {
    EXPECT_ERRNO(r, label);
  }
  EXPECT_RESULT(r, "control", "ok");
  allow_change("/ws/inside-ok");
  for (const auto& p : {home_ + "/OUT", home_ + "/.config/OUT", home_ + "/OUTDIR", etc_out, root_ + "/sibling/OUT",
                        vartmp_out, "/usr/OUT-sbrun-" + tag_, root_ + "/OUT"}) {
    EXPECT_FALSE(exists(p)) << p << " was created on the host";
  }
  EXPECT_EQ(read_file(root_ + "/sibling/file.txt"), "sibling\n");
}

TEST_P(Escape, FS02_CanaryFilesUnreadable) {
  std::vector<ProbeCall> calls;
  for (std::size_t i = 0; i < canary_paths_.size(); ++i) {
    calls.push_back({"plain" + std::to_string(i), {"read", canary_paths_[i]}});
    // FS-16: magic links resolve inside the sandbox root.
    calls.push_back({"procroot" + std::to_string(i), {"read", "/proc/self/root" + canary_paths_[i]}});
  }
  calls.push_back({"cwd_up", {"read", "/proc/self/cwd/../home/.ssh/id_ed25519"}});
  calls.push_back({"relative", {"read", "../home/.aws/credentials"}});
  calls.push_back({"ls_ssh", {"ls", home_ + "/.ssh"}});
  auto r = probes(calls);
  for (const auto& c : calls) EXPECT_ERRNO(r, c.label);
  // The same with ordinary tools.
  std::string cat = "cat";
  for (const auto& p : canary_paths_) cat += " " + shell_quote(p);
  const Result c = sbrun({"/bin/sh", "-c", cat + "; grep -r SBRUN-CANARY " + shell_quote(home_) + " . 2>&1; true"});
  EXPECT_EQ(c.status, 0);
}

// FS-04: a policy that grants the whole home (read and write) still hides the secrets and
// keeps the persistence files read-only: deny beats allow.
TEST_P(Escape, FS04_HomeGrantedStillDeniesSecretsAndPersistence) {
  set_policy("allow read \"~\";\nallow write \"~\";");
  resnapshot();
  std::vector<ProbeCall> calls;
  for (std::size_t i = 0; i + 1 < canary_paths_.size(); ++i) {  // the home's canaries
    calls.push_back({"read" + std::to_string(i), {"read", canary_paths_[i]}});
  }
  calls.push_back({"bashrc", {"write", home_ + "/.bashrc"}});
  calls.push_back({"zshrc", {"create", home_ + "/.zshrc"}});
  calls.push_back({"profile", {"create", home_ + "/.profile"}});
  calls.push_back({"autostart_dir", {"mkdir", home_ + "/.config/autostart"}});
  calls.push_back({"autostart", {"create", home_ + "/.config/autostart/x.desktop"}});
  calls.push_back({"authorized_keys", {"create", home_ + "/.ssh/authorized_keys"}});
  calls.push_back({"local_bin", {"create", home_ + "/.local/bin/git"}});
  calls.push_back({"gitconfig", {"create", home_ + "/.gitconfig"}});
  calls.push_back({"rename_ssh", {"rename", home_ + "/.ssh", home_ + "/ssh2"}});
  calls.push_back({"rename_config", {"rename", home_ + "/.config", home_ + "/config2"}});
  calls.push_back({"notes_read", {"read", home_ + "/notes.txt"}});
  calls.push_back({"notes_write", {"write", home_ + "/notes.txt"}});
  auto r = probes(calls);
  for (const auto& c : calls) {
    if (c.label.rfind("notes", 0) != 0) {
      EXPECT_ERRNO(r, c.label);
    }
  }
  // Controls: the grant works for ordinary files.
  EXPECT_RESULT(r, "notes_read", "ok notes-" + tag_ + "\\n");
  EXPECT_RESULT(r, "notes_write", "ok");
  allow_change("/home/notes.txt");
  EXPECT_EQ(read_file(home_ + "/.bashrc"), "# the user's bashrc\n");
  for (const auto& p : {home_ + "/.zshrc", home_ + "/.profile", home_ + "/.config/autostart", home_ + "/.local",
                        home_ + "/.gitconfig", home_ + "/.ssh/authorized_keys", home_ + "/ssh2"}) {
    EXPECT_FALSE(exists(p)) << p << " exists on the host after the run";
  }
}

// A directory the launch cannot list (root-owned, mode 0711, in the user's
// workspace) may still hold a `.env` the command can open by name: a deny
// glob must cover it rather than silently miss what the walk could not see.
TEST_P(Escape, FS02_DotEnvInUnlistableDirectory) {
  const std::string locked = ws_ + "/locked";
  mkdirs(locked);
  const std::string secret = "LOCKED-ENV-" + tag_;
  write_file(locked + "/.env", secret + "\n", 0644);
  resnapshot();  // gives the whole tree to the run user; then lock the directory
  ASSERT_EQ(chown(locked.c_str(), 0, 0), 0);
  ASSERT_EQ(chmod(locked.c_str(), 0711), 0);
  before_ = snapshot(root_);
  const Result r = sbrun({"/bin/cat", "locked/.env"});
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(r.out.find(secret), std::string::npos) << "a .env in an unlistable directory was read";
}

TEST_P(Escape, FS02_DotEnvUnreadable) {
  auto r = probes({{"read", {"read", ".env"}},
                   {"read_abs", {"read", ws_ + "/.env"}},
                   {"hardlink", {"hardlink", ".env", "env-link"}},
                   {"rename", {"rename", ".env", "env-moved"}},
                   {"write", {"write", ".env"}}});
  for (const char* l : {"read", "read_abs", "hardlink", "rename", "write"}) EXPECT_ERRNO(r, l);
  const Result cp = sbrun({"/bin/sh", "-c", "cp .env copied && cat copied"});
  EXPECT_NE(cp.status, 0);
  EXPECT_FALSE(exists(ws_ + "/copied"));
  EXPECT_FALSE(exists(ws_ + "/env-link"));
  EXPECT_FALSE(exists(ws_ + "/env-moved"));
}

// RES-06: the environment is clean.
TEST_P(Escape, RES06_CanaryTokenNotInEnvironment) {
  const Result e = sbrun({"/usr/bin/env"});
  EXPECT_EQ(e.status, 0) << e.err;
  EXPECT_NE(e.out.find("HOME=" + home_), std::string::npos) << "control: env printed nothing useful:\n" << e.out;
  EXPECT_EQ(e.out.find("SBRUN_CANARY_TOKEN"), std::string::npos) << e.out;
  auto r = probes({{"env", {"env"}}, {"environ", {"read", "/proc/self/environ"}}, {"init", {"read", "/proc/1/environ"}}});
  for (const char* l : {"env", "environ", "init"}) {
    EXPECT_EQ(r[l].find("SBRUN_CANARY_TOKEN"), std::string::npos) << r[l];
  }
  EXPECT_NE(r["env"].find("TMPDIR=/tmp"), std::string::npos) << r["env"];
}

// ---------------------------------------------------------------------------------------------
// 1.6 Persistence: files that run later outside the sandbox

TEST_P(Escape, FS40_GitHooksReadOnly) {
  auto r = probes({{"create", {"create", ".git/hooks/pre-commit"}},
                   {"write", {"write", ".git/hooks/pre-commit"}},
                   {"mkdir", {"mkdir", ".git/hooks/sub"}},
                   {"unlink", {"unlink", ".git/hooks/pre-push.sample"}},
                   {"sample", {"write", ".git/hooks/pre-push.sample"}},
                   {"rename_in", {"rename", "README.md", ".git/hooks/post-checkout"}},
                   {"control", {"create", ".git/description"}}});
  for (const char* l : {"create", "write", "mkdir", "unlink", "sample", "rename_in"}) EXPECT_ERRNO(r, l);
  EXPECT_RESULT(r, "control", "ok");  // the rest of .git stays writable
  allow_change("/ws/.git/description");
  EXPECT_FALSE(exists(ws_ + "/.git/hooks/pre-commit"));
  EXPECT_FALSE(exists(ws_ + "/.git/hooks/post-checkout"));
}

// FS-13 attack A: the workspace has no .git at all; creating the hook must fail and
// leave nothing behind (the placeholders are removed).
TEST_P(Escape, FS13_GitHooksWhenWorkspaceHasNoGit) {
  remove_tree(ws_ + "/.git");
  resnapshot();
  const Result sh = sbrun({"/bin/sh", "-c", "mkdir -p .git/hooks && echo x > .git/hooks/pre-commit"});
  EXPECT_NE(sh.status, 0) << "creating .git/hooks/pre-commit succeeded";
  auto r = probes({{"hook", {"create", ".git/hooks/pre-commit"}}, {"config", {"create", ".git/config"}}});
  EXPECT_ERRNO(r, "hook");
  EXPECT_ERRNO(r, "config");
  EXPECT_FALSE(exists(ws_ + "/.git")) << "a .git placeholder was left behind";
}

// More placeholders than one descriptor-passing message to the janitor
// carries (200): every one protects, every one is gone when sbrun has
// exited, and the janitor that releases them is gone soon after.
TEST_P(Escape, FS13_ManyPlaceholdersProtectAndLeaveNothing) {
  std::string extra;
  for (int i = 0; i < 260; ++i) extra += "deny write \"./missing-" + std::to_string(i) + "\";\n";
  set_policy(extra);
  resnapshot();
  // Each is an empty file inside (never a directory): not writable, not
  // removable, nothing below it.
  const Result r = sbrun({"/bin/sh", "-c",
                          "n=0; for f in missing-*; do [ -f \"$f\" ] && [ ! -s \"$f\" ] && n=$((n+1)); done; "
                          "echo \"files=$n\"; "
                          "(echo x > missing-0 || rm -f missing-0 || mkdir -p missing-0/f) 2>/dev/null || echo protected-0; "
                          "(echo x > missing-259 || mv missing-259 m || mkdir -p missing-259/f) 2>/dev/null || "
                          "echo protected-259"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("files=260"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("protected-0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("protected-259"), std::string::npos) << r.out;
  // No waiting: the names are gone before sbrun exits.
  const auto changes = diff(before_, snapshot(root_), allowed_changes_);
  EXPECT_TRUE(changes.empty()) << "left behind:\n  " << join(changes, "\n  ");
}

TEST_P(Escape, FS43_HomeBashrc) {
  auto r = probes({{"write", {"write", home_ + "/.bashrc"}}, {"zshrc", {"create", home_ + "/.zshrc"}}});
  EXPECT_ERRNO(r, "write");
  EXPECT_ERRNO(r, "zshrc");
  EXPECT_EQ(read_file(home_ + "/.bashrc"), "# the user's bashrc\n");
  EXPECT_FALSE(exists(home_ + "/.zshrc"));
}

TEST_P(Escape, FS43_WorkspaceShellFiles) {
  auto r = probes({{"bashrc", {"create", ".bashrc"}},
                   {"bashrc_write", {"write", ".bashrc"}},
                   {"profile", {"create", ".profile"}},
                   {"envrc", {"create", ".envrc"}}});
  for (const char* l : {"bashrc", "bashrc_write", "profile", "envrc"}) EXPECT_ERRNO(r, l);
  for (const char* f : {".bashrc", ".profile", ".envrc"}) EXPECT_FALSE(exists(ws_ + "/" + f)) << f;
}

TEST_P(Escape, FS41_GitConfigReadOnly) {
  const std::string original = read_file(ws_ + "/.git/config");
  auto r = probes({{"write", {"write", ".git/config"}},
                   {"unlink", {"unlink", ".git/config"}},
                   {"rename", {"rename", ".git/config", ".git/config.old"}},
                   {"replace", {"rename", "README.md", ".git/config"}},
                   {"worktree", {"create", ".git/config.worktree"}},
                   {"gitmodules", {"create", ".gitmodules"}},
                   {"read", {"read", ".git/config"}}});
  for (const char* l : {"write", "unlink", "rename", "replace", "worktree", "gitmodules"}) EXPECT_ERRNO(r, l);
  EXPECT_EQ(r["read"].rfind("ok [core]", 0), 0u) << "control: .git/config stays readable: " << r["read"];
  if (access("/usr/bin/git", X_OK) == 0) {
    const Result g = sbrun({"/usr/bin/git", "config", "core.fsmonitor", "touch /tmp/PWNED"});
    EXPECT_NE(g.status, 0) << "git config succeeded: " << g.out << g.err;
  }
  EXPECT_EQ(read_file(ws_ + "/.git/config"), original);
}

// FS-44 / FS-13 attack B and FS-45: editor, agent and CI configuration that does not exist yet.
TEST_P(Escape, FS44_IdeAndAgentConfigWhenAbsent) {
  const Result sh =
      sbrun({"/bin/sh", "-c", "mkdir -p .vscode && echo '{\"tasks\":[]}' > .vscode/tasks.json"});
  EXPECT_NE(sh.status, 0) << ".vscode/tasks.json was written";
  auto r = probes({{"vscode", {"create", ".vscode/tasks.json"}},
                   {"idea", {"create", ".idea/workspace.xml"}},
                   {"claude", {"create", ".claude/settings.json"}},
                   {"mcp", {"create", ".mcp.json"}},
                   {"workflow", {"create", ".github/workflows/ci.yml"}},
                   {"devcontainer", {"create", ".devcontainer/devcontainer.json"}},
                   {"husky", {"create", ".husky/pre-commit"}}});
  for (const auto& [label, result] : r) EXPECT_ERRNO(r, label);
  for (const char* f : {".vscode", ".idea", ".claude", ".mcp.json", ".github", ".devcontainer", ".husky"}) {
    EXPECT_FALSE(exists(ws_ + "/" + f)) << f << " left on the host";
  }
}

// FS-45: the policy file itself, inside the workspace.
TEST_P(Escape, FS45_PolicyInWorkspaceReadOnly) {
  const std::string in_ws = ws_ + "/agent.sbpolicy";
  write_file(in_ws, policy_text(""));
  resnapshot();
  RunOptions o;
  o.policy = in_ws;
  std::string script = "printf '%s %s\\n' @@write \"$(" + shell_quote(g_probe) + " write agent.sbpolicy)\"; " +
                       "printf '%s %s\\n' @@rename \"$(" + shell_quote(g_probe) + " rename agent.sbpolicy x)\"";
  const Result res = sbrun({"/bin/sh", "-c", script}, o);
  auto r = parse_labels(res.out);
  EXPECT_ERRNO(r, "write");
  EXPECT_ERRNO(r, "rename");
  EXPECT_EQ(read_file(in_ws), policy_text(""));
}

// ---------------------------------------------------------------------------------------------
// Renames, symlinks and hard links

TEST_P(Escape, FS11_RenameProtectedParents) {
  auto r = probes({{"git", {"rename", ".git", ".git2"}},
                   {"write_git2", {"create", ".git2/hooks/x"}},
                   {"hooks", {"rename", ".git/hooks", ".git/h2"}},
                   {"write_h2", {"create", ".git/h2/pre-commit"}},
                   {"rmdir_hooks", {"rmdir", ".git/hooks"}},
                   {"replace_git", {"rename", "README.md", ".git"}}});
  for (const auto& [label, result] : r) EXPECT_ERRNO(r, label);
  const Result sh = sbrun({"/bin/sh", "-c",
                           "if mv .git .git2; then mkdir -p .git2/hooks; echo x > .git2/hooks/pre-commit; fi; "
                           "if mv .git/hooks .git/h2; then echo x > .git/h2/pre-commit; fi; true"});
  EXPECT_EQ(sh.status, 0);
  EXPECT_FALSE(exists(ws_ + "/.git2"));
  EXPECT_FALSE(exists(ws_ + "/.git/h2"));
  EXPECT_TRUE(exists(ws_ + "/.git/hooks/pre-push.sample"));
}

TEST_P(Escape, FS05_SymlinkToSecret) {
  auto r = probes({{"mk_link", {"symlink", home_ + "/.ssh/id_ed25519", "link"}},
                   {"read_link", {"read", "link"}},
                   {"mk_dir", {"symlink", home_ + "/.ssh", "k"}},
                   {"read_dir", {"read", "k/id_ed25519"}},
                   {"mk_aws", {"symlink", home_ + "/.aws/credentials", "c"}},
                   {"read_aws", {"read", "c"}},
                   {"mk_root", {"symlink", "/", "rootlink"}},
                   {"read_root", {"read", "rootlink" + home_ + "/.ssh/id_ed25519"}},
                   {"mk_env", {"symlink", ".env", "env-alias"}},
                   {"read_env", {"read", "env-alias"}}});
  for (const char* l : {"mk_link", "mk_dir", "mk_aws", "mk_root", "mk_env"}) EXPECT_RESULT(r, l, "ok");
  for (const char* l : {"read_link", "read_dir", "read_aws", "read_root", "read_env"}) EXPECT_ERRNO(r, l);
  for (const char* f : {"/ws/link", "/ws/k", "/ws/c", "/ws/rootlink", "/ws/env-alias"}) allow_change(f);
}

TEST_P(Escape, FS07_SymlinkWriteThrough) {
  auto r = probes({{"mk_bashrc", {"symlink", home_ + "/.bashrc", "notes.txt"}},
                   {"write_bashrc", {"write", "notes.txt"}},
                   {"mk_sibling", {"symlink", root_ + "/sibling/file.txt", "sib"}},
                   {"write_sibling", {"write", "sib"}},
                   {"mk_hook", {"symlink", ws_ + "/.git/hooks/pre-commit", "hook"}},
                   {"write_hook", {"write", "hook"}},
                   {"mk_ak", {"symlink", home_ + "/.ssh/authorized_keys", "ak"}},
                   {"write_ak", {"write", "ak"}}});
  for (const char* l : {"mk_bashrc", "mk_sibling", "mk_hook", "mk_ak"}) EXPECT_RESULT(r, l, "ok");
  for (const char* l : {"write_bashrc", "write_sibling", "write_hook", "write_ak"}) EXPECT_ERRNO(r, l);
  for (const char* f : {"/ws/notes.txt", "/ws/sib", "/ws/hook", "/ws/ak"}) allow_change(f);
  EXPECT_EQ(read_file(home_ + "/.bashrc"), "# the user's bashrc\n");
  EXPECT_EQ(read_file(root_ + "/sibling/file.txt"), "sibling\n");
  EXPECT_FALSE(exists(ws_ + "/.git/hooks/pre-commit"));
  EXPECT_FALSE(exists(home_ + "/.ssh/authorized_keys"));
}

// FS-10: run N plants symlinks; run N+1's policy grants the link paths. The grants must
// not follow them to the home.
TEST_P(Escape, FS10_PlantedSymlinkNextSession) {
  auto first = probes({{"plant_read", {"symlink", home_, "planted"}},
                       {"plant_write", {"symlink", home_, "planted2"}},
                       {"plant_ssh", {"symlink", home_ + "/.ssh", "build"}}});
  for (const auto& [label, result] : first) EXPECT_RESULT(first, label, "ok");
  ASSERT_TRUE(exists(ws_ + "/planted"));
  for (const char* f : {"/ws/planted", "/ws/planted2", "/ws/build"}) allow_change(f);

  set_policy("allow read \"./planted\";\nallow write \"./planted2\";\nallow write \"./build/**\";");
  Result res;
  auto r = probes({{"notes", {"read", "planted/notes.txt"}},
                   {"secret", {"read", "planted/.ssh/id_ed25519"}},
                   {"ls", {"ls", "planted"}},
                   {"write", {"create", "planted2/PWNED"}},
                   {"bashrc", {"write", "planted2/.bashrc"}},
                   {"key", {"read", "build/id_ed25519"}},
                   {"ak", {"create", "build/authorized_keys"}}},
                  &res);
  for (const auto& [label, result] : r) EXPECT_ERRNO(r, label);
  EXPECT_EQ(res.out.find("notes-" + tag_), std::string::npos) << "the home's notes leaked:\n" << res.out;
  EXPECT_FALSE(exists(home_ + "/PWNED"));
  EXPECT_FALSE(exists(home_ + "/.ssh/authorized_keys"));
  EXPECT_EQ(read_file(home_ + "/.bashrc"), "# the user's bashrc\n");
  allow_change("/policy.sbpolicy");
}

// FS-11: a protected path of the workspace is a symlink when the session starts (a
// cloned repository can contain `.vscode -> elsewhere`; a session under a weaker policy
// can leave `.git/hooks -> elsewhere`). sbrun must fail closed, or keep the path
// protected: the command must not be able to replace the link by a real directory
// and plant a hook or a task that runs on the host.
TEST_P(Escape, FS11_SymlinkedGitHooksAtLaunch) {
  mkdirs(home_ + "/hooks-target");
  remove_tree(ws_ + "/.git/hooks");
  ASSERT_EQ(symlink((home_ + "/hooks-target").c_str(), (ws_ + "/.git/hooks").c_str()), 0);
  resnapshot();
  const Result res = sbrun({"/bin/sh", "-c",
                            "echo x > .git/hooks/pre-commit; rm -f .git/hooks; mkdir .git/hooks; "
                            "echo '#!/bin/sh' > .git/hooks/pre-commit; true"});
  EXPECT_TRUE(res.status == 125 || res.status == 0) << res.err;
  struct stat st {};
  ASSERT_EQ(lstat((ws_ + "/.git/hooks").c_str(), &st), 0) << ".git/hooks was removed on the host";
  EXPECT_TRUE(S_ISLNK(st.st_mode)) << ".git/hooks was replaced on the host by a directory";
  EXPECT_FALSE(exists(ws_ + "/.git/hooks/pre-commit")) << "a git hook was planted on the host";
  EXPECT_FALSE(exists(home_ + "/hooks-target/pre-commit"));
}

TEST_P(Escape, FS11_SymlinkedIdeConfigAtLaunch) {
  mkdirs(home_ + "/vscode-target");
  ASSERT_EQ(symlink((home_ + "/vscode-target").c_str(), (ws_ + "/.vscode").c_str()), 0);
  ASSERT_EQ(symlink((home_ + "/missing-target").c_str(), (ws_ + "/.github").c_str()), 0);  // dangling
  resnapshot();
  const Result res = sbrun({"/bin/sh", "-c",
                            "rm -f .vscode && mkdir .vscode && echo '{}' > .vscode/tasks.json; "
                            "rm -f .github && mkdir -p .github/workflows && echo x > .github/workflows/ci.yml; true"});
  EXPECT_TRUE(res.status == 125 || res.status == 0) << res.err;
  EXPECT_FALSE(exists(ws_ + "/.vscode/tasks.json")) << ".vscode/tasks.json was planted on the host";
  EXPECT_FALSE(exists(ws_ + "/.github/workflows/ci.yml")) << ".github/workflows/ci.yml was planted on the host";
  EXPECT_FALSE(exists(home_ + "/missing-target"));
}

TEST_P(Escape, FS08_HardlinkToProtectedFile) {
  auto r = probes({{"git_config", {"hardlink", ".git/config", "x"}},
                   {"hook", {"hardlink", ".git/hooks/pre-push.sample", "h"}},
                   {"ssh", {"hardlink", home_ + "/.ssh/id_ed25519", "y"}},
                   {"known_hosts", {"hardlink", home_ + "/.ssh/known_hosts", "kh"}},
                   {"bashrc", {"hardlink", home_ + "/.bashrc", "b"}}});
  for (const auto& [label, result] : r) EXPECT_ERRNO(r, label);
  EXPECT_RESULT(r, "git_config", "errno EXDEV");
  for (const char* f : {"x", "h", "y", "kh", "b"}) EXPECT_FALSE(exists(ws_ + "/" + f)) << f;
  struct stat st {};
  ASSERT_EQ(stat((ws_ + "/.git/config").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
}

// ---------------------------------------------------------------------------------------------
// 1.3 /proc, namespaces, processes

TEST_P(Escape, FS17_ProcShowsNoHostProcesses) {
  std::string marker;
  const pid_t host = host_sleep(marker);
  ASSERT_GT(host, 0);
  const std::string hp = "/proc/" + std::to_string(host);
  auto r = probes({{"scan", {"proc-scan"}},
                   {"environ", {"read", hp + "/environ"}},
                   {"cmdline", {"read", hp + "/cmdline"}},
                   {"root", {"ls", hp + "/root"}},
                   {"parent", {"read", "/proc/1/environ"}}});
  EXPECT_EQ(r["scan"].find(marker), std::string::npos) << "a host process is visible: " << r["scan"];
  EXPECT_EQ(r["scan"].find(g_sbrun + "\\0--workspace"), std::string::npos) << "sbrun is visible: " << r["scan"];
  const int count = std::atoi(r["scan"].substr(5).c_str());
  EXPECT_GT(count, 0) << r["scan"];
  EXPECT_LE(count, 6) << "more processes than the sandbox's own: " << r["scan"];
  for (const char* l : {"environ", "cmdline", "root"}) {
    // A pid number can exist inside too; then it must be a sandbox process, not the host's sleep.
    EXPECT_EQ(r[l].find(marker), std::string::npos) << r[l];
    if (r[l].rfind("ok", 0) == 0) {
      EXPECT_LT(host, 10) << l << ": " << r[l];
    }
  }
  EXPECT_TRUE(alive(host));
}

TEST_P(Escape, Signals_KillHostProcess) {
  std::string marker;
  const pid_t host = host_sleep(marker);
  ASSERT_GT(host, 0);
  ASSERT_TRUE(alive(host));
  auto r = probes({{"kill", {"kill", std::to_string(host)}}});
  EXPECT_RESULT(r, "kill", "errno ESRCH");
  // kill(-1) as the sandbox's only process besides its init: nothing to signal.
  const Result all = probe({"kill-all"});
  EXPECT_EQ(all.status, 0);
  EXPECT_EQ(all.out, "errno ESRCH\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(alive(host)) << "the host process was killed from inside the sandbox";
}

TEST_P(Escape, FS22_PtraceAndProcessVmBlocked) {
  auto r = probes({{"ptrace", {"ptrace"}}, {"process_vm_readv", {"process_vm_readv"}}});
  EXPECT_RESULT(r, "ptrace", "blocked EPERM");
  EXPECT_RESULT(r, "process_vm_readv", "blocked EPERM");
}

// FS-22: the sandbox's init (PID 1) is not under the seccomp filter. Its memory must not
// be writable from the command: otherwise code written there runs unfiltered. The probe
// writes code that creates an AF_UNIX socket and exits 77 when it could.
TEST_P(Escape, FS22_InitMemoryNotWritable) {
  auto r = probes({{"mem", {"proc-mem", "1"}}});
  EXPECT_BLOCKED(r, "mem");
  const Result inj = probe({"inject-init"});
  EXPECT_EQ(inj.out.rfind("blocked", 0), 0u) << "the init's memory was written: " << inj.out;
  EXPECT_NE(inj.status, 77) << "code injected into the init created an AF_UNIX socket (seccomp bypass)";
  EXPECT_EQ(inj.status, 0);
}

// FS-23: no descriptor theft from the init.
TEST_P(Escape, FS23_PidfdGetfdOfInit) {
  auto r = probes({{"getfd", {"pidfd_getfd", "1", "0"}}});
  EXPECT_BLOCKED(r, "getfd");
}

// FS-20 and the mount API.
TEST_P(Escape, FS20_NamespacesAndMountsBlocked) {
  auto r = probes({{"unshare_user", {"unshare-user"}},
                   {"unshare_ns", {"unshare-ns"}},
                   {"clone_newuser", {"clone-newuser"}},
                   {"clone3", {"clone3"}},
                   {"mount", {"mount"}},
                   {"open_tree", {"open_tree"}},
                   {"fsopen", {"fsopen"}}});
  EXPECT_RESULT(r, "unshare_user", "blocked EPERM");
  EXPECT_RESULT(r, "unshare_ns", "blocked EPERM");
  EXPECT_RESULT(r, "clone_newuser", "blocked EPERM");
  EXPECT_RESULT(r, "clone3", "blocked ENOSYS");
  EXPECT_RESULT(r, "mount", "blocked EPERM");
  EXPECT_RESULT(r, "open_tree", "blocked EPERM");
  EXPECT_RESULT(r, "fsopen", "blocked EPERM");
}

TEST_P(Escape, FS36_IoUringBlocked) {
  auto r = probes({{"io_uring", {"io_uring"}}});
  EXPECT_RESULT(r, "io_uring", "blocked EPERM");
}

TEST_P(Escape, KernelSurfaceBlocked) {
  auto r = probes({{"keyctl", {"keyctl"}}, {"bpf", {"bpf"}}, {"userfaultfd", {"userfaultfd"}}, {"perf", {"perf"}}});
  for (const char* l : {"keyctl", "bpf", "userfaultfd", "perf"}) EXPECT_RESULT(r, l, "blocked EPERM");
}

// FS-36 (c): x32 syscall numbers kill the process (SIGSYS, 128+31).
TEST_P(Escape, FS36_X32SyscallKills) {
  const Result r = probe({"x32"});
  EXPECT_EQ(r.status, 128 + SIGSYS) << "stdout: " << r.out << " stderr: " << r.err;
  EXPECT_EQ(r.out.find("allowed"), std::string::npos) << r.out;
}

// FS-36 (b): i386 `int 0x80` kills the process too. Some kernels (PVM
// guests among them) do not run i386 calls at all and kill the caller with
// SIGSEGV before any filter sees it: there the call fails the same way
// outside the sandbox, and the filter's own refusal cannot be observed.
TEST_P(Escape, FS36_I386SyscallKills) {
  const Result r = probe({"i386"});
  EXPECT_EQ(r.out.find("allowed"), std::string::npos) << r.out;
  Spawn host;
  host.argv = {g_probe, "i386"};
  const Result outside = run_process(host, std::chrono::seconds(10));
  if (outside.status != 0 && outside.out.find("allowed") == std::string::npos) {
    EXPECT_EQ(r.status, outside.status) << "stdout: " << r.out << " stderr: " << r.err;
    GTEST_SKIP() << "this kernel refuses i386 system calls itself (exit " << outside.status
                 << " outside the sandbox too), so the filter's refusal cannot be seen here";
  }
  EXPECT_EQ(r.status, 128 + SIGSYS) << "stdout: " << r.out << " stderr: " << r.err;
}

// FS-25: nothing started inside outlives the session.
TEST_P(Escape, FS25_NoProcessOutlivesSession) {
  const std::string a = "1000." + random_digits(9), b = "999." + random_digits(9), c = "998." + random_digits(9);
  const Result r = sbrun({"/bin/sh", "-c",
                          "setsid /bin/sleep " + a + " </dev/null >/dev/null 2>&1 & "
                          "( /bin/sleep " + b + " </dev/null >/dev/null 2>&1 & ) ; "
                          "nohup /bin/sleep " + c + " </dev/null >/dev/null 2>&1 & "
                          "/bin/sleep 0.2; exit 3"});
  EXPECT_EQ(r.status, 3);
  for (const auto& m : {a, b, c}) {
    const auto left = wait_no_processes(m, std::chrono::milliseconds(2000));
    for (const auto& p : left) {
      ADD_FAILURE() << "survived the session: " << p.pid << " " << p.cmdline;
      kill(p.pid, SIGKILL);
    }
  }
}

// FS-19: no descriptor of sbrun's (or of whoever started sbrun) reaches the command.
TEST_P(Escape, FS19_NoLeakedDescriptors) {
  const int home_dir = open(home_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const int secret = open((home_ + "/.ssh/id_ed25519").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(home_dir, 0);
  ASSERT_GE(secret, 0);
  RunOptions o;
  o.pass_fds = {{home_dir, 3}, {secret, 4}};
  auto r = probes({{"fds", {"fds"}},
                   {"fd3", {"read", "/proc/self/fd/3/.ssh/id_ed25519"}},
                   {"fd4", {"read", "/proc/self/fd/4"}}},
                  nullptr, o);
  close(home_dir);
  close(secret);
  // The probe runs under the shell's $(...): 0 is /dev/null, 1 the capture pipe, 2 the same.
  EXPECT_EQ(r["fds"].rfind("fds 3:", 0), 0u) << "unexpected descriptors: " << r["fds"];
  EXPECT_EQ(r["fds"].find(home_), std::string::npos) << r["fds"];
  EXPECT_ERRNO(r, "fd3");
  EXPECT_ERRNO(r, "fd4");
}

// ---------------------------------------------------------------------------------------------
// 1.4 Terminal

TEST_P(Escape, FS26_TiocstiBlockedBySeccomp) {
  // stdin is /dev/null: without the filter these would fail with ENOTTY, not EPERM.
  auto r = probes({{"tiocsti", {"tiocsti"}},
                   {"tiocsti_hi", {"tiocsti-hi"}},
                   {"tioclinux", {"tioclinux"}},
                   {"tioclinux_hi", {"tioclinux-hi"}}});
  for (const char* l : {"tiocsti", "tiocsti_hi", "tioclinux", "tioclinux_hi"}) EXPECT_RESULT(r, l, "blocked EPERM");
}

TEST_P(Escape, FS26_TiocstiOnTerminal) {
  const int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(master, 0);
  ASSERT_EQ(grantpt(master), 0);
  ASSERT_EQ(unlockpt(master), 0);
  const char* name = ptsname(master);
  ASSERT_NE(name, nullptr);
  const int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(slave, 0);
  termios t{};
  tcgetattr(slave, &t);
  cfmakeraw(&t);
  tcsetattr(slave, TCSANOW, &t);
  // The terminal is sbrun's controlling terminal, as in an interactive shell: without
  // --new-session (and the filter) TIOCSTI would type into it (dev.tty.legacy_tiocsti=1).
  RunOptions o;
  o.stdin_fd = slave;
  o.stdin_is_ctty = true;
  const Result hi = probe({"tiocsti-hi"}, o);
  const Result lo = probe({"tiocsti"}, o);
  EXPECT_EQ(lo.out, "blocked EPERM\n");
  EXPECT_EQ(hi.out, "blocked EPERM\n");
  // Nothing was typed into the terminal.
  fcntl(slave, F_SETFL, O_NONBLOCK);
  char buf[16];
  const ssize_t n = read(slave, buf, sizeof buf);
  EXPECT_LT(n, 0) << "characters were injected into the terminal";
  close(slave);
  close(master);
}

// ---------------------------------------------------------------------------------------------
// 1.5 Unix sockets and other families

TEST_P(Escape, FS35_UnixSocketsBlocked) {
  const std::string abstract = "@sbrun-test-" + tag_;
  const std::string tmp_path = "/tmp/sbrun-test-" + tag_ + ".sock";
  HostSocket* a = listen_on(abstract);
  HostSocket* t = listen_on(tmp_path);
  HostSocket* w = listen_on(ws_ + "/host.sock");
  ASSERT_TRUE(a && t && w);
  resnapshot();
  auto r = probes({{"socket", {"unix"}},
                   {"abstract", {"unix-connect", abstract}},
                   {"tmp", {"unix-connect", tmp_path}},
                   {"ws", {"unix-connect", ws_ + "/host.sock"}},
                   {"dgram", {"unix-dgram-sendto", ws_ + "/host.sock"}}});
  for (const auto& [label, result] : r) EXPECT_RESULT(r, label, "blocked EAFNOSUPPORT");
  EXPECT_FALSE(a->touched(SOCK_STREAM)) << "the abstract socket was reached";
  EXPECT_FALSE(t->touched(SOCK_STREAM)) << "the /tmp socket was reached";
  EXPECT_FALSE(w->touched(SOCK_STREAM)) << "the workspace socket was reached";
}

// With a `unix` grant socket() is allowed: the granted socket works, abstract sockets stay
// isolated (network namespace) and the host's /tmp is not there.
TEST_P(Escape, FS35_AbstractSocketsIsolatedWhenUnixGranted) {
  const std::string abstract = "@sbrun-test-" + tag_;
  const std::string tmp_path = "/tmp/sbrun-test-" + tag_ + ".sock";
  HostSocket* g = listen_on(root_ + "/granted.sock");
  HostSocket* a = listen_on(abstract);
  HostSocket* t = listen_on(tmp_path);
  ASSERT_TRUE(g && a && t);
  set_policy("allow unix \"" + root_ + "/granted.sock\";");
  resnapshot();
  auto r = probes({{"granted", {"unix-connect", root_ + "/granted.sock"}},
                   {"abstract", {"unix-connect", abstract}},
                   {"tmp", {"unix-connect", tmp_path}}});
  EXPECT_RESULT(r, "granted", "allowed");  // control
  EXPECT_TRUE(g->touched(SOCK_STREAM)) << "control: the granted socket was not reached";
  EXPECT_RESULT(r, "abstract", "blocked ECONNREFUSED");
  EXPECT_RESULT(r, "tmp", "blocked ENOENT");
  EXPECT_FALSE(a->touched(SOCK_STREAM)) << "the abstract socket was reached";
  EXPECT_FALSE(t->touched(SOCK_STREAM)) << "the /tmp socket was reached";
}

// `allow unix` grants one socket; a socket the policy does not grant but that is visible
// in the filesystem (here in the writable workspace) must stay unreachable: for `unix`,
// nothing matched means deny.
TEST_P(Escape, Unix_UngrantedVisibleSocketUnreachable) {
  HostSocket* g = listen_on(root_ + "/granted.sock");
  HostSocket* w = listen_on(ws_ + "/host.sock");
  HostSocket* d = listen_on(ws_ + "/dgram.sock", SOCK_DGRAM);
  ASSERT_TRUE(g && w && d);
  set_policy("allow unix \"" + root_ + "/granted.sock\";");
  resnapshot();
  auto r = probes({{"stream", {"unix-connect", ws_ + "/host.sock"}},
                   {"dgram", {"unix-dgram-sendto", ws_ + "/dgram.sock"}}});
  EXPECT_BLOCKED(r, "stream");
  EXPECT_BLOCKED(r, "dgram");
  EXPECT_FALSE(w->touched(SOCK_STREAM)) << "an ungranted unix socket in the workspace was connected to";
  EXPECT_FALSE(d->touched(SOCK_DGRAM)) << "a datagram reached an ungranted unix socket in the workspace";
}

// For `unix`, as for every operation, a deny beats the grant and an except
// removes a socket from its grant: those sockets are not bound in.
TEST_P(Escape, Unix_DenyAndExceptWinOverGrant) {
  mkdirs(root_ + "/socks");
  HostSocket* a = listen_on(root_ + "/socks/a.sock");
  HostSocket* b = listen_on(root_ + "/socks/b.sock");
  HostSocket* c = listen_on(root_ + "/socks/c.sock");
  ASSERT_TRUE(a && b && c);
  set_policy("allow unix \"" + root_ + "/socks/*.sock\" except \"" + root_ + "/socks/c.sock\";\n" +
             "deny unix \"" + root_ + "/socks/b.sock\";");
  resnapshot();
  auto r = probes({{"a", {"unix-connect", root_ + "/socks/a.sock"}},
                   {"b", {"unix-connect", root_ + "/socks/b.sock"}},
                   {"c", {"unix-connect", root_ + "/socks/c.sock"}}});
  EXPECT_RESULT(r, "a", "allowed");  // control
  EXPECT_TRUE(a->touched(SOCK_STREAM)) << "control: the granted socket was not reached";
  EXPECT_BLOCKED(r, "b");
  EXPECT_BLOCKED(r, "c");
  EXPECT_FALSE(b->touched(SOCK_STREAM)) << "a denied unix socket was reached";
  EXPECT_FALSE(c->touched(SOCK_STREAM)) << "an excepted unix socket was reached";
}

// FS-37: datagram and seqpacket socketpairs (which can sendto() a path) are refused;
// stream pairs keep working.
TEST_P(Escape, FS37_SocketpairDgramBlocked) {
  HostSocket* d = listen_on(ws_ + "/dgram.sock", SOCK_DGRAM);
  ASSERT_TRUE(d);
  resnapshot();
  const std::string target = ws_ + "/dgram.sock";
  auto r = probes({{"dgram", {"socketpair-dgram", target}},
                   {"dgram_flags", {"socketpair-dgram-flags", target}},
                   {"seqpacket", {"socketpair-seqpacket", target}},
                   {"stream", {"socketpair-stream"}}});
  EXPECT_RESULT(r, "dgram", "blocked EAFNOSUPPORT");
  EXPECT_RESULT(r, "dgram_flags", "blocked EAFNOSUPPORT");
  EXPECT_RESULT(r, "seqpacket", "blocked EAFNOSUPPORT");
  EXPECT_RESULT(r, "stream", "ok");
  EXPECT_FALSE(d->touched(SOCK_DGRAM)) << "a datagram reached the host socket";
}

// FS-38: AF_VSOCK reaches the hypervisor's host; other exotic families stay closed too.
TEST_P(Escape, FS38_VsockAndOtherFamiliesBlocked) {
  auto r = probes({{"vsock", {"vsock"}},
                   {"alg", {"socket-family", "38", "5"}},     // AF_ALG, SOCK_SEQPACKET
                   {"packet", {"socket-family", "17", "3"}}});  // AF_PACKET, SOCK_RAW
  EXPECT_RESULT(r, "vsock", "blocked EAFNOSUPPORT");
  EXPECT_BLOCKED(r, "alg");
  EXPECT_BLOCKED(r, "packet");
}

// ---------------------------------------------------------------------------------------------
// 1.7 Fail-closed

TEST_P(Escape, FS49_PolicySyntaxErrorFailsClosed) {
  const std::string bad = root_ + "/bad.sbpolicy";
  write_file(bad, "use std.agent;\nallow read \"./**\"\nthis is not a policy;\n");
  lchown(bad.c_str(), uid_, gid_);
  resnapshot();
  RunOptions o;
  o.policy = bad;
  const Result r = sbrun({"/bin/sh", "-c", "touch " + root_ + "/ran; touch " + ws_ + "/ran"}, o);
  EXPECT_EQ(r.status, 125) << r.err;
  EXPECT_FALSE(exists(root_ + "/ran")) << "the command ran outside the sandbox";
  EXPECT_FALSE(exists(ws_ + "/ran")) << "the command ran";
  EXPECT_NE(r.err.find("sbrun:"), std::string::npos) << r.err;
}

TEST_P(Escape, FS49_MissingPolicyFailsClosed) {
  RunOptions o;
  o.policy = root_ + "/does-not-exist.sbpolicy";
  const Result r = sbrun({"/bin/sh", "-c", "touch " + root_ + "/ran"}, o);
  EXPECT_EQ(r.status, 125) << r.err;
  EXPECT_FALSE(exists(root_ + "/ran"));
}

TEST_P(Escape, FS49_WorkspaceNotADirectoryFailsClosed) {
  RunOptions o;
  o.workspace = ws_ + "/README.md";
  const Result r = sbrun({"/bin/sh", "-c", "touch " + root_ + "/ran; touch " + ws_ + "/ran"}, o);
  EXPECT_EQ(r.status, 125) << r.err;
  EXPECT_FALSE(exists(root_ + "/ran"));
  EXPECT_FALSE(exists(ws_ + "/ran"));
  o.workspace = root_ + "/no-such-dir";
  const Result m = sbrun({"/bin/sh", "-c", "touch " + root_ + "/ran"}, o);
  EXPECT_EQ(m.status, 125) << m.err;
  EXPECT_FALSE(exists(root_ + "/ran"));
  EXPECT_FALSE(exists(root_ + "/no-such-dir"));
}

// sbrun always runs /usr/bin/bwrap. A private mount namespace covers it
// with something that is not bubblewrap: a file that cannot be executed
// (sbrun sees it is missing) and one that execve refuses (the child sbrun
// starts bubblewrap in reports it). Either way: 125, a message naming
// bubblewrap, the command never ran, nothing left behind.
TEST_P(Escape, FS49_MissingBwrap) {
  if (GetParam() != Mode::Root) {
    GTEST_SKIP() << "covering /usr/bin/bwrap needs a mount namespace of root's; the root run covers it";
  }
  const std::string fake = root_ + "/not-bwrap";
  write_file(fake, "this is not an executable format\n", 0755);
  const std::string ran = ws_ + "/ran";
  for (const std::string& cover : {std::string("/dev/null"), fake}) {
    Spawn s = sbrun_spawn({"/bin/sh", "-c", "echo ran > " + shell_quote(ran)}, {});
    std::string line = "mount --bind " + shell_quote(cover) + " /usr/bin/bwrap && exec";
    for (const auto& a : s.argv) line += " " + shell_quote(a);
    s.argv = {"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", line};
    const Result r = run_process(s, std::chrono::seconds(20));
    EXPECT_EQ(r.status, 125) << cover << "\nstderr:\n" << r.err;
    EXPECT_NE(r.err.find("bwrap"), std::string::npos) << cover << ": the message should name bubblewrap:\n" << r.err;
    EXPECT_FALSE(exists(ran)) << cover << ": the command ran without its sandbox";
    const auto changes = diff(before_, snapshot(root_), allowed_changes_);
    for (const auto& c : changes) {
      if (c.find("not-bwrap") == std::string::npos) ADD_FAILURE() << cover << ": left behind: " << c;
    }
  }
  unlink(fake.c_str());
}

// ---------------------------------------------------------------------------------------------
// Nothing left behind when sbrun is killed with SIGKILL.

TEST_P(Escape, Lifecycle_KillNineLeavesNothing) {
  const std::string marker = "30." + random_digits(9);
  const pid_t pid = start_sandboxed_sleep(marker);
  ASSERT_GT(pid, 0) << "the sandboxed sleep never started";
  // Placeholders exist while the sandbox runs (std.agent protects paths the
  // workspace lacks): empty files on the host, never directories.
  struct stat st {};
  EXPECT_EQ(lstat((ws_ + "/.vscode").c_str(), &st), 0) << "expected placeholders during the run";
  EXPECT_TRUE(S_ISREG(st.st_mode) && st.st_size == 0) << "a placeholder is not an empty file: mode " << st.st_mode;
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  waitpid(pid, &status, 0);
  const auto t0 = Clock::now();
  const auto left = wait_no_processes(marker, std::chrono::milliseconds(3000));
  for (const auto& p : left) ADD_FAILURE() << "survived kill -9 of sbrun: " << p.pid << " " << p.cmdline;
  // The janitor removes the placeholders once the sandbox is gone.
  std::vector<std::string> changes;
  while (Clock::now() - t0 < std::chrono::seconds(3)) {
    changes = diff(before_, snapshot(root_), allowed_changes_);
    if (changes.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(changes.empty()) << "left behind 3 s after kill -9:\n  " << join(changes, "\n  ");
  const auto others = wait_no_processes(root_, std::chrono::milliseconds(500));
  for (const auto& p : others) ADD_FAILURE() << "survived kill -9 of sbrun: " << p.pid << " " << p.cmdline;
}

// Ctrl-C: SIGINT to sbrun reaches the command (through the init), sbrun
// exits with 128+2, and everything is gone by the time it has exited.
TEST_P(Escape, Lifecycle_InterruptForwardedAndCleanedUp) {
  const std::string marker = "31." + random_digits(9);
  const pid_t pid = start_sandboxed_sleep(marker);
  ASSERT_GT(pid, 0) << "the sandboxed sleep never started";
  ASSERT_EQ(kill(pid, SIGINT), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "sbrun itself died of a signal";
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGINT);
  // No waiting: sbrun cleans up before it exits.
  const auto changes = diff(before_, snapshot(root_), allowed_changes_);
  EXPECT_TRUE(changes.empty()) << "left behind after Ctrl-C:\n  " << join(changes, "\n  ");
  const auto left = wait_no_processes(marker, std::chrono::milliseconds(500));
  for (const auto& p : left) ADD_FAILURE() << "survived Ctrl-C: " << p.pid << " " << p.cmdline;
}

INSTANTIATE_TEST_SUITE_P(Runtime, Escape, ::testing::Values(Mode::Root, Mode::User), mode_name);

}  // namespace
}  // namespace sbtest

int main(int argc, char** argv) { return sbtest::run_all_tests(argc, argv); }
