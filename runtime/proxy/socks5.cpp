#include "proxy/socks5.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>

namespace sbpolicy::proxy {

namespace {

constexpr std::uint8_t kVersion = 0x05;
constexpr std::uint8_t kConnect = 0x01;
constexpr std::uint8_t kAtypIpv4 = 0x01;
constexpr std::uint8_t kAtypName = 0x03;
constexpr std::uint8_t kAtypIpv6 = 0x04;

constexpr std::uint8_t kReplyGeneralFailure = 0x01;
constexpr std::uint8_t kReplyNotAllowed = 0x02;
constexpr std::uint8_t kReplyCommandNotSupported = 0x07;
constexpr std::uint8_t kReplyAddressTypeNotSupported = 0x08;

std::uint8_t byte_at(std::string_view bytes, std::size_t i) { return static_cast<std::uint8_t>(bytes[i]); }

// The same byte set as the HTTP side's hosts: anything else could read
// differently to the policy check and to the resolver.
bool name_byte(std::uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

SocksRequest fail(std::uint8_t reply) {
  SocksRequest r;
  r.status = ParseStatus::Fail;
  r.reply = reply;
  return r;
}

std::string ipv4_text(std::string_view a) {
  std::string out;
  for (std::size_t i = 0; i < 4; ++i) {
    if (i > 0) out += '.';
    out += std::to_string(byte_at(a, i));
  }
  return out;
}

std::string ipv6_text(std::string_view a) {
  std::array<unsigned char, 16> raw{};
  for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = byte_at(a, i);
  std::array<char, INET6_ADDRSTRLEN> text{};
  // Cannot fail for AF_INET6 with a buffer of INET6_ADDRSTRLEN.
  if (inet_ntop(AF_INET6, raw.data(), text.data(), text.size()) == nullptr) return {};
  return "[" + std::string(text.data()) + "]";
}

}  // namespace

SocksGreeting parse_socks_greeting(std::string_view bytes) {
  SocksGreeting g;
  if (bytes.empty()) return g;
  if (byte_at(bytes, 0) != kVersion) {
    g.status = ParseStatus::Fail;
    return g;
  }
  if (bytes.size() < 2) return g;
  const std::size_t methods = byte_at(bytes, 1);
  if (methods == 0) {
    g.status = ParseStatus::Fail;
    return g;
  }
  if (bytes.size() < 2 + methods) return g;
  for (std::size_t i = 2; i < 2 + methods; ++i) {
    if (byte_at(bytes, i) == 0x00) g.no_auth_offered = true;
  }
  g.status = ParseStatus::Done;
  g.consumed = 2 + methods;
  return g;
}

SocksRequest parse_socks_request(std::string_view bytes) {
  // Each byte is judged as soon as it is present, in order, so a prefix of
  // an invalid request is NeedMore only while it could still become valid.
  SocksRequest need_more;
  if (bytes.size() < 1) return need_more;
  if (byte_at(bytes, 0) != kVersion) return fail(0);
  if (bytes.size() < 2) return need_more;
  if (byte_at(bytes, 1) != kConnect) return fail(kReplyCommandNotSupported);
  if (bytes.size() < 3) return need_more;
  if (byte_at(bytes, 2) != 0x00) return fail(0);
  if (bytes.size() < 4) return need_more;

  const std::uint8_t atyp = byte_at(bytes, 3);
  std::size_t address_at = 4;
  std::size_t address_size = 0;
  switch (atyp) {
    case kAtypIpv4:
      address_size = 4;
      break;
    case kAtypIpv6:
      address_size = 16;
      break;
    case kAtypName: {
      if (bytes.size() < 5) return need_more;
      address_size = byte_at(bytes, 4);
      if (address_size == 0) return fail(kReplyNotAllowed);
      address_at = 5;
      const std::size_t present = std::min(bytes.size(), address_at + address_size);
      for (std::size_t i = address_at; i < present; ++i) {
        if (!name_byte(byte_at(bytes, i))) return fail(kReplyNotAllowed);
      }
      break;
    }
    default:
      return fail(kReplyAddressTypeNotSupported);
  }

  const std::size_t port_at = address_at + address_size;
  if (bytes.size() < port_at + 2) return need_more;
  const auto port = static_cast<std::uint16_t>((byte_at(bytes, port_at) << 8) | byte_at(bytes, port_at + 1));
  if (port == 0) return fail(kReplyNotAllowed);

  SocksRequest r;
  r.status = ParseStatus::Done;
  r.consumed = port_at + 2;
  r.port = port;
  const std::string_view address = bytes.substr(address_at, address_size);
  switch (atyp) {
    case kAtypIpv4:
      r.host = ipv4_text(address);
      break;
    case kAtypIpv6:
      r.host = ipv6_text(address);
      if (r.host.empty()) return fail(kReplyGeneralFailure);
      break;
    default:
      r.is_name = true;
      r.host = std::string(address);
      break;
  }
  return r;
}

std::string socks_reply(std::uint8_t code) {
  std::string reply(10, '\0');
  reply[0] = static_cast<char>(kVersion);
  reply[1] = static_cast<char>(code);
  reply[3] = static_cast<char>(kAtypIpv4);
  return reply;
}

std::string socks_method_reply(bool no_auth_offered) {
  return std::string{static_cast<char>(kVersion), static_cast<char>(no_auth_offered ? 0x00 : 0xff)};
}

}  // namespace sbpolicy::proxy
