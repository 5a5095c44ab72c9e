// The proxy taking its clients from a listening socket (ProxyServer::listen),
// as sbrun on macOS runs it, with no init handing sockets over: a real
// origin server and a real client on loopback, the rules deciding.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <string>
#include <thread>

#include "driver/pipeline.hpp"
#include "lower/proxy_table.hpp"
#include "proxy/gate.hpp"
#include "proxy/server.hpp"
#include "sandbox/proxy_doors.hpp"

namespace sbpolicy {
namespace {

// A listening socket on 127.0.0.1 and its port.
int listen_loopback(int& port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 16) != 0) return -1;
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

// Sends `request` to 127.0.0.1:port, returns all it reads back.
std::string send_and_read(int port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return "(connect failed)";
  (void)!write(fd, request.data(), request.size());
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  close(fd);
  return out;
}

TEST(ProxyListen, ServesClientsOfAListeningSocketByTheRules) {
  // The origin: one answer per connection.
  int origin_port = 0;
  const int origin = listen_loopback(origin_port);
  ASSERT_GE(origin, 0);
  std::thread origin_thread([origin] {
    for (;;) {
      const int c = accept(origin, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      (void)!read(c, buf, sizeof buf);
      const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
      (void)!write(c, reply.data(), reply.size());
      close(c);
    }
  });

  driver::Compilation c;
  driver::compile_text(c, "p.sbpolicy", "/p", "allow net \"127.0.0.1:" + std::to_string(origin_port) + "\";\n", {});
  ASSERT_TRUE(c.policy);
  auto built = lower::ProxyRuleTable::build(*c.policy);
  ASSERT_TRUE(std::holds_alternative<lower::ProxyRuleTable>(built));
  const auto table = std::get<lower::ProxyRuleTable>(std::move(built));

  boost::asio::io_context io;
  proxy::GateConfig gc;
  gc.table = &table;
  gc.ask = proxy::NetAskMode::Deny;
  gc.guard = proxy::AddressGuard::for_this_host();
  proxy::Gate gate(io, std::move(gc), nullptr);
  std::vector<std::string> outcomes;
  proxy::ProxyServer server(io, gate, proxy::ProxyLimits{}, [&](nlohmann::json e) {
    if (e.value("event", "") == "net") outcomes.push_back(e.value("outcome", ""));
  });
  int proxy_port = 0;
  const int listener = listen_loopback(proxy_port);
  ASSERT_GE(listener, 0);
  server.listen(listener, sandbox::kTagHttp);

  std::string allowed, refused;
  std::thread client([&] {
    const std::string host = "127.0.0.1:" + std::to_string(origin_port);
    allowed = send_and_read(proxy_port, "GET http://" + host + "/ HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    refused = send_and_read(proxy_port, "GET http://127.0.0.1:9/ HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n");
    boost::asio::post(io, [&io] { io.stop(); });
  });
  io.run();
  client.join();
  shutdown(origin, SHUT_RDWR);
  close(origin);
  origin_thread.join();

  EXPECT_NE(allowed.find("200 OK"), std::string::npos) << allowed;
  EXPECT_NE(allowed.find("hello"), std::string::npos) << allowed;
  EXPECT_NE(refused.find("403"), std::string::npos) << refused;
  EXPECT_EQ(outcomes.size(), 2u);
}

}  // namespace
}  // namespace sbpolicy
