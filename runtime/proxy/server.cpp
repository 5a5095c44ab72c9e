#include "proxy/server.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>

#include "proxy/client_hello.hpp"
#include "proxy/http_request.hpp"
#include "proxy/http_response.hpp"
#include "proxy/socks5.hpp"
#include "proxy/tunnel.hpp"
#include "support/text.hpp"

namespace sbpolicy::proxy {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// Closes a socket when a deadline passes; disarmed by destruction.
// Closes `socket` when a deadline passes. With a gate, a deadline that
// waits on the client restarts when a question was open meanwhile: the
// sandbox was held still then, and its client could not have sent a byte.
class Deadline {
 public:
  Deadline(asio::io_context& io, tcp::socket& socket, const Gate* questions = nullptr)
      : timer_(io), socket_(socket), questions_(questions) {}
  ~Deadline() {
    *alive_ = false;
    timer_.cancel();
  }
  void arm(std::chrono::milliseconds d) {
    window_ = d;
    started_ = Clock::now();
    wait(started_ + d);
  }
  void disarm() { timer_.cancel(); }
  bool expired() const { return expired_; }

 private:
  void wait(Clock::time_point at) {
    timer_.expires_at(at);
    timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
      if (ec || !*alive) return;
      if (questions_ != nullptr && questions_->question_open()) {
        wait(Clock::now() + window_);  // look again once the window has passed
        return;
      }
      if (questions_ != nullptr && questions_->last_question_closed() > started_) {
        started_ = questions_->last_question_closed();
        wait(std::max(Clock::now(), started_ + window_));
        return;
      }
      expired_ = true;
      boost::system::error_code ignored;
      socket_.close(ignored);
    });
  }

  asio::steady_timer timer_;
  tcp::socket& socket_;
  const Gate* questions_;
  std::chrono::milliseconds window_{0};
  Clock::time_point started_{};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool expired_ = false;
};

// Completion handler of a coroutine a session spawns beside itself: sets
// `done` and wakes the session, which waits on `wake` until it sees it.
auto finished(bool& done, asio::steady_timer& wake) {
  return [&done, &wake](std::exception_ptr) {
    done = true;
    wake.cancel();
  };
}

asio::awaitable<void> wait_for(const bool& done, asio::steady_timer& wake) {
  while (!done) {
    boost::system::error_code ec;
    co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

std::string http_refusal(unsigned status, std::string reason) {
  // The reason goes into a header: printable ASCII only, whatever produced it.
  reason = text::printable(reason);
  const char* text = status == 400   ? "Bad Request"
                     : status == 403 ? "Forbidden"
                     : status == 431 ? "Request Header Fields Too Large"
                     : status == 502 ? "Bad Gateway"
                     : status == 503 ? "Service Unavailable"
                     : status == 504 ? "Gateway Timeout"
                                     : "Error";
  const std::string body = "sbrun: " + reason + "\n";
  return fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nX-Sbrun-Reason: {}\r\n"
      "Content-Length: {}\r\nConnection: close\r\n\r\n{}",
      status, text, reason, body.size(), body);
}

// The log's `protocol` of a connection from the door it came in by; an
// HTTP proxy connection becomes "http-connect" once it asks for a tunnel.
const char* protocol_of(char tag) {
  return tag == sandbox::kTagSocks ? "socks5" : tag == sandbox::kTagLocal ? "local" : "http";
}

std::string endpoint_text(const tcp::endpoint& e) {
  const auto a = e.address();
  return a.is_v6() ? fmt::format("[{}]:{}", a.to_string(), e.port()) : fmt::format("{}:{}", a.to_string(), e.port());
}

}  // namespace

class ProxyServer::Session {
 public:
  // A session `turned_away` is past the proxy's limit: it is read as far
  // as its request and answered 503 (SOCKS: 0x01), without a question or a
  // dial.
  Session(ProxyServer& server, tcp::socket client, char tag, bool turned_away)
      : server_(server),
        io_(server.io_),
        client_(std::move(client)),
        upstream_(server.io_),
        tag_(tag),
        turned_away_(turned_away),
        started_(Clock::now()),
        log_(server.log_) {
    boost::system::error_code ec;
    const auto peer = client_.remote_endpoint(ec);
    client_text_ = ec ? "?" : endpoint_text(peer);
  }

  // A session still open when sbrun stops (the command is gone, the event
  // loop with it) is logged here: no decision goes unrecorded. Only the
  // session's own members are used; the server may be gone already.
  ~Session() {
    if (logged_) return;
    if (reason_.empty()) reason_ = "still open when the run ended";
    log();
  }

