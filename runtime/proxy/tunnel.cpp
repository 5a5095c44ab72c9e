#include "proxy/tunnel.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>

namespace sbpolicy::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr std::size_t kChunk = 1 << 16;      // read/write fallback
constexpr std::size_t kPipeBytes = 1 << 20;  // splice: fewer, larger moves per wake-up

void close_both(tcp::socket& a, tcp::socket& b) {
  boost::system::error_code ignored;
  a.close(ignored);
  b.close(ignored);
}

void half_close(tcp::socket& s) {
  boost::system::error_code ignored;
  s.shutdown(tcp::socket::shutdown_send, ignored);
}

struct Pipe {
  int r = -1, w = -1;
  int capacity = 0;
  Pipe() {
    int p[2];
    if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0) {
      r = p[0];
      w = p[1];
      // Best effort: an unprivileged user may be held to a smaller size.
      capacity = fcntl(w, F_SETPIPE_SZ, static_cast<int>(kPipeBytes));
      if (capacity <= 0) capacity = fcntl(w, F_GETPIPE_SZ);
      if (capacity <= 0) capacity = 1 << 16;
    }
  }
  ~Pipe() {
    if (r >= 0) close(r);
    if (w >= 0) close(w);
  }
  bool ok() const { return r >= 0; }
};

// read/write through a buffer, for sockets splice refuses.
asio::awaitable<void> copy(tcp::socket& from, tcp::socket& to, PumpState& state, bool half) {
  std::string buffer(kChunk, '\0');
  for (;;) {
    boost::system::error_code ec;
    const std::size_t n =
        co_await from.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::eof) {
      if (half) half_close(to);
      co_return;
    }
    if (ec || !co_await write_all(to, std::string_view(buffer.data(), n))) break;
    state.bytes += n;
    state.last_activity = std::chrono::steady_clock::now();
  }
  state.failed = true;
  close_both(from, to);
}

}  // namespace

asio::awaitable<bool> write_all(tcp::socket& to, std::string_view data) {
  boost::system::error_code ec;
  co_await asio::async_write(to, asio::buffer(data.data(), data.size()), asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

asio::awaitable<void> pump(tcp::socket& from, tcp::socket& to, PumpState& state, bool half) {
  Pipe pipe;
  boost::system::error_code ec;
  from.native_non_blocking(true, ec);
  to.native_non_blocking(true, ec);
  if (!pipe.ok() || ec) {
    co_await copy(from, to, state, half);
    co_return;
  }
  // Fill the pipe whenever the source has bytes and the pipe has room,
  // drain it whenever the destination takes them: the source keeps being
  // read while the destination is slow, up to the pipe's capacity.
  const auto capacity = static_cast<std::size_t>(pipe.capacity);
  std::size_t in_pipe = 0;
  bool eof = false;
  for (;;) {
    bool readable = false, writable = false;
    if (!eof && in_pipe < capacity) {
      const ssize_t n =
          splice(from.native_handle(), nullptr, pipe.w, nullptr, capacity - in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        in_pipe += static_cast<std::size_t>(n);
        readable = true;
      } else if (n == 0) {
        eof = true;
      } else if (errno == EINVAL && state.bytes == 0 && in_pipe == 0) {
        co_await copy(from, to, state, half);
        co_return;
      } else if (errno != EAGAIN && errno != EINTR) {
        break;
      }
    }
    if (in_pipe > 0) {
      const ssize_t m =
          splice(pipe.r, nullptr, to.native_handle(), nullptr, in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (m > 0) {
        in_pipe -= static_cast<std::size_t>(m);
        state.bytes += static_cast<std::uint64_t>(m);
        state.last_activity = std::chrono::steady_clock::now();
        writable = true;
      } else if (m == 0 || (errno != EAGAIN && errno != EINTR)) {
        break;
      }
    }
    if (eof && in_pipe == 0) {
      if (half) half_close(to);
      co_return;
    }
    if (readable || writable) continue;
    // Neither side moved: wait for the destination when bytes are pending
    // (the source is read again on the next turn), else for the source.
    if (in_pipe > 0) {
      co_await to.async_wait(tcp::socket::wait_write, asio::redirect_error(asio::use_awaitable, ec));
    } else {
      co_await from.async_wait(tcp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) break;
  }
  state.failed = true;
  close_both(from, to);
}

asio::awaitable<void> idle_watch(tcp::socket& a, tcp::socket& b, const PumpState& up, const PumpState& down,
                                 std::chrono::milliseconds idle, asio::steady_timer& timer, std::function<bool()> done,
                                 bool& expired, std::function<std::chrono::steady_clock::time_point()> held_until) {
  const auto step = std::min<std::chrono::milliseconds>(
      std::max<std::chrono::milliseconds>(idle / 4, std::chrono::milliseconds(10)), std::chrono::seconds(1));
  while (!done()) {
    timer.expires_after(step);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    auto last = std::max(up.last_activity, down.last_activity);
    if (held_until) last = std::max(last, held_until());
    if (!done() && std::chrono::steady_clock::now() - last >= idle) {
      expired = true;
      close_both(a, b);
      co_return;
    }
  }
}

}  // namespace sbpolicy::proxy
