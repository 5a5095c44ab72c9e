// Host patterns: parsing, canonicalisation and matching.
//
// A net rule is only as strong as its canonical form: if two spellings of one
// destination compared unequal, a `deny` written one way would be bypassed by
// a request spelled the other way. So every spelling that a resolver, libc or
// browser treats as one destination must end up as one text here. That is why
// IPv4 follows the WHATWG / inet_aton parser (octal, hex, fewer than four
// parts) rather than the dotted-quad ideal; why a host whose last label is
// numeric is an address or an error and never a name (resolvers never look
// such names up); why non-ASCII names go through UTS #46 *before* the ASCII
// checks (full-width dots, letters and digits must not smuggle in a second
// spelling); and why IPv4-mapped IPv6 is IPv4 (the kernel connects it so).
//
// Input comes from policy files and is fuzzed, so the parser is a flat series
// of checks over offsets into the original text: no recursion, no exceptions,
// one error returned as a value whose span covers the offending bytes.
// IPv6 is printed by hand rather than with inet_ntop because glibc prints
// IPv4-compatible addresses (`::1:2`) in dotted form (`::0.1.0.2`).
#include "sema/host_pattern.hpp"

#include <arpa/inet.h>
#include <idn2.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "support/text.hpp"

namespace sbpolicy::sema {
namespace {

using Kind = HostPattern::Kind;
constexpr std::size_t kNpos = std::string_view::npos;
constexpr PortRange kAllPorts{1, 65535};
constexpr int kIdnFlags = IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT;
constexpr const char* kPortHelp = "a port is a number from 1 to 65535, a range such as `8000-8100`, or `*`";
constexpr const char* kCidrHelp = "a CIDR block looks like `10.0.0.0/8` or `fd00::/8`";

std::vector<PortRange> default_ports() { return {{80, 80}, {443, 443}}; }

using text::is_ascii;
using text::is_digit;
using text::is_hex;
using text::lowercase;
using text::to_lower;
bool is_hex_or_dot(char c) { return is_hex(c) || c == '.'; }
bool is_ipv6_char(char c) { return is_hex_or_dot(c) || c == ':'; }
bool is_label_char(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || c == '-' || c == '_'; }
bool all_of(std::string_view s, bool (*pred)(char)) { return std::all_of(s.begin(), s.end(), pred); }


std::string_view drop_trailing_dot(std::string_view s) { return s.ends_with('.') ? s.substr(0, s.size() - 1) : s; }

// WHATWG "ends in a number": such a host is an IPv4 address or nothing.
bool ends_in_number(std::string_view s) {
  const std::string_view last = s.substr(std::min(s.rfind('.') + 1, s.size()));
  if (!last.empty() && all_of(last, is_digit)) return true;
  return last.size() >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') && all_of(last.substr(2), is_hex);
}

// Whether the text before a `/` is an address, making the whole a CIDR block.
bool looks_like_ip(std::string_view s) {
  const auto colons = std::count(s.begin(), s.end(), ':');
  if (colons == 0) return ends_in_number(drop_trailing_dot(s));
  return colons >= 2 && all_of(s.substr(0, s.find('%')), is_ipv6_char);
}

unsigned max_prefix(const IpNet& net) { return net.family == 6 ? 128 : 32; }

IpNet masked(IpNet net) {
  for (unsigned i = 0, bit = 0; i < 16; ++i, bit += 8) {
    if (bit >= net.prefix)
      net.bytes[i] = 0;
    else if (bit + 8 > net.prefix)
      net.bytes[i] &= static_cast<std::uint8_t>(0xFF << (8 - (net.prefix - bit)));
  }
  return net;
}

// RFC 5952: lowercase, no leading zeros, the longest run (leftmost on ties)
// of two or more zero groups becomes `::`.
std::string format_ipv6(const std::array<std::uint8_t, 16>& b) {
  unsigned words[8];
  int best = -1, best_len = 1;
  for (int i = 0; i < 8; ++i) words[i] = (b[2 * i] << 8) | b[2 * i + 1];
  for (int i = 0, run = 0; i < 8; ++i) {
    run = words[i] == 0 ? run + 1 : 0;
    if (run > best_len) best = i - run + 1, best_len = run;
  }
  std::string out;
  char buf[8];
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    std::snprintf(buf, sizeof buf, "%s%x", out.empty() || out.back() == ':' ? "" : ":", words[i]);
    out += buf;
  }
  return out;
}

// One parse of one text. In subject mode wildcards, CIDR blocks and port
// ranges are errors; everything else is shared, so a pattern and a subject
// spelled alike always canonicalise alike.
class HostParser {
 public:
  HostParser(std::string_view text, bool subject) : text_(text), subject_(subject) {}
  bool parse(HostPattern& out);
  const PatternError& error() const { return error_; }
  bool has_port() const { return has_port_; }

