#include "proxy/address_guard.hpp"

#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace sbpolicy::proxy {

namespace {

struct Range {
  const char* net;
  const char* why;
};

// Checked in order: the first range that contains the address names it.
constexpr Range kRanges[] = {
    {"169.254.169.254", "cloud metadata"},
    {"169.254.170.2", "cloud metadata"},
    {"100.100.100.200", "cloud metadata"},
    {"168.63.129.16", "cloud metadata"},
    {"192.0.0.192", "cloud metadata"},
    {"fd00:ec2::254", "cloud metadata"},
    {"0.0.0.0/8", "unspecified"},
    {"127.0.0.0/8", "loopback"},
    {"169.254.0.0/16", "link-local"},
    {"10.0.0.0/8", "private"},
    {"172.16.0.0/12", "private"},
    {"192.168.0.0/16", "private"},
    {"100.64.0.0/10", "carrier-grade NAT"},
    {"192.0.0.0/24", "reserved"},
    {"224.0.0.0/4", "multicast"},
    {"240.0.0.0/4", "reserved"},
    {"::/128", "unspecified"},
    {"::1/128", "loopback"},
    {"fe80::/10", "link-local"},
    {"fec0::/10", "site-local"},
    {"fc00::/7", "unique local"},
    {"ff00::/8", "multicast"},
    {"100::/64", "discard"},
    {"64:ff9b:1::/48", "local NAT64"},
};

sema::IpNet parse(const char* text) {
  auto p = sema::parse_host_pattern(text);
  return std::get<sema::HostPattern>(p).net;
}

const std::vector<std::pair<sema::IpNet, const char*>>& ranges() {
  static const auto all = [] {
    std::vector<std::pair<sema::IpNet, const char*>> out;
    for (const Range& r : kRanges) out.emplace_back(parse(r.net), r.why);
    return out;
  }();
  return all;
}

sema::IpNet v4(const std::uint8_t* b) {
  sema::IpNet n;
  n.family = 4;
  n.prefix = 32;
  std::memcpy(n.bytes.data(), b, 4);
  return n;
}

bool starts_with(const sema::IpNet& a, std::initializer_list<std::uint8_t> prefix) {
  std::size_t i = 0;
  for (std::uint8_t b : prefix) {
    if (a.bytes[i++] != b) return false;
  }
  return true;
}

// The IPv4 address an IPv6 address carries, for the forms that route to it.
std::optional<sema::IpNet> embedded_ipv4(const sema::IpNet& a) {
  if (a.family != 6) return std::nullopt;
  const auto& b = a.bytes;
  const bool zeros10 = std::all_of(b.begin(), b.begin() + 10, [](std::uint8_t x) { return x == 0; });
  if (zeros10 && b[10] == 0xff && b[11] == 0xff) return v4(&b[12]);                         // ::ffff:a.b.c.d
  if (zeros10 && b[10] == 0 && b[11] == 0) return v4(&b[12]);                               // ::a.b.c.d
  if (starts_with(a, {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0})) return v4(&b[12]);  // NAT64
  if (starts_with(a, {0x20, 0x02})) return v4(&b[2]);                                       // 6to4
  if (starts_with(a, {0x20, 0x01, 0x00, 0x00})) {                                           // Teredo client
    std::uint8_t client[4];
    for (int i = 0; i < 4; ++i) client[i] = static_cast<std::uint8_t>(~b[12 + i]);
    return v4(client);
  }
  return std::nullopt;
}

}  // namespace

sema::IpNet canonical_address(const sema::IpNet& address) {
  if (address.family == 6) {
    const auto& b = address.bytes;
    const bool zeros10 = std::all_of(b.begin(), b.begin() + 10, [](std::uint8_t x) { return x == 0; });
    if (zeros10 && b[10] == 0xff && b[11] == 0xff) return v4(&b[12]);
  }
  return address;
}

AddressGuard::AddressGuard(std::vector<sema::IpNet> host_addresses) : host_addresses_(std::move(host_addresses)) {
  for (sema::IpNet& a : host_addresses_) a = canonical_address(a);
}

AddressGuard AddressGuard::for_this_host() {
  std::vector<sema::IpNet> own;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) == 0) {
    for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
      if (i->ifa_addr == nullptr) continue;
      sema::IpNet n;
      if (i->ifa_addr->sa_family == AF_INET) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
        n = v4(reinterpret_cast<const std::uint8_t*>(&sin->sin_addr));
      } else if (i->ifa_addr->sa_family == AF_INET6) {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
        n.family = 6;
        n.prefix = 128;
        std::memcpy(n.bytes.data(), &sin6->sin6_addr, 16);
      } else {
        continue;
      }
      own.push_back(n);
    }
    freeifaddrs(list);
  }
  return AddressGuard(std::move(own));
}

std::optional<std::string> AddressGuard::protected_range(const sema::IpNet& raw) const {
  const sema::IpNet address = canonical_address(raw);
  for (const auto& [net, why] : ranges()) {
    if (net.contains(address)) return std::string(why);
  }
  for (const auto& own : host_addresses_) {
    if (own == address) return std::string("an address of this host");
  }
  if (const auto inner = embedded_ipv4(address)) {
    if (auto why = protected_range(*inner)) return *why + " (embedded in " + address.text() + ")";
  }
  return std::nullopt;
}

}  // namespace sbpolicy::proxy
