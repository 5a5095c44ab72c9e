// The address guard: the first and last address of every protected range,
// one address just outside each, the cloud metadata endpoints by name, the
// IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4,
// Teredo) judged by that address, the host's own addresses, and public
// addresses let through. Addresses are built with inet_pton, not the policy
// parser, so an IPv4-mapped address reaches the guard as IPv6.
#include "proxy/address_guard.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <cstring>
#include <initializer_list>
#include <string>

namespace sbpolicy::proxy {
namespace {

sema::IpNet ip(const std::string& text) {
  sema::IpNet n;
  const bool v6 = text.find(':') != std::string::npos;
  n.family = v6 ? 6 : 4;
  n.prefix = v6 ? 128 : 32;
  EXPECT_EQ(inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), n.bytes.data()), 1) << text;
  return n;
}

// Why the guard refuses `address`, or "allowed".
std::string why(const AddressGuard& guard, const std::string& address) {
  const auto p = guard.protection(ip(address));
  return p ? p->why : "allowed";
}

struct Case {
  const char* address;
  const char* why;
};

void check_all(const AddressGuard& guard, std::initializer_list<Case> cases) {
  for (const Case& c : cases) EXPECT_EQ(why(guard, c.address), c.why) << c.address;
}

TEST(AddressGuard, CloudMetadata) {
  check_all(AddressGuard(), {
                                {"169.254.169.254", "cloud metadata"},  // AWS, GCP, Azure IMDS
                                {"169.254.170.2", "cloud metadata"},    // ECS task metadata
                                {"100.100.100.200", "cloud metadata"},  // Alibaba
                                {"168.63.129.16", "cloud metadata"},    // Azure wireserver
                                {"192.0.0.192", "cloud metadata"},      // Oracle
                                {"fd00:ec2::254", "cloud metadata"},    // AWS IMDS over IPv6
                                // Their neighbours fall in the enclosing range, or nowhere.
                                {"169.254.169.253", "link-local"},
                                {"169.254.169.255", "link-local"},
                                {"169.254.170.1", "link-local"},
                                {"169.254.170.3", "link-local"},
                                {"100.100.100.199", "carrier-grade NAT"},
                                {"100.100.100.201", "carrier-grade NAT"},
                                {"168.63.129.15", "allowed"},
                                {"168.63.129.17", "allowed"},
                                {"192.0.0.191", "reserved"},
                                {"192.0.0.193", "reserved"},
                                {"fd00:ec2::253", "unique local"},
                                {"fd00:ec2::255", "unique local"},
                            });
}

TEST(AddressGuard, Ipv4Ranges) {
  check_all(AddressGuard(), {
                                {"0.0.0.0", "unspecified"},
                                {"0.255.255.255", "unspecified"},
                                {"1.0.0.0", "allowed"},
                                {"127.0.0.0", "loopback"},
                                {"127.0.0.1", "loopback"},
                                {"127.255.255.255", "loopback"},
                                {"126.255.255.255", "allowed"},
                                {"128.0.0.0", "allowed"},
                                {"169.254.0.0", "link-local"},
                                {"169.254.255.255", "link-local"},
                                {"169.253.255.255", "allowed"},
                                {"169.255.0.0", "allowed"},
                                {"10.0.0.0", "private"},
                                {"10.255.255.255", "private"},
                                {"9.255.255.255", "allowed"},
                                {"11.0.0.0", "allowed"},
                                {"172.16.0.0", "private"},
                                {"172.31.255.255", "private"},
                                {"172.15.255.255", "allowed"},
                                {"172.32.0.0", "allowed"},
                                {"192.168.0.0", "private"},
                                {"192.168.255.255", "private"},
                                {"192.167.255.255", "allowed"},
                                {"192.169.0.0", "allowed"},
                                {"100.64.0.0", "carrier-grade NAT"},
                                {"100.127.255.255", "carrier-grade NAT"},
                                {"100.63.255.255", "allowed"},
                                {"100.128.0.0", "allowed"},
                                {"192.0.0.0", "reserved"},
                                {"192.0.0.255", "reserved"},
                                {"191.255.255.255", "allowed"},
                                {"192.0.1.0", "allowed"},
                                {"224.0.0.0", "multicast"},
                                {"239.255.255.255", "multicast"},
                                {"223.255.255.255", "allowed"},
                                {"240.0.0.0", "reserved"},
                                {"255.255.255.255", "reserved"},  // broadcast
                            });
}

