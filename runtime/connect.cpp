#include "connect.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "lower/sandbox_proxy.hpp"

namespace sbpolicy::runtime {

namespace {

bool write_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t w = write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

int run_connect(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: sbrun --sbrun-connect HOST PORT\n");
    return 2;
  }
  std::string host = argv[2];
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  for (char c : host + argv[3]) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      std::fprintf(stderr, "sbrun: bad host or port\n");
      return 2;
    }
  }
  const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in proxy{};
  proxy.sin_family = AF_INET;
  proxy.sin_port = htons(lower::kHttpPort);
  proxy.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (s < 0 || connect(s, reinterpret_cast<sockaddr*>(&proxy), sizeof proxy) != 0) {
    std::fprintf(stderr, "sbrun: cannot reach the proxy at 127.0.0.1:%u: %s\n", lower::kHttpPort, std::strerror(errno));
    return 1;
  }
  const std::string request =
      "CONNECT " + host + ":" + argv[3] + " HTTP/1.1\r\nHost: " + host + ":" + argv[3] + "\r\n\r\n";
  if (!write_all(s, request.data(), request.size())) return 1;
  // The response head, byte by byte: nothing after it may be swallowed.
  std::string head;
  char c;
  while (head.size() < 8192 && head.find("\r\n\r\n") == std::string::npos) {
    const ssize_t n = read(s, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    head.push_back(c);
  }
  if (head.compare(0, 9, "HTTP/1.1 ") != 0 || head.compare(9, 3, "200") != 0) {
    const std::size_t at = head.find("\r\nX-Sbrun-Reason: ");
    const std::string reason = at == std::string::npos ? "" : head.substr(at + 18, head.find("\r\n", at + 2) - at - 18);
    std::fprintf(stderr, "sbrun: the proxy refused %s:%s: %s%s%s\n", host.c_str(), argv[3],
                 head.substr(0, head.find("\r\n")).c_str(), reason.empty() ? "" : ": ", reason.c_str());
    return 1;
  }
  pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {s, POLLIN, 0}};
  bool in_open = true;
  char buffer[65536];
  for (;;) {
    fds[0].fd = in_open ? STDIN_FILENO : -1;
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (in_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      const ssize_t n = read(STDIN_FILENO, buffer, sizeof buffer);
      if (n > 0) {
        if (!write_all(s, buffer, static_cast<std::size_t>(n))) return 1;
      } else if (n == 0 || errno != EINTR) {
        in_open = false;
        shutdown(s, SHUT_WR);
      }
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = read(s, buffer, sizeof buffer);
      if (n > 0) {
        if (!write_all(STDOUT_FILENO, buffer, static_cast<std::size_t>(n))) return 1;
      } else if (n == 0 || errno != EINTR) {
        return 0;
      }
    }
  }
}

}  // namespace sbpolicy::runtime