 private:
  bool fail(Code code, std::size_t b, std::size_t e, std::string message, std::string label, std::string help = {}) {
    error_ = {code,
              static_cast<std::uint32_t>(b),
              static_cast<std::uint32_t>(e),
              std::move(message),
              std::move(label),
              std::move(help)};
    return false;
  }
  std::string_view slice(std::size_t b, std::size_t e) const { return text_.substr(b, e - b); }
  bool check_characters();
  bool parse_bracketed(HostPattern& out);
  bool parse_ipv6(std::size_t b, std::size_t e, bool bracketed, HostPattern& out);
  bool parse_ipv4_cidr(std::size_t b, std::size_t slash, std::size_t e, HostPattern& out);
  bool finish_net(IpNet net, std::size_t slash, std::size_t b, std::size_t e, HostPattern& out);
  bool parse_name(std::size_t b, std::size_t e, HostPattern& out);
  bool to_ascii(std::size_t b, std::size_t e, std::string& out);
  bool parse_ipv4(std::string_view a, std::size_t b, std::size_t e, bool exact, IpNet& out);
  bool parse_ports(std::size_t b, std::vector<PortRange>& out);
  bool parse_port(std::size_t b, std::size_t e, std::uint16_t& out);

  std::string_view text_;
  bool subject_;
  bool has_port_ = false;
  PatternError error_{};
};

bool HostParser::parse(HostPattern& out) {
  out = HostPattern{};
  out.ports = default_ports();
  const std::size_t n = text_.size();
  if (n == 0) {
    return fail(Code::E0310, 0, 0, subject_ ? "host is empty" : "host pattern is empty", "empty",
                "write a host name such as `example.com`, or `*` for every host");
  }
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(text_[i]);
    const unsigned next = i + 1 < n ? static_cast<unsigned char>(text_[i + 1]) : 0;
    const bool c1 = c == 0xC2 && next >= 0x80 && next <= 0x9F;  // U+0080..U+009F in UTF-8
    if (c < 0x20 || c == 0x7F || c1) {
      char cp[8];
      std::snprintf(cp, sizeof cp, "U+%04X", c1 ? next : c);
      return fail(Code::E0311, i, i + (c1 ? 2 : 1), std::string("control character ") + cp + " in a host",
                  "control character", "remove it");
    }
  }
  const char first = text_[0];
  const std::size_t slash = text_.find('/');
  if (text_.find("://") != kNpos) {
    return fail(Code::E0301, 0, n, "expected a host pattern, found a url", "a url",
                "write only the host, as in `example.com` or `example.com:8080`");
  }
  if (first != '[' && slash != kNpos && slash > 0 && !std::strchr("/~.$", first) &&
      !looks_like_ip(text_.substr(0, slash))) {
    // `github.com/org/repo`: a host, then a path on it. The network rule
    // takes the host; what a process does there is not a net rule's.
    return fail(Code::E0301, slash, n,
                subject_ ? "expected a host, found a host and a path" : "expected a host pattern, found a host and a path",
                "a path on the host",
                "a `net` rule takes a host: write " + std::string(1, '`') + std::string(text_.substr(0, slash)) +
                    "` (it allows the whole host; rules per repository or path do not exist: `git` rules are "
                    "reserved for a later version)");
  }
  if (std::strchr("/~.$", first) || (first != '[' && slash != kNpos && !looks_like_ip(text_.substr(0, slash)))) {
    return fail(Code::E0301, 0, n, subject_ ? "expected a host, found a path" : "expected a host pattern, found a path",
                "a path", "net rules take host names such as `example.com`; paths belong in `read`/`write` rules");
  }
  if (!check_characters()) return false;
  if (subject_ && slash != kNpos) return fail(Code::E0306, slash, n, "a host cannot be a cidr block", "cidr block");
  if (subject_ && text_.find('*') != kNpos) {
    return fail(Code::E0307, text_.find('*'), text_.find('*') + 1, "a host cannot be a wildcard", "wildcard");
  }
  if (first == '[') return parse_bracketed(out);
  const std::size_t colon = text_.find(':');
  if (std::count(text_.begin(), text_.end(), ':') >= 2 && all_of(text_.substr(0, colon), is_hex_or_dot)) {
    return parse_ipv6(0, n, false, out);
  }
  const std::size_t end = std::min(colon, n);
  const bool ok = slash < end ? parse_ipv4_cidr(0, slash, end, out) : parse_name(0, end, out);
  return ok && (colon == kNpos || parse_ports(colon + 1, out.ports));
}

