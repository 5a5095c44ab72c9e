// The gate: whether a destination may be dialled, and exactly where.
//
// One function for every protocol (HTTP CONNECT, plain HTTP, SOCKS5), in a
// fixed order that never resolves a name the policy has not allowed:
//   1. the policy (ProxyRuleTable) decides on the canonical host and port;
//   2. an IP literal in a protected range (AddressGuard) is refused unless
//      an `allow` IP rule naming it, or a block inside its range, matches:
//      never a prompt for those, and never through a wide block;
//   3. `deny` (or nothing matched) is refused, naming the rule;
//   4. `ask`: an answer already given for this host:port is reused; local
//      and metadata names are refused without asking; otherwise the user is
//      asked once, while every connection to that host:port waits;
//   5. an allowed name is resolved once (or taken from `--resolve`), and
//      every address must pass the policy's IP rules and the guard; the
//      proxy dials exactly these addresses and never the name.
#pragma once

// clang-format off
#include <utility>  // first: Boost 1.74's awaitable.hpp uses std::exchange without including it
// clang-format on
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/ir.hpp"
#include "lower/proxy_table.hpp"
#include "proxy/address_guard.hpp"
#include "proxy/net_prompt.hpp"

namespace sbpolicy::proxy {

enum class NetAskMode { Prompt, Deny, Allow };

struct GateConfig {
  const lower::ProxyRuleTable* table = nullptr;
  NetAskMode ask = NetAskMode::Prompt;
  std::map<std::string, std::vector<sema::IpNet>> pins;  // --resolve NAME:IP, by canonical name
  AddressGuard guard;
  std::size_t max_pending_questions = 16;
  // "allow once" also covers connections to the same host:port that start
  // this soon after the answer. A client opening several connections at
  // once is held still during the question (the whole sandbox is), so the
  // ones it had not opened yet come just after the answer: one burst, one
  // question.
  std::chrono::milliseconds once_window = std::chrono::seconds(2);
};

struct Verdict {
  bool allowed = false;
  unsigned http_status = 403;                             // when refused: 403 (policy, guard) or 502 (no address)
  std::uint8_t socks_reply = 0x02;                        // when refused: 0x02 not allowed, 0x04 host unreachable
  std::string reason;                                     // for refusals and the log: printable ASCII
  const ir::Rule* rule = nullptr;                         // the deciding rule, if any
  std::string answer;                                     // for asks: "allow once", "allow for this run", "deny", ...
  bool unreachable = false;  // the policy allowed it, but the name has no address: a failure, not a denial
  std::vector<boost::asio::ip::tcp::endpoint> endpoints;  // when allowed: exactly what to dial
};

class Gate {
 public:
  Gate(boost::asio::io_context& io, GateConfig config, NetPrompter* prompter);
  ~Gate();

  boost::asio::awaitable<Verdict> check(sema::HostSubject subject);

  // While a question is open the sandbox is held still (SIGSTOP), so no
  // client in it can send anything: the deadlines that wait on clients
  // restart once the last question closed (ProxyServer).
  bool question_open() const { return !pending_.empty(); }
  std::chrono::steady_clock::time_point last_question_closed() const { return last_question_closed_; }

 private:
  struct Pending;
  boost::asio::awaitable<Verdict> settle_ask(const sema::HostSubject& subject, const ir::Rule* rule);
  boost::asio::awaitable<Verdict> resolve(const sema::HostSubject& subject, Verdict verdict);
  std::optional<std::string> address_refusal(const sema::IpNet& address, std::uint16_t port, const ir::Rule** rule,
                                             bool pinned) const;

  boost::asio::io_context& io_;
  GateConfig config_;
  NetPrompter* prompter_;
  std::map<std::string, bool> answers_;  // "host:port" -> allowed for this run (deny remembered too)
  std::map<std::string, std::shared_ptr<Pending>> pending_;
  std::map<std::string, std::chrono::steady_clock::time_point> once_until_;  // "host:port" -> end of its window
  std::chrono::steady_clock::time_point last_question_closed_{};
};

}  // namespace sbpolicy::proxy
