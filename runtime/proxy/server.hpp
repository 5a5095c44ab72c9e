// The proxy: sbrun's side of the sandbox's only way to the network.
//
// The sandbox has its own network namespace with nothing but loopback.
// sbrun's init listens there on 127.0.0.1:3128 (HTTP proxy) and
// 127.0.0.1:1080 (SOCKS5), accepts each connection and hands the connected
// socket itself to sbrun over a private socketpair (SCM_RIGHTS), tagged
// with the port it came in on. So there is no relay copying inside the
// sandbox, no socket file to mount or leave behind, and nothing the command
// can reach but those two ports.
//
// The init also listens on the host loopback services the policy allows
// (lower/local_services.hpp) and hands their connections over the same way.
//
// Here each connection becomes one session, a coroutine on sbrun's event
// loop: read the request (bounded, with a deadline), ask the gate, dial
// exactly the addresses it returns, then tunnel (CONNECT, SOCKS) or forward
// one plain HTTP request. Every connection ends with exactly one log event.
//
// Limits: `max_sessions` connections are served at once. Past that, up to
// `max_turned_away` more are read as far as their request (bounded by the
// head deadline) and answered 503 / SOCKS 0x01, so a client always reads an
// answer, never a reset. Past both, sbrun stops taking connections off the
// channel until one ends: they wait in the init's queue and the kernel's
// accept queue, and none is dropped. A deadline bounds the request head and
// handshakes, one dialling, and an idle timeout tunnels.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <nlohmann/json.hpp>

#include "sandbox/proxy_doors.hpp"
#include "lower/local_services.hpp"
#include "proxy/gate.hpp"

namespace sbpolicy::proxy {

struct ProxyLimits {
  std::size_t max_sessions = 256;
  std::size_t max_turned_away = 1024;
  std::chrono::milliseconds head_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds idle_timeout = std::chrono::minutes(10);
};

// Descriptors a served session may hold at once: the client, the upstream
// and a pipe (two descriptors) per direction of a tunnel.
inline constexpr std::size_t kDescriptorsPerSession = 6;
// Descriptors kept for everything else sbrun has open.
inline constexpr std::size_t kDescriptorReserve = 64;

// `limits` shrunk so that they fit `descriptor_limit` (RLIMIT_NOFILE): the
// waiting room first, then the sessions (at least one). When they had to
// shrink, `note` says so, for the user.
ProxyLimits fit_descriptor_limit(ProxyLimits limits, std::size_t descriptor_limit, std::string* note);

class ProxyServer {
 public:
  using LogFn = std::function<void(nlohmann::json)>;
  ProxyServer(boost::asio::io_context& io, Gate& gate, ProxyLimits limits, LogFn log);
  ~ProxyServer();

  // Serves the client sockets that arrive on `channel` (a SOCK_SEQPACKET
  // socket; each message is one tag byte with one descriptor). Takes
  // ownership of `channel`.
  void serve(int channel);

  // Serves the clients that connect to `listener` (a listening TCP socket
  // on loopback), all as `tag` (sandbox::kTagHttp or kTagSocks): the proxy
  // where no init hands sockets over (macOS, runtime/macos). Takes ownership.
  void listen(int listener, char tag);

  // The host loopback services the init listens on inside (tag 'L'); a
  // connection that came in on one is decided as that service's host and
  // port, then relayed unread.
  void set_local_services(std::vector<lower::LocalService> services);

  std::size_t active_sessions() const { return active_; }

  // Logs the connections still on the channel, which the run ended before
  // the proxy took (their clients are gone with the sandbox): the log has a
  // line for every connection. Call once the event loop has stopped.
  void log_unserved();

 private:
  class Session;
  void receive();
  struct Listener;
  void accept_from(Listener& l);
  void start(int fd, char tag);
  void session_ended(bool served);
  // The service whose inside address and port a client connected to.
  const lower::LocalService* local_service(const boost::asio::ip::tcp::endpoint& here) const;

  boost::asio::io_context& io_;
  Gate& gate_;
  ProxyLimits limits_;
  LogFn log_;
  struct Channel;
  std::unique_ptr<Channel> channel_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::size_t active_ = 0;   // sessions served
  std::size_t clients_ = 0;  // sessions served and turned away
  bool paused_ = false;      // not taking connections until one ends
  std::vector<lower::LocalService> local_services_;
};

}  // namespace sbpolicy::proxy