// Characters that no host, address or port contains, caught up front so the
// caret lands on them rather than on a vaguer later error. `%`, `[`, `]` and
// `+` have more specific errors later.
bool HostParser::check_characters() {
  for (std::size_t i = 0; i < text_.size(); ++i) {
    const char c = text_[i];
    if (!is_ascii(c) || is_label_char(to_lower(c)) || std::strchr(".*:/[]%+", c)) continue;
    if (c == ' ') return fail(Code::E0307, i, i + 1, "a space is not allowed in a host", "space", "remove the space");
    return fail(Code::E0307, i, i + 1, "character `" + std::string(1, c) + "` is not allowed in a host", "not allowed",
                c == '@' ? "user names are not part of a host pattern; write only the host" : "");
  }
  return true;
}

bool HostParser::parse_bracketed(HostPattern& out) {
  const std::size_t n = text_.size(), close = text_.find(']');
  if (close == kNpos) {
    return fail(Code::E0308, 0, n, "missing `]` after the IPv6 address", "unclosed `[`",
                "write a bracketed address as `[::1]` or `[::1]:22`");
  }
  if (!parse_ipv6(1, close, true, out)) return false;
  if (close + 1 == n) return true;
  if (text_[close + 1] == ':') return parse_ports(close + 2, out.ports);
  if (text_[close + 1] == '/') {
    return fail(Code::E0306, close + 1, n, "the prefix length goes inside the brackets", "outside `]`",
                "write a bracketed CIDR block as `[fd00::/8]:443`");
  }
  return fail(Code::E0308, close + 1, n, "unexpected " + text::quote(slice(close + 1, n)) + " after `]`", "unexpected",
              "a port follows a colon, as in `[::1]:22`");
}

bool HostParser::parse_ipv6(std::size_t b, std::size_t e, bool bracketed, HostPattern& out) {
  const std::size_t slash = std::min(text_.find('/', b), e);
  const std::string addr(slice(b, slash));
  if (const std::size_t pct = addr.find('%'); pct != kNpos) {
    return fail(Code::E0308, b + pct, slash, "zone ids such as " + text::quote(addr.substr(pct)) + " are not supported",
                "zone id", "remove the zone id; a policy names addresses, not interfaces");
  }
  IpNet net;
  net.family = 6;
  if (addr.size() > 45 || inet_pton(AF_INET6, addr.c_str(), net.bytes.data()) != 1) {
    std::string help;
    if (!bracketed && addr.substr(std::min(addr.rfind(':'), addr.size())).find_first_of("*-") != kNpos) {
      help = "to add a port, put the address in brackets: `[::1]:22`";
    } else if (bracketed && !addr.empty() && addr.find(':') == kNpos) {
      help = "brackets are only for IPv6 addresses; write IPv4 without them";
    }
    const std::string what = addr.empty() ? "missing IPv6 address" : text::quote(addr) + " is not a valid IPv6 address";
    return fail(Code::E0308, addr.empty() ? b - bracketed : b, slash + (addr.empty() && bracketed), what,
                "not an IPv6 address", help);
  }
  net.prefix = 128;
  return finish_net(net, slash, b, e, out);
}

