// Moving bytes between a client and an upstream once the gate has let them
// meet: a CONNECT or SOCKS tunnel, or the response of a forwarded request.
//
// Each direction is a pump that copies with splice(2) through a pipe, so the
// payload goes socket -> pipe -> socket inside the kernel without a copy
// into the proxy; where splice is refused it falls back to read/write. EOF
// in one direction is passed on as a half-close (shutdown SHUT_WR) of the
// other socket; an error closes both. A tunnel that moves no byte in either
// direction for the idle timeout is closed.
#pragma once

// clang-format off
#include <utility>  // first: Boost 1.74's awaitable.hpp uses std::exchange without including it
// clang-format on
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace sbpolicy::proxy {

struct PumpState {
  std::uint64_t bytes = 0;
  std::chrono::steady_clock::time_point last_activity = std::chrono::steady_clock::now();
  bool failed = false;
};

// Copies `from` to `to` until EOF (then half-closes `to`) or an error (then
// closes both). `half_close` false leaves `to` open at EOF.
boost::asio::awaitable<void> pump(boost::asio::ip::tcp::socket& from, boost::asio::ip::tcp::socket& to,
                                  PumpState& state, bool half_close = true);

// Writes all of `data` to `to`; false on error.
boost::asio::awaitable<bool> write_all(boost::asio::ip::tcp::socket& to, std::string_view data);

// Closes both sockets when neither pump has moved a byte for `idle`. Wakes
// on `timer` every idle/4 (at most a second apart) and ends when `done()`;
// cancel `timer` to end it at once. `held_until()`, when given, is when the
// sandbox was last held still (now, while it is): silence until then is
// not the client's.
boost::asio::awaitable<void> idle_watch(boost::asio::ip::tcp::socket& a, boost::asio::ip::tcp::socket& b,
                                        const PumpState& up, const PumpState& down, std::chrono::milliseconds idle,
                                        boost::asio::steady_timer& timer, std::function<bool()> done, bool& expired,
                                        std::function<std::chrono::steady_clock::time_point()> held_until = {});

}  // namespace sbpolicy::proxy