  asio::awaitable<void> run() {
    protocol_ = protocol_of(tag_);
    if (tag_ == sandbox::kTagSocks) {
      co_await socks();
    } else if (tag_ == sandbox::kTagLocal) {
      co_await local();
    } else {
      co_await http_session();
    }
    log();
    if (outcome_ == "refused" || outcome_ == "failed" || outcome_ == "bad-request" || outcome_ == "busy") {
      co_await linger();
    }
  }

 private:
  const ProxyLimits& limits() const { return server_.limits_; }

  // Reads more bytes from the client into `buffer`; false at EOF or error.
  // When the sandbox was last held still for a question (now, while one is
  // open): tunnels do not count that silence against the client.
  std::function<Clock::time_point()> held_until() const {
    const Gate& gate = server_.gate_;
    return [&gate] { return gate.question_open() ? Clock::now() : gate.last_question_closed(); };
  }

  asio::awaitable<bool> read_more(std::string& buffer) {
    char chunk[4096];
    boost::system::error_code ec;
    const std::size_t n =
        co_await client_.async_read_some(asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
    buffer.append(chunk, n);
    co_return true;
  }

  // The proxy answered and is done with the client: it is closed once it
  // has hung up too, or after a second. Closing a socket with bytes from
  // the client still unread resets the connection, and the client could
  // lose the answer.
  asio::awaitable<void> linger() {
    boost::system::error_code ec;
    if (!client_.is_open()) co_return;
    client_.shutdown(tcp::socket::shutdown_send, ec);
    Deadline deadline(io_, client_);
    deadline.arm(std::chrono::seconds(1));
    char sink[4096];
    for (std::size_t total = 0; total < (std::size_t{1} << 20);) {
      total += co_await client_.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
  }

  asio::awaitable<void> refuse_http(unsigned status, std::string reason) {
    if (!(turned_away_ && status == 503)) outcome_ = status == 403 ? "refused" : status >= 500 ? "failed" : "bad-request";
    reason_ = reason;
    co_await write_all(client_, http_refusal(status, reason));
    boost::system::error_code ignored;
    client_.shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::awaitable<bool> decide(const sema::HostSubject& subject) {
    subject_ = subject;
    has_subject_ = true;
    if (turned_away_) {
      outcome_ = "busy";
      reason_ = verdict_.reason = fmt::format(
          "too many connections through the proxy at once (limit {}; --net-max-connections)", limits().max_sessions);
      verdict_.http_status = 503;
      verdict_.socks_reply = 0x01;
      co_return false;
    }
    verdict_ = co_await server_.gate_.check(subject);
    if (!verdict_.allowed) {
      outcome_ = verdict_.unreachable ? "failed" : "refused";
      reason_ = verdict_.reason;
    }
    co_return verdict_.allowed;
  }

  // Dials the gate's addresses in order, each within the connect timeout.
  asio::awaitable<bool> dial() {
    for (const auto& endpoint : verdict_.endpoints) {
      boost::system::error_code ec;
      upstream_.close(ec);
      Deadline deadline(io_, upstream_);
      deadline.arm(limits().connect_timeout);
      co_await upstream_.async_connect(endpoint, asio::redirect_error(asio::use_awaitable, ec));
      if (!ec && !deadline.expired()) {
        dialed_ = endpoint_text(endpoint);
        co_return true;
      }
      reason_ = fmt::format("cannot connect to {}: {}", endpoint_text(endpoint),
                            deadline.expired() ? "timed out" : ec.message());
    }
    outcome_ = "failed";
    co_return false;
  }

  asio::awaitable<void> http_session() {
    std::string buffer;
    std::size_t head_end = 0;
    {
      Deadline deadline(io_, client_, &server_.gate_);
      deadline.arm(limits().head_timeout);
      while ((head_end = find_head_end(buffer)) == 0) {
        if (buffer.size() > kMaxRequestHead) {
          co_await refuse_http(431, kHeadTooLarge);
          co_return;
        }
        if (!co_await read_more(buffer)) {
          outcome_ = deadline.expired() ? "timed-out" : "closed";
          reason_ = deadline.expired() ? "no complete request head in time" : "client closed before a request";
          co_return;
        }
      }
    }
    auto parsed = interpret_request_head(std::string_view(buffer).substr(0, head_end));
    if (auto* e = std::get_if<RequestError>(&parsed)) {
      co_await refuse_http(e->status, e->reason);
      co_return;
    }
    ProxyRequest& request = std::get<ProxyRequest>(parsed);
    protocol_ = request.kind == ProxyRequest::Kind::Connect ? "http-connect" : "http";
    if (!co_await decide(request.subject)) {
      co_await refuse_http(verdict_.http_status, verdict_.reason);
      co_return;
    }
    if (!co_await dial()) {
      co_await refuse_http(502, reason_);
      co_return;
    }
    std::string rest = buffer.substr(head_end);
    if (request.kind == ProxyRequest::Kind::Connect) {
      if (!co_await write_all(client_, "HTTP/1.1 200 Connection established\r\n\r\n")) co_return;
      co_await tunnel(std::move(rest));
    } else {
      co_await forward(request, std::move(rest), std::string_view(buffer).substr(0, head_end));
    }
  }

  asio::awaitable<void> socks() {
    std::string buffer;
    Deadline deadline(io_, client_, &server_.gate_);
    deadline.arm(limits().head_timeout);
    SocksGreeting greeting;
    while ((greeting = parse_socks_greeting(buffer)).status == ParseStatus::NeedMore) {
      if (!co_await read_more(buffer)) {
        outcome_ = deadline.expired() ? "timed-out" : "closed";
        co_return;
      }
    }
    if (greeting.status == ParseStatus::Fail) {
      outcome_ = "bad-request";
      reason_ = "not a SOCKS5 greeting";
      co_return;
    }
    if (!co_await write_all(client_, socks_method_reply(greeting.no_auth_offered)) || !greeting.no_auth_offered) {
      outcome_ = "bad-request";
      reason_ = "no acceptable SOCKS5 authentication method";
      co_return;
    }
    buffer.erase(0, greeting.consumed);
    SocksRequest request;
    while ((request = parse_socks_request(buffer)).status == ParseStatus::NeedMore) {
      if (!co_await read_more(buffer)) {
        outcome_ = deadline.expired() ? "timed-out" : "closed";
        co_return;
      }
    }
    deadline.disarm();
    if (request.status == ParseStatus::Fail) {
      outcome_ = "bad-request";
      reason_ = fmt::format("SOCKS5 request refused (reply {:#04x})", request.reply);
      if (request.reply != 0) co_await write_all(client_, socks_reply(request.reply));
      co_return;
    }
    auto subject = sema::parse_host_subject(request.host, request.port);
    if (auto* e = std::get_if<std::string>(&subject)) {
      outcome_ = "bad-request";
      reason_ = "bad host: " + *e;
      co_await write_all(client_, socks_reply(0x02));
      co_return;
    }
    if (!co_await decide(std::get<sema::HostSubject>(subject))) {
      co_await write_all(client_, socks_reply(verdict_.socks_reply));
      co_return;
    }
    if (!co_await dial()) {
      co_await write_all(client_, socks_reply(0x05));
      co_return;
    }
    if (!co_await write_all(client_, socks_reply(0x00))) co_return;
    co_await tunnel(buffer.substr(request.consumed));
  }

  // A connection to a loopback service inside (lower/local_services.hpp):
  // the service is the address and port it came in on.
  asio::awaitable<void> local() {
    boost::system::error_code ec;
    const tcp::endpoint here = client_.local_endpoint(ec);
    const lower::LocalService* service = ec ? nullptr : server_.local_service(here);
    if (service == nullptr) {
      outcome_ = "bad-request";
      reason_ = "not a loopback service of the policy";
      co_return;
    }
    if (!co_await decide(service->subject) || !co_await dial()) co_return;
    co_await relay();
  }

  // Refuses a TLS tunnel whose ClientHello names another host than the one
  // the gate allowed (or uses Encrypted Client Hello).
  std::optional<std::string> check_client_hello(const ClientHelloInfo& hello) const {
    if (hello.status == ClientHelloInfo::Status::NotTls) return std::nullopt;
    if (hello.status != ClientHelloInfo::Status::Ok) return "malformed TLS ClientHello";
    if (hello.has_ech) return "TLS Encrypted Client Hello hides the server name; refused";
    if (subject_.is_ip) {
      if (hello.sni) return "TLS server name `" + *hello.sni + "` on a tunnel to an IP address";
      return std::nullopt;
    }
    if (!hello.sni) return "TLS ClientHello without a server name on a tunnel to " + subject_.name;
    auto sni = sema::parse_host_subject(*hello.sni, subject_.port);
    const auto* s = std::get_if<sema::HostSubject>(&sni);
    if (s == nullptr || s->is_ip || s->name != subject_.name) {
      return "TLS server name `" + *hello.sni + "` is not the tunnel's host " + subject_.name;
    }
    return std::nullopt;
  }

  // Runs `up`, the client-to-upstream side of a tunnel, while the
  // upstream-to-client pump and the idle watch run beside it (the upstream
  // may speak first: its bytes flow while `up` still inspects the client's).
  // Returns when both sides are done.
  asio::awaitable<void> beside_down_pump(asio::awaitable<void> up) {
    outcome_ = "tunnel";
    asio::steady_timer wake(io_, asio::steady_timer::time_point::max()), idle_timer(io_);
    bool down_done = false, watch_done = false, pumps_done = false, idle_expired = false;
    asio::co_spawn(io_, tunnel_down(), finished(down_done, wake));
    asio::co_spawn(io_,
                   idle_watch(
                       client_, upstream_, up_, down_, limits().idle_timeout, idle_timer, [&] { return pumps_done; },
                       idle_expired, held_until()),
                   finished(watch_done, wake));
    co_await std::move(up);
    co_await wait_for(down_done, wake);
    pumps_done = true;
    idle_timer.cancel();
    co_await wait_for(watch_done, wake);
    // The idle watch closed both sides: whatever either side saw after
    // that (a response that never came) was its echo.
    if (idle_expired && (outcome_ == "tunnel" || outcome_ == "failed")) reason_ = "idle timeout";
  }

  // The upstream-to-client side of a tunnel: bytes as they come, unless the
  // tunnel turned out to carry HTTP. http_in_tunnel decides that before it
  // sends anything upstream, so before an HTTP server answers.
  asio::awaitable<void> tunnel_down() {
    boost::system::error_code ec;
    co_await upstream_.async_wait(tcp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && http_in_tunnel_) {
      co_await relay_response(true);
    } else {
      co_await pump(upstream_, client_, down_);
    }
  }

  // The response to the one request sent upstream: its head, and the
  // interim (1xx) heads before it, rewritten for a client whose connection
  // ends after it (http_response.hpp); then the rest as it comes. A head
  // that is bad, too long or missing is a 502 when the client has had
  // nothing yet.
  asio::awaitable<void> relay_response(bool half_close) {
    std::string buffer;
    bool answered = false;  // a head went to the client
    std::string chunk(1 << 14, '\0');
    while (true) {
      std::size_t end = 0;
      std::variant<ResponseHead, std::string> rewritten;
      while ((end = find_head_end(buffer)) == 0 && buffer.size() <= kMaxResponseHead) {
        boost::system::error_code ec;
        const std::size_t n = co_await upstream_.async_read_some(asio::buffer(chunk.data(), chunk.size()),
                                                                 asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
        buffer.append(chunk.data(), n);
        down_.last_activity = Clock::now();
      }
      if (end != 0) {
        rewritten = rewrite_response_head(std::string_view(buffer).substr(0, end));
      } else if (buffer.size() > kMaxResponseHead) {
        rewritten = std::string("response head over 64 KiB");
      } else {
        rewritten = buffer.empty() ? std::string("the upstream closed the connection without a response")
                                   : fmt::format("the upstream closed the connection after {} bytes of a response head",
                                                 buffer.size());
      }
      if (const auto* e = std::get_if<std::string>(&rewritten)) {
        failed_because(*e);
        if (!answered) co_await write_all(client_, http_refusal(502, *e));
        close_both_for_down();
        co_return;
      }
      const ResponseHead& response = std::get<ResponseHead>(rewritten);
      if (!co_await write_all(client_, response.head)) co_return close_both_for_down();
      answered = true;
      down_.bytes += response.head.size();
      buffer.erase(0, end);
      if (!response.interim) break;
    }
    if (!buffer.empty()) {
      if (!co_await write_all(client_, buffer)) co_return close_both_for_down();
      down_.bytes += buffer.size();
    }
    co_await pump(upstream_, client_, down_, half_close);
  }

  // The down side failed: both sockets close, as a pump's error closes them.
  void close_both_for_down() {
    down_.failed = true;
    boost::system::error_code ignored;
    upstream_.close(ignored);
    client_.close(ignored);
  }

  // A CONNECT or SOCKS tunnel: its first bytes are checked (TLS, HTTP)
  // before anything reaches the upstream.
  asio::awaitable<void> tunnel(std::string first) { co_await beside_down_pump(tunnel_up(std::move(first))); }

  // A loopback service's connection: relayed unread, as the rule allows the
  // service itself.
  asio::awaitable<void> relay() { co_await beside_down_pump(pump(client_, upstream_, up_)); }

  asio::awaitable<void> tunnel_up(std::string first) {
    // The first bytes from the client: a TLS ClientHello is checked before
    // anything reaches the upstream.
    ClientHelloInfo hello;
    while ((hello = parse_client_hello(first)).status == ClientHelloInfo::Status::NeedMore) {
      if (!co_await read_more(first)) break;
    }
    std::optional<std::string> refusal;
    if (hello.status != ClientHelloInfo::Status::NeedMore) refusal = check_client_hello(hello);
    // Not TLS: is it HTTP, which the server behind would route by its Host?
    TunnelStart start = TunnelStart::Other;
    if (hello.status == ClientHelloInfo::Status::NotTls) {
      while ((start = classify_tunnel_start(first)) == TunnelStart::NeedMore) {
        if (!co_await read_more(first)) break;
      }
    }
    if (start == TunnelStart::Http) {
      co_await http_in_tunnel(std::move(first));
    } else if (refusal) {
      outcome_ = "refused";
      reason_ = *refusal;
      boost::system::error_code ignored;
      client_.close(ignored);
      upstream_.close(ignored);
    } else if (hello.status == ClientHelloInfo::Status::NeedMore) {
      // The client closed before a whole first message. An unchecked part
      // of a ClientHello is never passed on (an empty one is nothing).
      boost::system::error_code ignored;
      upstream_.shutdown(tcp::socket::shutdown_send, ignored);
    } else if (start == TunnelStart::NeedMore) {
      // The client closed in the middle of what may be an HTTP request line.
      boost::system::error_code ignored;
      upstream_.shutdown(tcp::socket::shutdown_send, ignored);
    } else {
      up_.bytes += first.size();
      if (first.empty() || co_await write_all(upstream_, first)) co_await pump(client_, upstream_, up_);
    }
  }

  // A tunnel that carries HTTP (http_request.hpp): its first request is
  // checked to name the tunnel's host and sent on rewritten, with its body
  // re-framed and `Connection: close`; nothing after it reaches the
  // upstream. The response flows back through the tunnel's down pump.
  asio::awaitable<void> http_in_tunnel(std::string buffer) {
    // The empty lines a server skips before a request are not passed on,
    // but count toward the head's limit.
    std::size_t skipped = 0, head_end = 0;  // offsets in `buffer`
    while (true) {
      skipped = std::min(buffer.size(), buffer.find_first_not_of("\r\n"));
      if (const std::size_t end = find_head_end(std::string_view(buffer).substr(skipped)); end != 0) {
        head_end = skipped + end;
        break;
      }
      if (buffer.size() > kMaxRequestHead || !co_await read_more(buffer)) break;
    }
    // Without an end, the whole buffer: refused as too large or incomplete.
    const std::string_view head =
        head_end == 0 ? std::string_view(buffer) : std::string_view(buffer).substr(skipped, head_end - skipped);
    const auto parsed = interpret_tunnel_request_head(head, subject_);
    boost::system::error_code ignored;
    if (const auto* e = std::get_if<RequestError>(&parsed)) {
      outcome_ = "refused";
      reason_ = "HTTP inside the tunnel: " + e->reason;
      // The refusal first: closing the upstream ends the down pump, which
      // closes the client too.
      co_await write_all(client_, http_refusal(e->status, reason_));
      upstream_.close(ignored);
      client_.close(ignored);
      co_return;
    }
    const ProxyRequest& request = std::get<ProxyRequest>(parsed);
    const std::string upstream_head = forward_head(request);
    up_.bytes += upstream_head.size();
    http_in_tunnel_ = true;  // before the request goes: its response is rewritten
    if (!co_await write_all(upstream_, upstream_head)) co_return;
    if (!co_await forward_body(request, buffer.substr(head_end), head)) {
      upstream_.close(ignored);
      client_.close(ignored);
    }
  }

  // One plain HTTP request: the rewritten head, the body re-framed, and the
  // response passed back (its head rewritten) until the upstream closes
  // (Connection: close).
  asio::awaitable<void> forward(const ProxyRequest& request, std::string rest, std::string_view head) {
    outcome_ = "forwarded";
    const std::string upstream_head = forward_head(request);
    up_.bytes += upstream_head.size();
    if (!co_await write_all(upstream_, upstream_head)) {
      co_await refuse_http(502, "upstream closed the connection");
      co_return;
    }
    asio::steady_timer wake(io_, asio::steady_timer::time_point::max()), idle_timer(io_);
    bool down_done = false, watch_done = false, idle_expired = false;
    asio::co_spawn(io_, relay_response(false), finished(down_done, wake));
    asio::co_spawn(
        io_,
        idle_watch(
            client_, upstream_, up_, down_, limits().idle_timeout, idle_timer, [&] { return down_done; }, idle_expired,
            held_until()),
        finished(watch_done, wake));
    boost::system::error_code ignored;
    if (!co_await forward_body(request, std::move(rest), head)) {
      // A request cut short is not sent on: the upstream would wait for
      // the rest of it.
      upstream_.close(ignored);
      client_.close(ignored);
    }
    // Only the response is left: wait for the upstream to finish it.
    co_await wait_for(down_done, wake);
    idle_timer.cancel();
    co_await wait_for(watch_done, wake);
    client_.shutdown(tcp::socket::shutdown_send, ignored);
    client_.close(ignored);
    if (idle_expired) {
      outcome_ = "failed";
      reason_ = "idle timeout";
    } else if (down_.failed) {
      failed_because(fmt::format("the response broke off after {} bytes", down_.bytes));
    }
  }

  // The request's body after `head`, as its framing says (`rest`: what was
  // read past the head already). False, with the reason, when it did not
  // all reach the upstream.
  asio::awaitable<bool> forward_body(const ProxyRequest& request, std::string rest, std::string_view head) {
    if (request.chunked) co_return co_await forward_chunked(std::move(rest), head);
    if (request.content_length) co_return co_await forward_length(std::move(rest), *request.content_length);
    co_return true;
  }

  asio::awaitable<bool> forward_length(std::string rest, std::uint64_t length) {
    std::uint64_t left = length;
    const std::size_t first = static_cast<std::size_t>(std::min<std::uint64_t>(left, rest.size()));
    if (first > 0 && !co_await write_all(upstream_, std::string_view(rest).substr(0, first))) {
      failed_because("the upstream closed the connection during the request body");
      co_return false;
    }
    left -= first;
    up_.bytes += first;
    std::string chunk(1 << 16, '\0');
    while (left > 0) {
      boost::system::error_code ec;
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk.size()));
      const std::size_t n = co_await client_.async_read_some(asio::buffer(chunk.data(), want),
                                                             asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        failed_because(fmt::format("the request body ended after {} of {} bytes", length - left, length));
        co_return false;
      }
      if (!co_await write_all(upstream_, std::string_view(chunk.data(), n))) {
        failed_because("the upstream closed the connection during the request body");
        co_return false;
      }
      left -= n;
      up_.bytes += n;
      up_.last_activity = Clock::now();
    }
    co_return true;
  }

  // Decodes the client's chunked body with Beast's strict parser and
  // re-encodes it: the upstream sees only framing sbrun wrote.
  asio::awaitable<bool> forward_chunked(std::string rest, std::string_view head) {
    http::request_parser<http::buffer_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(kMaxRequestHead));
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    parser.eager(false);
    boost::system::error_code ec;
    parser.put(asio::buffer(head.data(), head.size()), ec);
    if (ec || !parser.is_header_done()) {
      failed_because("bad request head for a chunked body");
      co_return false;
    }
    boost::beast::flat_buffer input;
    auto space = input.prepare(rest.size());
    asio::buffer_copy(space, asio::buffer(rest));
    input.commit(rest.size());
    std::string chunk(1 << 16, '\0');
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      ec = {};
      co_await http::async_read_some(client_, input, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        failed_because(ec == http::error::partial_message || ec == asio::error::eof
                           ? "the request body ended before its last chunk"
                           : "bad chunked body: " + ec.message());
        co_return false;
      }
      const std::size_t n = chunk.size() - parser.get().body().size;
      if (n == 0) continue;
      const std::string framed = fmt::format("{:x}\r\n", n) + std::string(chunk.data(), n) + "\r\n";
      if (!co_await write_all(upstream_, framed)) {
        failed_because("the upstream closed the connection during the request body");
        co_return false;
      }
      up_.bytes += n;
      up_.last_activity = Clock::now();
    }
    if (!co_await write_all(upstream_, "0\r\n\r\n")) {
      failed_because("the upstream closed the connection during the request body");
      co_return false;
    }
    co_return true;
  }

