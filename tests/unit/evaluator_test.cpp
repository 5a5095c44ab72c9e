// The reference evaluator against a table of policies, subjects and the
// decisions the brief defines, covering every precedence rule.
#include "ir/evaluator.hpp"

#include <gtest/gtest.h>

#include "driver/pipeline.hpp"

using namespace sbpolicy;

namespace {

struct Row {
  const char* policy;
  const char* op;
  const char* subject;
  const char* expect;  // "allow", "deny", "ask" or "default" (deny, no rule)
};

sema::PathBindings bindings() {
  sema::PathBindings b;
  b.home = "/home/u";
  b.workspace = "/home/u/proj";
  b.tmpdir = "/tmp";
  return b;
}

std::string evaluate(const Row& row) {
  driver::Compilation c;
  driver::compile_text(c, "t.sbpolicy", "/", row.policy, {});
  if (!c.policy) {
    std::string all;
    for (const auto& d : c.diags.all()) all += d.message + "; ";
    return "compile error: " + all;
  }
  const std::string op = row.op;
  ir::Subject subject;
  sema::Operation operation;
  if (op == "net") {
    operation = sema::Operation::Net;
    auto h = sema::parse_host_subject(row.subject, 443);
    if (auto* e = std::get_if<std::string>(&h)) return "bad subject: " + *e;
    subject = std::get<sema::HostSubject>(h);
  } else if (op == "env") {
    operation = sema::Operation::Env;
    subject = std::string(row.subject);
  } else {
    operation = op == "read" ? sema::Operation::Read : op == "write" ? sema::Operation::Write : sema::Operation::Unix;
    std::string error;
    auto p = sema::normalize_subject_path(row.subject, bindings(), &error);
    if (!p) return "bad subject: " + error;
    subject = *p;
  }
  const ir::Decision d = ir::decide(*c.policy, operation, subject, bindings());
  if (d.defaulted()) return "default";
  return std::string(sema::effect_name(d.effect));
}

}  // namespace

