#include "proxy/gate.hpp"

#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "support/text.hpp"


namespace sbpolicy::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;
using sema::Effect;

namespace {

asio::ip::address to_asio(const sema::IpNet& a) {
  if (a.family == 4) return asio::ip::address_v4({a.bytes[0], a.bytes[1], a.bytes[2], a.bytes[3]});
  asio::ip::address_v6::bytes_type b;
  std::copy(a.bytes.begin(), a.bytes.end(), b.begin());
  return asio::ip::address_v6(b);
}

sema::IpNet from_asio(const asio::ip::address& a) {
  sema::IpNet n;
  if (a.is_v4()) {
    n.family = 4;
    n.prefix = 32;
    const auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), n.bytes.begin());
  } else {
    n.family = 6;
    n.prefix = 128;
    const auto b = a.to_v6().to_bytes();
    std::copy(b.begin(), b.end(), n.bytes.begin());
  }
  return canonical_address(n);
}

Verdict refuse(std::string reason, const ir::Rule* rule = nullptr, unsigned status = 403, std::uint8_t socks = 0x02) {
  Verdict v;
  v.reason = text::printable(reason);
  v.rule = rule;
  v.http_status = status;
  v.socks_reply = socks;
  return v;
}

// Allowed (by a rule or an answer, kept in `decided`), but with no address
// to dial: 502 / SOCKS 0x04, logged as a failure of an allowed host.
Verdict unreachable(std::string reason, const Verdict& decided) {
  Verdict v = refuse(std::move(reason), decided.rule, 502, 0x04);
  v.answer = decided.answer;
  v.unreachable = true;
  return v;
}

}  // namespace

struct Gate::Pending {
  explicit Pending(asio::io_context& io) : timer(io, asio::steady_timer::time_point::max()) {}
  asio::steady_timer timer;
  std::optional<NetAnswer> answer;
};


Gate::Gate(asio::io_context& io, GateConfig config, NetPrompter* prompter)
    : io_(io), config_(std::move(config)), prompter_(prompter) {}

Gate::~Gate() = default;


std::optional<std::string> Gate::address_refusal(const sema::IpNet& address, std::uint16_t port, const ir::Rule** rule,
                                                 bool pinned) const {
  sema::HostSubject ip;
  ip.is_ip = true;
  ip.address = address;
  ip.port = port;
  const lower::ProxyDecision d = config_.table->decide(ip);
  *rule = d.rule;
  if (d.failed) return "the proxy rule table could not decide";
  if (d.effect == Effect::Deny && d.rule != nullptr) return "denied by " + lower::rule_reference(*d.rule);
  // A --resolve pin is the user's explicit choice.
  if (pinned) return std::nullopt;
  return lower::guard_refusal(*config_.table, ip, d, config_.guard.host_addresses());
}

asio::awaitable<Verdict> Gate::check(sema::HostSubject subject) {
  const lower::ProxyDecision d = config_.table->decide(subject);
  if (d.failed) co_return refuse("the proxy rule table could not decide (out of memory); refused");

  // A deny rule is named first; with no rule, the guard says what opens a
  // guarded address.
  if (d.effect == Effect::Deny && d.rule != nullptr) {
    co_return refuse("denied by " + lower::rule_reference(*d.rule), d.rule);
  }
  if (subject.is_ip) {
    if (auto why = lower::guard_refusal(*config_.table, subject, d, config_.guard.host_addresses())) {
      co_return refuse(std::move(*why), d.rule);
    }
  }
  if (d.effect == Effect::Deny) {
    co_return d.rule ? refuse("denied by " + lower::rule_reference(*d.rule), d.rule)
                     : refuse("no rule allows this host");
  }
  Verdict v;
  v.rule = d.rule;
  if (d.effect == Effect::Ask) {
    v = co_await settle_ask(subject, d.rule);
    if (!v.allowed) co_return v;
  }
  co_return co_await resolve(subject, std::move(v));
}

