// Fuzz target: the TLS ClientHello parser on arbitrary bytes.
//
// Beyond "no crash", it checks what the proxy relies on when it parses again
// after every read: the results for the prefixes of an input are NeedMore up
// to some length and one fixed answer from there on (so an Ok hello has only
// NeedMore prefixes before it, and Malformed never turns into Ok); a smaller
// limit only ever turns an answer into Malformed, and never leaves NeedMore
// once the input reaches it; an SNI is 1 to 255 printable ASCII bytes. A
// violation aborts, which libFuzzer reports as a crash with the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "proxy/client_hello.hpp"

using namespace sbpolicy::proxy;
using Status = ClientHelloInfo::Status;

namespace {

[[noreturn]] void fail(const char* what, std::string_view input, std::size_t limit) {
  std::fprintf(stderr, "%s (input of %zu bytes, limit %zu)\n", what, input.size(), limit);
  std::abort();
}

bool same(const ClientHelloInfo& a, const ClientHelloInfo& b) {
  return a.status == b.status && a.sni == b.sni && a.has_ech == b.has_ech;
}

void check_prefixes(std::string_view input, std::size_t limit) {
  const ClientHelloInfo whole = parse_client_hello(input, limit);
  bool final = false;
  for (std::size_t n = 0; n <= input.size(); ++n) {
    const ClientHelloInfo r = parse_client_hello(input.substr(0, n), limit);
    if (r.status == Status::NeedMore && n >= limit) fail("NeedMore at the limit", input, limit);
    if (!final && r.status == Status::NeedMore) continue;
    final = true;
    if (!same(r, whole)) fail("a prefix's answer differs from the answer for the whole input", input, limit);
  }
}

void check_answer(const ClientHelloInfo& info, std::string_view input, std::size_t limit) {
  if (info.status != Status::Ok && (info.sni || info.has_ech)) fail("fields set without Ok", input, limit);
  if (info.status == Status::NotTls && !input.empty() && input[0] == 0x16 && (input.size() < 2 || input[1] == 0x03)) {
    fail("NotTls for a handshake record of version 3", input, limit);
  }
  if (!info.sni) return;
  if (info.sni->empty() || info.sni->size() > 255) fail("SNI of a bad length", input, limit);
  for (char c : *info.sni) {
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) >= 0x7f) {
      fail("SNI with a byte outside printable ASCII", input, limit);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const ClientHelloInfo whole = parse_client_hello(input);
  check_answer(whole, input, 16384);
  check_prefixes(input, 16384);

  // A limit somewhere inside the input: the same answer or Malformed.
  // The last two bytes choose it: after a hello they are bytes it ignores.
  if (size >= 2) {
    const std::size_t room = (size < 16384 ? size : 16384) + 1;
    const std::size_t limit = ((std::size_t{data[size - 2]} << 8) | data[size - 1]) % room;
    const ClientHelloInfo limited = parse_client_hello(input, limit);
    check_answer(limited, input, limit);
    if (limited.status != Status::Malformed && !same(limited, whole)) {
      fail("a smaller limit changed the answer to something other than Malformed", input, limit);
    }
    check_prefixes(input, limit);
  }
  return 0;
}