  // The first failure of a session is its reason: one side's failure
  // closes both sockets, and the other side's error that follows is its
  // echo, not its cause.
  void failed_because(std::string reason) {
    if (outcome_ == "failed") return;
    outcome_ = "failed";
    reason_ = std::move(reason);
  }

  void log() {
    logged_ = true;
    if (!log_) return;
    nlohmann::json e = {
        {"event", "net"},
        {"protocol", protocol_},
        {"client", client_text_},
        {"outcome", outcome_},
        {"bytes_up", up_.bytes},
        {"bytes_down", down_.bytes},
        {"duration_ms", std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_).count()}};
    if (has_subject_) {
      e["host"] = subject_.is_ip ? subject_.address.text() : subject_.name;
      e["port"] = subject_.port;
      // A connection turned away was never decided.
      // The decision, not the connection's fate: an allowed host whose
      // name did not resolve is `allow`, with outcome `failed`.
      if (outcome_ != "busy") {
        e["effect"] = (verdict_.allowed && outcome_ != "refused") || verdict_.unreachable ? "allow" : "deny";
      }
      if (verdict_.rule) {
        e["rule"] = verdict_.rule->origin.target.text();
        e["rule_effect"] = sema::effect_name(verdict_.rule->effect);
      }
      if (!verdict_.answer.empty()) e["ask"] = verdict_.answer;
    }
    if (!dialed_.empty()) e["address"] = dialed_;
    if (!reason_.empty()) e["reason"] = reason_;
    log_(std::move(e));
  }

  ProxyServer& server_;
  asio::io_context& io_;
  tcp::socket client_;
  tcp::socket upstream_;
  char tag_;
  bool turned_away_;
  Clock::time_point started_;
  std::string client_text_;
  std::string protocol_;
  std::string outcome_ = "closed";
  std::string reason_;
  sema::HostSubject subject_;
  bool has_subject_ = false;
  Verdict verdict_;
  std::string dialed_;
  PumpState up_, down_;
  bool http_in_tunnel_ = false;  // the tunnel carries one HTTP request
  LogFn log_;  // a copy: the session may outlive the server at shutdown
  bool logged_ = false;
};

