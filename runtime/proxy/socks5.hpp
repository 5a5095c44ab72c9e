// SOCKS5: the two client messages the proxy reads before it decides, parsed
// without I/O so the same code serves the proxy, the tests and a fuzzer.
//
// The subset of RFC 1928 we accept is the one a sandboxed tool needs to open
// a TCP connection by name, and nothing that widens what it can reach:
//  - the greeting `VER=5 NMETHODS METHODS...`, where only method 0x00 (no
//    authentication) is ever selected; SOCKS4/4a (VER=4) and anything else
//    is refused without a reply;
//  - one request `VER=5 CMD RSV=0 ATYP DST.ADDR DST.PORT` with CMD 1
//    (CONNECT). BIND would open a listening port on the host and UDP
//    ASSOCIATE a datagram relay; both are refused with 0x07;
//  - ATYP 1 (IPv4), 3 (a name) and 4 (IPv6). Names are held to the same
//    byte set as the HTTP side (letters, digits, `-`, `_`, `.`; punycode for
//    IDN), so a NUL, `%`, `@` or `:` can never make the proxy's decision and
//    its resolver see two different hosts (`evil.test\0.pkgs.test`). The
//    name is returned as sent; the caller canonicalises it with the policy's
//    own rules (sema::parse_host_subject) before deciding.
// Parsers look at the bytes in order and fail as soon as a byte makes the
// message invalid, so the result for a prefix is NeedMore or already final:
// the caller can parse again after every read. Bytes after a message are not
// consumed (`consumed` tells where it ended).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sbpolicy::proxy {

enum class ParseStatus { NeedMore, Done, Fail };

struct SocksGreeting {
  ParseStatus status = ParseStatus::NeedMore;
  std::size_t consumed = 0;      // bytes of the greeting when Done
  bool no_auth_offered = false;  // method 0x00 is in the list
};

// VER(=5) NMETHODS(>=1) METHODS. Fail when VER != 5 (this includes SOCKS4's
// 0x04) or NMETHODS == 0.
SocksGreeting parse_socks_greeting(std::string_view bytes);

struct SocksRequest {
  ParseStatus status = ParseStatus::NeedMore;
  std::size_t consumed = 0;
  // When Fail: the reply code to send before closing (0x01 general, 0x02 not
  // allowed, 0x07 command not supported, 0x08 address type not supported),
  // or 0 to close without a reply (bad version, bad reserved byte). 0x01
  // only if an IPv6 address cannot be printed, which inet_ntop never refuses.
  std::uint8_t reply = 0;
  bool is_name = false;  // ATYP 3
  // ATYP 3: the name as sent (validated); ATYP 1: "a.b.c.d"; ATYP 4: "[v6]"
  // in RFC 5952 form (inet_ntop; an IPv4-mapped address stays "[::ffff:a.b.c.d]").
  std::string host;
  std::uint16_t port = 0;
};

// VER(=5) CMD RSV(=0) ATYP DST.ADDR DST.PORT. Only CMD 1 (CONNECT); every
// other CMD (2 BIND, 3 UDP ASSOCIATE, ...) fails with 0x07. ATYP other than
// 1, 3, 4 fails with 0x08. A name of length 0, a name byte outside
// [A-Za-z0-9._-], or port 0 fails with 0x02. Bad VER or RSV: reply 0.
SocksRequest parse_socks_request(std::string_view bytes);

// The 10-byte reply VER=5 REP=code RSV=0 ATYP=1 BND.ADDR=0.0.0.0 BND.PORT=0.
std::string socks_reply(std::uint8_t code);

// The method-selection reply: 05 00 when no_auth_offered, else 05 FF.
std::string socks_method_reply(bool no_auth_offered);

}  // namespace sbpolicy::proxy
