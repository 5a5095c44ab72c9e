// The ClientHello at the start of a tunnel: SNI and ECH found in hellos
// built here field by field (and one captured from OpenSSL), hellos split
// over records at every point, NeedMore for every proper prefix, and every
// way the lengths, the records or the server_name can be wrong.
#include "proxy/client_hello.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sbpolicy::proxy {
namespace {

using namespace std::string_literals;
using Status = ClientHelloInfo::Status;

std::string u8(std::size_t v) { return std::string(1, static_cast<char>(v & 0xff)); }
std::string u16(std::size_t v) { return u8(v >> 8) + u8(v); }
std::string u24(std::size_t v) { return u8(v >> 16) + u16(v & 0xffff); }

struct Extension {
  std::uint16_t type = 0;
  std::string data;
};

Extension server_name(const std::string& host) {
  return {0x0000, u16(host.size() + 3) + u8(0) + u16(host.size()) + host};
}
Extension alpn() { return {0x0010, u16(12) + u8(2) + "h2" + u8(8) + "http/1.1"}; }
Extension supported_versions() { return {0x002b, u8(4) + "\x03\x04\x03\x03"s}; }
Extension supported_groups() { return {0x000a, u16(4) + "\x00\x1d\x00\x17"s}; }
Extension key_share() { return {0x0033, u16(36) + u16(0x001d) + u16(32) + std::string(32, 'k')}; }
// ECHClientHello, outer form (draft-ietf-tls-esni): type 0, HPKE suite,
// config id, enc, payload.
Extension ech() {
  return {0xfe0d, u8(0) + u16(0x0001) + u16(0x0001) + u8(0x2a) + u16(32) + std::string(32, 'e') + u16(64) +
                      std::string(64, 'p')};
}

// The fields of a ClientHello body, each spelled out so a test can get one wrong.
struct Hello {
  std::string version = "\x03\x03"s;
  std::string random = std::string(32, 'r');
  std::string session_id = std::string(32, 's');
  std::string suites = "\x13\x01\x13\x02\x13\x03\xc0\x2f"s;
  std::string compressions = "\x00"s;
  bool has_extensions = true;
  std::vector<Extension> extensions = {server_name("registry.pkgs.test"), alpn(), supported_versions(),
                                       supported_groups(), key_share()};
  int extensions_size_delta = 0;  // added to the extensions block's length field

  std::string body() const {
    std::string b = version + random + u8(session_id.size()) + session_id + u16(suites.size()) + suites +
                    u8(compressions.size()) + compressions;
    if (!has_extensions) return b;
    std::string block;
    for (const Extension& e : extensions) block += u16(e.type) + u16(e.data.size()) + e.data;
    return b + u16(block.size() + extensions_size_delta) + block;
  }
  // The handshake message: type, 24-bit length, body.
  std::string message(int length_delta = 0, std::uint8_t type = 1) const {
    const std::string b = body();
    return u8(type) + u24(b.size() + length_delta) + b;
  }
};

std::string record(const std::string& payload, std::uint8_t type = 22, const std::string& version = "\x03\x01"s) {
  return u8(type) + version + u16(payload.size()) + payload;
}

// The message cut into records at the given offsets.
std::string records(const std::string& message, const std::vector<std::size_t>& cuts) {
  std::string out;
  std::size_t from = 0;
  for (std::size_t cut : cuts) {
    out += record(message.substr(from, cut - from));
    from = cut;
  }
  return out + record(message.substr(from));
}

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

// Captured on the dev machine with OpenSSL 3.0.22: a Python listener on
// 127.0.0.1 that accepted one connection and wrote the bytes it received to a
// file, and `openssl s_client -connect 127.0.0.1:PORT -servername
// registry.pkgs.test </dev/null`. One record, TLS 1.3 with 1.2 fallback, SNI,
// ec_point_formats, supported_groups, session_ticket, encrypt_then_mac,
// extended_master_secret, signature_algorithms, supported_versions,
// psk_key_exchange_modes, key_share (x25519).
const std::string kOpenSslHello = from_hex(
    "160301013f0100013b0303b5fbf64bd5c32bc53cf215275820ce4e0009eeaaa36ac98731eed507553b6e5f20b85fd479"
    "7a7945624c92d0458f37d01b0abd24994e0b7b9826f92c3f4eb912ce003e130213031301c02cc030009fcca9cca8ccaa"
    "c02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff010000b4"
    "00000017001500001272656769737472792e706b67732e74657374000b000403000102000a00160014001d0017001e00"
    "19001801000101010201030104002300000016000000170000000d002a0028040305030603080708080809080a080b08"
    "0408050806040105010601030303010302040205020602002b0009080304030303020301002d00020101003300260024"
    "001d00202c3a634b54d949a55440135fb5d640fabdd0ff0c5f08d186e7d4427f5cb57368");

const char* name(Status s) {
  switch (s) {
    case Status::NeedMore:
      return "NeedMore";
    case Status::NotTls:
      return "NotTls";
    case Status::Malformed:
      return "Malformed";
    case Status::Ok:
      return "Ok";
  }
  return "?";
}

Status status(const std::string& bytes, std::size_t limit = 16384) { return parse_client_hello(bytes, limit).status; }

// Parses a complete hello and checks that every proper prefix needs more.
ClientHelloInfo parse_complete(const std::string& bytes, std::size_t limit = 16384) {
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const Status s = status(bytes.substr(0, n), limit);
    if (s != Status::NeedMore) {
      ADD_FAILURE() << "prefix of " << n << " of " << bytes.size() << " bytes: " << name(s);
      break;
    }
  }
  const ClientHelloInfo info = parse_client_hello(bytes, limit);
  EXPECT_STREQ(name(info.status), "Ok");
  return info;
}

