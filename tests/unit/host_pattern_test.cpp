// Host patterns: every spelling of one destination canonicalises to one text,
// every malformed spelling is an error with a code and a precise span, and
// matching follows PRODUCT.md §3 (strict subdomains, wildcards never match
// IP literals, CIDR containment, ports).
#include "sema/host_pattern.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>

namespace sbpolicy::sema {
namespace {

std::string canonical(std::string_view text) {
  auto result = parse_host_pattern(text);
  if (auto* errors = std::get_if<PatternErrors>(&result)) return "error: " + errors->front().message;
  return std::get<HostPattern>(result).text();
}

HostPattern pattern(std::string_view text) {
  auto result = parse_host_pattern(text);
  EXPECT_TRUE(std::holds_alternative<HostPattern>(result)) << text;
  return std::holds_alternative<HostPattern>(result) ? std::get<HostPattern>(result) : HostPattern{};
}

HostSubject subject(std::string_view host, std::uint16_t port = 443) {
  auto result = parse_host_subject(host, port);
  EXPECT_TRUE(std::holds_alternative<HostSubject>(result))
      << host << ": " << (std::holds_alternative<std::string>(result) ? std::get<std::string>(result) : "");
  return std::holds_alternative<HostSubject>(result) ? std::get<HostSubject>(result) : HostSubject{};
}

struct Spelling {
  const char* input;
  const char* canonical;
};

const Spelling kSpellings[] = {
    // Names.
    {"example.com", "example.com"},
    {"Example.COM", "example.com"},
    {"example.com.", "example.com"},
    {"EXAMPLE.com.:443", "example.com:443"},
    {"under_score-.ex-ample.com", "under_score-.ex-ample.com"},
    {"---.example", "---.example"},
    {"localhost", "localhost"},
    {"1.2.3.4x", "1.2.3.4x"},  // last label not numeric: a name
    {"a.0xg", "a.0xg"},
    // IDN.
    {"bücher.example", "xn--bcher-kva.example"},
    {"BÜCHER.example.", "xn--bcher-kva.example"},
    {"xn--bcher-kva.example", "xn--bcher-kva.example"},
    {"XN--BCHER-KVA.Example", "xn--bcher-kva.example"},
    {"*.bücher.example", "*.xn--bcher-kva.example"},
    {"ｅｘａｍｐｌｅ。com", "example.com"},  // full-width letters and dot
    {"１２７.０.０.１", "127.0.0.1"},        // full-width digits are still an address
    // Wildcards.
    {"*", "*"},
    {"*.", "*"},
    {"*:22", "*:22"},
    {"*.Example.com", "*.example.com"},
    {"*.example.com.:*", "*.example.com:*"},
    // IPv4, every spelling of 127.0.0.1.
    {"127.0.0.1", "127.0.0.1"},
    {"2130706433", "127.0.0.1"},
    {"0x7f.1", "127.0.0.1"},
    {"0X7F.0X1", "127.0.0.1"},
    {"0177.0.0.1", "127.0.0.1"},
    {"127.1", "127.0.0.1"},
    {"127.0.1", "127.0.0.1"},
    {"0x7f000001", "127.0.0.1"},
    {"017700000001", "127.0.0.1"},
    {"127.0.0.1.", "127.0.0.1"},
    {"127.0.0.01", "127.0.0.1"},
    {"0", "0.0.0.0"},
    {"0x", "0.0.0.0"},
    {"1.0x", "1.0.0.0"},
    {"4294967295", "255.255.255.255"},
    {"10.0.0.1:22", "10.0.0.1:22"},
    // IPv6.
    {"::1", "::1"},
    {"[::1]", "::1"},
    {"0:0:0:0:0:0:0:1", "::1"},
    {"0000:0000:0000:0000:0000:0000:0000:0001", "::1"},
    {"FE80::1", "fe80::1"},
    {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
    {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
    {"2001:0db8::0001", "2001:db8::1"},
    {"::1:2", "::1:2"},
    {"[::1]:22", "[::1]:22"},
    {"[0::1]:8000-8100", "[::1]:8000-8100"},
    {"[::]:*", "[::]:*"},
    // IPv4-mapped IPv6 is IPv4.
    {"::ffff:127.0.0.1", "127.0.0.1"},
    {"::FFFF:7f00:1", "127.0.0.1"},
    {"[::ffff:127.0.0.1]:22", "127.0.0.1:22"},
    {"::ffff:10.0.0.0/104", "10.0.0.0/8"},
    {"::ffff:0:0/96", "0.0.0.0/0"},
    {"::FFFF:0.0.0.0/96", "0.0.0.0/0"},
    {"::127.0.0.1", "::7f00:1"},  // IPv4-compatible stays IPv6
    // CIDR.
    {"10.0.0.0/8", "10.0.0.0/8"},
    {"10.0.0.0/8:443", "10.0.0.0/8:443"},
    {"10.0.0.0/32", "10.0.0.0"},
    {"0.0.0.0/0", "0.0.0.0/0"},
    {"012.0.0.0/8", "10.0.0.0/8"},
    {"fd00::/8", "fd00::/8"},
    {"FD00:0::/8", "fd00::/8"},
    {"[fd00::/8]:443", "[fd00::/8]:443"},
    {"::1/128", "::1"},
    {"::/0", "::/0"},
    // Ports.
    {"example.com:80", "example.com:80"},
    {"example.com:00080", "example.com:80"},
    {"example.com:8000-8100", "example.com:8000-8100"},
    {"example.com:22-22", "example.com:22"},
    {"example.com:*", "example.com:*"},
    {"example.com:1-65535", "example.com:*"},
    {"example.com:65535", "example.com:65535"},
};

TEST(HostPattern, SpellingsCanonicalise) {
  for (const Spelling& s : kSpellings) EXPECT_EQ(canonical(s.input), s.canonical) << "input: " << s.input;
}

TEST(HostPattern, CanonicalTextIsAFixedPoint) {
  for (const Spelling& s : kSpellings) {
    if (std::string(s.input) == "*.") continue;
    EXPECT_EQ(canonical(s.canonical), s.canonical) << "input: " << s.canonical;
    EXPECT_EQ(pattern(s.canonical), pattern(s.input)) << "input: " << s.input;
  }
}

TEST(HostPattern, Structure) {
  HostPattern p = pattern("*.example.com");
  EXPECT_EQ(p.kind, HostPattern::Kind::Subdomains);
  EXPECT_EQ(p.name, "example.com");
  EXPECT_EQ(p.ports, (std::vector<PortRange>{{80, 80}, {443, 443}}));
  p = pattern("::ffff:1.2.3.4");
  EXPECT_EQ(p.kind, HostPattern::Kind::Address);
  EXPECT_EQ(p.net.family, 4);
  EXPECT_EQ(p.net.prefix, 32);
  EXPECT_EQ(pattern("*:*").ports, (std::vector<PortRange>{{1, 65535}}));
  EXPECT_EQ(pattern("*").kind, HostPattern::Kind::AnyName);
}

struct Bad {
  std::string_view input;
  Code code;
  std::uint32_t begin;
  std::uint32_t end;
};

const Bad kErrors[] = {
    {"", Code::E0310, 0, 0},
    {"exa\tmple.com", Code::E0311, 3, 4},
    {std::string_view("ab\0c", 4), Code::E0311, 2, 3},
    {"a\x7f", Code::E0311, 1, 2},
    {"a\xc2\x85.com", Code::E0311, 1, 3},  // U+0085, a C1 control
    {"/etc/hosts", Code::E0301, 0, 10},
    {"~/x", Code::E0301, 0, 3},
    {"./x", Code::E0301, 0, 3},
    {".example.com", Code::E0301, 0, 12},
    {"$HOME", Code::E0301, 0, 5},
    {"example.com/path", Code::E0301, 11, 16},  // the path on the host
    {"https://example.com", Code::E0301, 0, 19},
    {"exa mple.com", Code::E0307, 3, 4},
    {"user@example.com", Code::E0307, 4, 5},
    {"a\\b.com", Code::E0307, 1, 2},
    {"ex%41mple.com", Code::E0307, 2, 3},
    {"a..b", Code::E0307, 2, 3},
    {"example.com..", Code::E0307, 12, 13},
    {"*..", Code::E0307, 2, 3},
    {"a*.b", Code::E0307, 1, 2},
    {"a.*.b", Code::E0307, 2, 3},
    {"**.b", Code::E0307, 0, 2},
    {"*.*.b", Code::E0307, 2, 3},
    {"*example.com", Code::E0307, 0, 1},
    {"*.10.0.0.1", Code::E0307, 0, 10},
    {"*.example.123", Code::E0308, 2, 13},
    {"a.bcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopq.c", Code::E0307, 2, 70},
    {"-ü.example", Code::E0307, 0, 3},
    {"[a]", Code::E0308, 1, 2},
    {"1.2.3.4.5", Code::E0308, 0, 9},
    {"256.0.0.1", Code::E0308, 0, 3},
    {"1.2.3.256", Code::E0308, 6, 9},
    {"1.2.65536", Code::E0308, 4, 9},
    {"4294967296", Code::E0308, 0, 10},
    {"08.1.1.1", Code::E0308, 0, 2},
    {"1.09", Code::E0308, 2, 4},
    {"example.123", Code::E0308, 0, 11},
    {"example.0x1", Code::E0308, 0, 11},
    {"1..2", Code::E0308, 2, 3},
    {"::1::2", Code::E0308, 0, 6},
    {"fe80::1%eth0", Code::E0308, 7, 12},
    {"[fe80::1%25eth0]:80", Code::E0308, 8, 15},
    {"[::1", Code::E0308, 0, 4},
    {"[]", Code::E0308, 0, 2},
    {"[127.0.0.1]", Code::E0308, 1, 10},
    {"[::1]x", Code::E0308, 5, 6},
    {"::1:*", Code::E0308, 0, 5},
    {"10.0.0.1/8", Code::E0306, 0, 10},
    {"10.0.0.0/33", Code::E0306, 9, 11},
    {"10.0.0.0/", Code::E0306, 8, 9},
    {"10.0.0.0/x", Code::E0306, 9, 10},
    {"fd00::1/8", Code::E0306, 0, 9},
    {"::/129", Code::E0306, 3, 6},
    {"::ffff:0:0/95", Code::E0306, 0, 13},
    {"[fd00::]/8", Code::E0306, 8, 10},
    {"example.com:", Code::E0305, 11, 12},
    {"example.com:0", Code::E0305, 12, 13},
    {"example.com:70000", Code::E0305, 12, 17},
    {"example.com:+80", Code::E0305, 12, 15},
    {"example.com:http", Code::E0305, 12, 16},
    {"example.com:9000-8000", Code::E0305, 12, 21},
    {"example.com:80-", Code::E0305, 14, 15},
    {"example.com:-80", Code::E0305, 12, 13},
    {"example.com:80:90", Code::E0305, 12, 17},
    {"example.com:000080", Code::E0305, 12, 18},
    {"[::1]:", Code::E0305, 5, 6},
    {":80", Code::E0307, 0, 1},
};

TEST(HostPattern, ErrorsHaveCodesAndSpans) {
  for (const Bad& bad : kErrors) {
    const std::string_view input = bad.input;
    auto result = parse_host_pattern(input);
    ASSERT_TRUE(std::holds_alternative<PatternErrors>(result))
        << "input: " << bad.input << " gave " << canonical(input);
    const PatternError& e = std::get<PatternErrors>(result).front();
    EXPECT_EQ(e.code, bad.code) << "input: " << bad.input << ": " << e.message;
    EXPECT_EQ(e.begin, bad.begin) << "input: " << bad.input << ": " << e.message;
    EXPECT_EQ(e.end, bad.end) << "input: " << bad.input << ": " << e.message;
    EXPECT_FALSE(e.message.empty());
    EXPECT_FALSE(e.message[0] >= 'A' && e.message[0] <= 'Z') << e.message;
  }
}

TEST(HostPattern, MessagesNameTheInput) {
  auto message = [](std::string_view text) { return std::get<PatternErrors>(parse_host_pattern(text)).front(); };
  EXPECT_EQ(message("example.com:70000").message, "port `70000` is above 65535");
  EXPECT_EQ(message("10.0.0.1/8").help, "did you mean `10.0.0.0/8`?");
  EXPECT_EQ(message("fd00::1/8").help, "did you mean `fd00::/8`?");
  EXPECT_EQ(message("10/8").help, "`10` is the address `0.0.0.10`; did you mean `10.0.0.0/8`?");
  EXPECT_EQ(message("a\tb").message, "control character U+0009 in a host");
  EXPECT_EQ(message("a*.b").help, "a wildcard must be the whole leftmost label, as in `*.example.com`");
  EXPECT_EQ(message("/etc").message, "expected a host pattern, found a path");
  EXPECT_EQ(message("/etc").help,
            "net rules take host names such as `example.com`; paths belong in `read`/`write` rules");
  EXPECT_EQ(message("example.com:9000-8000").help, "did you mean `8000-9000`?");
}

TEST(HostPattern, NamesAtTheLengthLimits) {
  const std::string label63(63, 'a');
  EXPECT_EQ(canonical(label63 + ".com"), label63 + ".com");
  std::string name = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');  // 253
  EXPECT_EQ(canonical(name), name);
  EXPECT_EQ(canonical(name + "."), name);
  auto long_name = parse_host_pattern(name + "b");
  ASSERT_TRUE(std::holds_alternative<PatternErrors>(long_name));
  EXPECT_EQ(std::get<PatternErrors>(long_name).front().code, Code::E0307);
  EXPECT_EQ(std::get<PatternErrors>(long_name).front().end, 254u);
}

TEST(HostPattern, NeverCrashesOnOddInput) {
  const std::string inputs[] = {std::string(4096, '1'),
                                std::string(4096, '.'),
                                std::string(4096, ':'),
                                std::string(4096, '*'),
                                "1." + std::string(4000, '0'),
                                "0x" + std::string(4000, 'f'),
                                std::string(2000, '\xc3') + "x",
                                "\xff\xfe",
                                "\xc3\xbc" + std::string(300, 'a'),
                                "[" + std::string(4000, ':') + "]",
                                "a:" + std::string(4000, '9'),
                                "::ffff:1.2.3.4/",
                                std::string(1000, 'a') + "." + std::string(100, 'b'),
                                "\xc2\x85x",
                                "[::1]:-"};
  for (const std::string& input : inputs) {
    auto result = parse_host_pattern(input);
    if (auto* errors = std::get_if<PatternErrors>(&result)) {
      EXPECT_LE(errors->front().begin, errors->front().end);
      EXPECT_LE(errors->front().end, input.size());
    }
    (void)parse_host_subject(input, 443);
  }
}

TEST(HostSubject, Canonicalises) {
  EXPECT_EQ(subject("Example.COM.").text(), "example.com:443");
  EXPECT_EQ(subject("example.com:22").text(), "example.com:22");
  EXPECT_EQ(subject("bücher.example", 80).text(), "xn--bcher-kva.example:80");
  EXPECT_EQ(subject("2130706433").text(), "127.0.0.1:443");
  EXPECT_EQ(subject("::1").text(), "[::1]:443");
  EXPECT_EQ(subject("[::1]:80").text(), "[::1]:80");
  EXPECT_EQ(subject("[::ffff:127.0.0.1]:8080").text(), "127.0.0.1:8080");
  EXPECT_TRUE(subject("10.1.2.3").is_ip);
}

TEST(HostSubject, RejectsPatternsAndNonsense) {
  for (const char* bad : {"*", "*.example.com", "10.0.0.0/8", "fd00::/8", "example.com:*", "example.com:1-2",
                          "example.com:0", "", "a b", "/etc", "256.1.1.1", "ex*ample.com"}) {
    auto result = parse_host_subject(bad, 443);
    ASSERT_TRUE(std::holds_alternative<std::string>(result)) << bad;
    const std::string& message = std::get<std::string>(result);
    EXPECT_FALSE(message.empty()) << bad;
  }
}

TEST(HostMatches, NamesAndStrictSubdomains) {
  const HostPattern sub = pattern("*.example.com");
  EXPECT_TRUE(host_matches(sub, subject("www.example.com")));
  EXPECT_TRUE(host_matches(sub, subject("a.b.example.com")));
  EXPECT_FALSE(host_matches(sub, subject("example.com")));
  EXPECT_FALSE(host_matches(sub, subject("badexample.com")));
  EXPECT_FALSE(host_matches(sub, subject("example.com.evil.test")));
  const HostPattern exact = pattern("Example.com.");
  EXPECT_TRUE(host_matches(exact, subject("EXAMPLE.COM")));
  EXPECT_FALSE(host_matches(exact, subject("www.example.com")));
  EXPECT_TRUE(host_matches(pattern("bücher.example"), subject("xn--bcher-kva.example")));
}

TEST(HostMatches, WildcardsNeverMatchAddresses) {
  const HostPattern any = pattern("*");
  EXPECT_TRUE(host_matches(any, subject("example.com")));
  EXPECT_FALSE(host_matches(any, subject("127.0.0.1")));
  EXPECT_FALSE(host_matches(any, subject("::1")));
  EXPECT_FALSE(host_matches(pattern("*:*"), subject("10.0.0.1:22")));
  EXPECT_FALSE(host_matches(pattern("*.0.0.1x"), subject("127.0.0.1")));
}

TEST(HostMatches, AddressesAndCidr) {
  EXPECT_TRUE(host_matches(pattern("127.0.0.1"), subject("2130706433")));
  EXPECT_TRUE(host_matches(pattern("0x7f.1"), subject("::ffff:127.0.0.1")));
  EXPECT_FALSE(host_matches(pattern("127.0.0.1"), subject("127.0.0.2")));
  const HostPattern ten = pattern("10.0.0.0/8");
  EXPECT_TRUE(host_matches(ten, subject("10.255.0.1")));
  EXPECT_FALSE(host_matches(ten, subject("11.0.0.1")));
  EXPECT_FALSE(host_matches(ten, subject("10.example")));  // a name, never an address
  EXPECT_FALSE(host_matches(pattern("10.2.0.0/15"), subject("10.1.255.255")));
  EXPECT_TRUE(host_matches(pattern("10.0.0.0/15"), subject("10.1.255.255")));
  EXPECT_TRUE(host_matches(pattern("0.0.0.0/0"), subject("8.8.8.8")));
  EXPECT_FALSE(host_matches(pattern("0.0.0.0/0"), subject("::1")));
  EXPECT_FALSE(host_matches(pattern("::/0"), subject("127.0.0.1")));
  EXPECT_TRUE(host_matches(pattern("fd00::/8"), subject("fdff::1")));
  EXPECT_FALSE(host_matches(pattern("fd00::/8"), subject("fe00::1")));
  EXPECT_TRUE(host_matches(pattern("::ffff:10.0.0.0/104"), subject("10.9.9.9")));
  EXPECT_FALSE(host_matches(pattern("127.0.0.1"), subject("localhost")));
}

TEST(HostMatches, Ports) {
  EXPECT_TRUE(host_matches(pattern("example.com"), subject("example.com", 80)));
  EXPECT_TRUE(host_matches(pattern("example.com"), subject("example.com", 443)));
  EXPECT_FALSE(host_matches(pattern("example.com"), subject("example.com:22")));
  EXPECT_TRUE(host_matches(pattern("example.com:22"), subject("example.com:22")));
  EXPECT_FALSE(host_matches(pattern("example.com:22"), subject("example.com", 443)));
  EXPECT_TRUE(host_matches(pattern("example.com:8000-8100"), subject("example.com:8100")));
  EXPECT_FALSE(host_matches(pattern("example.com:8000-8100"), subject("example.com:8101")));
  EXPECT_TRUE(host_matches(pattern("example.com:*"), subject("example.com:1")));
  EXPECT_TRUE(host_matches(pattern("[::1]:22"), subject("[::1]:22")));
  EXPECT_FALSE(host_matches(pattern("[::1]:22"), subject("::1")));
}

TEST(HostPattern, FencesCoverEveryPortUnlessTheyNameTheirs) {
  HostPattern bare = pattern("evil.test");
  fence_ports(bare);
  EXPECT_TRUE(host_matches(bare, subject("evil.test:8080")));
  EXPECT_TRUE(host_matches(bare, subject("evil.test:1")));
  EXPECT_EQ(bare.text(), "evil.test");  // printed as written
  HostPattern named = pattern("evil.test:22");
  fence_ports(named);
  EXPECT_FALSE(host_matches(named, subject("evil.test:8080")));
  EXPECT_EQ(named.text(), "evil.test:22");
  HostPattern block = pattern("10.0.0.0/8");
  fence_ports(block);
  EXPECT_TRUE(host_matches(block, subject("10.1.2.3:5432")));
}

TEST(IpNet, ContainsAndText) {
  IpNet net = pattern("192.168.0.0/16").net;
  EXPECT_EQ(net.text(), "192.168.0.0/16");
  EXPECT_TRUE(net.contains(pattern("192.168.7.1").net));
  EXPECT_TRUE(net.contains(pattern("192.168.128.0/17").net));  // a narrower block
  EXPECT_FALSE(net.contains(pattern("192.0.0.0/8").net));      // a wider one
  EXPECT_FALSE(net.contains(pattern("192.169.0.1").net));
  EXPECT_EQ(pattern("2001:db8::/32").net.text(), "2001:db8::/32");
  EXPECT_EQ(pattern("1:0:0:1:0:0:0:1").net.text(), "1:0:0:1::1");       // longest run wins
  EXPECT_EQ(pattern("1:0:0:1:0:0:1:1").net.text(), "1::1:0:0:1:1");     // leftmost on a tie
  EXPECT_EQ(pattern("1:0:1:1:1:1:1:1").net.text(), "1:0:1:1:1:1:1:1");  // one zero group stays
}

}  // namespace
}  // namespace sbpolicy::sema
