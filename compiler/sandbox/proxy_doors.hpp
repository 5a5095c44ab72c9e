// What the sandbox sees of the proxy: its two doors and the environment
// that points clients at them. Shared by the lowering (the variables are
// part of the plan), the init (which listens on the ports and hands each
// connection over) and the proxy (which serves it). The constants are
// protocol.h's, which the init (C) reads too. The sandbox has its own
// network namespace, so fixed ports collide with nothing on the host.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sandbox/protocol.h"
#include "support/text.hpp"

namespace sbpolicy::sandbox {

inline constexpr std::uint16_t kHttpPort = SB_HTTP_PORT;
inline constexpr std::uint16_t kSocksPort = SB_SOCKS_PORT;
inline constexpr char kTagHttp = SB_TAG_HTTP;
inline constexpr char kTagSocks = SB_TAG_SOCKS;
inline constexpr char kTagLocal = SB_TAG_LOCAL;
inline constexpr int kChannelFd = SB_CHANNEL_FD;
inline constexpr int kStderrFd = SB_STDERR_FD;
inline constexpr char kOrderHold = SB_ORDER_HOLD;
inline constexpr char kOrderRelease = SB_ORDER_RELEASE;
inline constexpr char kOrderSignal = SB_ORDER_SIGNAL;
inline constexpr char kOrderGo = SB_ORDER_GO;
inline constexpr int kTerminalFd = SB_TERMINAL_FD;

// HTTP(S)_PROXY for HTTP clients, ALL_PROXY as socks5h (names resolved by
// the proxy, never inside the sandbox, where there is no DNS), NO_PROXY for
// the sandbox's own loopback, each also in lowercase, which curl, git, pip
// and npm read; NODE_USE_ENV_PROXY, which Node.js's built-in fetch needs.
// On macOS (runtime/macos) the ports are the proxy's on the host's loopback,
// which the sandbox shares: nothing is exempt from the proxy there.
inline std::vector<std::pair<std::string, std::string>> proxy_environment(
    int http_port = kHttpPort, int socks_port = kSocksPort, const std::string& no_proxy = "localhost,127.0.0.1,::1") {
  const std::string http = "http://127.0.0.1:" + std::to_string(http_port);
  const std::string socks = "socks5h://127.0.0.1:" + std::to_string(socks_port);
  std::vector<std::pair<std::string, std::string>> env;
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"HTTP_PROXY", http},
                                                        {"HTTPS_PROXY", http},
                                                        {"ALL_PROXY", socks},
                                                        {"NO_PROXY", no_proxy}}) {
    env.emplace_back(name, value);
    env.emplace_back(text::lowercase(name), value);
  }
  // Node.js's own fetch and http read the variables above only with this.
  env.emplace_back("NODE_USE_ENV_PROXY", "1");
  return env;
}

}  // namespace sbpolicy::sandbox
