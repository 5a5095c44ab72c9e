#include "proxy/http_response.hpp"

#include <boost/beast/http.hpp>
#include <limits>
#include <set>

#include "proxy/http_request.hpp"
#include "support/text.hpp"

namespace sbpolicy::proxy {

namespace http = boost::beast::http;

namespace {

std::string_view sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

}  // namespace

std::variant<ResponseHead, std::string> rewrite_response_head(std::string_view head) {
  if (head.size() > kMaxResponseHead) return std::string("response head over 64 KiB");
  if (auto problem = head_bytes_problem(head, "response head")) return "bad response: " + *problem;

  http::response_parser<http::empty_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(kMaxResponseHead));
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  parser.eager(false);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(head.data(), head.size()), ec);
  if (ec && ec != http::error::need_more) return "bad response: " + text::printable(ec.message());
  if (!parser.is_header_done()) return std::string("bad response: incomplete head");
  const auto& m = parser.get();

  ResponseHead out;
  out.status = m.result_int();
  // Three digits, but only 100-599 mean anything (RFC 9110, 15).
  if (out.status < 100 || out.status > 599) return "bad response: status " + std::to_string(out.status);
  if (out.status == 101) return std::string("the upstream switched protocols, which the request did not ask for");
  out.interim = out.status >= 100 && out.status < 200;

  // Hop-by-hop fields and the ones Connection names; never the framing,
  // which the body that follows keeps. A field named `close` (a reserved
  // name, RFC 9110 7.6.1) goes too: the proxy's own `Connection: close`
  // would name it.
  std::set<std::string> drop = {"connection", "keep-alive", "proxy-connection", "upgrade", "close"};
  for (const auto& f : m) {
    if (text::lowercase(sv(f.name_string())) == "connection") add_connection_options(sv(f.value()), drop);
  }
  drop.erase("content-length");
  drop.erase("transfer-encoding");

  out.head = "HTTP/1.1 " + std::to_string(out.status) + " " + std::string(sv(m.reason())) + "\r\n";
  for (const auto& f : m) {
    if (drop.count(text::lowercase(sv(f.name_string())))) continue;
    out.head += std::string(sv(f.name_string())) + ": " + std::string(trim_ows(sv(f.value()))) + "\r\n";
  }
  if (!out.interim) out.head += "Connection: close\r\n";
  out.head += "\r\n";
  return out;
}

}  // namespace sbpolicy::proxy
