// What the sandbox sees of the proxy: its two doors and the environment
// that points clients at them. Shared by the lowering (the variables are
// part of the plan), the init (which listens on the ports and hands each
// connection over) and the proxy (which serves it). The sandbox has its own
// network namespace, so fixed ports collide with nothing on the host.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sbpolicy::lower {

inline constexpr std::uint16_t kHttpPort = 3128;   // HTTP CONNECT and absolute-form HTTP
inline constexpr std::uint16_t kSocksPort = 1080;  // SOCKS5
inline constexpr char kTagHttp = 'H';              // the byte sent with a descriptor: which door it came through
inline constexpr char kTagSocks = 'S';
inline constexpr int kChannelFd = 7;  // the init's end of the socketpair to sbrun's proxy
// What sbrun sends the other way on the channel: stop every process of the
// sandbox (SIGSTOP) while a question is on the terminal, and let them go.
inline constexpr char kOrderHold = 'T';
inline constexpr char kOrderRelease = 'C';
// [kOrderSignal, N]: deliver signal N to every process of the sandbox (and
// release a hold). Sent on the channel, the terminal's job signals stay in
// order with holds and releases.
inline constexpr char kOrderSignal = 'K';
// [kOrderGo, U]: the first message on the channel, sent once bubblewrap has
// read all of its arguments: the init may run the command, with AF_UNIX
// sockets allowed when U is 1. Without it (sbrun gone, so bubblewrap may
// have read a plan cut short) the init runs nothing.
inline constexpr char kOrderGo = 'G';

// HTTP(S)_PROXY for HTTP clients, ALL_PROXY as socks5h (names resolved by
// the proxy, never inside the sandbox, where there is no DNS), NO_PROXY for
// the sandbox's own loopback, each also in lowercase, which curl, git, pip
// and npm read.
inline std::vector<std::pair<std::string, std::string>> proxy_environment() {
  const std::string http = "http://127.0.0.1:" + std::to_string(kHttpPort);
  const std::string socks = "socks5h://127.0.0.1:" + std::to_string(kSocksPort);
  std::vector<std::pair<std::string, std::string>> env;
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"HTTP_PROXY", http},
                                                        {"HTTPS_PROXY", http},
                                                        {"ALL_PROXY", socks},
                                                        {"NO_PROXY", "localhost,127.0.0.1,::1"}}) {
    env.emplace_back(name, value);
    std::string lower = name;
    for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    env.emplace_back(lower, value);
  }
  return env;
}

}  // namespace sbpolicy::lower