TEST(AddressGuard, Ipv6Ranges) {
  check_all(AddressGuard(), {
                                {"::", "unspecified"},
                                {"::1", "loopback"},
                                {"0:0:0:0:1::", "allowed"},
                                {"fe80::", "link-local"},
                                {"fe80::1", "link-local"},
                                {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "link-local"},
                                {"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "allowed"},
                                {"fec0::", "site-local"},
                                {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "site-local"},
                                {"fc00::", "unique local"},
                                {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "unique local"},
                                {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "allowed"},
                                {"fe00::", "allowed"},
                                {"ff00::", "multicast"},
                                {"ff02::1", "multicast"},
                                {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "multicast"},
                                {"100::", "discard"},
                                {"100::ffff:ffff:ffff:ffff", "discard"},
                                {"100:0:0:1::", "allowed"},
                                {"ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "allowed"},
                                {"64:ff9b:1::", "local NAT64"},
                                {"64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "local NAT64"},
                                {"64:ff9b:2::", "allowed"},
                                {"64:ff9b:0:ffff:ffff:ffff:ffff:ffff", "allowed"},
                            });
}

// NET-17: every IPv6 form that routes to an IPv4 address is that address.
TEST(AddressGuard, EmbeddedIpv4IsCheckedAsIpv4) {
  check_all(AddressGuard(),
            {
                // IPv4-mapped: dialled as IPv4, so reported as IPv4.
                {"::ffff:127.0.0.1", "loopback"},
                {"::ffff:7f00:1", "loopback"},
                {"::ffff:169.254.169.254", "cloud metadata"},
                {"::ffff:0.0.0.0", "unspecified"},
                {"::ffff:10.1.2.3", "private"},
                {"::ffff:8.8.8.8", "allowed"},
                // IPv4-compatible (deprecated, still routed by some stacks).
                {"::127.0.0.1", "loopback (embedded in ::7f00:1)"},
                {"::169.254.169.254", "cloud metadata (embedded in ::a9fe:a9fe)"},
                {"::2", "unspecified (embedded in ::2)"},
                {"::8.8.8.8", "allowed"},
                // NAT64 well-known prefix.
                {"64:ff9b::7f00:1", "loopback (embedded in 64:ff9b::7f00:1)"},
                {"64:ff9b::a9fe:a9fe", "cloud metadata (embedded in 64:ff9b::a9fe:a9fe)"},
                {"64:ff9b::10.0.0.1", "private (embedded in 64:ff9b::a00:1)"},
                {"64:ff9b::808:808", "allowed"},
                // 6to4.
                {"2002:7f00:1::", "loopback (embedded in 2002:7f00:1::)"},
                {"2002:7f00:1:1::1", "loopback (embedded in 2002:7f00:1:1::1)"},
                {"2002:a9fe:a9fe::", "cloud metadata (embedded in 2002:a9fe:a9fe::)"},
                {"2002:c0a8:101::1", "private (embedded in 2002:c0a8:101::1)"},
                {"2002:808:808::", "allowed"},
                // Teredo: the client address is stored inverted.
                {"2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback (embedded in 2001:0:4136:e378:8000:63bf:80ff:fffe)"},
                {"2001::5601:5601", "cloud metadata (embedded in 2001::5601:5601)"},
                {"2001:0:4136:e378:8000:63bf:f7f7:f7f7", "allowed"},
            });
}

TEST(AddressGuard, PublicAddressesAreAllowed) {
  check_all(AddressGuard(), {
                                {"8.8.8.8", "allowed"},
                                {"1.1.1.1", "allowed"},
                                {"93.184.215.14", "allowed"},
                                {"104.16.0.34", "allowed"},
                                {"2606:4700::1111", "allowed"},
                                {"2001:4860:4860::8888", "allowed"},
                                {"2a00:1450:4001:82b::200e", "allowed"},
                            });
}

TEST(AddressGuard, HostAddresses) {
  const AddressGuard guard({ip("203.0.113.7"), ip("2001:db8::7"), ip("10.0.0.5")});
  check_all(guard, {
                       {"203.0.113.7", "an address of this host"},
                       {"::ffff:203.0.113.7", "an address of this host"},
                       {"2001:db8::7", "an address of this host"},
                       {"2002:cb00:7107::", "an address of this host (embedded in 2002:cb00:7107::)"},
                       {"64:ff9b::cb00:7107", "an address of this host (embedded in 64:ff9b::cb00:7107)"},
                       {"203.0.113.8", "allowed"},
                       {"2001:db8::8", "allowed"},
                       // A range names the address first.
                       {"10.0.0.5", "private"},
                   });
  // The same addresses, not this host's: allowed.
  check_all(AddressGuard(), {{"203.0.113.7", "allowed"}, {"2001:db8::7", "allowed"}});
  // A host address given in IPv4-mapped form (as a kernel may report it)
  // protects the IPv4 address.
  sbpolicy::sema::IpNet mapped;
  mapped.family = 6;
  mapped.prefix = 128;
  mapped.bytes = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 9};
  check_all(AddressGuard({mapped}), {{"203.0.113.9", "an address of this host"}});
}

TEST(AddressGuard, EveryInterfaceAddressOfThisHostIsRefused) {
  const AddressGuard guard = AddressGuard::for_this_host();
  ifaddrs* list = nullptr;
  ASSERT_EQ(getifaddrs(&list), 0);
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr) continue;
    char text[INET6_ADDRSTRLEN] = {};
    if (i->ifa_addr->sa_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof text);
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr, text, sizeof text);
    } else {
      continue;
    }
    EXPECT_NE(why(guard, text), "allowed") << i->ifa_name << " " << text;
  }
  freeifaddrs(list);
  EXPECT_EQ(why(guard, "127.0.0.1"), "loopback");
}

