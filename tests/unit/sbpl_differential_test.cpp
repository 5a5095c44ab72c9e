// The SBPL lowering against the reference evaluator, through the SBPL
// evaluator: for generated policies and paths, what the generated profile
// decides (as compiler/sbpl reads it, written from the research notes and
// sharing no matching code with the lowering) equals what the IR means
// (ir::decide), case by case, for reads, writes, creations, unlinks,
// running a program (where it can be read) and connecting to unix sockets.
// Every tolerated difference is restrictive and named:
//  - case: a deny's regex, and an allow's except, are case-insensitive by
//    construction (a case variant of a denied path is denied too);
//  - unlink-above: the directories a protected path lies in cannot be
//    unlinked or renamed (a rename would carry it out from under its rule);
//  - negated-class: a negated class `[!x]` in a deny or in an allow's
//    `except` is written as any character (a class over bytes cannot say
//    "not x" of a multi-byte character), so the deny covers more.
// And one the macOS sandbox does beyond the rules, as the Linux one has its
// own /proc (docs/sbpl.md):
//  - metadata-above-roots: the directories above (and at) the workspace and
//    the home show their metadata (`stat`, which realpath() needs), never
//    their listing or contents.
// A profile that allows anything else the policy denies fails the test.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "driver/pipeline.hpp"
#include "ir/evaluator.hpp"
#include "lower/sbpl/profile.hpp"
#include "sbpl/profile.hpp"

namespace sbpolicy {
namespace {

const char* const kHome = "/Users/u";
const char* const kWorkspace = "/Users/u/w";

// Pattern texts and the paths worth asking about near them.
const std::vector<std::string> kPatterns = {
    "./**",        "./src",         "./src/**/*.ts", "./.env",       "./**/.env",    "./**/*.pem",
    "./build",     "./a b/c",       "./x[1]",        "./{lib,bin}",  "./f?o",        "./[ab]c",
    "./[!x]y",     "~/.ssh",        "~/.aws/**",     "~/.config/*/token", "~/Library/Caches", "~",
    "./.git/hooks", "./.git/config", "./docs/*.md",  "./Makefile",   "./src/gen",    "/private/tmp/shared",
};
const std::vector<std::string> kPaths = {
    "/Users/u/w",           "/Users/u/w/src",          "/Users/u/w/src/a.ts",     "/Users/u/w/src/x/b.ts",
    "/Users/u/w/src/a.js",  "/Users/u/w/.env",         "/Users/u/w/app/.env",     "/Users/u/w/.ENV",
    "/Users/u/w/k.pem",     "/Users/u/w/sub/k.pem",    "/Users/u/w/k.PEM",        "/Users/u/w/build/o",
    "/Users/u/w/a b/c",     "/Users/u/w/a b/c/d",      "/Users/u/w/x[1]",         "/Users/u/w/x1",
    "/Users/u/w/lib",       "/Users/u/w/bin/t",        "/Users/u/w/libx",         "/Users/u/w/foo",
    "/Users/u/w/fxo/z",     "/Users/u/w/ac",           "/Users/u/w/cc",           "/Users/u/w/ay",
    "/Users/u/w/xy",        "/Users/u/.ssh",           "/Users/u/.ssh/id_rsa",    "/Users/u/.SSH/id_rsa",
    "/Users/u/.aws/credentials", "/Users/u/.config/gh/token", "/Users/u/.config/gh/other",
    "/Users/u/Library/Caches/x", "/Users/u/other",     "/Users/u/w/.git/hooks/pre-commit",
    "/Users/u/w/.git/config", "/Users/u/w/.git/HEAD",  "/Users/u/w/docs/a.md",    "/Users/u/w/docs/x/a.md",
    "/Users/u/w/Makefile",  "/Users/u/w/src/gen/f",    "/Users/u/wx",             "/Users/u/w2/a",
    "/private/tmp/shared/f", "/private/tmp/sharedx",   "/Users/v/w/a",            "/Users",
};

std::string random_policy(std::mt19937& rng) {
  std::uniform_int_distribution<std::size_t> pick(0, kPatterns.size() - 1), count(2, 7), coin(0, 9);
  const char* effects[] = {"allow", "allow", "deny", "ask"};
  const char* ops[] = {"read", "write", "read", "write", "unix"};
  std::string text;
  const std::size_t n = count(rng);
  for (std::size_t i = 0; i < n; ++i) {
    text += std::string(effects[coin(rng) % 4]) + " " + ops[coin(rng) % 5] + " \"" + kPatterns[pick(rng)] + "\"";
    if (coin(rng) < 2) text += " except \"" + kPatterns[pick(rng)] + "\"";
    text += ";\n";
  }
  return text;
}

// The profile's top-level forms after `(version 1)` in reverse order: the
// profile must mean the same (docs/sbpl.md), so no precedence rule of SBPL
// decides anything.
std::string reversed_forms(const std::string& text) {
  std::vector<std::string> forms;
  int depth = 0;
  bool in_string = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == ';') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '(') {
      if (depth++ == 0) start = i;
    } else if (c == ')' && --depth == 0) {
      forms.push_back(text.substr(start, i + 1 - start));
    }
  }
  std::string out = forms.front() + "\n";  // (version 1)
  for (std::size_t i = forms.size(); i-- > 1;) out += forms[i] + "\n";
  return out;
}

