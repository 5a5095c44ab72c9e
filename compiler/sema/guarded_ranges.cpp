#include "sema/guarded_ranges.hpp"

#include <algorithm>
#include <cstring>
#include <initializer_list>

namespace sbpolicy::sema {
namespace {

constexpr const char* kLoopback = "loopback";

struct Range {
  const char* net;
  const char* why;
};

constexpr Range kRanges[] = {
    {"169.254.169.254", "cloud metadata"},
    {"169.254.170.2", "cloud metadata"},
    {"100.100.100.200", "cloud metadata"},
    {"168.63.129.16", "cloud metadata"},
    {"192.0.0.192", "cloud metadata"},
    {"fd00:ec2::254", "cloud metadata"},
    {"0.0.0.0/8", "unspecified"},
    {"127.0.0.0/8", kLoopback},
    {"169.254.0.0/16", "link-local"},
    {"10.0.0.0/8", "private"},
    {"172.16.0.0/12", "private"},
    {"192.168.0.0/16", "private"},
    {"100.64.0.0/10", "carrier-grade NAT"},
    {"192.0.0.0/24", "reserved"},
    {"224.0.0.0/4", "multicast"},
    {"240.0.0.0/4", "reserved"},
    {"::/128", "unspecified"},
    {"::1/128", kLoopback},
    {"fe80::/10", "link-local"},
    {"fec0::/10", "site-local"},
    {"fc00::/7", "unique local"},
    {"ff00::/8", "multicast"},
    {"100::/64", "discard"},
    {"64:ff9b:1::/48", "local NAT64"},
};

IpNet v4(const std::uint8_t* b) {
  IpNet n;
  n.family = 4;
  n.prefix = 32;
  std::memcpy(n.bytes.data(), b, 4);
  return n;
}

bool starts_with(const IpNet& a, std::initializer_list<std::uint8_t> prefix) {
  std::size_t i = 0;
  for (std::uint8_t b : prefix) {
    if (a.bytes[i++] != b) return false;
  }
  return true;
}

bool zeros10(const IpNet& a) {
  return std::all_of(a.bytes.begin(), a.bytes.begin() + 10, [](std::uint8_t x) { return x == 0; });
}

}  // namespace

const std::vector<GuardedRange>& guarded_ranges() {
  static const std::vector<GuardedRange> all = [] {
    std::vector<GuardedRange> out;
    for (const Range& r : kRanges) out.push_back({std::get<HostPattern>(parse_host_pattern(r.net)).net, r.why});
    return out;
  }();
  return all;
}

const GuardedRange* guarded_range_of(const IpNet& address) {
  for (const GuardedRange& r : guarded_ranges()) {
    if (r.block.contains(address)) return &r;
  }
  return nullptr;
}

bool is_loopback(const IpNet& address) {
  const GuardedRange* r = guarded_range_of(canonical_address(address));
  return r != nullptr && r->why == kLoopback;
}

std::optional<Protection> protection_of(const IpNet& raw, const std::vector<IpNet>& own) {
  const IpNet address = canonical_address(raw);
  if (const GuardedRange* r = guarded_range_of(address)) return Protection{std::string(r->why), r->block};
  for (const IpNet& mine : own) {
    if (canonical_address(mine) == address) return Protection{"an address of this host", address};
  }
  if (const auto inner = embedded_ipv4(address)) {
    // Only a rule naming this very address opens it.
    if (auto p = protection_of(*inner, own)) return Protection{p->why + " (embedded in " + address.text() + ")", address};
  }
  return std::nullopt;
}

bool is_local_name(std::string_view n) {
  for (std::string_view exact : {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "metadata",
                                 "instance-data", "broadcasthost"}) {
    if (n == exact) return true;
  }
  for (std::string_view suffix : {".localhost", ".local", ".localdomain", ".internal", ".home.arpa", ".lan"}) {
    if (n.ends_with(suffix)) return true;
  }
  return false;
}

std::optional<IpNet> embedded_ipv4(const IpNet& a) {
  if (a.family != 6) return std::nullopt;
  const auto& b = a.bytes;
  if (zeros10(a) && b[10] == 0xff && b[11] == 0xff) return v4(&b[12]);                      // ::ffff:a.b.c.d
  if (zeros10(a) && b[10] == 0 && b[11] == 0) return v4(&b[12]);                            // ::a.b.c.d
  if (starts_with(a, {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0})) return v4(&b[12]);  // NAT64
  if (starts_with(a, {0x20, 0x02})) return v4(&b[2]);                                       // 6to4
  if (starts_with(a, {0x20, 0x01, 0x00, 0x00})) {                                           // Teredo client
    std::uint8_t client[4];
    for (int i = 0; i < 4; ++i) client[i] = static_cast<std::uint8_t>(~b[12 + i]);
    return v4(client);
  }
  return std::nullopt;
}

IpNet canonical_address(const IpNet& address) {
  if (address.family == 6 && zeros10(address) && address.bytes[10] == 0xff && address.bytes[11] == 0xff) {
    return v4(&address.bytes[12]);
  }
  return address;
}

}  // namespace sbpolicy::sema