// Expects `bytes` to be malformed, and its prefixes NeedMore up to some
// length and malformed from there on (never a different answer).
void expect_malformed(const std::string& bytes, std::size_t limit = 16384) {
  EXPECT_STREQ(name(status(bytes, limit)), "Malformed");
  bool final = false;
  for (std::size_t n = 0; n <= bytes.size(); ++n) {
    const Status s = status(bytes.substr(0, n), limit);
    if (final || s != Status::NeedMore) {
      final = true;
      if (s != Status::Malformed) {
        ADD_FAILURE() << "prefix of " << n << " bytes: " << name(s);
        break;
      }
    }
  }
}

TEST(ClientHelloParse, BuiltHelloWithSni) {
  const Hello h;
  const ClientHelloInfo info = parse_complete(records(h.message(), {}));
  ASSERT_TRUE(info.sni.has_value());
  EXPECT_EQ(*info.sni, "registry.pkgs.test");
  EXPECT_FALSE(info.has_ech);
}

TEST(ClientHelloParse, CapturedOpenSslHello) {
  const ClientHelloInfo info = parse_complete(kOpenSslHello);
  ASSERT_TRUE(info.sni.has_value());
  EXPECT_EQ(*info.sni, "registry.pkgs.test");
  EXPECT_FALSE(info.has_ech);
}

TEST(ClientHelloParse, EncryptedClientHelloIsReported) {
  Hello h;
  h.extensions = {server_name("public.cdn.test"), supported_versions(), key_share(), ech()};
  const ClientHelloInfo info = parse_complete(records(h.message(), {}));
  EXPECT_TRUE(info.has_ech);
  ASSERT_TRUE(info.sni.has_value());
  EXPECT_EQ(*info.sni, "public.cdn.test");
  // ECH without any SNI at all.
  h.extensions = {ech()};
  const ClientHelloInfo bare = parse_complete(records(h.message(), {}));
  EXPECT_TRUE(bare.has_ech);
  EXPECT_FALSE(bare.sni.has_value());
  // The draft ESNI extension ECH replaced hides the name as well.
  h.extensions = {server_name("public.cdn.test"), {0xffce, std::string(40, 'e')}};
  EXPECT_TRUE(parse_complete(records(h.message(), {})).has_ech);
}

TEST(ClientHelloParse, NamesAreReturnedAsSent) {
  Hello h;
  for (const std::string& host :
       {"Registry.PKGS.Test"s, "pkgs.test."s, "a"s, "127.0.0.1"s, "a%b!~"s, std::string(255, 'x')}) {
    h.extensions = {server_name(host)};
    const ClientHelloInfo info = parse_complete(records(h.message(), {}));
    ASSERT_TRUE(info.sni.has_value());
    EXPECT_EQ(*info.sni, host);
  }
}

