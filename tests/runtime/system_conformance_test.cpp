// Conformance where the sandbox is more than a view of host files: `unix`
// grants over sockets and the files beside them, rules inside the
// sandbox's own /proc and /dev, and `env` rules.
//
// Policies are generated from fixed seeds (std.base, the probe, and a few
// rules of the area), each run in one real sandbox (tests/runtime/probe.cpp
// does the operations), and every case is compared with what `sbc explain`
// answers: the reference evaluator over the policy with resolved paths, and
// where the sandbox differs by design, lower::linux_override (its own /proc
// and /dev, a deny holding over a unix grant), which explain prints as
// "in the Linux sandbox". The lowering enforces those with code of its own
// (lower/mount_plan/resolve.cpp, decide.cpp), so a disagreement is a bug in
// one of the two. Evidence is taken on the host where there is a host side:
// a listening socket counts the connections that reached it, a file shows
// the line appended to it, the host's /dev/shm shows nothing the command
// made. What exists only inside (the sandbox's /proc and /dev, its
// environment) is observed by the probe.
//
// Writes to a device are not among the cases: what /dev/null and /dev/zero
// are written is discarded either way, and a hidden device is /dev/null.
//
// A denial of a path that is a different file for every process
// (`/proc/self/...`, `/dev/stdin`) cannot be enforced, nor can hiding /proc
// whole: the launch must be refused with E0403, and is checked as such.
//
// Every case runs with sbrun started as root and as the unprivileged user
// (escape_harness.hpp), and the run's canaries must not leak.
#include <random>

#include "driver/guards.hpp"
#include "driver/pipeline.hpp"
#include "escape_harness.hpp"
#include "ir/evaluator.hpp"
#include "lower/fs_view.hpp"
#include "lower/linux_decisions.hpp"
#include "lower/resolved_paths.hpp"

using namespace sbtest;
using namespace sbpolicy;

namespace {

constexpr std::uint32_t kFirstSeed = 20261205;
constexpr int kUnixPolicies = 40;
constexpr int kSystemPolicies = 40;
constexpr int kEnvPolicies = 60;

// What `sbc explain` answers for the policy text, with the same bindings
// and the protections sbrun adds to every policy (driver/guards.hpp).
class Explain {
 public:
  Explain(const std::string& text, const std::string& root, const std::string& workspace, const std::string& home) {
    driver::compile_text(compilation_, "policy.sbpolicy", root, text, {});
    if (!compilation_.policy) {
      for (const auto& d : compilation_.diags.all()) error_ += d.message + "; ";
      return;
    }
    bindings_.workspace = workspace;
    bindings_.home = home;
    bindings_.tmpdir = "/tmp";
    driver::protect_git_metadata(compilation_, bindings_);
    lower::PosixFs host;
    resolved_ = lower::resolve_rule_paths(*compilation_.policy, host, bindings_);
  }
  const std::string& error() const { return error_; }

  bool allows(ir::Operation op, const std::string& subject) const {
    if (op == ir::Operation::Env) {
      return ir::decide(*compilation_.policy, op, subject, bindings_).effect == ir::Effect::Allow;
    }
    lower::PosixFs host;
    const std::string path = lower::canonicalize(host, subject).path;
    const ir::Decision d = ir::decide(resolved_, op, path, bindings_);
    if (const auto o = lower::linux_override(resolved_, bindings_, op, path, d)) return o->effect == ir::Effect::Allow;
    return d.effect == ir::Effect::Allow;
  }

 private:
  driver::Compilation compilation_;
  sema::PathBindings bindings_;
  ir::Policy resolved_;
  std::string error_;
};

class Rng {
 public:
  explicit Rng(std::uint32_t seed) : rng_(seed) {}
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(rng_() % n); }
  bool percent(std::size_t p) { return below(100) < p; }
  template <class T>
  const T& one(const std::vector<T>& v) {
    return v[below(v.size())];
  }
  std::string effect() {
    const auto r = below(100);
    return r < 50 ? "allow" : r < 85 ? "deny" : "ask";
  }

 private:
  std::mt19937 rng_;
};

std::string q(const std::string& s) { return "\"" + s + "\""; }

// One case: what was done, what explain expects, what was seen.
struct Case {
  std::string what;
  bool expected = false;
  bool observed = false;
};

class SystemConformance : public Escape {
 protected:
  void SetUp() override {
    Escape::SetUp();
    allow_change("/policy.sbpolicy");  // one policy after the other
  }