bool HostParser::parse_ipv4_cidr(std::size_t b, std::size_t slash, std::size_t e, HostPattern& out) {
  const std::string a = lowercase(slice(b, slash));
  IpNet net;
  if (!parse_ipv4(drop_trailing_dot(a), b, slash, true, net)) return false;
  if (finish_net(net, slash, b, e, out)) return true;
  // `10/8` means 0.0.0.10/8 to inet_aton; say so where it bites, and offer
  // the padded spelling if that one is a valid block (one bounded re-parse).
  const auto dots = std::count(a.begin(), a.end(), '.');
  if (error_.label == "host bits set" && dots < 3) {
    std::string guess(drop_trailing_dot(a));
    for (auto k = dots; k < 3; ++k) guess += ".0";
    guess += slice(slash, e);
    HostPattern padded;
    if (HostParser(guess, false).parse(padded)) {
      error_.help = text::quote(a) + " is the address `" + net.text() + "`; did you mean `" + guess + "`?";
    }
  }
  return false;
}

// Applies the prefix text in [slash + 1, e) (if any) to a full-length
// address, folds IPv4-mapped IPv6 into IPv4, and rejects host bits.
bool HostParser::finish_net(IpNet net, std::size_t slash, std::size_t b, std::size_t e, HostPattern& out) {
  unsigned prefix = max_prefix(net);
  if (slash < e) {
    const std::string_view s = slice(slash + 1, e);
    if (s.empty()) return fail(Code::E0306, slash, slash + 1, "missing prefix length after `/`", "", kCidrHelp);
    if (!all_of(s, is_digit)) {
      // `::/0:8080`: an IPv6 block's port needs brackets, as an address's does.
      const std::size_t colon = s.find(':');
      const bool port_after = net.family == 6 && colon != std::string_view::npos && colon > 0 &&
                              all_of(s.substr(0, colon), is_digit);
      const std::string help =
          port_after ? "an IPv6 block with a port is written in brackets: `[" + std::string(slice(0, slash + 1 + colon)) +
                           "]" + std::string(s.substr(colon)) + "`"
                     : std::string(kCidrHelp);
      return fail(Code::E0306, slash + 1, e, "prefix length " + text::quote(s) + " is not a number", "not a number",
                  help);
    }
    const unsigned max = prefix;
    prefix = s.size() > 3 ? 1000 : static_cast<unsigned>(std::stoul(std::string(s)));
    if (prefix > max) {
      return fail(Code::E0306, slash + 1, e, "prefix length " + text::quote(s) + " is above " + std::to_string(max),
                  "too long", max == 32 ? "an IPv4 prefix is 0 to 32" : "an IPv6 prefix is 0 to 128");
    }
  }
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  if (net.family == 6 && prefix >= 96 && std::memcmp(net.bytes.data(), kMapped, 12) == 0) {
    net.family = 4;
    std::copy(net.bytes.begin() + 12, net.bytes.end(), net.bytes.begin());
    std::fill(net.bytes.begin() + 4, net.bytes.end(), 0);
    prefix -= 96;
  }
  net.prefix = static_cast<std::uint8_t>(prefix);
  if (const IpNet network = masked(net); network != net) {
    return fail(Code::E0306, b, e, text::quote(slice(b, e)) + " has host bits set", "host bits set",
                "did you mean `" + network.text() + "`?");
  }
  out.kind = Kind::Address;
  out.net = net;
  return true;
}

