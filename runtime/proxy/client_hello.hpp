// The TLS ClientHello at the start of a CONNECT tunnel: which name the
// client is really talking to.
//
// A policy allows `CONNECT registry.pkgs.test:443`, but what flows through
// the tunnel is up to the client; its TLS ClientHello names the server it
// wants in the server_name extension (SNI), and a CDN front routes on that
// name, not on the address we dialled. So the proxy reads the first bytes of
// the tunnel, checks SNI == the CONNECT host, and refuses Encrypted Client
// Hello (ECH), whose outer SNI is only a public name and whose real one is
// sealed. Those bytes come from a hostile client, so the parser is strict
// and never guesses:
//  - records (RFC 8446 §5.1): type 22 (handshake) with major version 3; a
//    ClientHello may be split over several records, whose payloads are
//    joined in order; a record of another type before the ClientHello is
//    complete, an empty handshake record (forbidden by RFC 5246 §6.2.1 and
//    RFC 8446 §5.1), a record over 2^14+256 bytes, and records that do not
//    end where the ClientHello ends are malformed;
//  - the handshake message (RFC 8446 §4.1.2): type 1, every length checked
//    against the length that encloses it, the extensions exactly filling
//    what is left, no extension twice;
//  - server_name (RFC 6066 §3): exactly one entry, of type host_name, 1 to
//    255 bytes of printable ASCII without space (the caller compares it
//    with the CONNECT host).
// Checks run in byte order and only on bytes that are present, so a prefix
// gives NeedMore or already the final answer: the caller can parse again
// after every read, up to `limit` bytes. The records that carry the
// ClientHello, headers included, must fit in those `limit` bytes; a header
// that promises more is malformed as soon as it arrives. Bytes after the
// record that ends the ClientHello (a ChangeCipherSpec, early data) are not
// looked at.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sbpolicy::proxy {

struct ClientHelloInfo {
  enum class Status { NeedMore, NotTls, Malformed, Ok };
  Status status = Status::NeedMore;
  // The rest is only set when Ok.
  std::optional<std::string> sni;  // the host_name of the server_name extension, bytes as sent
  bool has_ech = false;            // encrypted_client_hello (0xfe0d) or draft ESNI (0xffce) is present
};

// `bytes` are the first bytes of the tunnel. NotTls when the first byte is
// not 0x16 (handshake record) or the record's major version is not 3.
// NeedMore until the whole ClientHello (handshake type 1) is present, or
// Malformed when it cannot be a valid ClientHello (see above), when its
// records would end past `limit` bytes (so a handshake message over
// `limit - 5` bytes is malformed), or when bytes are still needed and
// `bytes.size() >= limit`. Only the first `limit` bytes are looked at. For
// every input, the results for its prefixes are NeedMore up to some length
// and one fixed answer from there on.
ClientHelloInfo parse_client_hello(std::string_view bytes, std::size_t limit = 16384);

}  // namespace sbpolicy::proxy
