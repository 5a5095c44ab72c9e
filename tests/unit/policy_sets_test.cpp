// The policy's decisions as automata (analysis/policy_sets, subjects)
// against the reference evaluator: for generated host and variable
// patterns, each automaton accepts exactly what the reference matcher does;
// for generated policies of every operation, the decided sets put each
// generated subject where ir::decide puts it, and the rule sets hold
// exactly the subjects each rule matches.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "analysis/compare.hpp"
#include "analysis/policy_sets.hpp"
#include "analysis/subjects.hpp"
#include "driver/pipeline.hpp"

namespace sbpolicy::analysis {
namespace {

template <typename T, typename U>
T parsed(const std::variant<T, U>& v, const std::string& text) {
  EXPECT_TRUE(std::holds_alternative<T>(v)) << text;
  return std::get<T>(v);
}

const std::vector<std::string> kHostPatterns = {
    "example.com", "*.example.com", "*", "a.example.com:22", "*.a.example.com:*", "10.0.0.0/8", "10.1.2.3",
    "10.0.0.0/12:8000-8100", "[::1]", "[fd00::/8]:*", "*:*", "0.0.0.0/0", "xn--bcher-kva.example", "example.com:1-1000",
    "ex-ample.com", "b.c"};
const std::vector<std::string> kHosts = {
    "example.com",   "example.com:22",    "a.example.com",  "a.example.com:22", "b.a.example.com:22",
    "aexample.com",  "10.0.0.1",          "10.1.2.3",       "10.1.2.3:8050",    "10.15.0.1:8000",
    "10.16.0.1:8000", "11.0.0.1",         "[::1]",          "[::1]:22",         "[fd00::5]:9",
    "[fe00::5]",     "xn--bcher-kva.example", "ex-ample.com", "example.com:1000", "b.c:443",
    "a.b.c",         "c",                 "localhost:80",   "0.0.0.0",          "255.255.255.255:65535"};

TEST(HostAutomaton, AcceptsWhatTheReferenceMatcherDoes) {
  std::size_t cases = 0;
  for (const std::string& text : kHostPatterns) {
    for (bool fence : {false, true}) {
      sema::HostPattern p = parsed(sema::parse_host_pattern(text), text);
      if (fence) sema::fence_ports(p);
      const Nfa n = host_nfa(p);
      std::string error;
      const auto d = determinize(n, error);
      ASSERT_TRUE(d) << error;
      for (const std::string& h : kHosts) {
        const auto s = parsed(sema::parse_host_subject(h, 443), h);
        const bool want = sema::host_matches(p, s);
        ASSERT_EQ(n.accepts(host_units(s)), want) << text << " on " << h;
        ASSERT_EQ(d->accepts(host_units(s)), want) << text << " on " << h;
        const auto back = units_host(host_units(s));
        ASSERT_TRUE(back);
        EXPECT_EQ(back->text(), s.text());
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, kHostPatterns.size() * kHosts.size() * 2);
}

TEST(EnvAutomaton, AcceptsWhatTheReferenceMatcherDoes) {
  const std::vector<std::string> patterns = {"PATH", "LC_*", "*_PROXY", "*", "A*B*C", "BASH_FUNC_ls%%", "X"};
  const std::vector<std::string> names = {"PATH", "PATHS",   "LC_ALL",  "LC_",          "HTTP_PROXY", "_PROXY",
                                          "ABC",  "AxxBxxC", "ABCC",    "BASH_FUNC_ls%%", "BASH_FUNC_x%%", "X",
                                          "x",    "A-B",     "LC_A-B", ""};
  for (const std::string& text : patterns) {
    const auto p = parsed(sema::parse_env_pattern(text), text);
    const Nfa n = env_nfa(p);
    for (const std::string& name : names) {
      const std::vector<std::uint32_t> units(name.begin(), name.end());
      EXPECT_EQ(n.accepts(units), sema::env_matches(p, name)) << text << " on " << name;
    }
  }
}

// Generated policies over every operation, and subjects near their patterns.
struct Generator {
  std::mt19937 rng;
  int pick(int n) { return static_cast<int>(rng() % static_cast<std::uint32_t>(n)); }
  template <typename T>
  const T& one(const std::vector<T>& v) { return v[static_cast<std::size_t>(pick(static_cast<int>(v.size())))]; }

  std::string policy() {
    static const std::vector<std::string> paths = {"./**", "./a", "./a/*.pem", "~/.ssh", "~/**/id_*", "/etc",
                                                   "./a/b", "~", "./{a,b}/c", "/tmp/**/x", "./a/[!b]*"};
    static const std::vector<std::string> envs = {"PATH", "LC_*", "*_PROXY", "*", "HOME"};
    std::string out;
    const int n = 3 + pick(7);
    for (int i = 0; i < n; ++i) {
      const char* effect = pick(100) < 45 ? "allow" : pick(100) < 70 ? "deny" : "ask";
      const int kind = pick(5);
      if (kind <= 1) {
        out += std::string(effect) + (kind == 0 ? " read \"" : " write \"") + one(paths) + "\"";
        if (pick(3) == 0) out += " except \"" + one(paths) + "\"";
      } else if (kind == 2) {
        out += std::string(effect) + " net \"" + one(kHostPatterns) + "\"";
        if (pick(4) == 0) out += " except \"" + one(kHostPatterns) + "\"";
      } else if (kind == 3) {
        out += std::string(effect) + " env \"" + one(envs) + "\"";
      } else {
        out += std::string(effect) + " unix \"" + one(paths) + "\"";
      }
      out += ";\n";
    }
    return out;
  }
};

TEST(PolicySets, DecideEverySubjectAsTheEvaluatorDoes) {
  Generator g{std::mt19937(1616)};
  const sema::PathBindings b = analysis_bindings();
  const std::vector<std::string> paths = {"/home/user/project",         "/home/user/project/a",
                                          "/home/user/project/a/k.pem", "/home/user/project/a/b",
                                          "/home/user/project/b/c",     "/home/user/project/a/x",
                                          "/home/user/.ssh/id_rsa",     "/home/user/x/id_ed",
                                          "/home/user",                 "/etc/passwd",
                                          "/tmp/q/x",                   "/tmp/x",
                                          "/usr",                       "/"};
  const std::vector<std::string> envs = {"PATH", "LC_ALL", "HTTP_PROXY", "HOME", "X", "A-B"};
  std::size_t cases = 0, policies = 0;
  for (int k = 0; k < 120; ++k) {
    const std::string text = g.policy();
    driver::Compilation c;
    driver::compile_text(c, "p.sbpolicy", "/home/user/project", text, {});
    if (!c.policy) continue;  // a net rule with an except of another kind of host, and the like
    ++policies;
    PolicySets sets(*c.policy, b);
    for (Operation op : {Operation::Read, Operation::Write, Operation::Unix, Operation::Net, Operation::Env}) {
      std::vector<ir::Subject> subjects;
      if (op == Operation::Net) {
        for (const auto& h : kHosts) subjects.push_back(std::get<sema::HostSubject>(sema::parse_host_subject(h, 443)));
      } else {
        for (const auto& s : op == Operation::Env ? envs : paths) subjects.push_back(s);
      }
      std::string error;
      const Dfa* deny = sets.decided(op, Effect::Deny, error);
      const Dfa* allow = sets.decided(op, Effect::Allow, error);
      const Dfa* ask = sets.decided(op, Effect::Ask, error);
      ASSERT_TRUE(deny && allow && ask) << error;
      for (const ir::Subject& s : subjects) {
        const auto units = PolicySets::units(op, s);
        const ir::Decision d = ir::decide(*c.policy, op, s, b);
        const bool in_deny = deny->accepts(units), in_allow = allow->accepts(units), in_ask = ask->accepts(units);
        ASSERT_LE(int(in_deny) + int(in_allow) + int(in_ask), 1);
        const Effect got = in_allow ? Effect::Allow : in_ask ? Effect::Ask : Effect::Deny;
        ASSERT_EQ(got, d.effect) << text << sema::operation_name(op) << " " << subject_text(s, b);
        ASSERT_EQ(in_deny, d.effect == Effect::Deny && !d.defaulted()) << text << subject_text(s, b);
        for (const ir::Rule& r : c.policy->rules) {
          if (r.operation != op) continue;
          const Dfa* rd = sets.rule(r, error);
          ASSERT_TRUE(rd) << error;
          ASSERT_EQ(rd->accepts(units), ir::rule_matches(r, s, b)) << text << subject_text(s, b);
        }
        ++cases;
      }
    }
  }
  std::printf("policy sets: %zu policies, %zu cases agree with the evaluator\n", policies, cases);
  EXPECT_GE(policies, 100u);
}

TEST(PolicySets, RulesThatExceptAlikeShareTheirSetAndStayExact) {
  // Rules whose excepts lie at or below their literal prefix share one
  // relative set per shape (many `~/.config/appN except …/public`); other
  // shapes (several excepts, an except equal to the prefix, globs in the
  // ending) have sets of their own, and a rule with an except elsewhere is
  // built whole. Every decision agrees with the evaluator.
  std::string text;
  for (int i = 0; i < 6; ++i) {
    text += "deny read \"~/.config/app" + std::to_string(i) + "\" except \"~/.config/app" + std::to_string(i) +
            "/public\";\n";
  }
  text += "allow read \"~/**\";\n";
  text += "deny read \"~/.config/other\" except \"~/.config/other/*.pub\", \"~/.config/other/keep/x\";\n";
  text += "deny read \"~/.config/gone\" except \"~/.config/gone\";\n";
  text += "deny read \"~/.local/*/secret\" except \"~/.local/a/secret/ok\";\n";
  text += "deny read \"~/.cache\" except \"/etc\";\n";
  text += "deny read \"~/.var/{x,y}\" except \"~/.var/x/.*\";\n";
  text += "deny read \"~/.y/*\" except \"~/.y/public\";\n";  // the apps' except, another ending
  driver::Compilation c;
  driver::compile_text(c, "p.sbpolicy", "/home/user/project", text, {});
  ASSERT_TRUE(c.policy) << text;
  const sema::PathBindings b = analysis_bindings();
  PolicySets sets(*c.policy, b);
  std::string error;
  const Dfa* deny = sets.decided(Operation::Read, Effect::Deny, error);
  ASSERT_TRUE(deny) << error;
  std::vector<std::string> subjects = {"/home/user", "/home/user/.config", "/etc", "/etc/x"};
  for (const std::string dir : {"app0", "app3", "app5", "app6", "other", "gone"}) {
    for (const std::string below : {"", "/public", "/public/x", "/publics", "/k", "/a.pub", "/keep", "/keep/x",
                                    "/keep/x/y", "/keep/y", "/.pub"}) {
      subjects.push_back("/home/user/.config/" + dir + below);
    }
  }
  for (const std::string path : {"/home/user/.local/a/secret", "/home/user/.local/a/secret/ok",
                                 "/home/user/.local/a/secret/ok/z", "/home/user/.local/b/secret/ok",
                                 "/home/user/.local/a/secrets", "/home/user/.cache", "/home/user/.cache/z",
                                 "/home/user/.var/x", "/home/user/.var/x/.k", "/home/user/.var/x/k",
                                 "/home/user/.var/y/.k", "/home/user/.var/z", "/home/user/.y", "/home/user/.y/public",
                                 "/home/user/.y/k", "/home/user/.y/public/k"}) {
    subjects.push_back(path);
  }
  for (const std::string& s : subjects) {
    const ir::Decision d = ir::decide(*c.policy, Operation::Read, s, b);
    EXPECT_EQ(deny->accepts(PolicySets::units(Operation::Read, s)), d.effect == Effect::Deny && !d.defaulted())
        << s;
  }
}

TEST(PolicySets, SubjectTextSpellsTheAnchors) {
  const sema::PathBindings b = analysis_bindings();
  EXPECT_EQ(subject_text(std::string("/home/user/project/a"), b), "./a");
  EXPECT_EQ(subject_text(std::string("/home/user/project"), b), ".");
  EXPECT_EQ(subject_text(std::string("/home/user/.ssh"), b), "~/.ssh");
  EXPECT_EQ(subject_text(std::string("/home/username"), b), "/home/username");
  EXPECT_EQ(subject_text(std::string("/etc"), b), "/etc");
}

std::optional<ir::Policy> compiled(const std::string& text) {
  driver::Compilation c;
  driver::compile_text(c, "p.sbpolicy", "/home/user/project", text, {});
  return c.policy;
}

OperationDiff compare_texts(const std::string& a, const std::string& b, Operation op, std::size_t max = 5) {
  const auto before = compiled(a), after = compiled(b);
  EXPECT_TRUE(before && after) << a << b;
  PolicySets x(*before, analysis_bindings()), y(*after, analysis_bindings());
  std::string error;
  auto d = compare(x, y, op, max, error);
  EXPECT_TRUE(d) << error;
  // The examples' rules point into policies that end here: keep what the tests read.
  for (auto* list : {&d->added, &d->removed}) {
    for (auto& c : *list) c.before.deciding.clear(), c.after.deciding.clear(), c.before.matching.clear(),
        c.after.matching.clear();
  }
  return *d;
}

std::string text_of(const Change& c) { return subject_text(c.subject, analysis_bindings()); }

TEST(Compare, SpellingsOfTheSameRulesAreEquivalent) {
  const auto d = compare_texts("allow read \"./a\"; allow read \"./b\"; deny read \"./a/x\";",
                               "deny read \"./a/x\"; allow read \"./{b,a}\";", Operation::Read);
  EXPECT_EQ(d.relation, Relation::Equivalent);
  EXPECT_TRUE(d.added.empty() && d.removed.empty());
  // `.*` and `.?*` differ only on `.` and `..`, which no subject has.
  EXPECT_EQ(compare_texts("deny read \"~/.*\";", "deny read \"~/.?*\";", Operation::Read).relation, Relation::Equivalent);
  EXPECT_EQ(compare_texts("allow read \"~/.*\";", "allow read \"~/.?*\";", Operation::Read).relation,
            Relation::Equivalent);
  // Write implies read: a write grant in the new policy is read access too.
  const auto w = compare_texts("allow read \"./a\";", "allow write \"./a\";", Operation::Read);
  EXPECT_EQ(w.relation, Relation::Equivalent);
}

TEST(Compare, ShortestExamplesOfWhatOpensAndCloses) {
  const auto d = compare_texts("allow read \"./**\"; deny read \"./.env\";",
                               "allow read \"./**\"; deny read \"./src/*.pem\";", Operation::Read);
  EXPECT_EQ(d.relation, Relation::Incomparable);
  ASSERT_EQ(d.added.size(), 1u);
  EXPECT_EQ(text_of(d.added[0]), "./.env");
  EXPECT_EQ(d.added[0].before.effect, Effect::Deny);
  EXPECT_EQ(d.added[0].after.effect, Effect::Allow);
  ASSERT_EQ(d.removed.size(), 1u);
  EXPECT_EQ(text_of(d.removed[0]), "./src/.pem");

  // One example per cause: two new grants, two examples.
  const auto two = compare_texts("allow net \"a.test\";", "allow net \"a.test\"; allow net \"*.b.test\"; ask net \"c.test:22\";",
                                 Operation::Net);
  EXPECT_EQ(two.relation, Relation::MorePermissive);
  ASSERT_EQ(two.added.size(), 2u);
  EXPECT_EQ(text_of(two.added[0]), "c.test:22");
  EXPECT_EQ(two.added[0].after.effect, Effect::Ask);
  EXPECT_EQ(text_of(two.added[1]), "a.b.test:80");
  EXPECT_FALSE(two.more_added);

  // Ask to allow opens; allow to ask closes.
  EXPECT_EQ(compare_texts("ask env \"X\";", "allow env \"X\";", Operation::Env).relation, Relation::MorePermissive);
  EXPECT_EQ(compare_texts("allow env \"X\";", "ask env \"X\";", Operation::Env).relation, Relation::LessPermissive);
  // A cap on the examples, and whether more remain.
  const auto capped = compare_texts("", "allow read \"./a\"; allow read \"./b\"; allow read \"./c\";", Operation::Read, 2);
  EXPECT_EQ(capped.added.size(), 2u);
  EXPECT_TRUE(capped.more_added);
}

TEST(Compare, AgreesWithTheEvaluatorOnGeneratedPairs) {
  Generator g{std::mt19937(4242)};
  const sema::PathBindings b = analysis_bindings();
  const std::vector<std::string> paths = {"/home/user/project/a", "/home/user/project/a/k.pem", "/home/user/.ssh/id_rsa",
                                          "/home/user/x/id_ed", "/etc/passwd", "/tmp/q/x", "/home/user/project/b/c"};
  std::size_t pairs = 0, examples = 0, subjects = 0;
  for (int k = 0; k < 60; ++k) {
    const auto before = compiled(g.policy()), after = compiled(g.policy());
    if (!before || !after) continue;
    ++pairs;
    PolicySets x(*before, b), y(*after, b);
    // The reduced policies (only the rules a change can touch) give the same answers.
    const auto touched = touched_rules(*before, *after, b);
    ASSERT_TRUE(touched);
    PolicySets tx(touched->first, b), ty(touched->second, b);
    for (Operation op : {Operation::Read, Operation::Write, Operation::Net, Operation::Env, Operation::Unix}) {
      std::string error;
      const auto d = compare(x, y, op, 50, error);
      ASSERT_TRUE(d) << error;
      const auto reduced = compare(tx, ty, op, 50, error);
      ASSERT_TRUE(reduced) << error;
      ASSERT_EQ(reduced->relation, d->relation);
      ASSERT_EQ(reduced->added.size(), d->added.size());
      ASSERT_EQ(reduced->removed.size(), d->removed.size());
      for (std::size_t i = 0; i < d->added.size(); ++i) {
        ASSERT_EQ(subject_text(reduced->added[i].subject, b), subject_text(d->added[i].subject, b));
        ASSERT_EQ(reduced->added[i].after.deciding.size(), d->added[i].after.deciding.size());
      }
      const auto level = [](Effect e) { return e == Effect::Allow ? 2 : e == Effect::Ask ? 1 : 0; };
      // Every example really opens or closes, as ir::decide says.
      for (const auto& c : d->added) {
        ASSERT_GT(level(ir::decide(*after, op, c.subject, b).effect), level(ir::decide(*before, op, c.subject, b).effect));
        ++examples;
      }
      for (const auto& c : d->removed) {
        ASSERT_LT(level(ir::decide(*after, op, c.subject, b).effect), level(ir::decide(*before, op, c.subject, b).effect));
        ++examples;
      }
      // And no subject opens or closes where the diff says nothing does.
      std::vector<ir::Subject> sample;
      if (op == Operation::Env) {
        for (const char* e : {"PATH", "LC_ALL", "HTTP_PROXY", "HOME", "X"}) sample.push_back(std::string(e));
      } else if (op == Operation::Net) {
        for (const auto& h : kHosts) sample.push_back(std::get<sema::HostSubject>(sema::parse_host_subject(h, 443)));
      } else {
        for (const auto& p : paths) sample.push_back(p);
      }
      for (const auto& s : sample) {
        const int was = level(ir::decide(*before, op, s, b).effect), now = level(ir::decide(*after, op, s, b).effect);
        if (now > was) {
          ASSERT_FALSE(d->added.empty()) << subject_text(s, b);
        }
        if (now < was) {
          ASSERT_FALSE(d->removed.empty()) << subject_text(s, b);
        }
        ++subjects;
      }
    }
  }
  std::printf("compare: %zu pairs, %zu examples checked, %zu subjects\n", pairs, examples, subjects);
  EXPECT_GE(pairs, 50u);
}

}  // namespace
}  // namespace sbpolicy::analysis
