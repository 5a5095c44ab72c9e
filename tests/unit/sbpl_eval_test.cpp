// The SBPL evaluator (compiler/sbpl), on its own: the worked precedence
// cases P1-P8 of the research notes (brief SBPL-NOTES.md §1.3.1), Apple's
// mDNSResponder keychain idiom, the glob regexes real tools' tests expect,
// the reader's lexical rules, and what it refuses.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "sbpl/profile.hpp"
#include "sbpl/reader.hpp"
#include "sbpl/regex.hpp"

namespace sbpolicy::sbpl {
namespace {

Profile load(const std::string& text, const std::map<std::string, std::string>& params = {}) {
  auto p = Profile::load(text, params);
  if (const auto* e = std::get_if<std::string>(&p)) {
    ADD_FAILURE() << *e << "\n" << text;
    return std::get<Profile>(Profile::load("(version 1)", {}));
  }
  return std::get<Profile>(std::move(p));
}

std::string load_error(const std::string& text, const std::map<std::string, std::string>& params = {}) {
  auto p = Profile::load(text, params);
  const auto* e = std::get_if<std::string>(&p);
  return e != nullptr ? *e : "";
}

Verdict ask(const Profile& p, const std::string& op, const std::string& path) {
  Question q;
  q.path = path;
  auto v = p.decide(op, q);
  if (const auto* e = std::get_if<std::string>(&v)) {
    ADD_FAILURE() << op << " " << path << ": " << *e;
    return {};
  }
  return std::get<Verdict>(v);
}

bool allowed(const Profile& p, const std::string& op, const std::string& path) { return ask(p, op, path).allowed; }

TEST(SbplPrecedence, P1LaterFilteredDenyWins) {
  const Profile p = load("(version 1)(allow file-read* (subpath \"/a\"))(deny file-read* (subpath \"/a/s\"))");
  EXPECT_FALSE(allowed(p, "file-read-data", "/a/s/x"));
  EXPECT_TRUE(allowed(p, "file-read-data", "/a/x"));
}

TEST(SbplPrecedence, P2LaterFilteredAllowWins) {
  const Profile p = load("(version 1)(deny file-read* (subpath \"/a/s\"))(allow file-read* (subpath \"/a\"))");
  EXPECT_TRUE(allowed(p, "file-read-data", "/a/s/x"));
}

TEST(SbplPrecedence, P3AnUnfilteredRuleIsTheFallbackWhereverItIs) {
  const Profile p = load("(version 1)(allow file-write* (subpath \"/w\"))(deny file-write*)");
  EXPECT_TRUE(allowed(p, "file-write-data", "/w/x"));
  EXPECT_FALSE(allowed(p, "file-write-data", "/elsewhere"));
}

TEST(SbplPrecedence, P4TheMoreSpecificOperationIsAskedFirst) {
  const Profile p =
      load("(version 1)(deny file-read-data (subpath \"/p\"))(allow file-read* (literal \"/p/ca.pem\"))");
  EXPECT_FALSE(allowed(p, "file-read-data", "/p/ca.pem"));
  EXPECT_TRUE(allowed(p, "file-read-metadata", "/p/ca.pem"));
}

TEST(SbplPrecedence, P5AnUnfilteredChildRuleRemovesTheJump) {
  const Profile p = load("(version 1)(allow file-read-data)(deny file-read* (subpath \"/secret\"))");
  EXPECT_TRUE(allowed(p, "file-read-data", "/secret/x"));
  EXPECT_FALSE(allowed(p, "file-read-metadata", "/secret/x"));
}

TEST(SbplPrecedence, P6OperationsWithADefaultOfTheirOwn) {
  const Profile p = load("(version 1)(deny default)");
  EXPECT_FALSE(allowed(p, "file-read-data", "/x"));
  // file-map-executable has its own default, allow.
  const Verdict v = ask(p, "file-map-executable", "/usr/lib/libx.dylib");
  EXPECT_TRUE(v.allowed);
  EXPECT_TRUE(v.defaulted);
  EXPECT_EQ(v.operation, "file-map-executable");
}

TEST(SbplPrecedence, P7TheKeychainIdiom) {
  const Profile p = load(R"((version 1)
(deny file-read-data (regex #"^/Library/Keychains/") (with no-log))
(allow file-read-data (literal "/Library/Keychains/System.keychain")))");
  EXPECT_TRUE(allowed(p, "file-read-data", "/Library/Keychains/System.keychain"));
  EXPECT_FALSE(allowed(p, "file-read-data", "/Library/Keychains/login.keychain"));
}

TEST(SbplPrecedence, P8NetworkInboundCoversBind) {
  const Profile p = load("(version 1)(deny default)(allow network-inbound)");
  Question q;
  q.address = "127.0.0.1";
  q.port = 8080;
  EXPECT_TRUE(std::get<Verdict>(p.decide("network-bind", q)).allowed);
  EXPECT_FALSE(std::get<Verdict>(p.decide("network-outbound", q)).allowed);
}

TEST(SbplPrecedence, NoRuleMeansDenyAndTheVerdictNamesTheRule) {
  const Profile p = load("(version 1)(deny file-read* (subpath \"/s\") (with message \"rule 7\"))");
  const Verdict v = ask(p, "file-read-data", "/s/k");
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.message, "rule 7");
  EXPECT_EQ(v.line, 1u);
  EXPECT_EQ(v.operation, "file-read*");
  EXPECT_TRUE(ask(p, "file-read-data", "/other").defaulted);
  EXPECT_FALSE(ask(p, "file-read-data", "/other").allowed);
}

TEST(SbplFilters, PathFilters) {
  const Profile p = load(R"((version 1)
(allow file-read* (literal "/l") (subpath "/s") (prefix "/pre") (regex #"^/r/[^/]*\.env$"))
(allow file-write* (subpath "/")))");
  EXPECT_TRUE(allowed(p, "file-read-data", "/l"));
  EXPECT_FALSE(allowed(p, "file-read-data", "/l/x"));
  EXPECT_TRUE(allowed(p, "file-read-data", "/s"));
  EXPECT_TRUE(allowed(p, "file-read-data", "/s/a/b"));
  EXPECT_FALSE(allowed(p, "file-read-data", "/sx"));
  EXPECT_TRUE(allowed(p, "file-read-data", "/prefix"));
  EXPECT_TRUE(allowed(p, "file-read-data", "/r/.env"));
  EXPECT_TRUE(allowed(p, "file-read-data", "/r/a.env"));
  EXPECT_FALSE(allowed(p, "file-read-data", "/r/a/b.env"));
  EXPECT_FALSE(allowed(p, "file-read-data", "/r/aXenv"));
  EXPECT_TRUE(allowed(p, "file-write-create", "/anything"));
}

TEST(SbplFilters, RegexIsAnUnanchoredSearch) {
  const Profile p = load(R"((version 1)(allow file-read* (regex #"/\.CFUserTextEncoding$") (regex #"^/tmp/x")))");
  EXPECT_TRUE(allowed(p, "file-read-data", "/Users/u/.CFUserTextEncoding"));
  EXPECT_TRUE(allowed(p, "file-read-data", "/tmp/xyz"));  // no `$`: a prefix
}

TEST(SbplFilters, MetafiltersAndSeveralFiltersAreOr) {
  const Profile p = load(R"((version 1)
(allow file-write* (require-all (subpath "/w") (require-not (literal "/w/.git")) (require-not (subpath "/w/.git")))))");
  EXPECT_TRUE(allowed(p, "file-write-data", "/w/a"));
  EXPECT_FALSE(allowed(p, "file-write-create", "/w/.git"));
  EXPECT_FALSE(allowed(p, "file-write-data", "/w/.git/config"));
  EXPECT_TRUE(allowed(p, "file-write-data", "/w/.gitignore"));
}

TEST(SbplFilters, CodexGlobExpectations) {
  // /tmp/repo/**/*.env as Codex lowers it, denied under an allow of `/`.
  const Profile q = load(R"((version 1)(allow file-read* (subpath "/"))(deny file-read* (regex #"^/tmp/repo/(.*/)?[^/]*\.env$")))");
  EXPECT_FALSE(allowed(q, "file-read-data", "/tmp/repo/.env"));
  EXPECT_FALSE(allowed(q, "file-read-data", "/tmp/repo/app/config.env"));
  EXPECT_TRUE(allowed(q, "file-read-data", "/tmp/repo/app/config.toml"));
  const Profile r = load(R"((version 1)(allow file-read* (subpath "/"))(deny file-read* (regex #"^/tmp/repo/\[[^/]*\.env$")))");
  EXPECT_FALSE(allowed(r, "file-read-data", "/tmp/repo/[a.env"));
  EXPECT_TRUE(allowed(r, "file-read-data", "/tmp/repo/a.env"));
}

TEST(SbplFilters, ParametersAndStringFunctions) {
  const std::map<std::string, std::string> params = {{"HOME", "/Users/u.x"}, {"W", "/Users/u.x/w"}};
  const Profile p = load(R"((version 1)
(allow file-write* (subpath (param "W")))
(deny file-read* (regex (string-append "^" (regex-quote (param "HOME")) "/\.ssh(/.*)?$")))
(allow file-read* (subpath "/")))",
                         params);
  EXPECT_TRUE(allowed(p, "file-write-data", "/Users/u.x/w/a"));
  EXPECT_FALSE(allowed(p, "file-write-data", "/Users/u.x/a"));
  // The allow of `/` is newer than the deny: it wins (later-wins).
  EXPECT_TRUE(allowed(p, "file-read-data", "/Users/u.x/.ssh/id"));
  const Profile q = load(R"((version 1)
(allow file-read* (subpath "/"))
(deny file-read* (regex (string-append "^" (regex-quote (param "HOME")) "/\.ssh(/.*)?$"))))",
                         params);
  EXPECT_FALSE(allowed(q, "file-read-data", "/Users/u.x/.ssh/id"));
  EXPECT_TRUE(allowed(q, "file-read-data", "/Users/uXx/.ssh/id"));  // the `.` was quoted
  EXPECT_NE(load_error("(version 1)(allow file-read* (subpath (param \"NOPE\")))").find("NOPE"), std::string::npos);
}

TEST(SbplFilters, NetworkAddresses) {
  const Profile p = load(R"((version 1)(deny default)
(allow network-outbound (remote tcp "localhost:3128"))
(allow network-outbound (remote unix-socket (subpath "/private/tmp/s"))))");
  const auto out = [&](std::string address, int port, std::string proto = "tcp") {
    Question q;
    q.address = std::move(address);
    q.port = port;
    q.protocol = std::move(proto);
    return std::get<Verdict>(p.decide("network-outbound", q)).allowed;
  };
  EXPECT_TRUE(out("127.0.0.1", 3128));
  EXPECT_TRUE(out("::1", 3128));
  EXPECT_FALSE(out("127.0.0.2", 3128));
  EXPECT_FALSE(out("127.0.0.1", 3129));
  EXPECT_FALSE(out("93.184.216.34", 3128));
  EXPECT_FALSE(out("127.0.0.1", 3128, "udp"));  // tcp, not ip
  Question u;
  u.unix_socket = true;
  u.path = "/private/tmp/s/agent.sock";
  EXPECT_TRUE(std::get<Verdict>(p.decide("network-outbound", u)).allowed);
  u.path = "/private/var/run/other.sock";
  EXPECT_FALSE(std::get<Verdict>(p.decide("network-outbound", u)).allowed);
}

TEST(SbplFilters, LocalIpOnOutboundOpensEverything) {
  // The exfiltration bug the notes record (§4.2): the local end of an
  // outbound connection is the unspecified address, which `localhost` matches.
  const Profile p = load(R"((version 1)(deny default)(allow network-outbound (local ip "localhost:*")))");
  Question q;
  q.address = "93.184.216.34";
  q.port = 443;
  EXPECT_TRUE(std::get<Verdict>(p.decide("network-outbound", q)).allowed);
}

TEST(SbplImplicitRules, TheSandboxsOwnFilesAndLaunchdSocket) {
  // The deny goes on every path operation but the cache-safe reads; a read
  // still meets it through the jump to `file*` unless a read rule decides.
  const Profile p = load("(version 1)(allow default)(allow file-read*)");
  EXPECT_FALSE(allowed(p, "file-write-data", "/Users/u/Library/Containers/com.apple.sandbox/x"));
  EXPECT_TRUE(allowed(p, "file-read-data", "/Users/u/Library/Containers/com.apple.sandbox/x"));
  const Profile only_default = load("(version 1)(allow default)");
  EXPECT_FALSE(allowed(only_default, "file-read-data", "/Users/u/Library/Containers/com.apple.sandbox/x"));
  Question sock;
  sock.unix_socket = true;
  sock.path = "/private/tmp/launchd-123.abc/sock";
  EXPECT_FALSE(std::get<Verdict>(p.decide("network-outbound", sock)).allowed);
  const Profile q = load("(version 1)(allow default)", {{"NO_IMPLICIT_RULES", "1"}});
  EXPECT_TRUE(std::get<Verdict>(q.decide("network-outbound", sock)).allowed);
  EXPECT_TRUE(allowed(q, "file-write-data", "/Users/u/Library/Containers/com.apple.sandbox/x"));
}

TEST(SbplAliases, OperationsThatMeanAnother) {
  const Profile p = load(R"((version 1)(deny default)(allow process-exec (literal "/bin/sh"))
(allow file-unlink (literal "/tmp/x"))(allow mach-per-user-lookup))");
  EXPECT_TRUE(allowed(p, "process-exec*", "/bin/sh"));
  EXPECT_TRUE(allowed(p, "file-write-unlink", "/tmp/x"));
}

TEST(SbplReader, CookedAndRawStrings) {
  auto forms = read(R"x(("a\"b" "^/foo\.txt$" #"^/foo\.txt$" "\x41\101\n" #o0004 -3 #t sym-bol* ; comment
))x");
  ASSERT_TRUE(std::holds_alternative<std::vector<Datum>>(forms));
  const auto& items = std::get<std::vector<Datum>>(forms).front().items;
  ASSERT_EQ(items.size(), 8u);
  EXPECT_EQ(items[0].text, "a\"b");
  EXPECT_EQ(items[1].text, "^/foo.txt$");  // TinyScheme: `\.` reads as `.`
  EXPECT_EQ(items[2].text, "^/foo\\.txt$");
  EXPECT_TRUE(items[2].raw);
  EXPECT_EQ(items[3].text, "AA\n");
  EXPECT_EQ(items[4].number, 4);
  EXPECT_EQ(items[5].number, -3);
  EXPECT_EQ(items[6].kind, Datum::Kind::Boolean);
  EXPECT_TRUE(items[7].is_symbol("sym-bol*"));
}

TEST(SbplReader, ErrorsHaveALineAndColumn) {
  EXPECT_EQ(std::get<ReadError>(read("(a\n  (b \"x)")).text(), "2:6: this string is not closed");
  EXPECT_EQ(std::get<ReadError>(read("(a (b)")).text(), "1:1: this `(` is not closed");
  EXPECT_EQ(std::get<ReadError>(read(")")).text(), "1:1: unexpected `)`");
  EXPECT_EQ(std::get<ReadError>(read("(a #\"x)")).text(), "1:4: this raw string `#\"` is not closed");
}

TEST(SbplRegex, TheKnownSubsetAndNothingElse) {
  std::string error;
  EXPECT_EQ(translate_regex("^/a/(.*/)?[^/]*\\.env$", error), "^/a/(.*/)?[^/]*\\.env$");
  EXPECT_EQ(translate_regex("^/Library/Keychains/~[-A-Za-z0-9_]{16}$", error),
            "^/Library/Keychains/~[-A-Za-z0-9_]{16}$");
  for (const char* bad : {"(?:a)", "(?i)a", "\\d+", "a\\1", "[\\w]", "a*?", "a{x}", "(a", "a)", "[a", "a{2", "+a"}) {
    error.clear();
    EXPECT_EQ(translate_regex(bad, error), "") << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST(SbplRefusals, WhatItDoesNotUnderstand) {
  EXPECT_NE(load_error("(allow default)").find("no version specified"), std::string::npos);
  EXPECT_NE(load_error("(version 2)").find("unsupported version"), std::string::npos);
  EXPECT_NE(load_error("(version 1)(version 1)").find("only one version"), std::string::npos);
  EXPECT_NE(load_error("(version 1)(allow)").find("at least one operation required"), std::string::npos);
  EXPECT_NE(load_error("(version 1)(allow file-frobnicate)").find("unknown operation"), std::string::npos);
  EXPECT_NE(load_error("(version 1)(allow file-read* (subpath \"/a/\"))").find("must not end with a slash"),
            std::string::npos);
  EXPECT_NE(load_error("(version 1)(allow network-outbound (remote tcp \"127.0.0.1:80\"))")
                .find("host must be * or localhost"),
            std::string::npos);
  EXPECT_NE(load_error("(version 1)(allow network-outbound (remote tcp \"*:1-100\"))").find("invalid port"),
            std::string::npos);
  EXPECT_NE(load_error("(version 1)(allow file-read* (regex #\"(?i)x\"))").find("(?"), std::string::npos);
  EXPECT_NE(load_error("(version 1)(define x 1)").find("`define`"), std::string::npos);
  EXPECT_NE(load_error("(version 1)(allow mach-lookup (subpath \"/a\"))").find("does not apply"), std::string::npos);
  EXPECT_NE(load_error("(version 1)(allow file-read* (require-not (literal \"/a\") (literal \"/b\")))")
                .find("exactly one filter"),
            std::string::npos);
  EXPECT_NE(load_error("(version 1)(allow file-read* (with no-sandbox))").find("no-sandbox"), std::string::npos);
  EXPECT_NE(load_error("(version 1)(allow file-read* (with message \"x\"))").find("for deny rules"),
            std::string::npos);
  // A question about an operation without a published place is refused.
  const Profile p = load("(version 1)(allow file-test-existence)");
  Question q;
  q.path = "/a";
  EXPECT_TRUE(std::holds_alternative<std::string>(p.decide("file-test-existence", q)));
}

}  // namespace
}  // namespace sbpolicy::sbpl

namespace sbpolicy::sbpl {
namespace {

std::string corpus(const std::string& name) {
  std::ifstream in(std::string(SBPOLICY_SOURCE_DIR) + "/tests/sbpl/corpus/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool connects(const Profile& p, const std::string& address, int port, const std::string& proto = "tcp") {
  Question q;
  q.address = address;
  q.port = port;
  q.protocol = proto;
  return std::get<Verdict>(p.decide("network-outbound", q)).allowed;
}

bool connects_unix(const Profile& p, const std::string& path) {
  Question q;
  q.unix_socket = true;
  q.path = path;
  return std::get<Verdict>(p.decide("network-outbound", q)).allowed;
}

TEST(SbplCorpus, ADaemonStyleProfile) {
  const Profile p = load(corpus("daemon-style.sb"));
  EXPECT_TRUE(allowed(p, "file-read-data", "/Library/Keychains/System.keychain"));
  EXPECT_FALSE(allowed(p, "file-read-data", "/Library/Keychains/login.keychain"));
  EXPECT_TRUE(allowed(p, "file-read-metadata", "/Users/u/secret"));  // unfiltered: every path
  EXPECT_FALSE(allowed(p, "file-read-data", "/Users/u/secret"));
  EXPECT_TRUE(allowed(p, "file-read-data", "/usr/share/zoneinfo/UTC"));
  EXPECT_TRUE(allowed(p, "file-read-data", "/private/var/db/dyld/dyld_shared_cache_arm64e"));
  EXPECT_TRUE(allowed(p, "file-write-data", "/private/var/tmp/daemon.12"));
  EXPECT_FALSE(allowed(p, "file-write-data", "/private/var/tmp/daemon.x"));
  EXPECT_TRUE(connects_unix(p, "/private/var/run/mDNSResponder"));
  EXPECT_TRUE(connects_unix(p, "/private/var/run/syslog"));
  EXPECT_FALSE(connects_unix(p, "/private/var/run/other"));
  EXPECT_TRUE(connects(p, "8.8.8.8", 53, "udp"));
  EXPECT_FALSE(connects(p, "8.8.8.8", 80));
}

TEST(SbplCorpus, AnAgentStyleProfile) {
  const Profile p = load(corpus("agent-style.sb"), {{"WRITABLE_ROOT_0", "/Users/u/w"},
                                                    {"WRITABLE_ROOT_0_RO_0", "/Users/u/w/.git"},
                                                    {"TMPDIR", "/private/var/folders/xy/T"},
                                                    {"UNIX_SOCKET_PATH_0", "/private/tmp/agent"}});
  EXPECT_TRUE(allowed(p, "file-read-data", "/Users/u/w/src/a.c"));
  EXPECT_FALSE(allowed(p, "file-read-data", "/Users/u/w/a.env"));
  EXPECT_FALSE(allowed(p, "file-read-data", "/Users/u/w/deep/x/.env"));
  // The pitfall of the notes (§1.8): in a cooked string `\.` reads as `.`,
  // so the regex's dot is any character and `aXenv` is denied too.
  EXPECT_FALSE(allowed(p, "file-read-data", "/Users/u/w/aXenv"));
  EXPECT_TRUE(allowed(p, "file-write-data", "/Users/u/w/src/a.c"));
  EXPECT_FALSE(allowed(p, "file-write-data", "/Users/u/w/.git/hooks/pre-commit"));
  EXPECT_FALSE(allowed(p, "file-write-create", "/Users/u/w/.git"));
  EXPECT_TRUE(allowed(p, "file-write-create", "/private/var/folders/xy/T/x"));
  EXPECT_FALSE(allowed(p, "file-write-unlink", "/Users/u/w"));
  EXPECT_FALSE(allowed(p, "file-write-unlink", "/Users"));
  EXPECT_FALSE(allowed(p, "file-write-data", "/dev/null"));  // vnode-type: questions carry none
  EXPECT_TRUE(connects(p, "127.0.0.1", 3128));
  EXPECT_FALSE(connects(p, "127.0.0.1", 22));
  EXPECT_TRUE(connects_unix(p, "/private/tmp/agent/s.sock"));
  EXPECT_FALSE(connects_unix(p, "/private/tmp/other.sock"));
}

TEST(SbplCorpus, SchemeItDoesNotRunIsRefusedWithItsPlace) {
  EXPECT_EQ(load_error(corpus("scheme-heavy.sb"), {{"HOME_DIR", "/Users/u"}}),
            "3:1: `define` is not a form this evaluator reads");
}

}  // namespace
}  // namespace sbpolicy::sbpl