struct ProxyServer::Channel {
  Channel(asio::io_context& io, int fd) : descriptor(io, fd) {}
  asio::posix::stream_descriptor descriptor;
};

struct ProxyServer::Listener {
  Listener(asio::io_context& io, int fd, char t) : descriptor(io, fd), tag(t) {}
  asio::posix::stream_descriptor descriptor;
  char tag;
  bool waiting = false;  // an async_wait is out
};

ProxyServer::ProxyServer(asio::io_context& io, Gate& gate, ProxyLimits limits, LogFn log)
    : io_(io), gate_(gate), limits_(limits), log_(std::move(log)) {}

ProxyServer::~ProxyServer() = default;

void ProxyServer::set_local_services(std::vector<lower::LocalService> services) {
  local_services_ = std::move(services);
}

const lower::LocalService* ProxyServer::local_service(const tcp::endpoint& here) const {
  for (const auto& s : local_services_) {
    if (s.port == here.port() && s.inside.text() == here.address().to_string()) return &s;
  }
  return nullptr;
}

void ProxyServer::serve(int channel) {
  channel_ = std::make_unique<Channel>(io_, channel);
  receive();
}

namespace {

// One message off the channel: a client's socket and its door's tag.
struct Taken {
  enum class What { Client, Lost, Empty, Closed } what;
  int fd = -1;
  char tag = 0;
};

Taken take_one(int channel) {
  for (;;) {
    char tag = 0;
    iovec iov{&tag, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = recvmsg(channel, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return {Taken::What::Empty};
    if (n <= 0) return {Taken::What::Closed};  // the init is gone: no more clients
    int fd = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int))) {
        std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      }
    }
    // Without a descriptor (MSG_CTRUNC: none was left to put it in), the
    // kernel has closed the client's socket.
    if (fd < 0 || (msg.msg_flags & MSG_CTRUNC) != 0) {
      if (fd >= 0) close(fd);
      return {Taken::What::Lost};
    }
    return {Taken::What::Client, fd, tag};
  }
}

