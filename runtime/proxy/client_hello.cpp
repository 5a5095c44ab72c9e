#include "proxy/client_hello.hpp"

#include <algorithm>
#include <bitset>
#include <cstdint>

namespace sbpolicy::proxy {

namespace {

using Status = ClientHelloInfo::Status;

constexpr std::uint8_t kHandshakeRecord = 22;
constexpr std::uint8_t kMajorVersion = 3;
constexpr std::size_t kRecordHeader = 5;
constexpr std::size_t kMaxRecordPayload = (std::size_t{1} << 14) + 256;

constexpr std::uint8_t kClientHelloType = 1;
constexpr std::size_t kHandshakeHeader = 4;
constexpr std::size_t kRandom = 32;
constexpr std::size_t kMaxSessionId = 32;

constexpr std::size_t kServerNameExtension = 0x0000;
constexpr std::size_t kEchExtension = 0xfe0d;
constexpr std::size_t kEsniExtension = 0xffce;  // the draft ESNI that ECH replaced: it hides the name too
constexpr std::size_t kHostNameType = 0;
constexpr std::size_t kMaxHostName = 255;

std::uint8_t byte_at(std::string_view bytes, std::size_t i) { return static_cast<std::uint8_t>(bytes[i]); }

// Reads the handshake bytes present so far. Every read names the end of the
// structure that encloses it (a declared length): reading past that end means
// the lengths do not add up (Malformed); reading past the bytes present means
// the rest has not arrived yet (NeedMore). The first check wins, so a length
// that overruns its parent is caught before its bytes arrive.
class Reader {
 public:
  explicit Reader(std::string_view present) : present_(present) {}

  std::size_t pos() const { return pos_; }
  // Why the last read returned false.
  Status why() const { return why_; }

  bool number(std::size_t width, std::size_t end, std::size_t& out) {
    if (!reach(width, end)) return false;
    out = 0;
    for (std::size_t i = 0; i < width; ++i) out = (out << 8) | byte_at(present_, pos_ + i);
    pos_ += width;
    return true;
  }

  bool take(std::size_t n, std::size_t end, std::string_view& out) {
    if (!reach(n, end)) return false;
    out = present_.substr(pos_, n);
    pos_ += n;
    return true;
  }

  bool skip(std::size_t n, std::size_t end) {
    std::string_view ignored;
    return take(n, end, ignored);
  }

 private:
  bool reach(std::size_t n, std::size_t end) {
    if (pos_ > end || n > end - pos_) {
      why_ = Status::Malformed;
      return false;
    }
    if (n > present_.size() - pos_) {
      why_ = Status::NeedMore;
      return false;
    }
    return true;
  }

