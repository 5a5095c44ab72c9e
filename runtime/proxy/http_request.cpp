#include "proxy/http_request.hpp"

#include <algorithm>
#include <boost/beast/http.hpp>
#include <charconv>
#include <limits>
#include <set>

#include "support/text.hpp"

namespace sbpolicy::proxy {

namespace http = boost::beast::http;

namespace {

std::string_view sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

RequestError bad(std::string reason) { return {400, std::move(reason)}; }

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

bool ipv6_char(char c) {
  return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') || c == ':' || c == '.';
}

// "host:port", "[v6]:port", or without the port when `default_port` is set.
std::variant<sema::HostSubject, RequestError> parse_authority(std::string_view a,
                                                              std::optional<std::uint16_t> default_port) {
  if (a.empty()) return bad("empty host");
  if (a.find('@') != std::string_view::npos) return bad("userinfo in the authority");
  std::string_view host, port;
  bool has_port = false;
  if (a.front() == '[') {
    const std::size_t close = a.find(']');
    if (close == std::string_view::npos) return bad("unclosed bracket in the host");
    host = a.substr(0, close + 1);
    if (!std::all_of(host.begin() + 1, host.end() - 1, ipv6_char)) return bad("bad character in an IPv6 literal");
    const std::string_view rest = a.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("text after the IPv6 literal");
      port = rest.substr(1);
      has_port = true;
    }
  } else {
    const std::size_t colon = a.find(':');
    host = a.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = a.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) return bad("empty host");
    if (!std::all_of(host.begin(), host.end(), name_char)) {
      return bad("bad character in the host (only letters, digits, `-`, `_` and `.`; punycode for IDN)");
    }
  }
  std::uint16_t port_number = default_port.value_or(0);
  if (has_port) {
    if (port.empty() || port.size() > 5 || port.front() == '0' ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return bad("bad port (decimal 1-65535)");
    }
    unsigned value = 0;
    std::from_chars(port.data(), port.data() + port.size(), value);
    if (value == 0 || value > 65535) return bad("bad port (decimal 1-65535)");
    port_number = static_cast<std::uint16_t>(value);
  } else if (!default_port) {
    return bad("CONNECT needs host:port");
  }
  auto subject = sema::parse_host_subject(host, port_number);
  if (auto* e = std::get_if<std::string>(&subject)) return bad("bad host: " + *e);
  return std::get<sema::HostSubject>(subject);
}

bool same(const sema::HostSubject& a, const sema::HostSubject& b) {
  return a.is_ip == b.is_ip && a.port == b.port && (a.is_ip ? a.address == b.address : a.name == b.name);
}


// A tchar of RFC 9110 (the characters of a method token).
bool token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// classify_tunnel_start before its bound on what it buffers.
TunnelStart classify_request_line(std::string_view b) {
  constexpr std::size_t kMaxMethod = 32;
  std::size_t i = 0;
  while (i < b.size() && (b[i] == '\r' || b[i] == '\n')) ++i;
  const std::size_t method_at = i;
  while (i < b.size() && i - method_at <= kMaxMethod && token_char(b[i])) ++i;
  if (i - method_at > kMaxMethod) return TunnelStart::Other;
  if (i == b.size()) return TunnelStart::NeedMore;
  if (b[i] != ' ' || i == method_at) return TunnelStart::Other;
  const std::size_t target_at = ++i;
  while (i < b.size() && b[i] != ' ' && b[i] != '\r' && b[i] != '\n') ++i;
  const std::string_view target = b.substr(target_at, i - target_at);
  if (i == b.size()) return TunnelStart::NeedMore;
  if (target.empty()) return TunnelStart::Other;
  if (b[i] == ' ') {
    constexpr std::string_view kVersion = "http/";
    const std::string rest = text::lowercase(b.substr(i + 1, kVersion.size()));
    if (rest.size() < kVersion.size()) return kVersion.substr(0, rest.size()) == rest ? TunnelStart::NeedMore : TunnelStart::Other;
    return rest == kVersion ? TunnelStart::Http : TunnelStart::Other;
  }
  const bool url = target.front() == '/' || text::lowercase(target.substr(0, 7)) == "http://";
  return url ? TunnelStart::Http : TunnelStart::Other;
}