std::string peer_text(int fd) {
  tcp::endpoint peer;
  socklen_t len = static_cast<socklen_t>(peer.capacity());
  if (getpeername(fd, peer.data(), &len) != 0) return "?";
  peer.resize(len);
  return endpoint_text(peer);
}

nlohmann::json lost_event() {
  return {{"event", "net"},
          {"outcome", "lost"},
          {"reason", "sbrun had no file descriptor left for a connection (raise `ulimit -n`)"}};
}

}  // namespace

ProxyLimits fit_descriptor_limit(ProxyLimits limits, std::size_t descriptor_limit, std::string* note) {
  const std::size_t usable = descriptor_limit > kDescriptorReserve ? descriptor_limit - kDescriptorReserve : 0;
  const ProxyLimits wanted = limits;
  if (limits.max_sessions * kDescriptorsPerSession + limits.max_turned_away <= usable) return limits;
  // The sessions keep seven eighths of what is usable, the waiting room
  // the rest; each at least one.
  const std::size_t for_sessions = usable - usable / 8;
  limits.max_sessions = std::max<std::size_t>(1, std::min(limits.max_sessions, for_sessions / kDescriptorsPerSession));
  const std::size_t left = usable > limits.max_sessions * kDescriptorsPerSession
                               ? usable - limits.max_sessions * kDescriptorsPerSession
                               : 0;
  limits.max_turned_away = std::max<std::size_t>(1, std::min(limits.max_turned_away, left));
  if (note != nullptr && limits.max_sessions < wanted.max_sessions) {
    *note = fmt::format(
        "sbrun: the proxy serves at most {} connections at once, not {}: sbrun may open {} file descriptors "
        "(`ulimit -Hn`) and a connection can take {}\n",
        limits.max_sessions, wanted.max_sessions, descriptor_limit, kDescriptorsPerSession);
  }
  return limits;
}