TEST(Evaluator, Table) {
  const Row rows[] = {
      // Nothing matched means deny.
      {"allow read \"/etc\";", "read", "/usr/bin/ls", "default"},
      {"allow read \"/etc\";", "read", "/etc/passwd", "allow"},
      // A pattern covers what is under it; `**` and a trailing `/` mean the same.
      {"allow read \"~/.config\";", "read", "~/.config/a/b", "allow"},
      {"allow read \"~/.config/**\";", "read", "~/.config", "allow"},
      {"allow read \"~/.config/\";", "read", "~/.configx", "default"},
      // deny beats allow, in either order and from either file.
      {"allow read \"~\"; deny read \"~/.ssh\";", "read", "~/.ssh/id_rsa", "deny"},
      {"deny read \"~/.ssh\"; allow read \"~\";", "read", "~/.ssh/id_rsa", "deny"},
      {"deny read \"~/.ssh\"; allow read \"~/.ssh/id_rsa.pub\";", "read", "~/.ssh/id_rsa.pub", "deny"},
      // allow beats ask; ask is the fallback.
      {"ask read \"~\"; allow read \"~/proj\";", "read", "~/proj/x", "allow"},
      {"ask read \"~\"; allow read \"~/proj\";", "read", "~/other", "ask"},
      {"ask read \"~\"; deny read \"~/.ssh\";", "read", "~/.ssh", "deny"},
      // except removes subjects from its own rule only.
      {"deny read \"~\" except \"~/proj\"; allow read \".\";", "read", "./src/a.c", "allow"},
      {"deny read \"~\" except \"~/proj\"; allow read \".\";", "read", "~/.bashrc", "deny"},
      {"deny read \"~\" except \"~/proj\";", "read", "~/proj/x", "default"},
      {"deny read \"~\" except \"~/proj\"; deny read \"~/proj/secret\"; allow read \"~\";", "read", "~/proj/secret/k",
       "deny"},
      {"allow read \"~\" except \"~/.ssh\"; ask read \"~/.ssh\";", "read", "~/.ssh/k", "ask"},
      // write implies read; deny read implies deny write.
      {"allow write \"./out\";", "read", "./out/x", "allow"},
      {"allow write \"./out\";", "write", "./out/x", "allow"},
      {"allow read \"./out\";", "write", "./out/x", "default"},
      {"allow write \".\"; deny read \"./.env\";", "write", "./.env", "deny"},
      {"allow write \".\"; deny read \"./.env\";", "read", "./.env", "deny"},
      {"allow write \".\"; deny write \"./.git/hooks\";", "read", "./.git/hooks/pre-commit", "allow"},
      {"allow write \".\"; deny write \"./.git/hooks\";", "write", "./.git/hooks/pre-commit", "deny"},
      {"allow write \".\"; deny write \"./.git/hooks/**\";", "write", "./.git/hooks", "deny"},
      {"ask write \"./x\";", "read", "./x/y", "ask"},
      {"deny write \"./x\"; allow read \"./x\";", "read", "./x/y", "allow"},
      // Globs: `*` does not cross `/`, `**` does; they match dot files.
      {"deny read \"./**/.env\"; allow read \".\";", "read", "./a/b/.env", "deny"},
      {"deny read \"./**/.env\"; allow read \".\";", "read", "./.env", "deny"},
      {"deny read \"./*.key\"; allow read \".\";", "read", "./a/b.key", "allow"},
      {"deny read \"./*.key\"; allow read \".\";", "read", "./b.key", "deny"},
      {"allow read \"~/*\";", "read", "~/.hidden", "allow"},
      // Spellings of one set are one set.
      {"deny read \"$HOME/.ssh/\"; allow read \"~\";", "read", "~/.ssh/x", "deny"},
      {"deny read \"~//.ssh/./\"; allow read \"~\";", "read", "~/.ssh/x", "deny"},
      {"deny read \"~/a/../.ssh\"; allow read \"~\";", "read", "~/.ssh/x", "deny"},
      // Hosts: deny > allow > ask, strict subdomains, default ports.
      {"allow net \"example.com\";", "net", "example.com", "allow"},
      {"allow net \"example.com\";", "net", "EXAMPLE.com.", "allow"},
      {"allow net \"example.com\";", "net", "example.com:80", "allow"},
      {"allow net \"example.com\";", "net", "example.com:22", "default"},
      {"allow net \"example.com:22\";", "net", "example.com:22", "allow"},
      {"allow net \"*.example.com\";", "net", "example.com", "default"},
      {"allow net \"*.example.com\";", "net", "a.b.example.com", "allow"},
      {"ask net \"*.github.com\"; deny net \"gist.github.com\";", "net", "gist.github.com", "deny"},
      {"ask net \"*.github.com\"; deny net \"gist.github.com\";", "net", "api.github.com", "ask"},
      {"ask net \"*\"; allow net \"pkgs.test\";", "net", "pkgs.test", "allow"},
      {"ask net \"*\"; allow net \"pkgs.test\";", "net", "other.test", "ask"},
      {"ask net \"*\";", "net", "127.0.0.1", "default"},
      {"allow net \"127.0.0.1\";", "net", "2130706433", "allow"},
      {"allow net \"127.0.0.1\";", "net", "0x7f.1", "allow"},
      {"allow net \"127.0.0.0/8\";", "net", "[::ffff:127.0.0.2]", "allow"},
      {"allow net \"*.example.com\" except \"bad.example.com\";", "net", "bad.example.com", "default"},
      {"allow net \"*.example.com\" except \"bad.example.com\";", "net", "ok.example.com", "allow"},
      {"allow net \"bücher.example\";", "net", "xn--bcher-kva.example", "allow"},
      // A deny is a fence: without a port, every port. So is an except of an
      // allow; an except of a deny grants back 80 and 443 only.
      {"allow net \"*:*\"; deny net \"evil.test\";", "net", "evil.test:8080", "deny"},
      {"allow net \"*:*\"; deny net \"evil.test\";", "net", "evil.test:443", "deny"},
      {"allow net \"*:*\"; deny net \"evil.test:22\";", "net", "evil.test:8080", "allow"},
      {"allow net \"10.0.0.0/8:*\"; deny net \"10.1.0.0/16\";", "net", "10.1.2.3:5432", "deny"},
      {"allow net \"*:*\" except \"evil.test\";", "net", "evil.test:8080", "default"},
      {"ask net \"*:*\" except \"evil.test\";", "net", "evil.test:22", "default"},
      {"allow net \"*:*\" except \"evil.test:22\";", "net", "evil.test:8080", "allow"},
      {"allow net \"*:*\"; deny net \"*.corp.test:*\" except \"ok.corp.test\";", "net", "ok.corp.test:443", "allow"},
      {"allow net \"*:*\"; deny net \"*.corp.test:*\" except \"ok.corp.test\";", "net", "ok.corp.test:8080", "deny"},
      // Environment variables.
      {"allow env \"LC_*\", \"PATH\";", "env", "LC_ALL", "allow"},
      {"allow env \"LC_*\"; deny env \"LC_SECRET\";", "env", "LC_SECRET", "deny"},
      {"allow env \"PATH\";", "env", "HOME", "default"},
      // unix sockets are their own operation: read grants do not reach them.
      {"allow read \"/run\";", "unix", "/run/user/1/bus", "default"},
      {"allow unix \"/run/user/1/ssh.sock\";", "unix", "/run/user/1/ssh.sock", "allow"},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(evaluate(row), row.expect) << row.policy << "  " << row.op << " " << row.subject;
  }
}