  // Runs the cases of one policy: counts them, and records each mismatch
  // with the policy text.
  void tally(const std::string& label, const std::string& rules, const std::vector<Case>& cases) {
    for (const Case& c : cases) {
      ++total_;
      allowed_ += c.expected ? 1 : 0;
      if (c.expected == c.observed) continue;
      ++mismatches_;
      failures_ += label + ": " + c.what + ": explain says " + (c.expected ? "allow" : "deny") + ", the sandbox " +
                   (c.observed ? "allows" : "denies") +
                   (c.observed ? "  [SANDBOX ALLOWS WHAT EXPLAIN DENIES]" : "") + "\n  policy:\n    " + rules + "\n";
    }
  }

  // The policy file sbrun reads, and explain's view of the same text.
  Explain use_policy(const std::string& rules) {
    set_base_policy(rules);
    lchown(policy_.c_str(), uid_, gid_);
    Explain e(read_file(policy_), root_, ws_, home_);
    EXPECT_EQ(e.error(), "") << "the policy does not compile:\n" << rules;
    return e;
  }

  void report(const char* area, int policies) {
    std::cout << area << " (" << (mode() == Mode::Root ? "root" : "user") << "): " << policies << " policies, "
              << total_ << " cases (" << allowed_ << " allowed), " << mismatches_ << " mismatches, " << refused_
              << " launches refused as expected (E0403)\n";
    EXPECT_EQ(mismatches_, 0u) << failures_;
  }

  static RunOptions ask_deny() {
    RunOptions o;
    o.extra_args = {"--ask", "deny"};
    return o;
  }

  std::size_t total_ = 0, allowed_ = 0, mismatches_ = 0, refused_ = 0;
  std::string failures_;
};

// --- unix -----------------------------------------------------------------------------

// Sockets (listening on the host) and ordinary files beside them, which a
// `unix` grant of their directory must not open up.
const std::vector<std::string> kSockets = {"ws/run/a.sock", "ws/run/sub/b.sock", "home/.agent/agent.sock",
                                           "ws/c.sock"};
const std::vector<std::string> kSocketNeighbours = {"ws/run/file.txt", "home/.agent/notes.txt"};

std::string spelled(const std::string& rel) {
  if (rel.rfind("ws/", 0) == 0) return "./" + rel.substr(3);
  return "~/" + rel.substr(5);
}

std::string unix_rules(Rng& rng) {
  const std::vector<std::string> unix_targets = {"./run",         "./run/a.sock", "./run/sub", "~/.agent",
                                                 "~/.agent/agent.sock", "./run/file.txt", "./c.sock",  "./run/*.sock",
                                                 "./**/*.sock",   "~",            ".",         "./run/missing"};
  const std::vector<std::string> fs_targets = {"./run/a.sock", "./run/sub", "~/.agent", "./run/file.txt", "./run",
                                               "~/.agent/agent.sock", "./c.sock"};
  const std::vector<std::string> bases = {"allow read \".\";", "allow write \".\";", "allow read \"~\";",
                                          "allow write \".\";\nallow read \"~\";", ""};
  std::string out = rng.one(bases) + "\n";
  const std::size_t shapes = 1 + rng.below(4);
  for (std::size_t i = 0; i < shapes; ++i) {
    switch (rng.below(5)) {
      case 0:
      case 1: out += rng.effect() + " unix " + q(rng.one(unix_targets)) + ";\n"; break;
      case 2:
        out += "allow unix " + q(rng.one(std::vector<std::string>{"./run", ".", "~"})) + " except " +
               q(rng.one(unix_targets)) + ";\n";
        break;
      default:
        out += (rng.percent(70) ? "deny " : "allow ") + std::string(rng.percent(50) ? "read " : "write ") +
               q(rng.one(fs_targets)) + ";\n";
    }
  }
  return out;
}

