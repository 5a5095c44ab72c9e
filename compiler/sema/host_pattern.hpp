// Host patterns for `net` rules: parsing, canonicalisation and matching.
//
// Accepted spellings (PRODUCT.md §3):
//   example.com  Example.COM.  bücher.example  *.example.com  *
//   127.0.0.1  2130706433  0x7f.1  0177.0.0.1  127.1      (one IPv4 address)
//   ::1  [::1]  ::ffff:10.0.0.1 (an IPv4 address)  10.0.0.0/8  fd00::/8
//   any of the above followed by :PORT, :LO-HI or :*   (IPv6 needs [..] then)
//
// Names are lowercased, a trailing dot dropped, IDN labels converted to
// punycode (IDNA 2008, libidn2); IPv4 literals follow the inet_aton / WHATWG
// URL rules (a host whose last label is numeric is an IPv4 address or an
// error, never a name); IPv6 is printed per RFC 5952; IPv4-mapped IPv6 is
// IPv4. A wildcard is only a whole leftmost label: `*.example.com` matches
// strict subdomains at any depth, `*` any name; a wildcard never matches an
// IP literal. No port means ports 80 and 443.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sema/pattern_error.hpp"

namespace sbpolicy::sema {

struct PortRange {
  std::uint16_t lo = 0;
  std::uint16_t hi = 0;
  friend bool operator==(const PortRange&, const PortRange&) = default;
  friend auto operator<=>(const PortRange&, const PortRange&) = default;
};

// An IPv4 or IPv6 network. IPv4 is stored in the first 4 bytes of `bytes`.
struct IpNet {
  std::uint8_t family = 4;  // 4 or 6
  std::array<std::uint8_t, 16> bytes{};
  std::uint8_t prefix = 32;  // 0..32 for IPv4, 0..128 for IPv6; host bits are zero

  bool contains(const IpNet& address) const;  // address: a full-length prefix
  // "10.0.0.0/8", "127.0.0.1" (full-length prefixes print without /N), "fd00::/8", "::1"
  std::string text() const;
  friend bool operator==(const IpNet&, const IpNet&) = default;
  friend auto operator<=>(const IpNet&, const IpNet&) = default;
};

struct HostPattern {
  enum class Kind : std::uint8_t {
    Exact,       // name == "example.com"
    Subdomains,  // "*.example.com": name holds "example.com"
    AnyName,     // "*": every name, never an IP literal
    Address,     // an IP address or CIDR block: `net`
  };
  Kind kind = Kind::Exact;
  std::string name;  // canonical ASCII (punycode) for Exact and Subdomains
  IpNet net;         // for Address
  // Sorted, merged, non-empty. Without a port in the text: {80, 443}, or
  // every port for a fence (fence_ports).
  std::vector<PortRange> ports;
  bool port_given = false;  // the text names its ports

  // Canonical text, e.g. "example.com", "*.example.com:22", "[::1]:8000-8100",
  // "10.0.0.0/8:*". Ports the text did not name print as nothing.
  std::string text() const;
  friend bool operator==(const HostPattern&, const HostPattern&) = default;
  friend auto operator<=>(const HostPattern&, const HostPattern&) = default;
};

// A deny is a fence: without a port it covers every port, not only the 80
// and 443 an allow or ask gets (so `allow net "*:*"; deny net "evil.test";`
// keeps evil.test:8080 out). The same for an except of an allow or ask,
// which protects; an except of a deny grants back, and keeps 80 and 443.
// A pattern whose text names ports is left as it is.
void fence_ports(HostPattern& pattern);

// Parses and canonicalises the decoded text of a host pattern string literal.
// Errors carry offsets into `text`: E0301 (a path where a host is expected),
// E0305 (bad port or range), E0306 (bad CIDR: prefix too long, host bits set),
// E0307 (bad name: empty label, label over 63, name over 253, bad character,
// wildcard not a whole leftmost label, IDNA failure), E0308 (bad IP literal),
// E0310 (empty), E0311 (control character or NUL).
std::variant<HostPattern, PatternErrors> parse_host_pattern(std::string_view text);

// A concrete destination: what a client asked to connect to.
struct HostSubject {
  bool is_ip = false;
  std::string name;  // canonical ASCII name when !is_ip
  IpNet address;     // full-length prefix when is_ip
  std::uint16_t port = 443;
  std::string text() const;  // "example.com:443", "[::1]:80"
};

// Canonicalises a host (no wildcards, no CIDR) with the same rules as
// patterns; `host` may carry a port (`example.com:22`, `[::1]:80`), which
// overrides `default_port`. Returns an error message on failure.
std::variant<HostSubject, std::string> parse_host_subject(std::string_view host, std::uint16_t default_port);

bool host_matches(const HostPattern& pattern, const HostSubject& subject);

}  // namespace sbpolicy::sema