TEST(AddressGuard, CanonicalAddress) {
  EXPECT_EQ(canonical_address(ip("::ffff:1.2.3.4")), ip("1.2.3.4"));
  EXPECT_EQ(canonical_address(ip("::ffff:7f00:1")), ip("127.0.0.1"));
  EXPECT_EQ(canonical_address(ip("::ffff:0:0")), ip("0.0.0.0"));
  EXPECT_EQ(canonical_address(ip("::ffff:1.2.3.4")).text(), "1.2.3.4");
  // Only the mapped form is the IPv4 address to the kernel; the others stay IPv6.
  for (const char* same : {"1.2.3.4", "::1", "::", "::1.2.3.4", "64:ff9b::102:304", "2002:102:304::", "::fffe:1.2.3.4",
                           "0:0:0:0:1:ffff:102:304", "2606:4700::1111"}) {
    EXPECT_EQ(canonical_address(ip(same)), ip(same)) << same;
  }
}

// What a rule's block must lie inside to open the address: the guarded
// range that holds it, or the address itself (the host's own, embedded forms).
TEST(AddressGuard, ProtectionNamesTheBlockARuleMustLieIn) {
  const AddressGuard guard({ip("203.0.113.7")});
  const auto block = [&](const std::string& a) { return guard.protection(ip(a))->block.text(); };
  EXPECT_EQ(block("127.0.0.1"), "127.0.0.0/8");
  EXPECT_EQ(block("10.1.2.3"), "10.0.0.0/8");
  EXPECT_EQ(block("169.254.169.254"), "169.254.169.254");  // not the link-local /16 around it
  EXPECT_EQ(block("169.254.1.1"), "169.254.0.0/16");
  EXPECT_EQ(block("::1"), "::1");
  EXPECT_EQ(block("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(block("64:ff9b::7f00:1"), "64:ff9b::7f00:1");
  EXPECT_FALSE(guard.protection(ip("8.8.8.8")).has_value());
}

}  // namespace
}  // namespace sbpolicy::proxy