// Takes connections off the channel while there is room for them; past
// that, the next session to end takes up again (session_ended).
void ProxyServer::receive() {
  channel_->descriptor.async_wait(asio::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
    if (ec) return;
    while (clients_ < limits_.max_sessions + limits_.max_turned_away) {
      const Taken t = take_one(channel_->descriptor.native_handle());
      if (t.what == Taken::What::Closed) return;
      if (t.what == Taken::What::Empty) {
        receive();
        return;
      }
      if (t.what == Taken::What::Lost) {
        if (log_) log_(lost_event());
        continue;
      }
      start(t.fd, t.tag);
    }
    paused_ = true;
  });
}

void ProxyServer::start(int fd, char tag) {
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  tcp::socket client(io_);
  boost::system::error_code ec;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0 &&
      (local.ss_family == AF_INET || local.ss_family == AF_INET6)) {
    client.assign(local.ss_family == AF_INET ? tcp::v4() : tcp::v6(), fd, ec);
  } else {
    ec = asio::error::bad_descriptor;
  }
  if (ec) {
    // Never happens with the init's sockets; still, the log says so.
    close(fd);
    if (log_) log_({{"event", "net"}, {"outcome", "lost"}, {"reason", "not a TCP socket: " + ec.message()}});
    return;
  }
  const bool served = active_ < limits_.max_sessions;
  active_ += served ? 1 : 0;
  ++clients_;
  auto session = std::make_shared<Session>(*this, std::move(client), tag, !served);
  asio::co_spawn(
      io_, [session]() -> asio::awaitable<void> { co_await session->run(); },
      [this, served, session](std::exception_ptr) { session_ended(served); });
}