// Both kinds of head: a proxy request (`tunnel` null), or the first request
// inside a tunnel to `*tunnel`.
std::variant<ProxyRequest, RequestError> interpret(std::string_view head, const sema::HostSubject* tunnel) {
  if (head.size() > kMaxRequestHead) return RequestError{431, kHeadTooLarge};
  if (auto problem = head_bytes_problem(head, "request head")) return bad(std::move(*problem));

  http::request_parser<http::empty_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(kMaxRequestHead));
  // The body is streamed, never held: no limit on its size (Beast's default
  // refuses a Content-Length over 1 MiB). Not boost::none, which Boost 1.74
  // compares as smaller than every length.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  parser.eager(false);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(head.data(), head.size()), ec);
  if (ec && ec != http::error::need_more) return bad("malformed request: " + ec.message());
  if (!parser.is_header_done()) return bad("incomplete request head");
  const auto& m = parser.get();

  ProxyRequest r;
  // Framing: exactly one way to know where the body ends.
  int host_fields = 0, length_fields = 0, te_fields = 0;
  std::string host_value;
  for (const auto& f : m) {
    const std::string name = text::lowercase(sv(f.name_string()));
    const std::string_view value = trim_ows(sv(f.value()));
    if (name == "host") {
      ++host_fields;
      host_value = std::string(value);
    } else if (name == "content-length") {
      ++length_fields;
      if (value.empty() || value.size() > 18 ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return bad("bad Content-Length");
      }
      std::uint64_t n = 0;
      std::from_chars(value.data(), value.data() + value.size(), n);
      r.content_length = n;
    } else if (name == "transfer-encoding") {
      ++te_fields;
      if (text::lowercase(value) != "chunked") return bad("Transfer-Encoding other than `chunked`");
      r.chunked = true;
    }
  }
  if (host_fields > 1) return bad("more than one Host header");
  if (length_fields > 1 || te_fields > 1) return bad("repeated framing header");
  if (length_fields > 0 && te_fields > 0) return bad("both Content-Length and Transfer-Encoding");

  const std::string_view target(m.target().data(), m.target().size());
  // Methods are case-sensitive: `connect` is an unknown method, and would
  // otherwise be told that it lacks an absolute http:// target.
  if (m.method() != http::verb::connect && text::lowercase(sv(m.method_string())) == "connect") {
    return bad("methods are case-sensitive: write `CONNECT`, not " + text::quote_ascii(sv(m.method_string())));
  }
  // A fragment is the client's own: never sent, in any form of target.
  if (target.find('#') != std::string_view::npos) return bad("fragment in the request target");
  if (tunnel != nullptr) {
    const auto refused = [](std::string reason) { return RequestError{403, std::move(reason)}; };
    const std::string tunnel_host = authority_text(*tunnel, 0);
    if (m.method() == http::verb::connect) return refused("CONNECT inside a tunnel to " + tunnel_host);
    if (target.empty() || target.front() != '/') {
      return refused("a request inside a tunnel to " + tunnel_host + " must name a path, not another host");
    }
    if (host_fields != 1) return refused("a request inside a tunnel to " + tunnel_host + " needs one Host header");
    auto h = parse_authority(host_value, tunnel->port);
    if (std::holds_alternative<RequestError>(h) || !same(std::get<sema::HostSubject>(h), *tunnel)) {
      return refused("Host " + text::quote_ascii(host_value) + " inside a tunnel to " + tunnel_host);
    }
    r.kind = ProxyRequest::Kind::Forward;
    r.method = std::string(sv(m.method_string()));
    r.subject = *tunnel;
    r.target = std::string(target);
  } else if (m.method() == http::verb::connect) {
    r.kind = ProxyRequest::Kind::Connect;
    if (r.chunked || r.content_length.value_or(0) > 0) return bad("CONNECT with a body");
    auto a = parse_authority(target, std::nullopt);
    if (auto* e = std::get_if<RequestError>(&a)) return *e;
    r.subject = std::get<sema::HostSubject>(a);
    return r;
  } else {
    r.kind = ProxyRequest::Kind::Forward;
    r.method = std::string(sv(m.method_string()));
    constexpr std::string_view kScheme = "http://";
    if (target.size() < kScheme.size() || text::lowercase(target.substr(0, kScheme.size())) != kScheme) {
      if (text::lowercase(target.substr(0, 8)) == "https://") return bad("https:// through a plain proxy request; use CONNECT");
      return bad("the proxy needs an absolute http:// target (origin-form requests are refused)");
    }
    const std::string_view rest = target.substr(kScheme.size());
    const std::size_t path_at = rest.find_first_of("/?#");
    auto a = parse_authority(rest.substr(0, path_at), 80);
    if (auto* e = std::get_if<RequestError>(&a)) return *e;
    r.subject = std::get<sema::HostSubject>(a);
    r.target = path_at == std::string_view::npos ? "/" : std::string(rest.substr(path_at));
    if (r.target.front() == '?') r.target.insert(r.target.begin(), '/');
    if (host_fields == 1) {
      auto h = parse_authority(host_value, 80);
      if (std::holds_alternative<RequestError>(h) || !same(std::get<sema::HostSubject>(h), r.subject)) {
        return bad("the Host header disagrees with the request target");
      }
    }
  }

  // End-to-end fields only: hop-by-hop ones and the ones named by
  // Connection stay here; Host and framing are regenerated.
  std::set<std::string> drop = {"connection",
                                "proxy-connection",
                                "keep-alive",
                                "proxy-authorization",
                                "proxy-authenticate",
                                "te",
                                "trailer",
                                "transfer-encoding",
                                "upgrade",
                                "content-length",
                                "host"};
  for (const auto& f : m) {
    if (text::lowercase(sv(f.name_string())) == "connection") add_connection_options(sv(f.value()), drop);
  }
  for (const auto& f : m) {
    if (drop.count(text::lowercase(sv(f.name_string())))) continue;
    r.fields.emplace_back(std::string(sv(f.name_string())), std::string(trim_ows(sv(f.value()))));
  }
  return r;
}

}  // namespace

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void add_connection_options(std::string_view value, std::set<std::string>& names) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    names.insert(text::lowercase(trim_ows(value.substr(0, comma))));
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
  }
}

