// Tunnel throughput and added latency through sbrun's proxy, against a
// direct loopback connection, measured by one program on both paths.
//
//   tunnel_bench serve PORT
//       on 127.0.0.1:PORT: a connection that sends "T" receives bytes as
//       fast as the server can send them; one that sends "E" gets every
//       byte echoed back.
//   tunnel_bench client PORT MIB ROUNDS [--proxy]
//       downloads MIB mebibytes and times ROUNDS one-byte round trips, on a
//       connection to 127.0.0.1:PORT, or through the proxy inside the
//       sandbox (CONNECT 127.0.0.1:PORT on 127.0.0.1:3128) with --proxy.
//       Prints `throughput_mib_s=... rtt_us_median=... rtt_us_p99=...`.
//
// bench/proxy-bench.sh runs both paths side by side.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

int connect_to(std::uint16_t port) {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("connect");
    std::exit(1);
  }
  const int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return s;
}

bool read_exact(int s, char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t r = read(s, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

void serve_one(int c) {
  const int one = 1;
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char mode = 0;
  if (!read_exact(c, &mode, 1)) return void(close(c));
  if (mode == 'T') {
    std::vector<char> buf(1 << 16, 'x');
    while (write(c, buf.data(), buf.size()) > 0) {
    }
  } else {
    char b;
    while (read_exact(c, &b, 1) && write(c, &b, 1) == 1) {
    }
  }
  close(c);
}

int serve(std::uint16_t port) {
  signal(SIGPIPE, SIG_IGN);  // clients close mid-stream
  const int l = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(l, 16) != 0) {
    std::perror("listen");
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) {
    const int c = accept(l, nullptr, nullptr);
    if (c >= 0) std::thread(serve_one, c).detach();
  }
}

int open_stream(std::uint16_t port, bool proxy) {
  if (!proxy) return connect_to(port);
  const int s = connect_to(3128);
  const std::string req = "CONNECT 127.0.0.1:" + std::to_string(port) + " HTTP/1.1\r\n\r\n";
  if (write(s, req.data(), req.size()) != static_cast<ssize_t>(req.size())) std::exit(1);
  std::string head;
  char c;
  while (head.find("\r\n\r\n") == std::string::npos && read(s, &c, 1) == 1) head += c;
  if (head.find(" 200 ") == std::string::npos) {
    std::fprintf(stderr, "proxy refused: %s\n", head.c_str());
    std::exit(1);
  }
  return s;
}

int client(std::uint16_t port, double mib, int rounds, bool proxy) {
  // Throughput.
  const int t = open_stream(port, proxy);
  if (write(t, "T", 1) != 1) return 1;
  std::vector<char> buf(1 << 16);
  const auto total = static_cast<std::size_t>(mib * 1024 * 1024);
  std::size_t got = 0;
  const auto t0 = Clock::now();
  while (got < total) {
    const ssize_t r = read(t, buf.data(), std::min(buf.size(), total - got));
    if (r <= 0) return 1;
    got += static_cast<std::size_t>(r);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  close(t);
  // Latency: one byte there and back, ROUNDS times.
  const int e = open_stream(port, proxy);
  if (write(e, "E", 1) != 1) return 1;
  std::vector<double> rtt;
  for (int i = 0; i < rounds; ++i) {
    char b = 'p';
    const auto s0 = Clock::now();
    if (write(e, &b, 1) != 1 || !read_exact(e, &b, 1)) return 1;
    rtt.push_back(std::chrono::duration<double, std::micro>(Clock::now() - s0).count());
  }
  close(e);
  std::sort(rtt.begin(), rtt.end());
  std::printf("throughput_mib_s=%.0f rtt_us_median=%.1f rtt_us_p99=%.1f\n", mib / seconds, rtt[rtt.size() / 2],
              rtt[rtt.size() * 99 / 100]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "serve") == 0) return serve(static_cast<std::uint16_t>(std::atoi(argv[2])));
  if ((argc == 5 || argc == 6) && std::strcmp(argv[1], "client") == 0) {
    return client(static_cast<std::uint16_t>(std::atoi(argv[2])), std::atof(argv[3]), std::atoi(argv[4]),
                  argc == 6 && std::strcmp(argv[5], "--proxy") == 0);
  }
  std::fprintf(stderr, "usage: tunnel_bench serve PORT | client PORT MIB ROUNDS [--proxy]\n");
  return 2;
}
