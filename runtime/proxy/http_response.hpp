// The response side of a forwarded HTTP request: what the upstream answers,
// as the client is told it.
//
// The proxy sends every request upstream with `Connection: close` and
// closes the client's connection after the one response (http_request.hpp):
// one connection, one checked request. The client must know that, or it
// keeps the connection for its next request and finds it closed in the
// middle of sending it (Node's agents, npm, say "socket hang up"). So the
// response head is rewritten as a server that does not keep connections
// must (RFC 9112, 9.6): the status line as HTTP/1.1, hop-by-hop fields
// dropped (Connection and what it names, Keep-Alive, Proxy-Connection,
// Upgrade), and `Connection: close` added. The framing fields
// (Content-Length, Transfer-Encoding) and the body pass unchanged: the body
// is the upstream's, delimited as the upstream delimits it, and the
// connection ends after it anyway.
//
// Interim responses (1xx) pass rewritten the same way, without the
// `close`; the final response follows. A 101 (Switching Protocols) was
// never asked for (the request's Upgrade is dropped) and is refused.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

namespace sbpolicy::proxy {

// Bigger heads are refused: upstreams send long cookies and policies, but
// not this long.
inline constexpr std::size_t kMaxResponseHead = 64 * 1024;

struct ResponseHead {
  unsigned status = 0;
  bool interim = false;  // 1xx: another response head follows
  std::string head;      // rewritten, ending in "\r\n\r\n"
};

// Rewrites one complete response head (up to and including its empty line;
// see find_head_end). An error is the reason the client gets with a 502,
// lowercase, printable ASCII.
std::variant<ResponseHead, std::string> rewrite_response_head(std::string_view head);

}  // namespace sbpolicy::proxy