// Does `pattern` match `path` when both are folded to lower case?
bool folded_match(const sema::Pattern& pattern, const std::string& path, const sema::PathBindings& b) {
  const auto* p = std::get_if<sema::PathPattern>(&pattern);
  if (p == nullptr) return false;
  const auto lower = [](std::string s) {
    for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  };
  sema::PathPattern folded = *p;
  for (auto& c : folded.components) c = lower(c);
  sema::PathBindings lb = b;
  lb.home = lower(lb.home);
  lb.workspace = lower(lb.workspace);
  return sema::path_matches(folded, lb, lower(path));
}

// A deny, or an allow's except, folds case in the profile: some spelling of
// the path that differs only in case is what it names.
bool case_variant_of_deny(const ir::Policy& policy, ir::Operation op, const std::string& path,
                          const sema::PathBindings& b) {
  for (const ir::Rule& r : policy.rules) {
    if (!ir::applies_to(r, op)) continue;
    if (r.effect == ir::Effect::Deny && folded_match(r.pattern, path, b)) return true;
    if (r.effect == ir::Effect::Deny || !sema::path_matches(std::get<sema::PathPattern>(r.pattern), b, path)) continue;
    for (const auto& e : r.excepts) {
      if (folded_match(e, path, b)) return true;
    }
  }
  return false;
}

// `pattern` with each negated class as `?`: what the profile writes.
bool matches_with_negations_widened(const sema::Pattern& pattern, const std::string& path,
                                    const sema::PathBindings& b) {
  std::string t = sema::pattern_text(pattern);
  if (t.find("[!") == std::string::npos && t.find("[^") == std::string::npos) return false;
  for (std::size_t at; (at = t.find("[!")) != std::string::npos || (at = t.find("[^")) != std::string::npos;) {
    t.replace(at, t.find(']', at + 2) + 1 - at, "?");
  }
  const auto parsed = sema::parse_path_pattern(t);
  return std::holds_alternative<sema::PathPattern>(parsed) &&
         sema::path_matches(std::get<sema::PathPattern>(parsed), b, path);
}

bool denied_by_a_widened_negation(const ir::Policy& policy, ir::Operation op, const std::string& path,
                                  const sema::PathBindings& b) {
  for (const ir::Rule& r : policy.rules) {
    if (!ir::applies_to(r, op)) continue;
    if (r.effect == ir::Effect::Deny && matches_with_negations_widened(r.pattern, path, b)) return true;
    if (r.effect == ir::Effect::Deny || !sema::path_matches(std::get<sema::PathPattern>(r.pattern), b, path)) continue;
    for (const auto& e : r.excepts) {
      if (matches_with_negations_widened(e, path, b)) return true;
    }
  }
  return false;
}

