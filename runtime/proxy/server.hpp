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
// Here each connection becomes one session, a coroutine on sbrun's event
// loop: read the request (bounded, with a deadline), ask the gate, dial
// exactly the addresses it returns, then tunnel (CONNECT, SOCKS) or forward
// one plain HTTP request. Every session ends with one log event. Limits:
// a maximum number of concurrent sessions (503 / SOCKS 0x01 beyond it), a
// deadline for the request head and handshakes, one for dialling, and an
// idle timeout for tunnels.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

#include "sandbox/proxy_doors.hpp"
#include "proxy/gate.hpp"

namespace sbpolicy::proxy {

struct ProxyLimits {
  std::size_t max_sessions = 256;
  std::chrono::milliseconds head_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds idle_timeout = std::chrono::minutes(10);
};

class ProxyServer {
 public:
  using LogFn = std::function<void(nlohmann::json)>;
  ProxyServer(boost::asio::io_context& io, Gate& gate, ProxyLimits limits, LogFn log);
  ~ProxyServer();

  // Serves the client sockets that arrive on `channel` (a SOCK_SEQPACKET
  // socket; each message is one tag byte with one descriptor). Takes
  // ownership of `channel`.
  void serve(int channel);

  std::size_t active_sessions() const { return active_; }

 private:
  class Session;
  void receive();
  void start(int fd, char tag);

  boost::asio::io_context& io_;
  Gate& gate_;
  ProxyLimits limits_;
  LogFn log_;
  struct Channel;
  std::unique_ptr<Channel> channel_;
  std::size_t active_ = 0;
};

}  // namespace sbpolicy::proxy
