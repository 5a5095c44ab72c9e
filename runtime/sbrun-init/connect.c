/* ssh's ProxyCommand inside the sandbox (sbrun_init.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sandbox/protocol.h"
#include "sbrun_init.h"

static int write_all(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t w = write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return 0;
    data += w;
    n -= (size_t)w;
  }
  return 1;
}

static int printable(const char* s) {
  for (; *s != '\0'; ++s) {
    if ((unsigned char)*s <= 0x20 || *s == 0x7f) return 0;
  }
  return 1;
}

int sbrun_connect_main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: sbrun --sbrun-connect HOST PORT\n");
    return 2;
  }
  const char* name = argv[2];
  const char* port = argv[3];
  if (!printable(name) || !printable(port) || strlen(name) > 1024 || strlen(port) > 16) {
    fprintf(stderr, "sbrun: bad host or port\n");
    return 2;
  }
  /* An IPv6 address goes in brackets. */
  char host[1100];
  const int bracket = strchr(name, ':') != NULL && name[0] != '[';
  snprintf(host, sizeof host, bracket ? "[%s]" : "%s", name);

  const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in proxy = {0};
  proxy.sin_family = AF_INET;
  proxy.sin_port = htons(SB_HTTP_PORT);
  proxy.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (s < 0 || connect(s, (struct sockaddr*)&proxy, sizeof proxy) != 0) {
    fprintf(stderr, "sbrun: cannot reach the proxy at 127.0.0.1:%d: %s\n", SB_HTTP_PORT, strerror(errno));
    return 1;
  }
  char request[2400];
  const int length =
      snprintf(request, sizeof request, "CONNECT %s:%s HTTP/1.1\r\nHost: %s:%s\r\n\r\n", host, port, host, port);
  if (!write_all(s, request, (size_t)length)) return 1;
  /* The response head, byte by byte: nothing after it may be swallowed. */
  char head[8193];
  size_t size = 0;
  while (size < sizeof head - 1 && (size < 4 || memcmp(head + size - 4, "\r\n\r\n", 4) != 0)) {
    const ssize_t n = read(s, head + size, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    ++size;
  }
  head[size] = '\0';
  if (size < 12 || memcmp(head, "HTTP/1.1 200", 12) != 0) {
    const char* line_end = strstr(head, "\r\n");
    const int status_length = line_end != NULL ? (int)(line_end - head) : (int)size;
    const char* reason = strstr(head, "\r\nX-Sbrun-Reason: ");
    int reason_length = 0;
    if (reason != NULL) {
      reason += 18;
      const char* end = strstr(reason, "\r\n");
      reason_length = end != NULL ? (int)(end - reason) : (int)strlen(reason);
    }
    fprintf(stderr, "sbrun: the proxy refused %s:%s: %.*s%s%.*s\n", host, port, status_length, head,
            reason != NULL ? ": " : "", reason_length, reason != NULL ? reason : "");
    return 1;
  }
  struct pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {s, POLLIN, 0}};
  int in_open = 1;
  static char buffer[65536];
  for (;;) {
    fds[0].fd = in_open ? STDIN_FILENO : -1;
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (in_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      const ssize_t n = read(STDIN_FILENO, buffer, sizeof buffer);
      if (n > 0) {
        if (!write_all(s, buffer, (size_t)n)) return 1;
      } else if (n == 0 || errno != EINTR) {
        in_open = 0;
        shutdown(s, SHUT_WR);
      }
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = read(s, buffer, sizeof buffer);
      if (n > 0) {
        if (!write_all(STDOUT_FILENO, buffer, (size_t)n)) return 1;
      } else if (n == 0 || errno != EINTR) {
        return 0;
      }
    }
  }
}