  std::string_view present_;
  std::size_t pos_ = 0;
  Status why_ = Status::NeedMore;
};

ClientHelloInfo only(Status status) {
  ClientHelloInfo info;
  info.status = status;
  return info;
}

bool host_name_byte(std::uint8_t c) { return c >= 0x21 && c < 0x7f; }

// server_name extension data: ServerNameList with exactly one host_name.
Status read_server_name(Reader& r, std::size_t end, std::optional<std::string>& sni) {
  std::size_t list_size = 0, name_type = 0, name_size = 0;
  if (!r.number(2, end, list_size)) return r.why();
  if (list_size == 0 || list_size != end - r.pos()) return Status::Malformed;
  if (!r.number(1, end, name_type)) return r.why();
  if (name_type != kHostNameType) return Status::Malformed;
  if (!r.number(2, end, name_size)) return r.why();
  if (name_size == 0 || name_size > kMaxHostName) return Status::Malformed;
  std::string_view name;
  if (!r.take(name_size, end, name)) return r.why();
  if (!std::all_of(name.begin(), name.end(), [](char c) { return host_name_byte(static_cast<std::uint8_t>(c)); })) {
    return Status::Malformed;
  }
  if (r.pos() != end) return Status::Malformed;  // a second entry
  sni = std::string(name);
  return Status::Ok;
}

// The handshake message gathered from the records, checked in byte order.
ClientHelloInfo read_client_hello(std::string_view handshake) {
  Reader r(handshake);
  std::size_t type = 0, body_size = 0;
  if (!r.number(1, kHandshakeHeader, type)) return only(r.why());
  if (type != kClientHelloType) return only(Status::Malformed);
  if (!r.number(3, kHandshakeHeader, body_size)) return only(r.why());
  const std::size_t end = kHandshakeHeader + body_size;

  std::size_t version = 0, session_id = 0, suites = 0, compressions = 0;
  if (!r.number(2, end, version)) return only(r.why());
  if ((version >> 8) != kMajorVersion) return only(Status::Malformed);
  if (!r.skip(kRandom, end)) return only(r.why());
  if (!r.number(1, end, session_id)) return only(r.why());
  if (session_id > kMaxSessionId) return only(Status::Malformed);
  if (!r.skip(session_id, end)) return only(r.why());
  if (!r.number(2, end, suites)) return only(r.why());
  if (suites == 0 || suites % 2 != 0) return only(Status::Malformed);
  if (!r.skip(suites, end)) return only(r.why());
  if (!r.number(1, end, compressions)) return only(r.why());
  if (compressions == 0) return only(Status::Malformed);
  if (!r.skip(compressions, end)) return only(r.why());

  ClientHelloInfo info;
  info.status = Status::Ok;
  if (r.pos() == end) return info;  // no extensions at all (TLS 1.2 allows it)

  std::size_t extensions_size = 0;
  if (!r.number(2, end, extensions_size)) return only(r.why());
  if (extensions_size != end - r.pos()) return only(Status::Malformed);
  std::bitset<65536> seen;
  while (r.pos() < end) {
    std::size_t ext_type = 0, ext_size = 0;
    if (!r.number(2, end, ext_type)) return only(r.why());
    if (seen.test(ext_type)) return only(Status::Malformed);
    seen.set(ext_type);
    if (!r.number(2, end, ext_size)) return only(r.why());
    if (ext_size > end - r.pos()) return only(Status::Malformed);
    const std::size_t ext_end = r.pos() + ext_size;
    if (ext_type == kServerNameExtension) {
      if (Status s = read_server_name(r, ext_end, info.sni); s != Status::Ok) return only(s);
    } else {
      if (ext_type == kEchExtension || ext_type == kEsniExtension) info.has_ech = true;
      if (!r.skip(ext_size, ext_end)) return only(r.why());
    }
  }
  return info;
}

}  // namespace

ClientHelloInfo parse_client_hello(std::string_view bytes, std::size_t limit) {
  // The answer depends on the first `limit` bytes only, so that it is the
  // same for every longer input (even the first two bytes, for a limit < 2).
  bytes = bytes.substr(0, limit);
  // Join the payloads of the handshake records until they hold the whole
  // ClientHello; every record header is checked as its bytes arrive.
  std::string handshake;
  std::size_t declared = 0;      // handshake bytes the record headers so far promise
  std::size_t message_size = 0;  // 4 + the handshake length, once known
  std::size_t pos = 0;
  while (pos < bytes.size() && (message_size == 0 || handshake.size() < message_size)) {
    const Status wrong = pos == 0 ? Status::NotTls : Status::Malformed;
    const std::size_t present = std::min(kRecordHeader, bytes.size() - pos);
    if (byte_at(bytes, pos) != kHandshakeRecord) return only(wrong);
    if (present >= 2 && byte_at(bytes, pos + 1) != kMajorVersion) return only(wrong);
    if (present < kRecordHeader) break;
    const std::size_t length = (std::size_t{byte_at(bytes, pos + 3)} << 8) | byte_at(bytes, pos + 4);
    if (length == 0 || length > kMaxRecordPayload) return only(Status::Malformed);
    declared += length;
    const std::size_t payload_at = pos + kRecordHeader;
    handshake.append(bytes.substr(payload_at, std::min(length, bytes.size() - payload_at)));
    pos = payload_at + length;
    // The caller reads at most `limit` bytes: a record that ends past them
    // can never be complete, so say so now rather than when they are read.
    if (pos > limit) return only(Status::Malformed);
    if (message_size == 0 && handshake.size() >= kHandshakeHeader) {
      message_size = kHandshakeHeader + ((std::size_t{byte_at(handshake, 1)} << 16) |
                                         (std::size_t{byte_at(handshake, 2)} << 8) | byte_at(handshake, 3));
      if (message_size > limit - std::min(limit, kRecordHeader)) return only(Status::Malformed);
    }
    // The ClientHello must end where a record ends: anything after it in a
    // record would be a second handshake message in the same flight.
    if (message_size != 0 && declared > message_size) return only(Status::Malformed);
  }

  ClientHelloInfo info = read_client_hello(handshake);
  if (info.status == Status::NeedMore && bytes.size() >= limit) return only(Status::Malformed);
  return info;
}

}  // namespace sbpolicy::proxy
