// Services on the host's loopback that a policy lets the sandbox reach.
//
// The sandbox has a loopback of its own, so `psql -h 127.0.0.1` (or any
// client that does not use a proxy, and every client for 127.0.0.1, which
// NO_PROXY sends direct) finds nothing there, whatever the policy says. So
// for each rule that allows (or asks about) a loopback service by its exact
// address and port, sbrun's init listens on that address and port inside the
// sandbox and hands each connection to sbrun's proxy, as it does for the
// proxy's doors. The proxy decides it like any other connection to that
// host and port (the rule, a deny over it, an ask), dials the host's
// loopback, and relays the bytes unread.
//
// What counts: a rule of effect allow or ask on `net` whose host is one
// loopback address (`127.0.0.1`, `127.0.0.2`, `[::1]`) or `localhost`
// (inside: 127.0.0.1 and ::1), with its ports. Not forwarded, and said why
// (sbrun -v): ports below 1024 (the sandbox cannot bind them), the proxy's
// own doors (3128, 1080), a block of addresses, and ports past the first
// kMaxLocalServices. Those stay reachable through the proxy by clients that
// use it (a name pinned with --resolve, docs/network.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/ir.hpp"
#include "sema/host_pattern.hpp"

namespace sbpolicy::lower {

inline constexpr std::size_t kMaxLocalServices = 64;

struct LocalService {
  sema::IpNet inside;          // the address the init listens on, inside
  std::uint16_t port = 0;
  sema::HostSubject subject;   // what the proxy decides and dials
  const ir::Rule* rule = nullptr;
};

struct LocalServices {
  std::vector<LocalService> services;  // in IR rule order, without duplicates
  std::vector<std::string> not_forwarded;  // "localhost:80 (p.sbpolicy:3:11): ports below 1024 ..."
};

LocalServices local_services(const ir::Policy& policy);

// "127.0.0.1:5432", "[::1]:5432": an address and port as the init reads them.
std::string listen_text(const LocalService& s);

}  // namespace sbpolicy::lower
