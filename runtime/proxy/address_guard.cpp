#include "proxy/address_guard.hpp"

#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace sbpolicy::proxy {

namespace {

sema::IpNet v4(const std::uint8_t* b) {
  sema::IpNet n;
  n.family = 4;
  n.prefix = 32;
  std::memcpy(n.bytes.data(), b, 4);
  return n;
}

}  // namespace

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

std::optional<AddressGuard::Protection> AddressGuard::protection(const sema::IpNet& address) const {
  return sema::protection_of(address, host_addresses_);
}

}  // namespace sbpolicy::proxy