// `path` is a directory a deny's protection lies in: its literal prefix or
// a directory above it, or a directory its glob components match on the
// way down (folding case, as the profile does).
bool holds_a_protection(const ir::Policy& policy, const std::string& path, const sema::PathBindings& b) {
  const auto lower = [](std::string s) {
    for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  };
  const std::string p = lower(path);
  for (const ir::Rule& r : policy.rules) {
    if (r.effect != ir::Effect::Deny || !sema::takes_paths(r.operation)) continue;
    const auto bound = sema::bind_literal_prefix(std::get<sema::PathPattern>(r.pattern), b);
    if (!bound) continue;
    const std::string prefix = lower(bound->prefix);
    if (prefix == p || prefix.starts_with(p + "/")) return true;
    if (!p.starts_with(prefix + "/")) continue;
    // Below the prefix: within the depth of the glob components before the
    // last (`**` reaches any depth).
    const std::size_t depth = static_cast<std::size_t>(std::count(p.begin() + static_cast<std::ptrdiff_t>(prefix.size()), p.end(), '/'));
    const bool any_depth = std::find(bound->rest.begin(), bound->rest.end(), "**") != bound->rest.end();
    if (bound->rest.size() > 1 && (any_depth || depth < bound->rest.size())) return true;
  }
  return false;
}