TEST_P(SystemConformance, UnixGrantsExposeSocketsOnly) {
  std::map<std::string, HostSocket*> sockets;
  for (const std::string& rel : kSockets) {
    mkdirs(root_ + "/" + rel.substr(0, rel.rfind('/')));
    sockets[rel] = listen_on(root_ + "/" + rel);
    ASSERT_NE(sockets[rel], nullptr);
  }
  for (const std::string& rel : kSocketNeighbours) {
    allow_change("/" + rel);
    write_file(root_ + "/" + rel, "token-" + rel + "\n");
  }
  resnapshot();
  for (int i = 0; i < kUnixPolicies; ++i) {
    Rng rng(kFirstSeed + static_cast<std::uint32_t>(i));
    const std::string rules = unix_rules(rng);
    const std::string label = "unix seed " + std::to_string(kFirstSeed + i);
    for (const std::string& rel : kSocketNeighbours) write_file(root_ + "/" + rel, "token-" + rel + "\n");
    for (auto& [rel, s] : sockets) {
      while (s->touched(SOCK_STREAM)) {
      }
    }
    const Explain explain = use_policy(rules);
    std::vector<ProbeCall> calls;
    for (const std::string& rel : kSockets) calls.push_back({"connect:" + rel, {"unix-connect", root_ + "/" + rel}});
    for (const std::string& rel : kSocketNeighbours) {
      calls.push_back({"read:" + rel, {"read", root_ + "/" + rel}});
      calls.push_back({"write:" + rel, {"write", root_ + "/" + rel}});
    }
    auto results = probes(calls, nullptr, ask_deny());
    std::vector<Case> cases;
    for (const std::string& rel : kSockets) {
      // Host side: the listener saw the connection.
      const bool reached = sockets[rel]->touched(SOCK_STREAM);
      cases.push_back({"unix " + spelled(rel), explain.allows(ir::Operation::Unix, root_ + "/" + rel), reached});
    }
    for (const std::string& rel : kSocketNeighbours) {
      const std::string path = root_ + "/" + rel;
      const bool read_ok = results["read:" + rel] == "ok token-" + rel + "\\n";
      cases.push_back({"read " + spelled(rel), explain.allows(ir::Operation::Read, path), read_ok});
      const bool changed = read_file(path).find("sbrun-probe was here") != std::string::npos;
      cases.push_back({"write " + spelled(rel), explain.allows(ir::Operation::Write, path), changed});
    }
    tally(label, rules, cases);
  }
  report("unix", kUnixPolicies);
}

// --- /proc and /dev ----------------------------------------------------------------------

std::string system_rules(Rng& rng, bool& per_process) {
  const std::vector<std::string> targets = {"/proc/cpuinfo", "/proc/meminfo", "/proc",    "/dev/null",
                                            "/dev/zero",     "/dev/urandom",  "/dev",     "/dev/shm",
                                            "/proc/sys",     "/proc/version", "/dev/tty0"};
  const std::vector<std::string> per_process_targets = {"/proc/self/status", "/dev/stdin", "/dev/fd",
                                                        "/proc/thread-self", "/proc/1/environ"};
  std::string out = rng.percent(50) ? "allow write \".\";\n" : "allow read \".\";\n";
  const std::size_t shapes = 1 + rng.below(3);
  for (std::size_t i = 0; i < shapes; ++i) {
    const std::string effect = rng.percent(70) ? "deny" : rng.percent(80) ? "allow" : "ask";
    out += effect + (rng.percent(50) ? " read " : " write ") + q(rng.one(targets)) + ";\n";
  }
  per_process = rng.percent(12);
  if (per_process) out += std::string("deny ") + (rng.percent(50) ? "read " : "write ") + q(rng.one(per_process_targets)) + ";\n";
  return out;
}

TEST_P(SystemConformance, ProcAndDevAreTheSandboxsOwn) {
  const std::string shm_name = "sbrun-conformance-" + tag_;
  host_paths_to_remove_.push_back("/dev/shm/" + shm_name);
  for (int i = 0; i < kSystemPolicies; ++i) {
    Rng rng(kFirstSeed + 1000 + static_cast<std::uint32_t>(i));
    bool per_process = false;
    const std::string rules = system_rules(rng, per_process);
    const std::string label = "system seed " + std::to_string(kFirstSeed + 1000 + i);
    const Explain explain = use_policy(rules);
    if (per_process || rules.find("deny read \"/proc\";") != std::string::npos) {
      // What no mount can hide stops the launch, and so does hiding /proc
      // whole (the sandbox's init starts through it).
      const Result r = sbrun({"/bin/true"}, ask_deny());
      EXPECT_EQ(r.status, 125) << label << ": a per-process denial must stop the launch\n" << rules << r.err;
      EXPECT_NE(r.err.find("E0403"), std::string::npos) << label << "\n" << r.err;
      ++refused_;
      continue;
    }
    struct Op {
      std::string label;
      ir::Operation op;
      std::string path;
      std::vector<std::string> args;
      bool (*ok)(const std::string&);
    };
    const auto read_some = [](const std::string& r) { return r.rfind("ok ", 0) == 0 && r.size() > 4; };
    const auto four = [](const std::string& r) { return r == "ok 4"; };
    const auto plain_ok = [](const std::string& r) { return r == "ok"; };
    const auto listed = [](const std::string& r) { return r.rfind("ok", 0) == 0; };
    const std::vector<Op> ops = {
        {"read:/proc/cpuinfo", ir::Operation::Read, "/proc/cpuinfo", {"read", "/proc/cpuinfo"}, read_some},
        {"read:/proc/meminfo", ir::Operation::Read, "/proc/meminfo", {"read", "/proc/meminfo"}, read_some},
        {"read:/proc/version", ir::Operation::Read, "/proc/version", {"read", "/proc/version"}, read_some},
        {"list:/proc", ir::Operation::Read, "/proc", {"ls", "/proc"}, listed},
        {"list:/dev", ir::Operation::Read, "/dev", {"ls", "/dev"}, listed},
        {"read:/dev/zero", ir::Operation::Read, "/dev/zero", {"read-bytes", "/dev/zero", "4"}, four},
        {"read:/dev/urandom", ir::Operation::Read, "/dev/urandom", {"read-bytes", "/dev/urandom", "4"}, four},
        {"create:/dev/shm/NEW", ir::Operation::Write, "/dev/shm/" + shm_name, {"create", "/dev/shm/" + shm_name},
         plain_ok},
        {"create:/dev/NEW", ir::Operation::Write, "/dev/" + shm_name, {"create", "/dev/" + shm_name}, plain_ok},
    };
    std::vector<ProbeCall> calls;
    for (const Op& o : ops) calls.push_back({o.label, o.args});
    auto results = probes(calls, nullptr, ask_deny());
    std::vector<Case> cases;
    for (const Op& o : ops) cases.push_back({o.label, explain.allows(o.op, o.path), o.ok(results[o.label])});
    // The sandbox's /dev/shm and /dev are its own: nothing reaches the host's.
    EXPECT_FALSE(exists("/dev/shm/" + shm_name)) << label << ": the host's /dev/shm was written";
    EXPECT_FALSE(exists("/dev/" + shm_name)) << label << ": the host's /dev was written";
    tally(label, rules, cases);
  }
  report("/proc and /dev", kSystemPolicies);
}