void ProxyServer::listen(int listener, char tag) {
  const int flags = fcntl(listener, F_GETFL);
  if (flags >= 0) fcntl(listener, F_SETFL, flags | O_NONBLOCK);
  listeners_.push_back(std::make_unique<Listener>(io_, listener, tag));
  accept_from(*listeners_.back());
}

void ProxyServer::accept_from(Listener& l) {
  if (l.waiting) return;
  l.waiting = true;
  l.descriptor.async_wait(asio::posix::stream_descriptor::wait_read, [this, &l](boost::system::error_code ec) {
    l.waiting = false;
    if (ec) return;
    while (clients_ < limits_.max_sessions + limits_.max_turned_away) {
      const int fd = accept(l.descriptor.native_handle(), nullptr, nullptr);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          accept_from(l);  // wait for the next client
          return;
        }
        // Out of descriptors (EMFILE, ENFILE) or memory: the socket stays
        // readable, so waiting again would spin. Resume when a session ends.
        paused_ = true;
        return;
      }
      fcntl(fd, F_SETFD, FD_CLOEXEC);
      start(fd, l.tag);
    }
    paused_ = true;
  });
}

void ProxyServer::session_ended(bool served) {
  active_ -= served ? 1 : 0;
  --clients_;
  if (paused_) {
    paused_ = false;
    if (channel_) receive();
    for (auto& l : listeners_) accept_from(*l);
  }
}

void ProxyServer::log_unserved() {
  if (!channel_) return;
  for (;;) {
    const Taken t = take_one(channel_->descriptor.native_handle());
    if (t.what == Taken::What::Empty || t.what == Taken::What::Closed) return;
    if (!log_) {
      if (t.fd >= 0) close(t.fd);
      continue;
    }
    if (t.what == Taken::What::Lost) {
      log_(lost_event());
      continue;
    }
    nlohmann::json e = {{"event", "net"},
                        {"protocol", protocol_of(t.tag)},
                        {"client", peer_text(t.fd)},
                        {"outcome", "closed"},
                        {"reason", "the run ended before the proxy took the connection"}};
    close(t.fd);
    log_(std::move(e));
  }
}

}  // namespace sbpolicy::proxy