TEST(Evaluator, OrderOfRulesNeverMatters) {
  const char* rules[] = {"allow read \"~\";", "deny read \"~/.ssh\";", "ask read \"~/x\";",
                         "allow write \"~/x/y\";", "deny read \"~/x/y/z\" except \"~/x/y/z/ok\";"};
  const char* subjects[] = {"~/a", "~/.ssh/k", "~/x/q", "~/x/y/w", "~/x/y/z/k", "~/x/y/z/ok", "/etc"};
  std::vector<int> order = {0, 1, 2, 3, 4};
  std::vector<std::string> first;
  do {
    std::string policy;
    for (int i : order) policy += std::string(rules[i]) + "\n";
    std::vector<std::string> got;
    for (const char* s : subjects) {
      for (const char* op : {"read", "write"}) got.push_back(evaluate({policy.c_str(), op, s, ""}));
    }
    if (first.empty()) first = got;
    EXPECT_EQ(got, first) << policy;
  } while (std::next_permutation(order.begin(), order.end()));
}

TEST(Evaluator, DecidingRulesAreReported) {
  driver::Compilation c;
  driver::compile_text(c, "t.sbpolicy", "/", "deny read \"~/.ssh\";\nallow read \"~\";\ndeny read \"~/.ssh/k\";\n", {});
  ASSERT_TRUE(c.policy);
  const auto d = ir::decide(*c.policy, sema::Operation::Read, std::string("/home/u/.ssh/k"), bindings());
  EXPECT_EQ(d.effect, sema::Effect::Deny);
  ASSERT_EQ(d.deciding.size(), 2u);
  EXPECT_EQ(d.matching.size(), 3u);
  EXPECT_EQ(d.deciding[0]->origin.target.line, 1u);
  EXPECT_EQ(d.deciding[1]->origin.target.line, 3u);
}

// settle() is decide()'s last step: over the rules that match, it gives
// decide()'s answer; leaving out a deciding rule changes it (a target that
// matches rules itself must find all of them).
TEST(Evaluator, SettleOverTheMatchingRulesDecidesTheSame) {
  driver::Compilation c;
  driver::compile_text(c, "t.sbpolicy", "/",
                       "allow read \"~\"; deny read \"~/.ssh\"; allow write \"./**\"; ask read \"/etc\";\n"
                       "deny write \"./.git/hooks\"; allow read \"~/.ssh/known_hosts\";\n",
                       {});
  ASSERT_TRUE(c.policy);
  const char* subjects[] = {"/home/u/.ssh/id_rsa", "/home/u/proj/.git/hooks/x", "/home/u/proj/src", "/etc/passwd",
                            "/usr/bin/ls", "/home/u/.ssh/known_hosts"};
  int changed = 0;
  for (const char* s : subjects) {
    for (auto op : {sema::Operation::Read, sema::Operation::Write}) {
      const ir::Decision all = ir::decide(*c.policy, op, std::string(s), bindings());
      const ir::Decision settled = ir::settle(all.matching);
      EXPECT_EQ(settled.effect, all.effect) << s;
      EXPECT_EQ(settled.deciding, all.deciding) << s;
      EXPECT_EQ(settled.matching, all.matching) << s;
      if (!all.deciding.empty()) {
        std::vector<const ir::Rule*> without;
        for (const ir::Rule* r : all.matching) {
          if (r != all.deciding.front()) without.push_back(r);
        }
        const ir::Decision less = ir::settle(without);
        EXPECT_NE(less.deciding, all.deciding) << s;
        changed += less.effect != all.effect;
      }
    }
  }
  EXPECT_GT(changed, 0) << "no case where a missing rule changes the effect: the table tests nothing";
  EXPECT_EQ(ir::settle({}).effect, ir::Effect::Deny);
  EXPECT_TRUE(ir::settle({}).defaulted());
}
