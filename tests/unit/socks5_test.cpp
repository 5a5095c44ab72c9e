// SOCKS5 greeting and request parsing: the RFC 1928 subset the proxy
// accepts, the reply code for everything it refuses, NeedMore for every
// proper prefix of a valid message, and names held to the bytes the policy
// and the resolver read the same way.
#include "proxy/socks5.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sbpolicy::proxy {
namespace {

using namespace std::string_literals;

std::string request(std::uint8_t atyp, const std::string& address, std::uint16_t port, std::uint8_t cmd = 1) {
  std::string r = {0x05, static_cast<char>(cmd), 0x00, static_cast<char>(atyp)};
  r += address;
  r += static_cast<char>(port >> 8);
  r += static_cast<char>(port & 0xff);
  return r;
}

std::string name_request(const std::string& name, std::uint16_t port = 443) {
  return request(3, static_cast<char>(name.size()) + name, port);
}

SocksRequest must_parse(const std::string& bytes) {
  const SocksRequest r = parse_socks_request(bytes);
  EXPECT_EQ(r.status, ParseStatus::Done);
  EXPECT_EQ(r.consumed, bytes.size());
  return r;
}

void expect_fail(const std::string& bytes, std::uint8_t reply) {
  const SocksRequest r = parse_socks_request(bytes);
  EXPECT_EQ(r.status, ParseStatus::Fail);
  EXPECT_EQ(r.reply, reply);
  EXPECT_TRUE(r.host.empty());
}

void expect_every_prefix_needs_more(const std::string& message) {
  for (std::size_t n = 0; n < message.size(); ++n) {
    const std::string prefix = message.substr(0, n);
    EXPECT_EQ(parse_socks_request(prefix).status, ParseStatus::NeedMore) << "prefix of " << n << " bytes";
  }
}

TEST(Socks5Greeting, NoAuthOffered) {
  const SocksGreeting g = parse_socks_greeting("\x05\x02\x02\x00"s);
  EXPECT_EQ(g.status, ParseStatus::Done);
  EXPECT_EQ(g.consumed, 4u);
  EXPECT_TRUE(g.no_auth_offered);
}

TEST(Socks5Greeting, OnlyPasswordOffered) {
  const SocksGreeting g = parse_socks_greeting("\x05\x01\x02"s);
  EXPECT_EQ(g.status, ParseStatus::Done);
  EXPECT_EQ(g.consumed, 3u);
  EXPECT_FALSE(g.no_auth_offered);
  EXPECT_EQ(socks_method_reply(g.no_auth_offered), "\x05\xff"s);
  EXPECT_EQ(socks_method_reply(true), "\x05\x00"s);
}

TEST(Socks5Greeting, BytesAfterTheGreetingAreNotConsumed) {
  // A client that pipelines its request behind the greeting.
  const std::string bytes = "\x05\x01\x00"s + name_request("pkgs.test");
  const SocksGreeting g = parse_socks_greeting(bytes);
  EXPECT_EQ(g.status, ParseStatus::Done);
  EXPECT_EQ(g.consumed, 3u);
  EXPECT_EQ(must_parse(bytes.substr(g.consumed)).host, "pkgs.test");
}

TEST(Socks5Greeting, EveryProperPrefixNeedsMore) {
  std::string greeting = "\x05\xff"s;
  for (int m = 0; m < 255; ++m) greeting += static_cast<char>(m);
  const SocksGreeting g = parse_socks_greeting(greeting);
  EXPECT_EQ(g.status, ParseStatus::Done);
  EXPECT_EQ(g.consumed, 257u);
  EXPECT_TRUE(g.no_auth_offered);
  for (std::size_t n = 0; n < greeting.size(); ++n) {
    EXPECT_EQ(parse_socks_greeting(greeting.substr(0, n)).status, ParseStatus::NeedMore) << n;
  }
}

TEST(Socks5Greeting, Refusals) {
  // SOCKS4 and SOCKS4a start with 0x04; an HTTP client with 'C'.
  EXPECT_EQ(parse_socks_greeting("\x04\x01\x01\xbb\x7f\x00\x00\x01\x00"s).status, ParseStatus::Fail);
  EXPECT_EQ(parse_socks_greeting("\x04"s).status, ParseStatus::Fail);
  EXPECT_EQ(parse_socks_greeting("CONNECT a:443 HTTP/1.1\r\n").status, ParseStatus::Fail);
  EXPECT_EQ(parse_socks_greeting("\x05\x00"s).status, ParseStatus::Fail);
  EXPECT_EQ(parse_socks_greeting("\x05\x00\x00"s).status, ParseStatus::Fail);
  EXPECT_EQ(parse_socks_greeting("\x00"s).status, ParseStatus::Fail);
  EXPECT_EQ(parse_socks_greeting("").status, ParseStatus::NeedMore);
}

TEST(Socks5Request, Ipv4) {
  const SocksRequest r = must_parse(request(1, "\x7f\x00\x00\x01"s, 8080));
  EXPECT_FALSE(r.is_name);
  EXPECT_EQ(r.host, "127.0.0.1");
  EXPECT_EQ(r.port, 8080);
  EXPECT_EQ(must_parse(request(1, "\xff\xff\xff\xff"s, 0xffff)).host, "255.255.255.255");
  EXPECT_EQ(must_parse(request(1, "\x00\x00\x00\x00"s, 1)).host, "0.0.0.0");
  EXPECT_EQ(must_parse(request(1, "\x00\x00\x00\x00"s, 1)).port, 1);
}

TEST(Socks5Request, Ipv6InRfc5952Form) {
  const std::string loopback = "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01"s;
  const SocksRequest r = must_parse(request(4, loopback, 443));
  EXPECT_FALSE(r.is_name);
  EXPECT_EQ(r.host, "[::1]");
  EXPECT_EQ(r.port, 443);
  EXPECT_EQ(must_parse(request(4, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"s, 1)).host, "[2001:db8::1]");
  EXPECT_EQ(must_parse(request(4, "\x20\x01\x0d\xb8\0\0\0\x01\0\0\0\0\0\0\0\x01"s, 1)).host, "[2001:db8:0:1::1]");
  EXPECT_EQ(must_parse(request(4, "\xfe\x80\0\0\0\0\0\0\0\0\0\0\xAB\xCD\xEF\x01"s, 1)).host, "[fe80::abcd:ef01]");
  EXPECT_EQ(must_parse(request(4, std::string(16, '\0'), 1)).host, "[::]");
  // IPv4-mapped stays IPv6 here; the caller's canonicalisation makes it IPv4.
  EXPECT_EQ(must_parse(request(4, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\0\0\x01"s, 1)).host, "[::ffff:10.0.0.1]");
}

TEST(Socks5Request, NamesAreReturnedAsSent) {
  SocksRequest r = must_parse(name_request("registry.pkgs.test", 443));
  EXPECT_TRUE(r.is_name);
  EXPECT_EQ(r.host, "registry.pkgs.test");
  EXPECT_EQ(r.port, 443);
  EXPECT_EQ(must_parse(name_request("Registry.PKGS.test")).host, "Registry.PKGS.test");
  EXPECT_EQ(must_parse(name_request("pkgs.test.")).host, "pkgs.test.");
  EXPECT_EQ(must_parse(name_request("under_score-dash.0-9.test")).host, "under_score-dash.0-9.test");
  EXPECT_EQ(must_parse(name_request("xn--bcher-kva.example")).host, "xn--bcher-kva.example");
  EXPECT_EQ(must_parse(name_request("a")).host, "a");
  // A name that looks like an address is still a name; the caller decides.
  EXPECT_EQ(must_parse(name_request("127.0.0.1")).host, "127.0.0.1");
}

TEST(Socks5Request, NameLengths) {
  expect_fail(request(3, "\x00"s, 443), 0x02);
  const std::string longest(255, 'a');
  const SocksRequest r = must_parse(name_request(longest, 22));
  EXPECT_EQ(r.host, longest);
  EXPECT_EQ(r.port, 22);
  EXPECT_EQ(r.consumed, 4u + 1 + 255 + 2);
}

TEST(Socks5Request, NameBytesOutsideTheHostSetAreRefused) {
  // A NUL would end the name for a C resolver but not for the policy check.
  expect_fail(name_request("evil.test\0.pkgs.test"s), 0x02);
  for (const std::string& bad : {"a b"s, "a\tb"s, "a\nb"s, "a\x7f"s, "a%2e"s, "a:443"s, "a/b"s, "user@a"s, "[::1]"s,
                                 "a\\b"s, "a;b"s, "a+b"s, "a*b"s, "*.a"s, "b\xc3\xbc"s, "\x80"s, "\xff"s, "\x01"s}) {
    expect_fail(name_request(bad), 0x02);
  }
  // Refused as soon as the bad byte arrives, before the rest of the name.
  expect_fail("\x05\x01\x00\x03\x10"s + "evil\0"s, 0x02);
}

TEST(Socks5Request, Commands) {
  expect_fail(request(1, "\x01\x02\x03\x04"s, 80, 2), 0x07);  // BIND
  expect_fail(request(1, "\x01\x02\x03\x04"s, 80, 3), 0x07);  // UDP ASSOCIATE
  expect_fail(request(1, "\x01\x02\x03\x04"s, 80, 0), 0x07);
  expect_fail(request(1, "\x01\x02\x03\x04"s, 80, 0xff), 0x07);
  // Known from the second byte on.
  expect_fail("\x05\x02"s, 0x07);
}

TEST(Socks5Request, AddressTypes) {
  expect_fail(request(0, "\x01\x02\x03\x04"s, 80), 0x08);
  expect_fail(request(2, "\x01\x02\x03\x04"s, 80), 0x08);
  expect_fail(request(5, "\x01\x02\x03\x04"s, 80), 0x08);
  expect_fail("\x05\x01\x00\xff"s, 0x08);
}

TEST(Socks5Request, PortZeroIsRefused) {
  expect_fail(request(1, "\x01\x02\x03\x04"s, 0), 0x02);
  expect_fail(name_request("pkgs.test", 0), 0x02);
  expect_fail(request(4, std::string(15, '\0') + "\x01", 0), 0x02);
}

TEST(Socks5Request, BadVersionOrReservedByteClosesWithoutReply) {
  expect_fail("\x04\x01\x01\xbb\x7f\x00\x00\x01\x00"s, 0);  // SOCKS4 CONNECT
  expect_fail("\x04"s, 0);
  expect_fail("\x06\x01\x00\x01\x01\x02\x03\x04\x00\x50"s, 0);
  expect_fail("\x05\x01\x01\x01\x01\x02\x03\x04\x00\x50"s, 0);
  expect_fail("\x05\x01\x01"s, 0);
  // Checked in byte order: the command is judged before the reserved byte.
  expect_fail("\x05\x02\x01"s, 0x07);
}

TEST(Socks5Request, EveryProperPrefixNeedsMore) {
  expect_every_prefix_needs_more(request(1, "\x0a\x00\x00\x01"s, 443));
  expect_every_prefix_needs_more(request(4, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"s, 443));
  expect_every_prefix_needs_more(name_request("registry.pkgs.test"));
  expect_every_prefix_needs_more(name_request(std::string(255, 'z')));
  // The port's first byte may be 0 (port 1..255) and is not refused early.
  expect_every_prefix_needs_more(name_request("a", 1));
}

TEST(Socks5Request, BytesAfterTheRequestAreNotConsumed) {
  const std::string message = name_request("pkgs.test", 443);
  const SocksRequest r = parse_socks_request(message + "\x16\x03\x01"s);
  EXPECT_EQ(r.status, ParseStatus::Done);
  EXPECT_EQ(r.consumed, message.size());
  EXPECT_EQ(r.host, "pkgs.test");
}

TEST(Socks5Reply, Layout) {
  EXPECT_EQ(socks_reply(0x00), "\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00"s);
  EXPECT_EQ(socks_reply(0x02), "\x05\x02\x00\x01\x00\x00\x00\x00\x00\x00"s);
  EXPECT_EQ(socks_reply(0x08).size(), 10u);
}

}  // namespace
}  // namespace sbpolicy::proxy