TEST(ClientHelloParse, NoServerName) {
  Hello h;
  h.has_extensions = false;  // TLS 1.2 allows a hello without extensions
  EXPECT_FALSE(parse_complete(records(h.message(), {})).sni.has_value());
  h.has_extensions = true;
  h.extensions = {};
  EXPECT_FALSE(parse_complete(records(h.message(), {})).sni.has_value());
  h.extensions = {alpn(), supported_versions(), key_share()};
  EXPECT_FALSE(parse_complete(records(h.message(), {})).sni.has_value());
  // An empty session id, as TLS 1.2 clients send.
  h.session_id.clear();
  EXPECT_EQ(parse_complete(records(h.message(), {})).status, Status::Ok);
}

TEST(ClientHelloParse, SplitOverTwoRecordsAtEveryPoint) {
  const std::string message = Hello{}.message();
  for (std::size_t cut = 1; cut < message.size(); ++cut) {
    const ClientHelloInfo info = parse_client_hello(records(message, {cut}));
    ASSERT_EQ(info.status, Status::Ok) << "cut at " << cut;
    EXPECT_EQ(info.sni.value_or(""), "registry.pkgs.test");
  }
  // Cut inside the handshake header and inside the name; every prefix too.
  parse_complete(records(message, {1}));
  parse_complete(records(message, {3}));
  parse_complete(records(message, {message.find("pkgs")}));
}

TEST(ClientHelloParse, SplitOverThreeRecords) {
  const std::string message = Hello{}.message();
  for (std::size_t a = 1; a < message.size(); a += 3) {
    for (std::size_t b = a + 1; b < message.size(); b += 5) {
      const ClientHelloInfo info = parse_client_hello(records(message, {a, b}));
      ASSERT_EQ(info.status, Status::Ok) << "cuts at " << a << ", " << b;
      EXPECT_EQ(info.sni.value_or(""), "registry.pkgs.test");
    }
  }
  parse_complete(records(message, {1, 2}));
  parse_complete(records(message, {2, message.size() - 1}));
  const std::size_t name_at = message.find("registry");
  const ClientHelloInfo info = parse_complete(records(message, {name_at + 2, name_at + 9}));
  EXPECT_EQ(info.sni.value_or(""), "registry.pkgs.test");
}

TEST(ClientHelloParse, BytesAfterTheHelloAreNotLookedAt) {
  const std::string hello = records(Hello{}.message(), {40});
  // TLS 1.3 middlebox compatibility: a ChangeCipherSpec record follows.
  EXPECT_EQ(status(hello + record("\x01"s, 20, "\x03\x03"s)), Status::Ok);
  EXPECT_EQ(status(hello + record("early data", 23, "\x03\x03"s)), Status::Ok);
  EXPECT_EQ(status(hello + "GET / HTTP/1.1\r\n"), Status::Ok);
  EXPECT_EQ(status(hello + "\x16"s), Status::Ok);
}

TEST(ClientHelloParse, RecordVersions) {
  const std::string message = Hello{}.message();
  // Any minor version, in the first record or the next.
  for (const std::string& version : {"\x03\x00"s, "\x03\x01"s, "\x03\x03"s, "\x03\x04"s}) {
    EXPECT_EQ(status(record(message.substr(0, 9), 22, version) + record(message.substr(9), 22, version)), Status::Ok);
  }
  // Major version 3 only; after the first record a wrong one is malformed.
  EXPECT_EQ(status(record(message, 22, "\x02\x00"s)), Status::NotTls);
  EXPECT_EQ(status(record(message, 22, "\x04\x00"s)), Status::NotTls);
  expect_malformed(record(message.substr(0, 9)) + record(message.substr(9), 22, "\x02\x00"s));
}

TEST(ClientHelloParse, OtherRecordTypesBeforeTheHelloEnds) {
  const std::string message = Hello{}.message();
  const std::string first = record(message.substr(0, 20));
  const std::string rest = record(message.substr(20));
  expect_malformed(first + record("\x01"s, 20) + rest);      // change_cipher_spec
  expect_malformed(first + record("\x02\x28"s, 21) + rest);  // alert
  expect_malformed(first + record("data", 23) + rest);       // application_data
  expect_malformed(first + "\x17"s);                         // known from its type byte
  expect_malformed(first + "GET / HTTP/1.1\r\n");
}

