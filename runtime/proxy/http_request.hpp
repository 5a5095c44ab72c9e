// The HTTP side of the proxy: what a request head asks for, decided before
// anything else happens.
//
// A client inside the sandbox sends either `CONNECT host:port` (a tunnel) or
// an absolute-form request `GET http://host[:port]/path` (plain HTTP, which
// the proxy forwards). The head is checked strictly, byte by byte before
// Beast parses it, because a lenient proxy and a strict server disagreeing
// about where a request ends is how smuggling works:
//  - CRLF line endings only; no obs-fold continuation lines; no control
//    bytes or DEL anywhere in the head;
//  - one Host header at most, and for plain HTTP it must name the same host
//    and port as the absolute-form target (the target is never derived from
//    Host: origin-form requests are refused);
//  - message framing without ambiguity: at most one Content-Length, with a
//    single value; Transfer-Encoding only as exactly `chunked`; never both;
//    CONNECT without a body;
//  - hosts of letters, digits, `-`, `_` and `.` (punycode for IDN), or an IP
//    literal (IPv6 in brackets); no userinfo, no percent-encoding, no zone
//    ids; ports strictly decimal 1..65535 without leading zeros.
// The host is then canonicalised with the policy's own rules
// (sema::parse_host_subject), so the decision and the dial see one name.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "sema/host_pattern.hpp"

namespace sbpolicy::proxy {

inline constexpr std::size_t kMaxRequestHead = 16 * 1024;
// The reason of the 431 (Request Header Fields Too Large) for a head over
// that limit, whether a few long fields or many short ones.
inline constexpr const char* kHeadTooLarge = "request head over 16 KiB (too many or too long header fields)";

struct ProxyRequest {
  enum class Kind { Connect, Forward };
  Kind kind = Kind::Connect;
  sema::HostSubject subject;  // canonical host and port
  // Forward only:
  std::string method;
  std::string target;                                       // origin-form: "/path?query"
  std::vector<std::pair<std::string, std::string>> fields;  // end-to-end fields, in order
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
};

struct RequestError {
  unsigned status = 400;
  std::string reason;  // lowercase, printable ASCII
};

// Where the head ends in `buffer` (the offset just past "\r\n\r\n", or
// just past a bare LF, which makes the head invalid), or 0 when it has not
// ended yet.
std::size_t find_head_end(std::string_view buffer);

// The raw checks Beast does not make (it folds obs-fold lines silently), on
// a request or a response head (`kind`): CRLF line endings only, no
// obs-fold continuation lines, no control bytes or DEL. The first problem
// found, or nothing.
std::optional<std::string> head_bytes_problem(std::string_view head, std::string_view kind);

// `s` without the optional whitespace (spaces, tabs) around it.
std::string_view trim_ows(std::string_view s);

// Adds the options a `Connection` field's value lists ("keep-alive, x-a"),
// lowercased, to `names`: the fields a proxy must not pass on.
void add_connection_options(std::string_view value, std::set<std::string>& names);

// Interprets one complete request head (up to and including "\r\n\r\n").
std::variant<ProxyRequest, RequestError> interpret_request_head(std::string_view head);

// Inside a CONNECT or SOCKS tunnel the proxy sees the client's first bytes.
// When they are an HTTP request, the server behind the tunnel would route
// it by its Host (or an absolute-form target): one address can serve any
// number of hosts, so `allow net "good.test:80"` would otherwise reach every
// host behind good.test's address. TLS is held to its server name instead
// (client_hello.hpp); anything else (ssh, smtp, a database) passes as bytes.
enum class TunnelStart { NeedMore, Http, Other };
// An HTTP request line, after the empty lines a server skips: a method
// token, a target and `HTTP/` (any case), or HTTP/0.9's `GET /path` (a
// target that is a path or a URL, then the line's end). Protocols whose
// lines look alike (`EHLO name`, `GET key`) are Other.
TunnelStart classify_tunnel_start(std::string_view bytes);

// The first request of a tunnel that carries HTTP, checked as strictly as a
// proxy request and more: origin-form only (a path), exactly one
// Host, naming the tunnel's own host (and its port, when it names one); no
// CONNECT. The proxy forwards it as a Forward request to the tunnel's host
// with `Connection: close`, so one tunnel carries one request and no second
// request can follow it with another Host.
std::variant<ProxyRequest, RequestError> interpret_tunnel_request_head(std::string_view head,
                                                                       const sema::HostSubject& tunnel);

// The head sbrun sends upstream for a forwarded request: origin-form target,
// `Host` set to the checked authority, hop-by-hop fields dropped,
// `Connection: close`, and the framing the proxy itself will produce.
std::string forward_head(const ProxyRequest& request);

// "example.com", "example.com:8080", "[::1]:8080": the authority of a
// subject, with the port left out when it is `default_port`.
std::string authority_text(const sema::HostSubject& subject, std::uint16_t default_port);

}  // namespace sbpolicy::proxy