bool HostParser::parse_name(std::size_t b, std::size_t e, HostPattern& out) {
  if (b == e) {
    return fail(Code::E0307, b, b + 1, "missing host name before the port", "no host",
                "write the host before the colon, as in `example.com:22`");
  }
  const std::string_view raw = slice(b, e);
  if (raw == "*" || raw == "*.") {
    out.kind = Kind::AnyName;
    return true;
  }
  const bool wildcard = raw.starts_with("*.");
  const std::size_t nb = wildcard ? b + 2 : b;
  if (const std::size_t star = text_.find('*', nb); star < e) {
    const std::size_t stop = std::min(text_.find_first_not_of('*', star), e);
    return fail(Code::E0307, star, stop, "misplaced wildcard in " + text::quote(raw), "wildcard here",
                "a wildcard must be the whole leftmost label, as in `*.example.com`");
  }
  bool ascii = true;
  for (std::size_t i = nb; i < e; ++i) {
    const char c = text_[i];
    if (!is_ascii(c))
      ascii = false;
    else if (!is_label_char(to_lower(c)) && c != '.') {
      return fail(Code::E0307, i, i + 1, "character `" + std::string(1, c) + "` is not allowed in a host name",
                  "not allowed",
                  c == '%'   ? "percent-encoding is not supported; write the name itself"
                  : c != '+' ? "brackets are only for IPv6 addresses, as in `[::1]:22`"
                             : "");
    }
  }
  std::string a;
  if (ascii)
    a = lowercase(slice(nb, e));
  else if (!to_ascii(nb, e, a))
    return false;
  const std::string_view name = drop_trailing_dot(a);
  // Offsets into `name` are offsets into the input only when no IDNA mapping
  // happened; otherwise errors span the whole name.
  auto at = [&](std::size_t i, std::size_t fallback) { return ascii ? nb + i : fallback; };
  if (name.empty()) {
    return fail(Code::E0307, nb, e, wildcard ? "missing host name after `*.`" : text::quote(raw) + " is not a host name",
                "empty name");
  }
  if (ends_in_number(name)) {
    IpNet net;
    if (!parse_ipv4(name, nb, at(name.size(), e), ascii, net)) return false;
    if (wildcard) {
      return fail(Code::E0307, b, e, "a wildcard cannot be combined with an IP address", "wildcard on an address",
                  "a wildcard never matches an IP literal; use a CIDR block such as `10.0.0.0/8`");
    }
    return finish_net(net, e, b, e, out);
  }
  for (std::size_t pos = 0;;) {
    const std::size_t end = std::min(name.find('.', pos), name.size());
    const std::string_view label = name.substr(pos, end - pos);
    // An empty label at `pos` always has a dot at a[pos] (the next separator
    // or the dropped trailing dot); that dot gets the caret.
    if (label.empty()) {
      return fail(Code::E0307, at(pos, nb), at(pos + 1, e), "empty label in host name " + text::quote(raw), "empty label",
                  "remove the extra `.`");
    }
    if (label.size() > 63) {
      return fail(
          Code::E0307, at(pos, nb), at(end, e),
          "label " + text::quote(label) + " is " + std::to_string(label.size()) + " characters long; the limit is 63",
          "label too long");
    }
    if (!all_of(label, is_label_char)) {
      return fail(Code::E0307, nb, e, text::quote(raw) + " maps to " + text::quote(name) + ", which is not a valid host name",
                  "invalid after IDNA mapping");
    }
    if (end == name.size()) break;
    pos = end + 1;
  }
  if (name.size() > 253) {
    return fail(Code::E0307, nb, at(name.size(), e),
                "host name is " + std::to_string(name.size()) + " characters long; the limit is 253", "name too long");
  }
  out.kind = wildcard ? Kind::Subdomains : Kind::Exact;
  out.name = name;
  return true;
}

bool HostParser::to_ascii(std::size_t b, std::size_t e, std::string& out) {
  auto convert = [](std::string_view in, std::string* result) {
    char* ascii = nullptr;
    const int rc = idn2_to_ascii_8z(lowercase(in).c_str(), &ascii, kIdnFlags);
    if (rc == IDN2_OK && ascii != nullptr && result != nullptr) *result = lowercase(ascii);
    if (ascii != nullptr) idn2_free(ascii);
    return rc;
  };
  auto reason = [](int rc) {
    std::string text = idn2_strerror(rc);
    if (!text.empty()) text[0] = to_lower(text[0]);
    return text;
  };
  const int rc = convert(slice(b, e), &out);
  if (rc == IDN2_OK) return true;
  // Blame the first label that fails on its own (invalid UTF-8 included);
  // bidi and length rules can fail only for the whole name.
  for (std::size_t pos = b; pos <= e;) {
    const std::size_t end = std::min(text_.find('.', pos), e);
    const std::string_view label = slice(pos, end);
    const int label_rc = all_of(label, is_ascii) ? IDN2_OK : convert(label, nullptr);
    if (label_rc != IDN2_OK) {
      return fail(Code::E0307, pos, end,
                  "label " + text::quote(label) + " is not a valid international name: " + reason(label_rc),
                  "invalid label");
    }
    pos = end + 1;
  }
  return fail(Code::E0307, b, e, text::quote(slice(b, e)) + " is not a valid international host name: " + reason(rc),
              "invalid name");
}