TEST(ClientHelloParse, RecordLengths) {
  // A record over 2^14+256 bytes is malformed from its header alone.
  EXPECT_EQ(status("\x16\x03\x01\x41\x01"s), Status::Malformed);
  EXPECT_EQ(status("\x16\x03\x01\xff\xff"s), Status::Malformed);
  // An empty handshake record is forbidden (RFC 8446 §5.1).
  EXPECT_EQ(status("\x16\x03\x01\x00\x00"s), Status::Malformed);
  const std::string message = Hello{}.message();
  expect_malformed(record(message.substr(0, 10)) + record("") + record(message.substr(10)));
  // 2^14+256 exactly is accepted when the limit allows a hello that big.
  Hello big;
  big.extensions.push_back({0x0015, ""});  // padding, sized to fill the record
  const std::size_t fill = 16640 - big.message().size();
  big.extensions.back().data = std::string(fill, '\0');
  ASSERT_EQ(big.message().size(), 16640u);
  EXPECT_EQ(status(record(big.message()), 1 << 16), Status::Ok);
  big.extensions.back().data += '\0';
  EXPECT_EQ(status(record(big.message()), 1 << 16), Status::Malformed);
  EXPECT_EQ(status(records(big.message(), {100}), 1 << 16), Status::Ok);
}

TEST(ClientHelloParse, RecordsMustEndWhereTheHelloEnds) {
  const Hello h;
  // More record than message: a second handshake message or stray bytes.
  expect_malformed(record(h.message() + "\x00"s));
  expect_malformed(record(h.message() + "\x14\x00\x00\x00"s));
  expect_malformed(records(h.message() + "junk", {50}));
  // The handshake length says less than the record carries.
  expect_malformed(record(h.message(-1)));
  // The handshake length says more than the records carry: wait for the
  // next record (here it holds an empty extensions block).
  Hello bare;
  bare.has_extensions = false;
  EXPECT_EQ(status(record(bare.message(2))), Status::NeedMore);
  parse_complete(record(bare.message(2)) + record("\x00\x00"s));
  // A handshake length the extensions block already contradicts.
  expect_malformed(record(h.message(1)));
  expect_malformed(record(h.message(1)) + record("\x00"s));
}

TEST(ClientHelloParse, TheLimit) {
  const std::string hello = records(Hello{}.message(), {});
  // The records fit exactly.
  parse_complete(hello, hello.size());
  // One byte over: malformed as soon as the record header says so.
  expect_malformed(hello, hello.size() - 1);
  EXPECT_EQ(status(hello.substr(0, 5), hello.size() - 1), Status::Malformed);
  // A handshake length that cannot fit with a record header, known from the
  // handshake header even when the first record is small.
  const std::size_t m = Hello{}.message().size();
  const std::string two = records(Hello{}.message(), {4});
  parse_complete(two, m + 10);
  expect_malformed(two, m + 4);
  EXPECT_EQ(status(two.substr(0, 9), m + 4), Status::Malformed);
  EXPECT_EQ(status(two.substr(0, 9), m + 5), Status::NeedMore);
  // The default limit: a 16 KiB hello does not fit with its record header.
  Hello big;
  big.extensions.push_back({0x0015, std::string(16384 - 4 - big.message().size(), '\0')});
  ASSERT_EQ(big.message().size(), 16384u);
  EXPECT_EQ(status(records(big.message(), {8000})), Status::Malformed);
  EXPECT_EQ(status(records(big.message(), {8000}), 16384 + 10), Status::Ok);
  // Still needing bytes at the limit: one-byte records never reach the
  // handshake length before the limit.
  std::string dribble;
  const std::string message = Hello{}.message();
  for (std::size_t i = 0; i < 3; ++i) dribble += record(message.substr(i, 1));
  EXPECT_EQ(status(dribble.substr(0, 12), 13), Status::NeedMore);
  EXPECT_EQ(status(dribble.substr(0, 12), 12), Status::Malformed);
  // Only the first `limit` bytes count, so a tiny limit cannot give two
  // answers for one input (found by the fuzzer).
  EXPECT_EQ(status("", 0), Status::Malformed);
  EXPECT_EQ(status("\x16"s, 1), Status::Malformed);
  EXPECT_EQ(status("\x16\xff"s, 1), Status::Malformed);
  EXPECT_EQ(status("\x16\xff"s, 2), Status::NotTls);
}

TEST(ClientHelloParse, DuplicateExtensions) {
  Hello h;
  h.extensions = {server_name("a.test"), alpn(), server_name("b.test")};
  expect_malformed(records(h.message(), {}));
  h.extensions = {server_name("a.test"), alpn(), alpn()};
  expect_malformed(records(h.message(), {}));
  h.extensions = {ech(), key_share(), ech()};
  expect_malformed(records(h.message(), {}));
  h.extensions = {{0x1234, ""}, {0x1234, ""}};
  expect_malformed(records(h.message(), {}));
}

