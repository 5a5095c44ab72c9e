// The proxy rule table against the reference evaluator: generated policies of
// `net` rules (names, subdomains, `*`, addresses, CIDR blocks, ports,
// excepts) and generated hosts in many spellings must get the same effect
// and the same deciding rule, case by case.
#include "lower/proxy_table.hpp"

#include <gtest/gtest.h>

#include <random>

#include "driver/pipeline.hpp"
#include "ir/evaluator.hpp"

using namespace sbpolicy;

namespace {

struct Compiled {
  driver::Compilation c;
  lower::ProxyRuleTable table;
};

std::unique_ptr<Compiled> compile(const std::string& text) {
  auto out = std::make_unique<Compiled>();
  driver::compile_text(out->c, "t.sbpolicy", "/", text, {});
  if (!out->c.policy) {
    std::string all;
    for (const auto& d : out->c.diags.all()) all += d.message + "; ";
    ADD_FAILURE() << "policy does not compile: " << all << "\n" << text;
    return nullptr;
  }
  auto t = lower::ProxyRuleTable::build(*out->c.policy);
  if (auto* e = std::get_if<std::string>(&t)) {
    ADD_FAILURE() << *e;
    return nullptr;
  }
  out->table = std::move(std::get<lower::ProxyRuleTable>(t));
  return out;
}

// Compares one host spelling; returns a description of a disagreement.
std::string compare(const Compiled& p, const std::string& host) {
  auto s = sema::parse_host_subject(host, 443);
  if (std::holds_alternative<std::string>(s)) return {};  // refused before any decision
  const auto& subject = std::get<sema::HostSubject>(s);
  const ir::Decision ref = ir::decide(*p.c.policy, sema::Operation::Net, subject, {});
  const lower::ProxyDecision got = p.table.decide(subject);
  const ir::Rule* ref_rule = ref.defaulted() ? nullptr : ref.deciding.front();
  if (got.failed || got.effect != ref.effect || got.rule != ref_rule) {
    return host + " (" + subject.text() + "): evaluator " + std::string(sema::effect_name(ref.effect)) + " rule " +
           (ref_rule ? std::to_string(ref_rule->id) : "-") + ", table " +
           std::string(sema::effect_name(got.effect)) + " rule " + (got.rule ? std::to_string(got.rule->id) : "-") +
           (got.failed ? " (failed)" : "");
  }
  return {};
}

const char* kNames[] = {"example.com", "a.example.com", "b.a.example.com", "example.org", "github.com",
                        "api.github.com", "gist.github.com", "x.gist.github.com", "pkgs.test", "registry.pkgs.test",
                        "evilpkgs.test", "pkgs.test.evil.test", "bücher.example", "xn--bcher-kva.example", "a_b.test"};
const char* kAddresses[] = {"127.0.0.1", "10.1.2.3", "10.200.0.1", "192.168.1.1", "169.254.169.254", "::1",
                            "fd00::1", "2001:db8::5", "8.8.8.8", "0.0.0.0"};
const char* kNets[] = {"10.0.0.0/8", "10.1.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "fd00::/8", "2001:db8::/32",
                       "0.0.0.0/0", "::/0", "8.8.8.8", "::1"};
const char* kPorts[] = {"", "", "", ":22", ":*", ":8000-8100", ":443", ":80"};

std::string random_pattern(std::mt19937& rng) {
  auto pick = [&](auto& array) { return array[rng() % std::size(array)]; };
  std::string p;
  switch (rng() % 5) {
    case 0:
    case 1:
      p = pick(kNames);
      break;
    case 2:
      p = std::string("*.") + pick(kNames);
      break;
    case 3:
      p = "*";
      break;
    default:
      p = pick(kNets);
      if (p.find(':') != std::string::npos && p.find('/') == std::string::npos) p = "[" + p + "]";
      else if (p.find(':') != std::string::npos) return p;  // IPv6 CIDR: default ports only
  }
  return p + pick(kPorts);
}

std::string random_policy(std::mt19937& rng) {
  static const char* kEffects[] = {"allow", "deny", "ask"};
  std::string text;
  const int rules = 1 + static_cast<int>(rng() % 8);
  for (int r = 0; r < rules; ++r) {
    text += std::string(kEffects[rng() % 3]) + " net \"" + random_pattern(rng) + "\"";
    if (rng() % 3 == 0) {
      text += " except \"" + random_pattern(rng) + "\"";
      if (rng() % 2 == 0) text += ", \"" + random_pattern(rng) + "\"";
    }
    text += ";\n";
  }
  return text;
}

// The spellings of PRODUCT.md §3 for each subject.
std::vector<std::string> spellings(const std::string& base, std::uint16_t port) {
  const std::string p = ":" + std::to_string(port);
  std::vector<std::string> out;
  const bool v6 = base.find(':') != std::string::npos;
  if (v6) {
    out.push_back("[" + base + "]" + p);
  } else {
    out.push_back(base + p);
    std::string upper = base;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out.push_back(upper + p);
    out.push_back(base + "." + p);
  }
  return out;
}

TEST(ProxyTable, AgreesWithTheEvaluatorOnGeneratedPolicies) {
  std::mt19937 rng(20261128);
  std::vector<std::string> hosts;
  for (const char* n : kNames) hosts.push_back(n);
  for (const char* a : kAddresses) hosts.push_back(a);
  // Other spellings of the same addresses.
  for (const char* extra : {"2130706433", "0x7f.1", "0177.0.0.1", "127.1", "::ffff:127.0.0.1", "::ffff:7f00:1",
                            "0:0:0:0:0:ffff:a9fe:a9fe", "0x0a.0x01.0x02.0x03", "167838211", "64:ff9b::a9fe:a9fe"}) {
    hosts.push_back(extra);
  }
  const std::uint16_t ports[] = {80, 443, 22, 8050, 8101, 1};
  int cases = 0;
  for (int i = 0; i < 300; ++i) {
    const std::string policy = random_policy(rng);
    auto p = compile(policy);
    if (!p) return;
    for (const auto& h : hosts) {
      for (std::uint16_t port : ports) {
        for (const auto& spelling : spellings(h, port)) {
          const std::string diff = compare(*p, spelling);
          ASSERT_TRUE(diff.empty()) << diff << "\npolicy:\n" << policy;
          ++cases;
        }
      }
    }
  }
  EXPECT_GT(cases, 50000);
}

TEST(ProxyTable, SpellingsOfOneHostDecideAlike) {
  auto p = compile(
      "allow net \"registry.pkgs.test\";\n"
      "deny net \"127.0.0.0/8:*\";\n"
      "allow net \"xn--bcher-kva.example\";\n"
      "deny net \"169.254.169.254:*\";\n");
  ASSERT_TRUE(p);
  auto effect = [&](const std::string& host) {
    auto s = sema::parse_host_subject(host, 443);
    if (std::holds_alternative<std::string>(s)) return std::string("refused");
    return std::string(sema::effect_name(p->table.decide(std::get<sema::HostSubject>(s)).effect));
  };
  for (const char* h : {"registry.pkgs.test", "REGISTRY.pkgs.TEST", "registry.pkgs.test.", "registry.pkgs.test:443",
                        "bücher.example", "BÜCHER.example", "xn--bcher-kva.example"}) {
    EXPECT_EQ(effect(h), "allow") << h;
  }
  for (const char* h : {"127.0.0.1", "2130706433", "0x7f.1", "0177.0.0.1", "127.1", "[::ffff:127.0.0.1]",
                        "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:a9fe:a9fe]", "169.254.169.254:80"}) {
    EXPECT_EQ(effect(h), "deny") << h;
  }
  // Label boundaries: no suffix or prefix confusion (NET-08).
  for (const char* h : {"registry.pkgs.test.evil.test", "evilregistry.pkgs.test", "pkgs.test", "xregistry.pkgs.test"}) {
    EXPECT_EQ(effect(h), "deny") << h;
  }
  // Control bytes never reach a decision (NET-07).
  for (std::string h : {std::string("evil.test\0.pkgs.test", 20), std::string("evil.test\t.pkgs.test"),
                        std::string("a b.test"), std::string("\x1b[2K.test")}) {
    EXPECT_EQ(effect(h), "refused");
  }
}

TEST(ProxyTable, EmptyPolicyDeniesEverything) {
  auto p = compile("allow read \"/x\";\n");
  ASSERT_TRUE(p);
  auto s = std::get<sema::HostSubject>(sema::parse_host_subject("example.com", 443));
  const auto d = p->table.decide(s);
  EXPECT_EQ(d.effect, sema::Effect::Deny);
  EXPECT_EQ(d.rule, nullptr);
  EXPECT_FALSE(d.failed);
}

TEST(ProxyTable, ATableOverItsMemoryBudgetFailsClosed) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "allow net \"h" + std::to_string(i) + ".example.com\";\n";
  driver::Compilation c;
  driver::compile_text(c, "t.sbpolicy", "/", text, {});
  ASSERT_TRUE(c.policy);
  // Too little memory to compile: the build fails, so sbrun cannot start.
  lower::ProxyTableOptions tiny;
  tiny.max_mem = 1 << 10;
  EXPECT_TRUE(std::holds_alternative<std::string>(lower::ProxyRuleTable::build(*c.policy, tiny)));
  // Just enough to compile: every decision still answers. RE2 keeps at least
  // three quarters of the budget for the DFA and checks at compile time that
  // it can start, and the names are factored into a trie, so a Set that
  // compiled has room for its states; decide() still turns a DFA failure
  // into deny (`failed`).
  std::int64_t mem = 16 << 10;
  while (mem < (64 << 20) &&
         !std::holds_alternative<lower::ProxyRuleTable>(lower::ProxyRuleTable::build(*c.policy, {mem}))) {
    mem += mem / 16;
  }
  auto t = lower::ProxyRuleTable::build(*c.policy, {mem});
  ASSERT_TRUE(std::holds_alternative<lower::ProxyRuleTable>(t));
  for (int i = 0; i < 2000; ++i) {
    auto s = std::get<sema::HostSubject>(sema::parse_host_subject("h" + std::to_string(i) + ".example.com", 443));
    EXPECT_EQ(std::get<lower::ProxyRuleTable>(t).decide(s).effect, sema::Effect::Allow);
  }
}

}  // namespace