// WHATWG URL "IPv4 parser". `a` is lowercased ASCII; when `exact`, a[i] is
// text_[b + i], otherwise every error spans [b, e).
bool HostParser::parse_ipv4(std::string_view a, std::size_t b, std::size_t e, bool exact, IpNet& out) {
  const std::string whole = text::quote(slice(b, e));
  std::uint64_t nums[4] = {};
  std::string_view parts[4];
  std::size_t count = 0;
  for (std::size_t pos = 0;; pos += parts[count - 1].size() + 1) {
    const std::size_t end = std::min(a.find('.', pos), a.size());
    if (count == 4) {
      return fail(Code::E0308, b, e, whole + " has more than four parts", "not an IPv4 address",
                  "an IPv4 address has at most four parts, as in `127.0.0.1`");
    }
    const std::string_view part = a.substr(pos, end - pos);
    if (part.empty()) {
      const std::size_t dot = end < a.size() ? end : pos - 1;
      return fail(Code::E0308, exact ? b + dot : b, exact ? b + dot + 1 : e, "empty part in IPv4 address " + whole,
                  "empty part");
    }
    const bool hex = part.starts_with("0x");
    const std::string_view digits = hex ? part.substr(2) : part;
    if (!all_of(digits, hex ? is_hex : is_digit)) {
      return fail(Code::E0308, b, e, whole + " is not a valid IPv4 address", "not an IPv4 address",
                  "a host name cannot end in a numeric label");
    }
    const unsigned radix = hex ? 16 : part.size() >= 2 && part[0] == '0' ? 8 : 10;
    std::uint64_t value = 0;
    for (char c : digits) {
      const unsigned d = is_digit(c) ? static_cast<unsigned>(c - '0') : static_cast<unsigned>(c - 'a' + 10);
      if (d >= radix) {
        return fail(Code::E0308, exact ? b + pos : b, exact ? b + end : e,
                    text::quote(part) + " is not a valid octal number in IPv4 address " + whole, "not octal",
                    "a leading `0` makes a number octal in an IPv4 address; remove it");
      }
      value = std::min<std::uint64_t>(value * radix + d, std::uint64_t{1} << 40);  // saturate on long input
    }
    parts[count] = part;
    nums[count++] = value;
    if (end == a.size()) break;
  }
  // Every part but the last is one byte; the last fills the remaining bytes.
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t max = i + 1 < count ? 255 : (std::uint64_t{1} << (8 * (5 - count))) - 1;
    if (nums[i] > max) {
      const std::size_t pos = static_cast<std::size_t>(parts[i].data() - a.data());
      return fail(Code::E0308, exact ? b + pos : b, exact ? b + pos + parts[i].size() : e,
                  text::quote(parts[i]) + " is above " + std::to_string(max) + " in IPv4 address " + whole, "too large");
    }
    v += i + 1 < count ? nums[i] << (8 * (3 - i)) : nums[i];
  }
  out = IpNet{};
  for (int i = 0; i < 4; ++i) out.bytes[i] = static_cast<std::uint8_t>(v >> (8 * (3 - i)));
  return true;
}

bool HostParser::parse_ports(std::size_t b, std::vector<PortRange>& out) {
  has_port_ = true;
  const std::size_t e = text_.size();
  const std::string_view s = slice(b, e);
  const std::size_t dash = s.find('-');
  if (s.empty()) return fail(Code::E0305, b - 1, b, "missing port after `:`", "no port", kPortHelp);
  if (subject_ && (s == "*" || dash != kNpos)) {
    return fail(Code::E0305, b, e, "a host has one port, not " + text::quote(s), "not a single port");
  }
  std::uint16_t lo = 0, hi = 0;
  if (s == "*") {
    out = {kAllPorts};
  } else if (dash == kNpos) {
    if (!parse_port(b, e, lo)) return false;
    out = {{lo, lo}};
  } else if (dash == 0 || dash + 1 == s.size()) {
    return fail(Code::E0305, b + dash, b + dash + 1,
                "port range " + text::quote(s) + " is missing its " + (dash == 0 ? "lower" : "upper") + " end", "",
                kPortHelp);
  } else {
    if (!parse_port(b, b + dash, lo) || !parse_port(b + dash + 1, e, hi)) return false;
    if (lo > hi) {
      return fail(Code::E0305, b, e, "port range " + text::quote(s) + " is reversed", "reversed",
                  "did you mean `" + std::to_string(hi) + "-" + std::to_string(lo) + "`?");
    }
    out = {{lo, hi}};
  }
  return true;
}