// --- env -------------------------------------------------------------------------------

// The invoking environment (besides the harness's own), with exported bash
// functions, which redefine commands in every bash inside.
const std::vector<std::string> kEnvironment = {
    "FOO=f1",          "FOO_BAR=f2", "GH_TOKEN=t1",  "MY_API_TOKEN=t2", "BASH_FUNC_ls%%=() {  echo hijacked\n}",
    "BASH_FUNC_cd%%=() {  :\n}",    "LC_ALL=C",     "LC_TIME=C",        "EDITOR=vi", "FOOBAR=f3", "A.B=odd"};

std::string env_rules(Rng& rng) {
  const std::vector<std::string> patterns = {"FOO",           "FOO_*",  "*_TOKEN", "GH_TOKEN", "BASH_FUNC_*",
                                             "BASH_FUNC_ls%%", "LC_*",   "*",       "EDITOR",   "FOO*",
                                             "*BAR",           "BASH_*", "A*"};
  std::string out;
  const std::size_t shapes = 1 + rng.below(4);
  for (std::size_t i = 0; i < shapes; ++i) {
    out += rng.effect() + " env " + q(rng.one(patterns));
    if (rng.percent(25)) out += " except " + q(rng.one(patterns));
    out += ";\n";
  }
  return out;
}

TEST_P(SystemConformance, EnvRulesChooseWhatPasses) {
  for (int i = 0; i < kEnvPolicies; ++i) {
    Rng rng(kFirstSeed + 2000 + static_cast<std::uint32_t>(i));
    const std::string rules = env_rules(rng);
    const std::string label = "env seed " + std::to_string(kFirstSeed + 2000 + i);
    const Explain explain = use_policy(rules);
    Spawn s = sbrun_spawn({g_probe, "env-names"}, ask_deny());
    s.env.insert(s.env.end(), kEnvironment.begin(), kEnvironment.end());
    const Result r = run_process(s, std::chrono::seconds(20));
    check_run(r);
    ASSERT_EQ(r.status, 0) << label << "\n" << rules << r.err;
    std::set<std::string> inside;
    std::istringstream names(r.out.substr(r.out.rfind("ok", 0) == 0 ? 2 : 0));
    for (std::string n; names >> n;) inside.insert(n);
    std::vector<Case> cases;
    for (const std::string& kv : s.env) {
      const std::string name = kv.substr(0, kv.find('='));
      cases.push_back({"env " + name, explain.allows(ir::Operation::Env, name), inside.count(name) > 0});
    }
    tally(label, rules, cases);
  }
  report("env", kEnvPolicies);
}

INSTANTIATE_TEST_SUITE_P(Runtime, SystemConformance, ::testing::Values(Mode::Root, Mode::User), mode_name);

}  // namespace

int main(int argc, char** argv) { return run_all_tests(argc, argv); }
