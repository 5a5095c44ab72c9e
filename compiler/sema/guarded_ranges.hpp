// Addresses that mean this machine, its local network or a cloud's control
// plane: what the proxy's address guard (runtime/proxy/address_guard.hpp)
// refuses to dial unless an `allow net` IP rule opens it, and what `sbc
// check` names when an allow's block is wide enough to contain them.
//
// A rule opens a guarded address only when it names the address, or a block
// inside the guarded range that holds it (`allow net "127.0.0.1:5432"`,
// `allow net "10.1.0.0/16"`); a wide block that merely contains the range
// (`allow net "0.0.0.0/0:18080"`) opens nothing of it, so the loopback
// services and the metadata endpoint stay shut behind it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sema/host_pattern.hpp"

namespace sbpolicy::sema {

struct GuardedRange {
  IpNet block;
  std::string_view why;  // "loopback", "cloud metadata", ...
};

// In order: the first range that contains an address names it (the metadata
// addresses come before the link-local and CGNAT blocks around them).
const std::vector<GuardedRange>& guarded_ranges();

// The first guarded range that contains `address` (a full-length IpNet), or null.
const GuardedRange* guarded_range_of(const IpNet& address);

struct Protection {
  std::string why;  // "loopback", "cloud metadata", "an address of this host", ...
  IpNet block;      // what a rule's block must lie inside to open the address
};
// Whether `address` is guarded, and by what: a guarded range (its block),
// one of `own` (the host's addresses: the address itself), or an IPv4
// address embedded in an IPv6 form (the IPv6 address itself).
std::optional<Protection> protection_of(const IpNet& address, const std::vector<IpNet>& own = {});

// Whether `address` (full length; an IPv4-mapped form counts as its IPv4)
// is this machine's loopback: 127.0.0.0/8 or ::1.
bool is_loopback(const IpNet& address);

// Names that only ever mean this machine or its local network (localhost,
// *.localhost, *.local, *.internal, metadata, ...): never worth a prompt.
bool is_local_name(std::string_view canonical_name);

// The IPv4 address an IPv6 address carries, for the forms that route to it
// (mapped, compatible, NAT64, 6to4, Teredo), or nullopt.
std::optional<IpNet> embedded_ipv4(const IpNet& address);

// The address as the proxy dials it: IPv4-mapped IPv6 becomes IPv4.
IpNet canonical_address(const IpNet& address);

}  // namespace sbpolicy::sema
