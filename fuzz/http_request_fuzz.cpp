// Fuzz target: the proxy's HTTP request-head reader on arbitrary bytes.
//
// Beyond "no crash", it checks what the proxy promises the upstream: the
// subject is canonical (its authority text parses back to itself), and the
// head sbrun writes for a forwarded request is one clean request: CRLF line
// ends only, no NUL, one request line, one Host, `name: value` fields, the
// empty line only at the end, and framing that says one thing. Put back in
// absolute form, that head is accepted and forwards to itself. The same
// bytes read as an upstream's response head (a hostile upstream's): what
// the client gets is one clean head that says the connection closes, and
// reads back as itself. A violation aborts, which libFuzzer reports as a
// crash with the input.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "proxy/http_request.hpp"
#include "proxy/http_response.hpp"

using namespace sbpolicy;
using namespace sbpolicy::proxy;

namespace {

[[noreturn]] void fail(const char* what, std::string_view input, std::string_view detail) {
  std::fprintf(stderr, "%s\n  input:  `%.*s`\n  detail: `%.*s`\n", what, static_cast<int>(input.size()), input.data(),
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

bool token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool starts_with_lower(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

void check_subject(const sema::HostSubject& subject, std::string_view input) {
  for (const std::uint16_t default_port : {std::uint16_t{0}, std::uint16_t{80}}) {
    const std::string text = authority_text(subject, default_port);
    auto again = sema::parse_host_subject(text, default_port);
    const auto* back = std::get_if<sema::HostSubject>(&again);
    if (back == nullptr || back->text() != subject.text()) fail("subject authority does not parse back", input, text);
  }
  if (subject.port == 0) fail("port 0 accepted", input, subject.text());
}

// The upstream head: one request line, then `name: value` lines, then the
// empty line and nothing after it.
void check_forward_head(const ProxyRequest& r, std::string_view input) {
  const std::string out = forward_head(r);
  if (!out.ends_with("\r\n\r\n")) fail("forward head does not end with CRLFCRLF", input, out);
  if (find_head_end(out) != out.size()) fail("forward head has an empty line before its end", input, out);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    if (c == '\0') fail("NUL in the forward head", input, out);
    if (c == '\r' && (i + 1 == out.size() || out[i + 1] != '\n')) fail("bare CR in the forward head", input, out);
    if (c == '\n' && (i == 0 || out[i - 1] != '\r')) fail("bare LF in the forward head", input, out);
  }
  const std::string_view body(out.data(), out.size() - 2);  // lines, each ending in CRLF
  std::size_t at = body.find("\r\n");
  const std::string_view request_line = body.substr(0, at);
  const std::string expected_line = r.method + " " + r.target + " HTTP/1.1";
  if (request_line != expected_line || r.method.empty() || !r.target.starts_with('/') ||
      r.method.find_first_of(" \t") != std::string::npos || r.target.find_first_of(" \t#") != std::string::npos) {
    fail("bad request line in the forward head", input, request_line);
  }
  int hosts = 0, lengths = 0, encodings = 0;
  for (at += 2; at < body.size();) {
    const std::size_t end = body.find("\r\n", at);
    const std::string_view line = body.substr(at, end - at);
    const std::size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) fail("forward head line is not a field", input, line);
    for (const char c : line.substr(0, colon)) {
      if (!token_char(c)) fail("forward head field name is not a token", input, line);
    }
    hosts += starts_with_lower(line, "host:");
    lengths += starts_with_lower(line, "content-length:");
    encodings += starts_with_lower(line, "transfer-encoding:");
    at = end + 2;
  }
  if (hosts != 1) fail("forward head does not have exactly one Host", input, out);
  if (lengths + encodings > 1 || (r.chunked && encodings != 1) || (!r.chunked && r.content_length && lengths != 1)) {
    fail("forward head framing is not the request's", input, out);
  }

  // The head back in absolute form: accepted, and forwarded unchanged. (Not
  // when the client sent a field named `close`: the proxy's own
  // `Connection: close` names it, so a second pass drops it.)
  for (const auto& [name, value] : r.fields) {
    if (name.size() == 5 && starts_with_lower(name, "close")) return;
  }
  const std::size_t first_end = out.find("\r\n");
  const std::string absolute =
      r.method + " http://" + authority_text(r.subject, 80) + r.target + " HTTP/1.1" + out.substr(first_end);
  if (absolute.size() > kMaxRequestHead) return;
  auto again = interpret_request_head(absolute);
  const auto* back = std::get_if<ProxyRequest>(&again);
  if (back == nullptr) {
    fail("forward head is refused in absolute form", input, std::get<RequestError>(again).reason + ": " + absolute);
  }
  if (forward_head(*back) != out) fail("forward head is not a fixed point", input, forward_head(*back));
}

void check(std::string_view head, std::string_view input) {
  auto result = interpret_request_head(head);
  if (const auto* e = std::get_if<RequestError>(&result)) {
    if (e->status != 400 && e->status != 431) fail("unexpected status", input, e->reason);
    if (e->reason.empty()) fail("empty reason", input, head);
    for (const char c : e->reason) {
      if (c < 0x20 || c >= 0x7f) fail("reason is not printable ASCII", input, e->reason);
    }
    return;
  }
  const ProxyRequest& r = std::get<ProxyRequest>(result);
  check_subject(r.subject, input);
  if (r.chunked && r.content_length) fail("both chunked and a length", input, head);
  if (r.kind == ProxyRequest::Kind::Connect) {
    if (r.chunked || r.content_length.value_or(0) > 0) fail("CONNECT with a body accepted", input, head);
    return;
  }
  check_forward_head(r, input);
}

// Inside a tunnel: an accepted request names the tunnel's host and a path,
// and its forward head is as clean as a proxy request's.
void check_tunnel(std::string_view head, std::string_view input) {
  static const sema::HostSubject tunnel = std::get<sema::HostSubject>(sema::parse_host_subject("registry.test", 80));
  auto result = interpret_tunnel_request_head(head, tunnel);
  if (const auto* e = std::get_if<RequestError>(&result)) {
    if (e->status != 400 && e->status != 403 && e->status != 431) fail("unexpected tunnel status", input, e->reason);
    for (const char c : e->reason) {
      if (c < 0x20 || c >= 0x7f) fail("tunnel reason is not printable ASCII", input, e->reason);
    }
    return;
  }
  const ProxyRequest& r = std::get<ProxyRequest>(result);
  if (r.kind != ProxyRequest::Kind::Forward || r.subject.text() != tunnel.text()) {
    fail("a tunnel request was accepted for another host", input, r.subject.text());
  }
  check_forward_head(r, input);
}

// An upstream's response head: refused with a printable reason, or
// rewritten into one clean head with `Connection: close` (final) and no
// hop-by-hop field, which rewrites to itself.
void check_response(std::string_view head, std::string_view input) {
  auto result = rewrite_response_head(head);
  if (const auto* e = std::get_if<std::string>(&result)) {
    for (const char c : *e) {
      if (c < 0x20 || c >= 0x7f) fail("response refusal is not printable ASCII", input, *e);
    }
    return;
  }
  const ResponseHead& r = std::get<ResponseHead>(result);
  const std::string& out = r.head;
  if (!out.starts_with("HTTP/1.1 ") || !out.ends_with("\r\n\r\n") || find_head_end(out) != out.size()) {
    fail("rewritten response head is not one head", input, out);
  }
  if (head_bytes_problem(out, "response head")) fail("rewritten response head has bad bytes", input, out);
  if (r.status < 100 || r.status > 599 || r.status == 101) fail("response status out of range", input, out);
  int closes = 0;
  for (std::size_t at = out.find("\r\n") + 2; at + 2 < out.size();) {
    const std::size_t end = out.find("\r\n", at);
    const std::string_view line = std::string_view(out).substr(at, end - at);
    for (const char* hop : {"connection:", "keep-alive:", "proxy-connection:", "upgrade:"}) {
      if (starts_with_lower(line, hop) && line != "Connection: close") fail("hop-by-hop field passed on", input, line);
    }
    closes += line == "Connection: close";
    at = end + 2;
  }
  if (closes != (r.interim ? 0 : 1)) fail("the final response does not say the connection closes", input, out);
  auto again = rewrite_response_head(out);
  if (!std::holds_alternative<ResponseHead>(again) || std::get<ResponseHead>(again).head != out) {
    fail("rewritten response head does not rewrite to itself", input, out);
  }
}

// The classification of a tunnel's first bytes never changes its mind:
// once a prefix is decided, every longer prefix says the same.
void check_classification(std::string_view input) {
  const std::size_t n = std::min<std::size_t>(input.size(), 256);
  const TunnelStart whole = classify_tunnel_start(input.substr(0, n));
  for (std::size_t i = 0; i < n; ++i) {
    const TunnelStart part = classify_tunnel_start(input.substr(0, i));
    if (part != TunnelStart::NeedMore && part != whole) fail("tunnel classification changed its mind", input, input.substr(0, i));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // As the server does: the head up to its empty line (or its first bare
  // LF, which makes it invalid), whatever follows.
  const std::size_t end = find_head_end(input);
  std::size_t bare_lf = input.size(), empty_line = input.find("\r\n\r\n");
  for (std::size_t i = 0; i < input.size() && bare_lf == input.size(); ++i) {
    if (input[i] == '\n' && (i == 0 || input[i - 1] != '\r')) bare_lf = i;
  }
  std::size_t reference = empty_line == std::string_view::npos ? 0 : empty_line + 4;
  if (bare_lf < input.size() && (reference == 0 || bare_lf + 1 < reference)) reference = bare_lf + 1;
  if (end != reference) fail("find_head_end is not the first empty line or bare LF", input, input.substr(0, end));
  if (end != 0) {
    const std::string_view head = input.substr(0, end);
    if (!head.ends_with("\r\n\r\n") && std::holds_alternative<ProxyRequest>(interpret_request_head(head))) {
      fail("a head ending in a bare LF is accepted", input, head);
    }
    check(head, input);
    check_tunnel(head, input);
    check_response(head, input);
  }
  check_classification(input);
  // And the whole input as a head, trailing bytes included.
  check(input, input);
  return 0;
}