TEST(SbplDifferential, GeneratedPoliciesAgreeWithTheReferenceEvaluator) {
  std::mt19937 rng(20261206);
  sema::PathBindings b;
  b.home = kHome;
  b.workspace = kWorkspace;
  b.tmpdir = "/private/tmp";
  std::size_t cases = 0, policies = 0;
  std::map<std::string, std::size_t> tolerated;
  std::vector<std::string> failures;
  for (int round = 0; round < 300; ++round) {
    const std::string text = random_policy(rng);
    driver::Compilation c;
    driver::compile_text(c, "p.sbpolicy", "/p", text, {});
    if (!c.policy) continue;
    ++policies;
    lower::sbpl::SbplOptions so;
    so.bindings = b;
    so.proxy_port = 3128;
    const auto profile = lower::sbpl::lower_to_sbpl(*c.policy, so);
    ASSERT_EQ(profile.error, "") << text;
    std::map<std::string, std::string> params(profile.params.begin(), profile.params.end());
    auto loaded = sbpl::Profile::load(profile.text, params);
    ASSERT_TRUE(std::holds_alternative<sbpl::Profile>(loaded))
        << std::get<std::string>(loaded) << "\n--- policy\n" << text;
    const sbpl::Profile& p = std::get<sbpl::Profile>(loaded);
    auto reversed = sbpl::Profile::load(reversed_forms(profile.text), params);
    ASSERT_TRUE(std::holds_alternative<sbpl::Profile>(reversed)) << std::get<std::string>(reversed);
    for (const std::string& path : kPaths) {
      const bool ref_read = ir::decide(*c.policy, ir::Operation::Read, path, b).effect == ir::Effect::Allow;
      const bool ref_write = ir::decide(*c.policy, ir::Operation::Write, path, b).effect == ir::Effect::Allow;
      const bool ref_unix = ir::decide(*c.policy, ir::Operation::Unix, path, b).effect == ir::Effect::Allow;
      const std::pair<const char*, bool> questions[] = {{"file-read-data", ref_read},
                                                        {"process-exec", ref_read},
                                                        {"file-read-metadata", ref_read},
                                                        {"file-write-data", ref_write},
                                                        {"file-write-create", ref_write},
                                                        {"file-write-unlink", ref_write},
                                                        {"network-outbound", ref_unix}};
      for (const auto& [op, want] : questions) {
        sbpl::Question q;
        q.path = path;
        q.unix_socket = std::string(op) == "network-outbound";  // connecting to a socket at the path
        const auto v = p.decide(op, q);
        ASSERT_TRUE(std::holds_alternative<sbpl::Verdict>(v)) << std::get<std::string>(v);
        const bool got = std::get<sbpl::Verdict>(v).allowed;
        ++cases;
        const auto rv = std::get<sbpl::Profile>(reversed).decide(op, q);
        if (std::get<sbpl::Verdict>(rv).allowed != got && failures.size() < 10) {
          failures.push_back(fmt::format("{} {}: the profile's meaning depends on its order\n{}", op, path, text));
        }
        if (got == want) continue;
        const ir::Operation family = std::string(op).starts_with("file-read") ||
                                             std::string(op) == "process-exec"
                                         ? ir::Operation::Read
                                     : std::string(op) == "network-outbound" ? ir::Operation::Unix
                                                                              : ir::Operation::Write;
        std::string why;
        if (got && !want) {
          // The profile allows what the policy denies: only the listed stat.
          if (std::string(op) == "file-read-metadata" &&
              (std::string(kWorkspace).starts_with(path + "/") || path == kWorkspace ||
               std::string(kHome).starts_with(path + "/") || path == kHome)) {
            why = "metadata-above-roots";
          }
        } else if (denied_by_a_widened_negation(*c.policy, family, path, b)) {
          why = "negated-class";
        } else if (case_variant_of_deny(*c.policy, family, path, b)) {
          why = "case";
        } else if (std::string(op) == "file-write-unlink" && holds_a_protection(*c.policy, path, b)) {
          why = "unlink-above";
        }
        if (why.empty()) {
          if (failures.size() < 10) {
            failures.push_back(fmt::format("{} {}: profile {}, policy {} ({})\n{}", op, path, got ? "allows" : "denies",
                                           want ? "allows" : "denies", std::get<sbpl::Verdict>(v).rule, text));
          }
        } else {
          ++tolerated[why];
        }
      }
    }
  }
  // The network: only the proxy's port on localhost, whatever the policy.
  {
    driver::Compilation c;
    driver::compile_text(c, "p.sbpolicy", "/p", "allow net \"*\";\nallow read \"./**\";\n", {});
    ASSERT_TRUE(c.policy);
    lower::sbpl::SbplOptions so;
    so.bindings = b;
    so.proxy_port = 3128;
    const auto profile = lower::sbpl::lower_to_sbpl(*c.policy, so);
    auto loaded = sbpl::Profile::load(profile.text, {profile.params.begin(), profile.params.end()});
    ASSERT_TRUE(std::holds_alternative<sbpl::Profile>(loaded));
    const auto connect = [&](const char* address, int port, const char* proto) {
      sbpl::Question q;
      q.address = address;
      q.port = port;
      q.protocol = proto;
      return std::get<sbpl::Verdict>(std::get<sbpl::Profile>(loaded).decide("network-outbound", q)).allowed;
    };
    EXPECT_TRUE(connect("127.0.0.1", 3128, "tcp"));
    EXPECT_TRUE(connect("::1", 3128, "tcp"));
    EXPECT_FALSE(connect("127.0.0.1", 3128, "udp"));
    EXPECT_FALSE(connect("127.0.0.1", 22, "tcp"));
    EXPECT_FALSE(connect("127.0.0.2", 3128, "tcp"));
    EXPECT_FALSE(connect("93.184.216.34", 443, "tcp"));
    EXPECT_FALSE(connect("93.184.216.34", 3128, "tcp"));
    cases += 7;
  }
  std::string summary;
  for (const auto& [why, n] : tolerated) summary += fmt::format(" {} {}", why, n);
  std::printf("sbpl differential: %zu policies, %zu cases, tolerated (restrictive):%s\n", policies, cases,
              summary.empty() ? " none" : summary.c_str());
  EXPECT_GT(policies, 250u);
  for (const std::string& f : failures) ADD_FAILURE() << f;
}

}  // namespace
}  // namespace sbpolicy

