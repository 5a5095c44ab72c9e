// The address guard: addresses the proxy refuses to dial unless an IP rule
// of the policy allows them explicitly.
//
// The proxy runs in the host's network namespace, so whatever it dials is
// dialled from the host: its loopback services, the cloud metadata
// endpoint, the LAN. A name allowed by the policy can resolve to any of
// these (DNS rebinding, `127.0.0.1.nip.io`), and an `ask` answered in a
// hurry must not open them either. So every address the proxy is about to
// dial, whether the client spelled it or DNS returned it, goes through this
// guard after the policy decision: loopback, unspecified, link-local,
// private (RFC 1918, CGNAT, ULA), multicast, broadcast and reserved ranges,
// the cloud metadata addresses (sema/guarded_ranges.hpp), and the host's own
// interface addresses are refused unless an `allow net` IP rule names the
// address or a block inside its guarded range: a wide block that merely
// contains the range (`0.0.0.0/0`) does not open it. IPv6 forms that embed
// an IPv4 address (mapped, compatible, NAT64, 6to4) are checked as that
// IPv4 address too, and only a rule naming the IPv6 address opens them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sema/guarded_ranges.hpp"
#include "sema/host_pattern.hpp"

namespace sbpolicy::proxy {

class AddressGuard {
 public:
  // Reads the host's interface addresses now (getifaddrs).
  static AddressGuard for_this_host();
  explicit AddressGuard(std::vector<sema::IpNet> host_addresses = {});

  using Protection = sema::Protection;
  // Whether `address` (a full-length IpNet) is protected, and by what.
  std::optional<Protection> protection(const sema::IpNet& address) const;
  const std::vector<sema::IpNet>& host_addresses() const { return host_addresses_; }

 private:
  std::vector<sema::IpNet> host_addresses_;
};

using sema::canonical_address;

}  // namespace sbpolicy::proxy
