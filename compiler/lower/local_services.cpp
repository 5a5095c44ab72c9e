#include "lower/local_services.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "sandbox/proxy_doors.hpp"
#include "sema/guarded_ranges.hpp"
#include "support/text.hpp"

namespace sbpolicy::lower {

namespace {

using Kind = sema::HostPattern::Kind;

sema::IpNet address(std::string_view text) {
  auto s = sema::parse_host_subject(text, 1);
  return std::get<sema::HostSubject>(s).address;
}

}  // namespace

std::string listen_text(const LocalService& s) {
  return s.inside.family == 6 ? fmt::format("[{}]:{}", s.inside.text(), s.port)
                              : fmt::format("{}:{}", s.inside.text(), s.port);
}

LocalServices local_services(const ir::Policy& policy) {
  LocalServices out;
  for (const ir::Rule& r : policy.rules) {
    if (r.operation != ir::Operation::Net || r.effect == ir::Effect::Deny) continue;
    const auto* p = std::get_if<sema::HostPattern>(&r.pattern);
    if (p == nullptr) continue;
    const bool named = p->kind == Kind::Exact && p->name == "localhost";
    const bool literal = p->kind == Kind::Address && sema::is_loopback(p->net);
    if (!named && !literal) continue;
    const std::string where = text::printable(fmt::format("{} ({})", p->text(), r.origin.target.text()));
    const bool one_address = named || p->net.prefix == (p->net.family == 4 ? 32 : 128);
    if (!one_address) {
      out.not_forwarded.push_back(where + ": a block of addresses; name one address");
      continue;
    }
    std::vector<sema::IpNet> inside;
    if (named) {
      inside = {address("127.0.0.1"), address("[::1]")};
    } else {
      inside = {p->net};
    }
    for (const sema::PortRange& range : p->ports) {
      if (range.lo < 1024) {
        out.not_forwarded.push_back(where + ": ports below 1024 cannot be listened on inside the sandbox");
      }
      if (range.lo <= sandbox::kHttpPort && sandbox::kHttpPort <= range.hi) {
        out.not_forwarded.push_back(where + ": port 3128 is the proxy's inside the sandbox");
      }
      if (range.lo <= sandbox::kSocksPort && sandbox::kSocksPort <= range.hi) {
        out.not_forwarded.push_back(where + ": port 1080 is the proxy's inside the sandbox");
      }
      bool over = false;
      for (std::uint32_t port = std::max<std::uint32_t>(range.lo, 1024); port <= range.hi; ++port) {
        if (port == sandbox::kHttpPort || port == sandbox::kSocksPort) continue;
        for (const sema::IpNet& a : inside) {
          const bool known = std::any_of(out.services.begin(), out.services.end(), [&](const LocalService& s) {
            return s.inside == a && s.port == port;
          });
          if (known) continue;
          if (out.services.size() >= kMaxLocalServices) {
            over = true;
            break;
          }
          LocalService s;
          s.inside = a;
          s.port = static_cast<std::uint16_t>(port);
          s.subject = named ? std::get<sema::HostSubject>(sema::parse_host_subject("localhost", s.port))
                            : std::get<sema::HostSubject>(sema::parse_host_subject(
                                  a.family == 6 ? "[" + a.text() + "]" : a.text(), s.port));
          s.rule = &r;
          out.services.push_back(std::move(s));
        }
        if (over) break;
      }
      if (over) {
        out.not_forwarded.push_back(
            fmt::format("{}: more than {} loopback ports; name fewer ports", where, kMaxLocalServices));
        break;
      }
    }
  }
  return out;
}

}  // namespace sbpolicy::lower
