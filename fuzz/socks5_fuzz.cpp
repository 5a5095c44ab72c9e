// Fuzz target: the SOCKS5 greeting and request parsers on arbitrary bytes.
//
// Beyond "no crash", it checks what the proxy relies on when it parses again
// after every read: the results for the prefixes of an input are NeedMore up
// to some length and one fixed answer from there on (so a Done message has
// only NeedMore prefixes, and a Fail never turns into Done); `consumed`
// never passes the input; a name contains only [A-Za-z0-9._-] and is the
// bytes sent; an address prints back to the bytes sent. A violation aborts,
// which libFuzzer reports as a crash with the input.
#include <arpa/inet.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "proxy/socks5.hpp"

using namespace sbpolicy::proxy;

namespace {

[[noreturn]] void fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "%s (input of %zu bytes)\n", what, input.size());
  std::abort();
}

bool allowed_name_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

bool same(const SocksGreeting& a, const SocksGreeting& b) {
  return a.status == b.status && a.consumed == b.consumed && a.no_auth_offered == b.no_auth_offered;
}

bool same(const SocksRequest& a, const SocksRequest& b) {
  return a.status == b.status && a.consumed == b.consumed && a.reply == b.reply && a.is_name == b.is_name &&
         a.host == b.host && a.port == b.port;
}

// NeedMore for every prefix up to some length, then the answer for the
// whole input for every longer prefix.
template <typename Parse>
void check_prefixes(std::string_view input, Parse parse) {
  const auto whole = parse(input);
  bool final = false;
  for (std::size_t n = 0; n <= input.size(); ++n) {
    const auto r = parse(input.substr(0, n));
    if (!final && r.status == ParseStatus::NeedMore) continue;
    final = true;
    if (!same(r, whole)) fail("a prefix's answer differs from the answer for the whole input", input);
  }
  if (whole.status == ParseStatus::NeedMore && final) fail("NeedMore after an answer", input);
  if (whole.status == ParseStatus::Done && (whole.consumed == 0 || whole.consumed > input.size())) {
    fail("consumed out of range", input);
  }
  if (whole.status == ParseStatus::Done && parse(input.substr(0, whole.consumed)).status != ParseStatus::Done) {
    fail("the consumed bytes alone are not the message", input);
  }
}

void check_greeting(std::string_view input) {
  check_prefixes(input, parse_socks_greeting);
  const SocksGreeting g = parse_socks_greeting(input);
  if (g.status != ParseStatus::Done) return;
  const auto methods = static_cast<std::uint8_t>(input[1]);
  if (input[0] != 0x05 || methods == 0 || g.consumed != 2u + methods) fail("greeting accepted wrongly", input);
  const bool offered = input.substr(2, methods).find('\0') != std::string_view::npos;
  if (offered != g.no_auth_offered) fail("no_auth_offered is wrong", input);
  if (socks_method_reply(g.no_auth_offered).size() != 2) fail("method reply size", input);
}

void check_request(std::string_view input) {
  check_prefixes(input, parse_socks_request);
  const SocksRequest r = parse_socks_request(input);
  if (r.status == ParseStatus::Fail) {
    if (r.reply != 0 && r.reply != 0x01 && r.reply != 0x02 && r.reply != 0x07 && r.reply != 0x08) {
      fail("unexpected reply code", input);
    }
    if (socks_reply(r.reply).size() != 10) fail("reply size", input);
    return;
  }
  if (r.status != ParseStatus::Done) return;
  if (input.substr(0, 3) != std::string_view("\x05\x01\x00", 3)) fail("request accepted with a bad header", input);
  if (r.port == 0) fail("port 0 accepted", input);
  const std::size_t port_at = r.consumed - 2;
  if (r.port != ((static_cast<std::uint8_t>(input[port_at]) << 8) | static_cast<std::uint8_t>(input[port_at + 1]))) {
    fail("port is not the bytes sent", input);
  }
  const auto atyp = static_cast<std::uint8_t>(input[3]);
  if (r.is_name) {
    if (atyp != 3 || r.host.empty() || r.host.size() > 255) fail("name of a bad length or type", input);
    for (char c : r.host) {
      if (!allowed_name_byte(c)) fail("name with a byte outside [A-Za-z0-9._-]", input);
    }
    if (r.host != input.substr(5, r.host.size()) || r.consumed != 5 + r.host.size() + 2) {
      fail("name is not the bytes sent", input);
    }
    return;
  }
  std::array<unsigned char, 16> back{};
  if (atyp == 1) {
    if (r.consumed != 10 || inet_pton(AF_INET, r.host.c_str(), back.data()) != 1 ||
        std::memcmp(back.data(), input.data() + 4, 4) != 0) {
      fail("IPv4 address does not print back to the bytes sent", input);
    }
  } else if (atyp == 4) {
    if (r.consumed != 22 || r.host.size() < 4 || r.host.front() != '[' || r.host.back() != ']') {
      fail("IPv6 address not in brackets", input);
    }
    const std::string inner = r.host.substr(1, r.host.size() - 2);
    if (inet_pton(AF_INET6, inner.c_str(), back.data()) != 1 || std::memcmp(back.data(), input.data() + 4, 16) != 0) {
      fail("IPv6 address does not print back to the bytes sent", input);
    }
  } else {
    fail("Done with an unknown address type", input);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_greeting(input);
  check_request(input);
  // As the proxy reads them: a greeting, then the request after it.
  const SocksGreeting g = parse_socks_greeting(input);
  if (g.status == ParseStatus::Done) check_request(input.substr(g.consumed));
  return 0;
}