bool HostParser::parse_port(std::size_t b, std::size_t e, std::uint16_t& out) {
  const std::string_view s = slice(b, e);
  std::uint32_t v = 0;
  for (char c : s) v = std::min<std::uint32_t>(v * 10 + static_cast<std::uint32_t>(c - '0'), 1000000);
  const std::string port = "port " + text::quote(s);
  if (!all_of(s, is_digit)) return fail(Code::E0305, b, e, port + " is not a number", "not a number", kPortHelp);
  if (v > 65535) return fail(Code::E0305, b, e, port + " is above 65535", "too large", kPortHelp);
  if (s.size() > 5)
    return fail(Code::E0305, b, e, port + " has too many digits", "too long", "remove the leading zeros");
  if (v == 0) return fail(Code::E0305, b, e, "port `0` is not a valid port", "port 0", "ports are 1 to 65535");
  out = static_cast<std::uint16_t>(v);
  return true;
}

}  // namespace

bool IpNet::contains(const IpNet& address) const {
  if (address.family != family || prefix > max_prefix(*this) || address.prefix < prefix) return false;
  const unsigned full = prefix / 8, rest = prefix % 8;
  if (!std::equal(bytes.begin(), bytes.begin() + full, address.bytes.begin())) return false;
  const auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return rest == 0 || (bytes[full] & mask) == (address.bytes[full] & mask);
}

std::string IpNet::text() const {
  std::string out = family == 6 ? format_ipv6(bytes) : "";
  for (int i = 0; family != 6 && i < 4; ++i) out += (i ? "." : "") + std::to_string(bytes[i]);
  if (prefix != max_prefix(*this)) out += "/" + std::to_string(prefix);
  return out;
}

std::string HostPattern::text() const {
  std::string host = kind == Kind::Exact ? name : kind == Kind::Subdomains ? "*." + name : "*";
  if (kind == Kind::Address) host = net.text();
  if (!port_given) return host;
  if (kind == Kind::Address && net.family == 6) host = "[" + host + "]";
  if (ports.size() == 1 && ports[0] == kAllPorts) return host + ":*";
  // Only one range is spelled by the parser; a merged list prints as `a,b-c`.
  for (std::size_t i = 0; i < ports.size(); ++i) {
    host += (i ? "," : ":") + std::to_string(ports[i].lo);
    if (ports[i].hi != ports[i].lo) host += "-" + std::to_string(ports[i].hi);
  }
  return host;
}

std::variant<HostPattern, PatternErrors> parse_host_pattern(std::string_view text) {
  HostParser parser(text, false);
  HostPattern pattern;
  if (!parser.parse(pattern)) return PatternErrors{parser.error()};
  pattern.port_given = parser.has_port();
  return pattern;
}

void fence_ports(HostPattern& pattern) {
  if (!pattern.port_given) pattern.ports = {kAllPorts};
}

std::string HostSubject::text() const {
  std::string host = !is_ip ? name : address.family == 6 ? "[" + address.text() + "]" : address.text();
  return host + ":" + std::to_string(port);
}

std::variant<HostSubject, std::string> parse_host_subject(std::string_view host, std::uint16_t default_port) {
  HostParser parser(host, true);
  HostPattern pattern;
  if (!parser.parse(pattern)) return parser.error().message;
  HostSubject subject;
  subject.port = parser.has_port() ? pattern.ports.front().lo : default_port;
  subject.is_ip = pattern.kind == Kind::Address;
  if (subject.is_ip)
    subject.address = pattern.net;
  else
    subject.name = pattern.name;
  return subject;
}

bool host_matches(const HostPattern& pattern, const HostSubject& subject) {
  const bool port_ok = std::any_of(pattern.ports.begin(), pattern.ports.end(),
                                   [&](const PortRange& r) { return r.lo <= subject.port && subject.port <= r.hi; });
  const std::string& s = subject.name;
  const std::size_t n = pattern.name.size();
  if (!port_ok) return false;
  switch (pattern.kind) {
    case Kind::Exact:
      return !subject.is_ip && s == pattern.name;
    case Kind::Subdomains:
      return !subject.is_ip && s.size() > n + 1 && s[s.size() - n - 1] == '.' && s.ends_with(pattern.name);
    case Kind::AnyName:
      return !subject.is_ip;
    case Kind::Address:
      return subject.is_ip && pattern.net.contains(subject.address);
  }
  return false;
}

}  // namespace sbpolicy::sema