std::optional<std::string> head_bytes_problem(std::string_view head, std::string_view kind) {
  for (std::size_t i = 0; i < head.size(); ++i) {
    const auto c = static_cast<unsigned char>(head[i]);
    if (c == '\r') {
      if (i + 1 >= head.size() || head[i + 1] != '\n') return "carriage return without line feed";
      if (i + 2 < head.size() && (head[i + 2] == ' ' || head[i + 2] == '\t')) return "folded header line (obs-fold)";
      ++i;
      continue;
    }
    if (c == '\n') return "line feed without carriage return";
    if ((c < 0x20 && c != '\t') || c == 0x7f) return "control byte in the " + std::string(kind);
  }
  return std::nullopt;
}

std::size_t find_head_end(std::string_view buffer) {
  // A bare LF ends the head at once: interpret_request_head refuses it, and
  // the client learns why instead of waiting for a CRLF that never comes.
  for (std::size_t i = 0; i < buffer.size(); ++i) {
    if (buffer[i] != '\n') continue;
    if (i == 0 || buffer[i - 1] != '\r') return i + 1;
    if (i >= 3 && buffer.compare(i - 3, 4, "\r\n\r\n") == 0) return i + 1;
  }
  return 0;
}

TunnelStart classify_tunnel_start(std::string_view b) {
  const TunnelStart start = classify_request_line(b);
  // Undecided past the head limit (a line that never ends, empty lines
  // without end): refused as too long a request head, never buffered on.
  return start == TunnelStart::NeedMore && b.size() > kMaxRequestHead ? TunnelStart::Http : start;
}

std::variant<ProxyRequest, RequestError> interpret_request_head(std::string_view head) {
  return interpret(head, nullptr);
}

std::variant<ProxyRequest, RequestError> interpret_tunnel_request_head(std::string_view head,
                                                                       const sema::HostSubject& tunnel) {
  return interpret(head, &tunnel);
}

std::string authority_text(const sema::HostSubject& subject, std::uint16_t default_port) {
  std::string host = subject.is_ip ? subject.address.text() : subject.name;
  if (subject.is_ip && subject.address.family == 6) host = "[" + host + "]";
  if (subject.port != default_port) host += ":" + std::to_string(subject.port);
  return host;
}

std::string forward_head(const ProxyRequest& r) {
  std::string out = r.method + " " + r.target + " HTTP/1.1\r\nHost: " + authority_text(r.subject, 80) + "\r\n";
  for (const auto& [name, value] : r.fields) out += name + ": " + value + "\r\n";
  if (r.chunked)
    out += "Transfer-Encoding: chunked\r\n";
  else if (r.content_length)
    out += "Content-Length: " + std::to_string(*r.content_length) + "\r\n";
  out += "Connection: close\r\n\r\n";
  return out;
}

}  // namespace sbpolicy::proxy
