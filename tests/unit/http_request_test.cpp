// The proxy's reading of an HTTP request head: what it accepts (CONNECT
// authorities and absolute-form http:// requests, canonicalised with the
// policy's own host rules), what it refuses with 400 and why (the NET-xx
// attacks of the catalogue: Host confusion, origin-form, control bytes, line
// ending tricks, ambiguous framing, odd ports, Unicode hosts), and the head it
// sends upstream (hop-by-hop fields gone, Host and framing regenerated).
#include "proxy/http_request.hpp"

#include <gtest/gtest.h>

#include "http_head.hpp"

#include <cstdio>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace sbpolicy::proxy {
namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;

using http_testing::head;

// The head with its control bytes spelled out, for failure messages.
std::string printable(std::string_view bytes) {
  std::string out;
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20 || u >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

// One line per outcome: "connect HOST:PORT", "forward METHOD HOST:PORT
// TARGET [chunked|length=N]", or "STATUS reason".
std::string verdict(std::string_view bytes) {
  auto result = interpret_request_head(bytes);
  if (const auto* e = std::get_if<RequestError>(&result)) return std::to_string(e->status) + " " + e->reason;
  const ProxyRequest& r = std::get<ProxyRequest>(result);
  if (r.kind == ProxyRequest::Kind::Connect) return "connect " + r.subject.text();
  std::string out = "forward " + r.method + " " + r.subject.text() + " " + r.target;
  if (r.chunked) out += " chunked";
  if (r.content_length) out += " length=" + std::to_string(*r.content_length);
  return out;
}

ProxyRequest must_interpret(std::string_view bytes) {
  auto result = interpret_request_head(bytes);
  EXPECT_TRUE(std::holds_alternative<ProxyRequest>(result)) << printable(bytes) << " gave " << verdict(bytes);
  return std::holds_alternative<ProxyRequest>(result) ? std::get<ProxyRequest>(result) : ProxyRequest{};
}

struct Case {
  std::string head;
  // Accepted heads are compared whole; a refusal ("400 ...", "431 ...")
  // is the start of the verdict, so Beast's wording can follow.
  std::string expect;
};

void check(const Case& c) {
  const std::string got = verdict(c.head);
  const bool refusal = !c.expect.empty() && c.expect[0] >= '0' && c.expect[0] <= '9';
  if (refusal) {
    EXPECT_TRUE(got.starts_with(c.expect))
        << "head: " << printable(c.head) << "\n  got: " << got << "\n want: " << c.expect << "...";
  } else {
    EXPECT_EQ(got, c.expect) << "head: " << printable(c.head);
  }
  // Reasons go back to the client in a status line: printable ASCII only.
  const auto result = interpret_request_head(c.head);
  if (const auto* e = std::get_if<RequestError>(&result)) {
    for (const char ch : e->reason) EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << printable(e->reason);
  }
}

void check_all(std::initializer_list<Case> cases) {
  for (const Case& c : cases) check(c);
}

TEST(HttpRequestConnect, Authorities) {
  check_all({
      {head({"CONNECT example.com:443 HTTP/1.1"}), "connect example.com:443"},
      {head({"CONNECT Example.COM.:8443 HTTP/1.1", "Host: unrelated.test"}), "connect example.com:8443"},
      {head({"CONNECT registry.pkgs.test:443 HTTP/1.0"}), "connect registry.pkgs.test:443"},
      {head({"CONNECT under_score-.example:22 HTTP/1.1"}), "connect under_score-.example:22"},
      {head({"CONNECT xn--bcher-kva.example:443 HTTP/1.1"}), "connect xn--bcher-kva.example:443"},
      {head({"CONNECT 93.184.215.14:443 HTTP/1.1"}), "connect 93.184.215.14:443"},
      {head({"CONNECT [2606:4700::1111]:443 HTTP/1.1"}), "connect [2606:4700::1111]:443"},
      {head({"CONNECT [::1]:22 HTTP/1.1"}), "connect [::1]:22"},
      {head({"CONNECT [0:0:0:0:0:0:0:1]:22 HTTP/1.1"}), "connect [::1]:22"},
      {head({"CONNECT [FE80::1]:22 HTTP/1.1"}), "connect [fe80::1]:22"},
      {head({"CONNECT example.com:443 HTTP/1.1", "Content-Length: 0"}), "connect example.com:443"},
      // Refused.
      {head({"CONNECT example.com HTTP/1.1"}), "400 CONNECT needs host:port"},
      {head({"CONNECT [::1] HTTP/1.1"}), "400 CONNECT needs host:port"},
      {head({"CONNECT [::1 HTTP/1.1"}), "400 unclosed bracket"},
      {head({"CONNECT [::1]x:22 HTTP/1.1"}), "400 text after the IPv6 literal"},
      {head({"CONNECT [::1]22 HTTP/1.1"}), "400 text after the IPv6 literal"},
      {head({"CONNECT []:22 HTTP/1.1"}), "400 bad host: "},
      {head({"CONNECT [127.0.0.1]:22 HTTP/1.1"}), "400 bad host: "},
      {head({"CONNECT [v1.x]:22 HTTP/1.1"}), "400 bad character in an IPv6 literal"},
      {head({"CONNECT ::1:22 HTTP/1.1"}), "400 empty host"},
      {head({"CONNECT :443 HTTP/1.1"}), "400 empty host"},
      {head({"CONNECT user@example.com:443 HTTP/1.1"}), "400 userinfo in the authority"},
      {head({"CONNECT http://example.com:443 HTTP/1.1"}), "400 bad port"},
      {head({"CONNECT example.com:443/ HTTP/1.1"}), "400 bad port"},
      {head({"CONNECT a..b:443 HTTP/1.1"}), "400 bad host: "},
      {head({"CONNECT .example.com:443 HTTP/1.1"}), "400 bad host: "},
      {head({"CONNECT " + std::string(254, 'a') + ":443 HTTP/1.1"}), "400 bad host: "},
      // A body on a tunnel request is a request hidden in the tunnel.
      {head({"CONNECT example.com:443 HTTP/1.1", "Content-Length: 5"}), "400 CONNECT with a body"},
      {head({"CONNECT example.com:443 HTTP/1.1", "Transfer-Encoding: chunked"}), "400 CONNECT with a body"},
      {head({"CONNECT example.com:443 HTTP/1.1", "Host: a.test", "Host: b.test"}), "400 more than one Host header"},
      // Methods are case-sensitive: `connect` is some other method, and the
      // refusal says so rather than asking for an absolute http:// target.
      {head({"connect example.com:443 HTTP/1.1"}), "400 methods are case-sensitive"},
  });
}

// NET-22: strictly decimal 1..65535, no sign, no leading zero, nothing after.
TEST(HttpRequestConnect, Ports) {
  check_all({
      {head({"CONNECT example.com:1 HTTP/1.1"}), "connect example.com:1"},
      {head({"CONNECT example.com:65535 HTTP/1.1"}), "connect example.com:65535"},
      {head({"CONNECT [::1]:65535 HTTP/1.1"}), "connect [::1]:65535"},
      {head({"CONNECT example.com:0 HTTP/1.1"}), "400 bad port"},
      {head({"CONNECT example.com:65536 HTTP/1.1"}), "400 bad port"},
      {head({"CONNECT example.com:99999 HTTP/1.1"}), "400 bad port"},
      {head({"CONNECT example.com:443abc HTTP/1.1"}), "400 bad port"},
      {head({"CONNECT example.com:+443 HTTP/1.1"}), "400 bad port"},
      {head({"CONNECT example.com:0443 HTTP/1.1"}), "400 bad port"},
      {head({"CONNECT example.com:000443 HTTP/1.1"}), "400 bad port"},
      {head({"CONNECT example.com: HTTP/1.1"}), "400 bad port"},
      {head({"CONNECT example.com:443:80 HTTP/1.1"}), "400 bad port"},
      {head({"CONNECT example.com:-1 HTTP/1.1"}), "400 bad port"},
      {head({"CONNECT example.com:0x1bb HTTP/1.1"}), "400 bad port"},
      {head({"CONNECT example.com:4294967739 HTTP/1.1"}), "400 bad port"},  // 443 + 2^32
      {head({"CONNECT [::1]: HTTP/1.1"}), "400 bad port"},
      {head({"CONNECT [::1]:0 HTTP/1.1"}), "400 bad port"},
      {head({"CONNECT [::1]:22:80 HTTP/1.1"}), "400 bad port"},
      // `: 443` splits the request line into four parts.
      {head({"CONNECT example.com: 443 HTTP/1.1"}), "400 malformed request"},
      {head({"GET http://example.com:0/ HTTP/1.1"}), "400 bad port"},
      {head({"GET http://example.com:/ HTTP/1.1"}), "400 bad port"},
      {head({"GET http://example.com:080/ HTTP/1.1"}), "400 bad port"},
      {head({"GET http://example.com:80abc/ HTTP/1.1"}), "400 bad port"},
  });
}

// NET-16, NET-17: every spelling of an address is one canonical subject, so
// the address guard sees 127.0.0.1 whatever the client wrote.
TEST(HttpRequestConnect, AddressSpellingsCanonicalise) {
  check_all({
      {head({"CONNECT 2130706433:22 HTTP/1.1"}), "connect 127.0.0.1:22"},
      {head({"CONNECT 0x7f000001:22 HTTP/1.1"}), "connect 127.0.0.1:22"},
      {head({"CONNECT 017700000001:22 HTTP/1.1"}), "connect 127.0.0.1:22"},
      {head({"CONNECT 0177.0.0.1:22 HTTP/1.1"}), "connect 127.0.0.1:22"},
      {head({"CONNECT 0x7f.1:22 HTTP/1.1"}), "connect 127.0.0.1:22"},
      {head({"CONNECT 127.1:22 HTTP/1.1"}), "connect 127.0.0.1:22"},
      {head({"CONNECT 127.0.0.1.:22 HTTP/1.1"}), "connect 127.0.0.1:22"},
      {head({"CONNECT 0:8080 HTTP/1.1"}), "connect 0.0.0.0:8080"},
      {head({"CONNECT [::ffff:127.0.0.1]:22 HTTP/1.1"}), "connect 127.0.0.1:22"},
      {head({"CONNECT [::FFFF:7f00:1]:22 HTTP/1.1"}), "connect 127.0.0.1:22"},
      {head({"CONNECT [0:0:0:0:0:ffff:a9fe:a9fe]:80 HTTP/1.1"}), "connect 169.254.169.254:80"},
      {head({"CONNECT [64:ff9b::a9fe:a9fe]:80 HTTP/1.1"}), "connect [64:ff9b::a9fe:a9fe]:80"},
      {head({"CONNECT [::]:8080 HTTP/1.1"}), "connect [::]:8080"},
      {head({"GET http://0x7f.1:8080/ HTTP/1.1"}), "forward GET 127.0.0.1:8080 /"},
      {head({"GET http://[::ffff:169.254.169.254]/latest HTTP/1.1"}), "forward GET 169.254.169.254:80 /latest"},
      // Not addresses, not names.
      {head({"CONNECT 1.2.3.4.5:443 HTTP/1.1"}), "400 bad host: "},
      {head({"CONNECT 256.1.1.1:443 HTTP/1.1"}), "400 bad host: "},
      {head({"CONNECT 08.1.1.1:443 HTTP/1.1"}), "400 bad host: "},
      {head({"CONNECT example.123:443 HTTP/1.1"}), "400 bad host: "},
      // A zone id names an interface of the host, not a destination.
      {head({"CONNECT [fe80::1%25lo]:22 HTTP/1.1"}), "400 bad character in an IPv6 literal"},
      {head({"CONNECT [fe80::1%lo]:22 HTTP/1.1"}), "400 bad character in an IPv6 literal"},
      {head({"GET http://[fe80::1%25eth0]/ HTTP/1.1"}), "400 bad character in an IPv6 literal"},
  });
}

// NET-31: non-ASCII never reaches the policy; IDN arrives as punycode.
TEST(HttpRequestConnect, UnicodeHostsAreRefused) {
  check_all({
      {head({"CONNECT registry.pkgs.tεst:443 HTTP/1.1"}), "400 bad character in the host"},
      {head({"CONNECT registry．pkgs．test:443 HTTP/1.1"}), "400 bad character in the host"},
      {head({"CONNECT registry。pkgs。test:443 HTTP/1.1"}), "400 bad character in the host"},
      {head({"CONNECT regis\u200btry.pkgs.test:443 HTTP/1.1"}), "400 bad character in the host"},
      {head({"CONNECT bücher.example:443 HTTP/1.1"}), "400 bad character in the host"},
      {head({"CONNECT １２７.0.0.1:22 HTTP/1.1"}), "400 bad character in the host"},
      {head({"GET http://bücher.example/ HTTP/1.1"}), "400 bad character in the host"},
      {head({"GET http://xn--bcher-kva.example/ HTTP/1.1", "Host: bücher.example"}),
       "400 the Host header disagrees with the request target"},
  });
}

TEST(HttpRequestForward, AbsoluteForm) {
  check_all({
      {head({"GET http://example.com/ HTTP/1.1"}), "forward GET example.com:80 /"},
      {head({"GET http://example.com HTTP/1.1"}), "forward GET example.com:80 /"},
      {head({"GET http://example.com/ HTTP/1.0"}), "forward GET example.com:80 /"},
      {head({"GET HTTP://Example.COM./x HTTP/1.1"}), "forward GET example.com:80 /x"},
      {head({"GET http://example.com:8080/a/b?c=d&e HTTP/1.1"}), "forward GET example.com:8080 /a/b?c=d&e"},
      {head({"GET http://example.com:80/ HTTP/1.1"}), "forward GET example.com:80 /"},
      {head({"GET http://example.com:443/ HTTP/1.1"}), "forward GET example.com:443 /"},
      {head({"GET http://example.com?q=1 HTTP/1.1"}), "forward GET example.com:80 /?q=1"},
      {head({"GET http://example.com:8080?q=1 HTTP/1.1"}), "forward GET example.com:8080 /?q=1"},
      {head({"GET http://example.com/a@b HTTP/1.1"}), "forward GET example.com:80 /a@b"},
      {head({"GET http://127.0.0.1:8080/ HTTP/1.1"}), "forward GET 127.0.0.1:8080 /"},
      {head({"GET http://[::1]/ HTTP/1.1"}), "forward GET [::1]:80 /"},
      {head({"GET http://[::1]:8080/x HTTP/1.1"}), "forward GET [::1]:8080 /x"},
      {head({"HEAD http://example.com/ HTTP/1.1"}), "forward HEAD example.com:80 /"},
      {head({"DELETE http://example.com/item/1 HTTP/1.1"}), "forward DELETE example.com:80 /item/1"},
      {head({"PROPFIND http://example.com/dav/ HTTP/1.1"}), "forward PROPFIND example.com:80 /dav/"},
      {head({"POST http://example.com/upload HTTP/1.1", "Content-Length: 5"}),
       "forward POST example.com:80 /upload length=5"},
      {head({"POST http://example.com/upload HTTP/1.1", "Transfer-Encoding: chunked"}),
       "forward POST example.com:80 /upload chunked"},
      // NET-25: a percent-encoded CRLF stays encoded in the path.
      {head({"GET http://registry.pkgs.test/%0d%0aHost:%20evil.test HTTP/1.1"}),
       "forward GET registry.pkgs.test:80 /%0d%0aHost:%20evil.test"},
      // Refused.
      {head({"GET https://example.com/ HTTP/1.1"}), "400 https:// through a plain proxy request"},
      {head({"GET HTTPS://example.com/ HTTP/1.1"}), "400 https:// through a plain proxy request"},
      {head({"GET ftp://example.com/ HTTP/1.1"}), "400 the proxy needs an absolute http:// target"},
      {head({"GET http:/example.com/ HTTP/1.1"}), "400 the proxy needs an absolute http:// target"},
      {head({"GET http:// HTTP/1.1"}), "400 empty host"},
      {head({"GET http:///x HTTP/1.1"}), "400 empty host"},
      {head({"GET http://?x HTTP/1.1"}), "400 empty host"},
      {head({"GET http://example.com/#top HTTP/1.1"}), "400 fragment in the request target"},
      {head({"GET http://example.com#@evil.test/ HTTP/1.1"}), "400 fragment in the request target"},
      {head({"GET http://user@example.com/ HTTP/1.1"}), "400 userinfo in the authority"},
      {head({"GET http://user:pass@example.com/ HTTP/1.1"}), "400 userinfo in the authority"},
      {head({"GET http://registry.pkgs.test@evil.test/ HTTP/1.1"}), "400 userinfo in the authority"},
      {head({"GET http://registry.pkgs.test\\@evil.test/ HTTP/1.1"}), "400 userinfo in the authority"},
      {head({"GET http://registry.pkgs.test\\.evil.test/ HTTP/1.1"}), "400 bad character in the host"},
      {head({"GET http://ex%61mple.com/ HTTP/1.1"}), "400 bad character in the host"},
      {head({"GET http://evil.test%2f.pkgs.test/ HTTP/1.1"}), "400 bad character in the host"},
      {head({"GET http://evil.test;.pkgs.test/ HTTP/1.1"}), "400 bad character in the host"},
      {head({"GET http://*.example.com/ HTTP/1.1"}), "400 bad character in the host"},
  });
}

// NET-11: the target is never derived from Host.
TEST(HttpRequestForward, OriginFormIsRefused) {
  check_all({
      {head({"GET / HTTP/1.0"}), "400 the proxy needs an absolute http:// target"},
      {head({"GET /x HTTP/1.1", "Host: evil.test"}), "400 the proxy needs an absolute http:// target"},
      {head({"GET example.com:80 HTTP/1.1"}), "400 the proxy needs an absolute http:// target"},
      {head({"OPTIONS * HTTP/1.1", "Host: example.com"}), "400 the proxy needs an absolute http:// target"},
      {"PRI * HTTP/2.0\r\n\r\n", "400 malformed request"},  // the HTTP/2 preface
      {head({"PRI http://example.com/ HTTP/2.0"}), "400 malformed request"},
      {head({" http://evil.test/ HTTP/1.1"}), "400 malformed request"},
      {head({"http://evil.test/ HTTP/1.1"}), "400 malformed request"},
      {head({"GET http://evil.test/"}), "400 malformed request"},
      {head({"GET  http://evil.test/ HTTP/1.1"}), "400 malformed request"},
      {head({"GET http://evil.test/ HTTP/1.1 extra"}), "400 malformed request"},
      {head({"GET http://evil.test/ FTP/1.1"}), "400 malformed request"},
      {"\r\n\r\n", "400"},
      {"", "400"},
      {"GET http://example.com/ HTTP/1.1\r\n", "400 incomplete request head"},
  });
}

// NET-10: Host may only repeat the target's authority, in any spelling.
TEST(HttpRequestForward, HostHeader) {
  const std::string line = "GET http://example.com/ HTTP/1.1";
  check_all({
      {head({line, "Host: example.com"}), "forward GET example.com:80 /"},
      {head({line, "host: example.com"}), "forward GET example.com:80 /"},
      {head({line, "HOST: EXAMPLE.com"}), "forward GET example.com:80 /"},
      {head({line, "Host: example.com."}), "forward GET example.com:80 /"},
      {head({line, "Host: example.com:80"}), "forward GET example.com:80 /"},
      {head({line, "Host:example.com  "}), "forward GET example.com:80 /"},
      {head({line, "Host:\texample.com\t"}), "forward GET example.com:80 /"},
      {head({"GET http://example.com:8080/ HTTP/1.1", "Host: example.com:8080"}), "forward GET example.com:8080 /"},
      {head({"GET http://127.0.0.1/ HTTP/1.1", "Host: 2130706433"}), "forward GET 127.0.0.1:80 /"},
      {head({"GET http://[::1]/ HTTP/1.1", "Host: [0::1]:80"}), "forward GET [::1]:80 /"},
      // Disagreement.
      {head({line, "Host: evil.test"}), "400 the Host header disagrees with the request target"},
      {head({"GET http://registry.pkgs.test/ HTTP/1.1", "Host: evil.test"}),
       "400 the Host header disagrees with the request target"},
      {head({line, "Host: example.com.evil.test"}), "400 the Host header disagrees with the request target"},
      {head({line, "Host: example.com:8080"}), "400 the Host header disagrees with the request target"},
      {head({line, "Host: example.com:443"}), "400 the Host header disagrees with the request target"},
      {head({"GET http://example.com:8080/ HTTP/1.1", "Host: example.com"}),
       "400 the Host header disagrees with the request target"},
      {head({line, "Host:"}), "400 the Host header disagrees with the request target"},
      {head({line, "Host: example.com:"}), "400 the Host header disagrees with the request target"},
      {head({line, "Host: example.com:0"}), "400 the Host header disagrees with the request target"},
      {head({line, "Host: user@example.com"}), "400 the Host header disagrees with the request target"},
      {head({line, "Host: example.com evil.test"}), "400 the Host header disagrees with the request target"},
      {head({line, "Host: http://example.com/"}), "400 the Host header disagrees with the request target"},
      {head({"GET http://127.0.0.1/ HTTP/1.1", "Host: localhost"}),
       "400 the Host header disagrees with the request target"},
      // Two Host headers, equal or not.
      {head({line, "Host: example.com", "Host: evil.test"}), "400 more than one Host header"},
      {head({line, "Host: example.com", "Host: example.com"}), "400 more than one Host header"},
      {head({line, "Host: example.com", "X-A: 1", "host: example.com"}), "400 more than one Host header"},
  });
}

// NET-07: no control byte anywhere; a tab only inside field values.
TEST(HttpRequestBytes, ControlBytesAreRefused) {
  check_all({
      {head({"CONNECT evil.test\0.pkgs.test:443 HTTP/1.1"sv}), "400 control byte in the request head"},
      {head({"CONNECT evil.test%00.pkgs.test:443 HTTP/1.1"}), "400 bad character in the host"},
      {head({"CONNECT evil.test\x7f.pkgs.test:443 HTTP/1.1"}), "400 control byte in the request head"},
      {head({"CONNECT \x1b[2Kregistry.pkgs.test:443 HTTP/1.1"}), "400 control byte in the request head"},
      {head({"CONNECT evil.test\x01.pkgs.test:443 HTTP/1.1"}), "400 control byte in the request head"},
      // A tab ends the target for Beast: the request line is malformed.
      {head({"CONNECT evil.test\t.pkgs.test:443 HTTP/1.1"}), "400 malformed request"},
      {head({"GET\thttp://example.com/ HTTP/1.1"}), "400 malformed request"},
      {head({"GET http://example.com/a\tb HTTP/1.1"}), "400 malformed request"},
      {head({"GET http://example.com/a\0b HTTP/1.1"sv}), "400 control byte in the request head"},
      {head({"GET http://example.com/\x1b[2K HTTP/1.1"}), "400 control byte in the request head"},
      {head({"GET http://example.com/ HTTP/1.1", "X-A: a\0b"sv}), "400 control byte in the request head"},
      {head({"GET http://example.com/ HTTP/1.1", "X-A: \x1b[31mred"}), "400 control byte in the request head"},
      {head({"GET http://example.com/ HTTP/1.1", "X-A: a\x7f"}), "400 control byte in the request head"},
      {head({"GET http://example.com/ HTTP/1.1", "X\x7f-A: a"}), "400 control byte in the request head"},
      {head({"GET http://example.com/ HTTP/1.1", "Host: example.com\0.evil.test"sv}),
       "400 control byte in the request head"},
      {head({"GET http://example.com/ HTTP/1.1", "X\tA: a"}), "400 malformed request"},
      // A tab inside a field value is just whitespace (RFC 9110 §5.5).
      {head({"GET http://example.com/ HTTP/1.1", "X-A: a\tb"}), "forward GET example.com:80 /"},
  });
}

// NET-25: CRLF only, no folding, no space before the colon.
TEST(HttpRequestBytes, LineEndings) {
  check_all({
      {"GET http://example.com/ HTTP/1.1\nHost: example.com\n\n", "400 line feed without carriage return"},
      {"GET http://example.com/ HTTP/1.1\r\nHost: evil.test\n\r\n", "400 line feed without carriage return"},
      {"GET http://example.com/ HTTP/1.1\nHost: evil.test\r\n\r\n", "400 line feed without carriage return"},
      {"GET http://example.com/ HTTP/1.1\rHost: evil.test\r\n\r\n", "400 carriage return without line feed"},
      {"GET http://example.com/ HTTP/1.1\r\nX-A: a\rHost: evil.test\r\n\r\n", "400 carriage return without line feed"},
      {"GET http://example.com/ HTTP/1.1\r\n\r\r\n", "400 carriage return without line feed"},
      {"GET http://example.com/ HTTP/1.1\r\n\r\n\r", "400 carriage return without line feed"},
      {"CONNECT evil.test\r\nX: .pkgs.test:443 HTTP/1.1\r\n\r\n", "400 malformed request"},
      {head({"GET http://example.com/ HTTP/1.1", "X-A: a", " Host: evil.test"}), "400 folded header line (obs-fold)"},
      {head({"GET http://example.com/ HTTP/1.1", "X-A: a", "\tHost: evil.test"}), "400 folded header line (obs-fold)"},
      {head({"GET http://example.com/ HTTP/1.1", " Host: evil.test"}), "400 folded header line (obs-fold)"},
      {head({"GET http://example.com/ HTTP/1.1", "Host : evil.test"}), "400 malformed request"},
      {head({"GET http://example.com/ HTTP/1.1", "Host\t: evil.test"}), "400 malformed request"},
      {head({"GET http://example.com/ HTTP/1.1", "Host"}), "400 malformed request"},
      {head({"GET http://example.com/ HTTP/1.1", ": evil.test"}), "400 malformed request"},
      {head({"GET http://example.com/ HTTP/1.1", "X:A: b", "Host\x01: evil.test"}),
       "400 control byte in the request head"},
  });
}

// NET-26: one way to know where the body ends, or 400.
TEST(HttpRequestFraming, ContentLengthAndTransferEncoding) {
  const std::string line = "POST http://registry.pkgs.test/ HTTP/1.1";
  const std::string accepted = "forward POST registry.pkgs.test:80 /";
  check_all({
      {head({line}), accepted},
      {head({line, "Content-Length: 0"}), accepted + " length=0"},
      {head({line, "Content-Length: 05"}), accepted + " length=5"},
      {head({line, "Content-Length:  12 "}), accepted + " length=12"},
      {head({line, "content-length: 7"}), accepted + " length=7"},
      // Beyond Beast's default body limit: the proxy streams bodies of any size.
      {head({line, "Content-Length: 1048577"}), accepted + " length=1048577"},
      {head({line, "Content-Length: 999999999999999999"}), accepted + " length=999999999999999999"},
      {head({line, "Transfer-Encoding: chunked"}), accepted + " chunked"},
      {head({line, "Transfer-Encoding: Chunked"}), accepted + " chunked"},
      {head({line, "Transfer-Encoding: CHUNKED"}), accepted + " chunked"},
      // Trailing whitespace is OWS, not part of the value; the upstream sees
      // the proxy's own `Transfer-Encoding: chunked`.
      {head({line, "Transfer-Encoding: chunked\t"}), accepted + " chunked"},
      {head({line, "Transfer-Encoding:  chunked "}), accepted + " chunked"},
      // Refused.
      {head({line, "Content-Length: 5", "Transfer-Encoding: chunked"}), "400"},
      {head({line, "Transfer-Encoding: chunked", "Content-Length: 5"}), "400"},
      {head({line, "Content-Length: 0", "Transfer-Encoding: chunked"}), "400"},
      {head({line, "Content-Length: 5", "Content-Length: 5"}), "400 repeated framing header"},
      {head({line, "Content-Length: 5", "Content-Length: 6"}), "400"},
      {head({line, "Content-Length: 5, 5"}), "400 bad Content-Length"},
      {head({line, "Content-Length: 5,5"}), "400 bad Content-Length"},
      {head({line, "Content-Length: 5, 6"}), "400"},
      {head({line, "Content-Length:"}), "400"},
      {head({line, "Content-Length: +5"}), "400"},
      {head({line, "Content-Length: -1"}), "400"},
      {head({line, "Content-Length: 5a"}), "400"},
      {head({line, "Content-Length: 0x5"}), "400"},
      {head({line, "Content-Length: 5 5"}), "400"},
      {head({line, "Content-Length: 1000000000000000000"}), "400"},
      {head({line, "Content-Length: 99999999999999999999999"}), "400"},
      {head({line, "Transfer-Encoding: chunked, gzip"}), "400 Transfer-Encoding other than `chunked`"},
      {head({line, "Transfer-Encoding: gzip, chunked"}), "400 Transfer-Encoding other than `chunked`"},
      {head({line, "Transfer-Encoding: gzip"}), "400 Transfer-Encoding other than `chunked`"},
      {head({line, "Transfer-Encoding: identity"}), "400 Transfer-Encoding other than `chunked`"},
      {head({line, "Transfer-Encoding:"}), "400 Transfer-Encoding other than `chunked`"},
      {head({line, "Transfer-Encoding: chunked;q=1"}), "400 Transfer-Encoding other than `chunked`"},
      {head({line, "Transfer-Encoding: \"chunked\""}), "400 Transfer-Encoding other than `chunked`"},
      {head({line, "Transfer-Encoding: xchunked"}), "400 Transfer-Encoding other than `chunked`"},
      {head({line, "Transfer-Encoding: chunked", "Transfer-Encoding: chunked"}), "400"},
      {head({line, "Transfer-Encoding: gzip", "Transfer-Encoding: chunked"}), "400"},
  });
}

TEST(HttpRequestLimits, HeadSize) {
  // A valid request padded to exactly `size` bytes.
  auto padded = [](std::size_t size) {
    const std::string start = "GET http://example.com/ HTTP/1.1\r\nX-Pad: ";
    const std::string end = "\r\n\r\n";
    return start + std::string(size - start.size() - end.size(), 'a') + end;
  };
  EXPECT_EQ(verdict(padded(kMaxRequestHead)), "forward GET example.com:80 /");
  EXPECT_EQ(verdict(padded(kMaxRequestHead + 1)), std::string("431 ") + kHeadTooLarge);
  EXPECT_EQ(verdict(padded(4 * kMaxRequestHead)), std::string("431 ") + kHeadTooLarge);
  // Many small fields count the same.
  std::string many = "GET http://example.com/ HTTP/1.1\r\n";
  while (many.size() < kMaxRequestHead) many += "X-A: b\r\n";
  EXPECT_EQ(verdict(many + "\r\n"), std::string("431 ") + kHeadTooLarge);
}

TEST(HttpRequestFindHeadEnd, FindsTheEmptyLineOrABareLineFeed) {
  const std::string line = "GET http://example.com/ HTTP/1.1";
  const std::string get = line + "\r\nHost: example.com\r\n\r\n";
  const struct {
    std::string buffer;
    std::size_t end;
  } cases[] = {
      {"", 0},
      {line, 0},
      {line + "\r\n", 0},
      {line + "\r\nHost: example.com\r\n", 0},
      {line + "\r\nHost: example.com\r\n\r", 0},
      {line + "\r\r\n", 0},
      {get, get.size()},
      {get + "hello", get.size()},
      {get + "\r\n\r\n", get.size()},
      {get + "\n", get.size()},
      {get + get, get.size()},  // a second request is body or the next request, never this head
      {"\r\n\r\n", 4},
      {"x\r\n\r\n\r\n", 5},
      {"a\0b\r\n\r\n"s, 7},
      // A bare LF ends the head at once (interpret_request_head refuses it),
      // so a client sending LF-only lines gets its 400 without a timeout.
      {"\n", 1},
      {line + "\n\n", line.size() + 1},
      {line + "\n\r\n", line.size() + 1},
      {line + "\r\n\n", line.size() + 3},
      {line + "\r\r\n\n", line.size() + 4},
      {line + "\r\nHost: evil.test\nX: y\r\n\r\n", line.size() + 18},
  };
  for (const auto& c : cases) EXPECT_EQ(find_head_end(c.buffer), c.end) << printable(c.buffer);
}

// The head as the server cuts it: ending at a bare LF means refused.
TEST(HttpRequestFindHeadEnd, HeadsEndingInABareLineFeedAreRefused) {
  for (const std::string& buffer : {"GET http://example.com/ HTTP/1.1\nHost: example.com\n\n"s,
                                    "GET http://example.com/ HTTP/1.1\r\nHost: evil.test\nX: y\r\n\r\n"s,
                                    "CONNECT example.com:443 HTTP/1.1\r\n\n"s, "\n"s}) {
    const std::size_t end = find_head_end(buffer);
    ASSERT_GT(end, 0u) << printable(buffer);
    EXPECT_EQ(verdict(std::string_view(buffer).substr(0, end)), "400 line feed without carriage return")
        << printable(buffer);
  }
}

sema::HostSubject subject(std::string_view host, std::uint16_t port) {
  auto s = sema::parse_host_subject(host, port);
  EXPECT_TRUE(std::holds_alternative<sema::HostSubject>(s)) << host;
  return std::holds_alternative<sema::HostSubject>(s) ? std::get<sema::HostSubject>(s) : sema::HostSubject{};
}

TEST(HttpRequestAuthorityText, PortOmittedWhenDefault) {
  EXPECT_EQ(authority_text(subject("example.com", 80), 80), "example.com");
  EXPECT_EQ(authority_text(subject("example.com", 443), 80), "example.com:443");
  EXPECT_EQ(authority_text(subject("example.com", 443), 443), "example.com");
  EXPECT_EQ(authority_text(subject("Example.COM.", 8080), 80), "example.com:8080");
  EXPECT_EQ(authority_text(subject("127.0.0.1", 80), 80), "127.0.0.1");
  EXPECT_EQ(authority_text(subject("0x7f.1", 8080), 80), "127.0.0.1:8080");
  EXPECT_EQ(authority_text(subject("::1", 80), 80), "[::1]");
  EXPECT_EQ(authority_text(subject("::1", 8080), 80), "[::1]:8080");
  EXPECT_EQ(authority_text(subject("2606:4700:0::1111", 443), 80), "[2606:4700::1111]:443");
  EXPECT_EQ(authority_text(subject("::ffff:10.0.0.1", 80), 80), "10.0.0.1");
  EXPECT_EQ(authority_text(subject("example.com", 1), 0), "example.com:1");
  EXPECT_EQ(authority_text(subject("example.com", 80), 0), "example.com:80");
}

TEST(HttpRequestAuthorityText, ParsesBackToTheSameSubject) {
  for (const char* host : {"example.com:80", "example.com:65535", "127.0.0.1:8080", "[::1]:22", "[fe80::1]:80",
                           "[2606:4700::1111]:443", "xn--bcher-kva.example:443", "0:80"}) {
    const sema::HostSubject s = subject(host, 443);
    for (const std::uint16_t default_port : {0, 80, 443}) {
      const std::string text = authority_text(s, default_port);
      EXPECT_EQ(subject(text, default_port).text(), s.text()) << host << " as " << text;
    }
  }
}

// The head sent upstream, given the client's head.
std::string upstream(std::string_view client_head) { return forward_head(must_interpret(client_head)); }

TEST(HttpRequestForwardHead, HopByHopFieldsAreDropped) {
  EXPECT_EQ(
      upstream(head({"POST http://Example.com:8080/submit?x=1 HTTP/1.1", "Host: example.com:8080",
                     "Connection: keep-alive, X-Secret", "Proxy-Connection: keep-alive", "Keep-Alive: timeout=5",
                     "Proxy-Authorization: Basic Zm9vOmJhcg==", "TE: trailers", "Trailer: X-Sum", "Upgrade: websocket",
                     "X-Secret: token", "Accept: */*", "Content-Length: 5", "User-Agent: curl/8.5.0"})),
      "POST /submit?x=1 HTTP/1.1\r\n"
      "Host: example.com:8080\r\n"
      "Accept: */*\r\n"
      "User-Agent: curl/8.5.0\r\n"
      "Content-Length: 5\r\n"
      "Connection: close\r\n\r\n");
}

TEST(HttpRequestForwardHead, FieldsNamedByConnectionAreDropped) {
  // In any case, across several Connection fields, before or after them.
  EXPECT_EQ(upstream(head({"GET http://example.com/ HTTP/1.1", "x-secret: 1", "X-Other: 2", "X-Kept: 3",
                           "Connection: X-SECRET , x-other", "Connection: ,,x-third", "X-Third: 4"})),
            "GET / HTTP/1.1\r\nHost: example.com\r\nX-Kept: 3\r\nConnection: close\r\n\r\n");
  // The tinyproxy CVE-2023-49606 shape: Connection naming the hop-by-hop fields themselves.
  EXPECT_EQ(upstream(head({"GET http://example.com/ HTTP/1.1", "Connection: connection, proxy-connection",
                           "Proxy-Connection: close", "Connection: host, content-length, transfer-encoding"})),
            "GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n");
}

TEST(HttpRequestForwardHead, HostAndFramingAreRegenerated) {
  // No Host from the client: one is written.
  EXPECT_EQ(upstream(head({"GET http://example.com/ HTTP/1.0"})),
            "GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n");
  // The client's spelling of Host is replaced by the canonical authority.
  EXPECT_EQ(upstream(head({"GET http://EXAMPLE.com.:80/a HTTP/1.1", "Host: Example.COM."})),
            "GET /a HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(upstream(head({"GET http://0x7f.1:8080/ HTTP/1.1", "Host: 127.0.0.1:8080"})),
            "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(upstream(head({"GET http://[0::1]/ HTTP/1.1"})),
            "GET / HTTP/1.1\r\nHost: [::1]\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(upstream(head({"GET http://[::1]:8080?q HTTP/1.1"})),
            "GET /?q HTTP/1.1\r\nHost: [::1]:8080\r\nConnection: close\r\n\r\n");
  // Framing: the proxy's own spelling.
  EXPECT_EQ(upstream(head({"POST http://example.com/ HTTP/1.1", "Transfer-Encoding:  Chunked\t"})),
            "POST / HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(upstream(head({"POST http://example.com/ HTTP/1.1", "content-length: 007"})),
            "POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 7\r\nConnection: close\r\n\r\n");
  // End-to-end fields keep their name spelling and order, values lose OWS.
  // Beast files a repeated name after the last field of that name, which
  // keeps the order that matters (among fields of one name, RFC 9110 §5.3).
  EXPECT_EQ(upstream(head({"GET http://example.com/ HTTP/1.1", "cookie: a=1", "Accept:\t*/*  ", "Cookie: b=2",
                           "X-Tab: a\tb", "X-Empty:"})),
            "GET / HTTP/1.1\r\nHost: example.com\r\ncookie: a=1\r\nCookie: b=2\r\nAccept: */*\r\n"
            "X-Tab: a\tb\r\nX-Empty: \r\nConnection: close\r\n\r\n");
}

TEST(HttpRequestForwardHead, SmuggledTextStaysInert) {
  // NET-25/26: whatever the client hides in the path or a value, the
  // upstream head has one request line, one Host and the proxy's framing.
  const std::string out =
      upstream(head({"GET http://registry.pkgs.test/%0d%0aHost:%20evil.test HTTP/1.1", "Host: registry.pkgs.test",
                     "X-A: GET http://evil.test/ HTTP/1.1", "X-B: Host: evil.test"}));
  EXPECT_EQ(out,
            "GET /%0d%0aHost:%20evil.test HTTP/1.1\r\nHost: registry.pkgs.test\r\n"
            "X-A: GET http://evil.test/ HTTP/1.1\r\nX-B: Host: evil.test\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(find_head_end(out), out.size());
}

// --- Inside a tunnel ---------------------------------------------------------------

TEST(HttpRequestConnect, LowercaseConnectIsToldSo) {
  EXPECT_EQ(verdict(head({"connect example.com:443 HTTP/1.1"})),
            "400 methods are case-sensitive: write `CONNECT`, not `connect`");
  EXPECT_EQ(verdict(head({"Connect example.com:443 HTTP/1.1"})),
            "400 methods are case-sensitive: write `CONNECT`, not `Connect`");
}

TEST(HttpInTunnel, FirstBytesAreClassified) {
  const auto kind = [](std::string_view b) {
    switch (classify_tunnel_start(b)) {
      case TunnelStart::NeedMore: return "more";
      case TunnelStart::Http: return "http";
      case TunnelStart::Other: return "other";
    }
    return "?";
  };
  EXPECT_STREQ(kind("GET / HTTP/1.1\r\n"), "http");
  EXPECT_STREQ(kind("\r\n\r\nPOST /x http/1.0\r\n"), "http");  // empty lines first, any case
  EXPECT_STREQ(kind("GET /x\r\n"), "http");                     // HTTP/0.9
  EXPECT_STREQ(kind("GET http://evil.test/\r\n"), "http");
  EXPECT_STREQ(kind("PRI * HTTP/2.0\r\n"), "http");              // h2c prior knowledge
  EXPECT_STREQ(kind("GET"), "more");
  EXPECT_STREQ(kind("GET /x HT"), "more");
  EXPECT_STREQ(kind(""), "more");
  EXPECT_STREQ(kind("SSH-2.0-OpenSSH_9.2\r\n"), "other");
  EXPECT_STREQ(kind("EHLO client.test\r\n"), "other");          // smtp
  EXPECT_STREQ(kind("GET key\r\n"), "other");                   // redis inline
  EXPECT_STREQ(kind("MAIL FROM:<a@b> SIZE=1\r\n"), "other");
  EXPECT_STREQ(kind("\x16\x03\x01"), "other");
  EXPECT_STREQ(kind(std::string(40, 'A') + " / HTTP/1.1"), "other");
  // Undecided bytes are never buffered past the head limit: endless empty
  // lines, or a line that never ends, are refused as too large a head.
  EXPECT_STREQ(kind(std::string(100, '\n')), "more");
  EXPECT_STREQ(kind(std::string(kMaxRequestHead + 2, '\n')), "http");
  EXPECT_STREQ(kind("GET /" + std::string(kMaxRequestHead, 'a')), "http");
}

std::string tunnel_verdict(std::string_view bytes, std::string_view tunnel = "good.test:80") {
  const auto t = std::get<sema::HostSubject>(sema::parse_host_subject(tunnel, 443));
  auto result = interpret_tunnel_request_head(bytes, t);
  if (const auto* e = std::get_if<RequestError>(&result)) return std::to_string(e->status) + " " + e->reason;
  const ProxyRequest& r = std::get<ProxyRequest>(result);
  return "forward " + r.method + " " + r.subject.text() + " " + r.target;
}

TEST(HttpInTunnel, TheRequestMustNameTheTunnelsHost) {
  EXPECT_EQ(tunnel_verdict(head({"GET /a HTTP/1.1", "Host: good.test"})), "forward GET good.test:80 /a");
  EXPECT_EQ(tunnel_verdict(head({"GET /a HTTP/1.1", "Host: GOOD.test.:80"})), "forward GET good.test:80 /a");
  EXPECT_EQ(tunnel_verdict(head({"GET /a HTTP/1.1", "Host: good.test:8080"}), "good.test:8080"),
            "forward GET good.test:8080 /a");
  EXPECT_EQ(tunnel_verdict(head({"GET /a HTTP/1.1", "Host: good.test"}), "good.test:8080"),
            "forward GET good.test:8080 /a");  // no port in Host: the tunnel's
  EXPECT_EQ(tunnel_verdict(head({"GET /a HTTP/1.1", "Host: 10.0.0.1"}), "10.0.0.1:80"), "forward GET 10.0.0.1:80 /a");
  for (const std::string& bad : {
           head({"GET /a HTTP/1.1", "Host: evil.test"}),
           head({"GET /a HTTP/1.1", "Host: good.test:81"}),
           head({"GET /a HTTP/1.1", "Host: sub.good.test"}),
           head({"GET http://evil.test/a HTTP/1.1", "Host: good.test"}),
           head({"GET http://good.test/a HTTP/1.1", "Host: good.test"}),
           head({"CONNECT evil.test:443 HTTP/1.1", "Host: good.test"}),
           head({"GET /a HTTP/1.0"}),
           head({"OPTIONS * HTTP/1.1", "Host: good.test"}),
       }) {
    EXPECT_TRUE(tunnel_verdict(bad).starts_with("403 ")) << printable(bad) << " gave " << tunnel_verdict(bad);
  }
  EXPECT_TRUE(tunnel_verdict(head({"GET /a HTTP/1.1", "Host: good.test", "Host: good.test"})).starts_with("400 "));
  EXPECT_TRUE(tunnel_verdict("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").starts_with("400 "));
  // A fragment is refused in a tunnel as it is in a proxy request: it would
  // go upstream as part of the path.
  EXPECT_EQ(tunnel_verdict(head({"GET /a#b HTTP/1.1", "Host: good.test"})), "400 fragment in the request target");
  // The head sent on carries the checked Host and closes after one response.
  const auto t = std::get<sema::HostSubject>(sema::parse_host_subject("good.test:80", 443));
  const auto r = std::get<ProxyRequest>(
      interpret_tunnel_request_head(head({"POST /up HTTP/1.1", "Host: good.test", "Content-Length: 3"}), t));
  EXPECT_EQ(forward_head(r), "POST /up HTTP/1.1\r\nHost: good.test\r\nContent-Length: 3\r\nConnection: close\r\n\r\n");
}

}  // namespace
}  // namespace sbpolicy::proxy