TEST(ClientHelloParse, ServerNameShape) {
  Hello h;
  const auto with = [&](const std::string& data) {
    h.extensions = {alpn(), {0x0000, data}};
    return records(h.message(), {});
  };
  // Well formed, for reference.
  EXPECT_EQ(status(with(u16(9) + u8(0) + u16(6) + "a.test")), Status::Ok);
  // Two entries, even of the same name.
  expect_malformed(with(u16(18) + u8(0) + u16(6) + "a.test" + u8(0) + u16(6) + "b.test"));
  expect_malformed(with(u16(18) + u8(0) + u16(6) + "a.test" + u8(0) + u16(6) + "a.test"));
  // Name type other than host_name.
  expect_malformed(with(u16(9) + u8(1) + u16(6) + "a.test"));
  // Empty list, empty extension, empty name.
  expect_malformed(with(u16(0)));
  expect_malformed(with(""));
  expect_malformed(with(u16(3) + u8(0) + u16(0)));
  // List length and name length disagreeing with the extension.
  expect_malformed(with(u16(10) + u8(0) + u16(6) + "a.test"));
  expect_malformed(with(u16(8) + u8(0) + u16(6) + "a.test"));
  expect_malformed(with(u16(9) + u8(0) + u16(7) + "a.test"));
  expect_malformed(with(u16(9) + u8(0) + u16(5) + "a.test"));
  expect_malformed(with(u16(9) + u8(0) + u16(6) + "a.tes"));
  // Over 255 bytes.
  const std::string long_name(256, 'x');
  expect_malformed(with(u16(259) + u8(0) + u16(256) + long_name));
}

TEST(ClientHelloParse, ServerNameBytes) {
  Hello h;
  for (const std::string& bad :
       {"evil.test\0.pkgs.test"s, "a b"s, "a\tb"s, "a\x7f"s, "b\xc3\xbc.test"s, "\x80"s, "\xff"s, "\x01"s, " "s}) {
    h.extensions = {server_name(bad)};
    expect_malformed(records(h.message(), {}));
  }
}

TEST(ClientHelloParse, MalformedBodies) {
  const auto malformed = [](const Hello& h) { expect_malformed(records(h.message(), {})); };
  Hello h;
  h.version = "\x02\x00"s;
  malformed(h);
  h = Hello{};
  h.session_id = std::string(33, 's');
  malformed(h);
  h = Hello{};
  h.suites = "\x13"s;
  malformed(h);
  h.suites = "";
  malformed(h);
  h = Hello{};
  h.compressions = "";
  malformed(h);
  h = Hello{};
  h.extensions_size_delta = 1;
  malformed(h);
  h.extensions_size_delta = -1;
  malformed(h);
  // An extension longer than the block.
  h = Hello{};
  h.extensions = {alpn()};
  std::string message = h.message();
  message[message.size() - alpn().data.size() - 1] += 1;
  expect_malformed(record(message));
  // A handshake body too short to hold its fields.
  const std::string fields = Hello{}.body().substr(0, 40);
  expect_malformed(record(u8(1) + u24(fields.size()) + fields));
  // Handshake types other than ClientHello, known from the first byte.
  expect_malformed(record(Hello{}.message(0, 2)));
  EXPECT_EQ(status("\x16\x03\x01\x00\x10\x02"s), Status::Malformed);
  expect_malformed(record(Hello{}.message(0, 0)));
}

TEST(ClientHelloParse, NotTls) {
  EXPECT_EQ(status("GET / HTTP/1.1\r\nHost: registry.pkgs.test\r\n\r\n"), Status::NotTls);
  EXPECT_EQ(status("SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n"), Status::NotTls);
  EXPECT_EQ(status("G"), Status::NotTls);
  // An SSLv2-compatible hello.
  EXPECT_EQ(status("\x80\x2e\x01\x00\x02"s), Status::NotTls);
  EXPECT_EQ(status("\x16\x02"s), Status::NotTls);
  EXPECT_EQ(status("\x16\x00\x01"s), Status::NotTls);
  EXPECT_EQ(status("\x17\x03\x03\x00\x05hello"s), Status::NotTls);
  EXPECT_EQ(status(""), Status::NeedMore);
  EXPECT_EQ(status("\x16"s), Status::NeedMore);
  EXPECT_EQ(status("\x16\x03"s), Status::NeedMore);
}

}  // namespace
}  // namespace sbpolicy::proxy