asio::awaitable<Verdict> Gate::settle_ask(const sema::HostSubject& subject, const ir::Rule* rule) {
  const std::string key = subject.text();
  auto allowed = [&](std::string answer) {
    Verdict v;
    v.allowed = true;
    v.rule = rule;
    v.answer = std::move(answer);
    return v;
  };
  auto denied = [&](std::string answer, std::string reason) {
    Verdict v = refuse(std::move(reason), rule);
    v.answer = std::move(answer);
    return v;
  };
  if (const auto it = answers_.find(key); it != answers_.end()) {
    co_return it->second ? allowed("allowed earlier in this run")
                         : denied("denied earlier in this run", "denied at the prompt earlier in this run");
  }
  if (const auto it = once_until_.find(key); it != once_until_.end()) {
    if (std::chrono::steady_clock::now() < it->second) co_return allowed("allowed once at the prompt, just before");
    once_until_.erase(it);
  }
  if (config_.ask == NetAskMode::Allow) co_return allowed("allowed by --ask allow");
  if (config_.ask == NetAskMode::Deny || prompter_ == nullptr) {
    co_return denied("denied by --ask deny", "asked by " + lower::rule_reference(*rule) + "; denied by --ask deny");
  }
  if (!subject.is_ip && sema::is_local_name(subject.name)) {
    co_return denied("not asked", "a local name is never asked about; only an `allow net` rule opens it");
  }

  std::shared_ptr<Pending> pending;
  if (const auto it = pending_.find(key); it != pending_.end()) {
    pending = it->second;
  } else {
    if (pending_.size() >= config_.max_pending_questions) {
      co_return denied("not asked", "too many questions waiting for an answer; refused without asking");
    }
    pending = std::make_shared<Pending>(io_);
    pending_[key] = pending;
    NetQuestion q;
    q.host = subject.is_ip ? subject.address.text() : subject.name;
    q.port = subject.port;
    q.rule = lower::rule_reference(*rule);
    prompter_->ask(std::move(q), [this, pending, key](NetAnswer a) {
      asio::post(io_, [this, pending, key, a] {
        pending->answer = a;
        pending->timer.cancel();
        pending_.erase(key);
        last_question_closed_ = std::chrono::steady_clock::now();
        if (a == NetAnswer::AllowOnce) once_until_[key] = last_question_closed_ + config_.once_window;
        if (a == NetAnswer::AllowRun) answers_[key] = true;
        if (a == NetAnswer::Deny) answers_[key] = false;
      });
    });
  }
  while (!pending->answer) {
    boost::system::error_code ec;
    co_await pending->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  switch (*pending->answer) {
    case NetAnswer::AllowOnce:
      co_return allowed("allowed once at the prompt");
    case NetAnswer::AllowRun:
      co_return allowed("allowed for this run at the prompt");
    case NetAnswer::Deny:
      co_return denied("denied at the prompt", "denied at the prompt (" + lower::rule_reference(*rule) + ")");
    case NetAnswer::Timeout:
      co_return denied("no answer", "no answer at the prompt; denied");
    case NetAnswer::NoTerminal:
      break;
  }
  co_return denied("no terminal", "asked by " + lower::rule_reference(*rule) +
                                      "; no terminal to ask on, so denied (sbrun --ask allow grants asks)");
}

asio::awaitable<Verdict> Gate::resolve(const sema::HostSubject& subject, Verdict v) {
  std::vector<sema::IpNet> addresses;
  bool pinned = false;
  if (subject.is_ip) {
    addresses.push_back(subject.address);
  } else if (const auto it = config_.pins.find(subject.name); it != config_.pins.end()) {
    addresses = it->second;
    pinned = true;
  } else {
    tcp::resolver resolver(io_);
    boost::system::error_code ec;
    const auto results = co_await resolver.async_resolve(subject.name, std::to_string(subject.port),
                                                         asio::ip::resolver_base::numeric_service,
                                                         asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return unreachable("cannot resolve " + subject.name + ": " + ec.message(), v);
    for (const auto& r : results) {
      const sema::IpNet a = from_asio(r.endpoint().address());
      if (std::find(addresses.begin(), addresses.end(), a) == addresses.end()) addresses.push_back(a);
    }
  }
  // Every address must pass: a name that resolves to one protected address
  // among public ones is refused as a whole (a rebinding signature).
  // `localhost` allowed by name opens its loopback addresses, and no other.
  const bool loopback_named = lower::names_loopback(*config_.table, subject);
  for (const sema::IpNet& a : addresses) {
    const ir::Rule* rule = nullptr;
    if (subject.is_ip) {  // the policy decided on this very address above
      v.endpoints.emplace_back(to_asio(a), subject.port);
      continue;
    }
    if (auto why = address_refusal(a, subject.port, &rule, pinned || (loopback_named && sema::is_loopback(a)))) {
      co_return refuse(subject.name + " resolves to " + a.text() + ": " + *why, rule ? rule : v.rule);
    }
    v.endpoints.emplace_back(to_asio(a), subject.port);
  }
  if (v.endpoints.empty()) co_return unreachable("no address for " + subject.name, v);
  v.allowed = true;
  co_return v;
}

}  // namespace sbpolicy::proxy