namespace sbpolicy {
namespace {

// `mv .git g; write g/hooks/x; mv g .git`: a rename carries a protected path
// out from under its rule. Every directory a protection lies in cannot be
// unlinked, in any case, and those a glob component matches too.
TEST(SbplProtections, NoRenameCarriesAProtectedPathAway) {
  driver::Compilation c;
  driver::compile_text(c, "p.sbpolicy", "/p",
                       "allow write \"./**\";\ndeny write \"./.git/hooks\";\ndeny read \"./build-*/secret\";\n", {});
  ASSERT_TRUE(c.policy);
  lower::sbpl::SbplOptions so;
  so.bindings.home = kHome;
  so.bindings.workspace = kWorkspace;
  so.bindings.tmpdir = "/private/tmp";
  const auto profile = lower::sbpl::lower_to_sbpl(*c.policy, so);
  ASSERT_EQ(profile.error, "");
  auto loaded = sbpl::Profile::load(profile.text, {profile.params.begin(), profile.params.end()});
  ASSERT_TRUE(std::holds_alternative<sbpl::Profile>(loaded)) << std::get<std::string>(loaded);
  const auto& p = std::get<sbpl::Profile>(loaded);
  const auto unlink_allowed = [&](const char* path) {
    sbpl::Question q;
    q.path = path;
    return std::get<sbpl::Verdict>(p.decide("file-write-unlink", q)).allowed;
  };
  EXPECT_FALSE(unlink_allowed("/Users/u/w/.git"));
  EXPECT_FALSE(unlink_allowed("/Users/u/w/.GIT"));
  EXPECT_FALSE(unlink_allowed("/Users/u/w/.git/hooks"));
  EXPECT_FALSE(unlink_allowed("/Users/u/w/build-1"));
  EXPECT_FALSE(unlink_allowed("/Users/u/w"));
  EXPECT_TRUE(unlink_allowed("/Users/u/w/.git/objects"));
  EXPECT_TRUE(unlink_allowed("/Users/u/w/other"));
  EXPECT_TRUE(unlink_allowed("/Users/u/w/build-1/notes"));
}

// A deny is never dropped: one the profile cannot write refuses the whole
// profile instead.
TEST(SbplProtections, ADenyThatCannotBeWrittenRefusesTheProfile) {
  driver::Compilation c;
  driver::compile_text(c, "p.sbpolicy", "/p", "allow read \"/**\";\ndeny read \"~/../../../x\";\n", {});
  ASSERT_TRUE(c.policy);
  lower::sbpl::SbplOptions so;
  so.bindings.home = kHome;
  so.bindings.workspace = kWorkspace;
  const auto profile = lower::sbpl::lower_to_sbpl(*c.policy, so);
  EXPECT_NE(profile.error.find("cannot be written for macOS"), std::string::npos) << profile.error;
  EXPECT_TRUE(profile.text.empty());
}

}  // namespace
}  // namespace sbpolicy

namespace sbpolicy {
namespace {

// A grant the profile cannot write is said, never silently dropped.
TEST(SbplProtections, AGrantWrittenNarrowerIsSaid) {
  driver::Compilation c;
  driver::compile_text(c, "p.sbpolicy", "/p", "allow read \"./[é]x\";\nallow read \"./src\";\n", {});
  ASSERT_TRUE(c.policy);
  lower::sbpl::SbplOptions so;
  so.bindings.home = kHome;
  so.bindings.workspace = kWorkspace;
  const auto profile = lower::sbpl::lower_to_sbpl(*c.policy, so);
  ASSERT_EQ(profile.error, "");
  ASSERT_EQ(profile.narrowed.size(), 1u);
  EXPECT_NE(profile.narrowed[0].find("./[é]x"), std::string::npos) << profile.narrowed[0];
}

}  // namespace
}  // namespace sbpolicy
