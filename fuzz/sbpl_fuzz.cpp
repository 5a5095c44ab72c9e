// Fuzz target: the SBPL evaluator (compiler/sbpl) on arbitrary profile text.
//
// Any input must load or be refused with a message, never crash, hang or
// leak; a profile that loads answers questions of every kind, or refuses
// them with a message. A few parameters are defined, so that `param` forms
// reach both paths.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "sbpl/profile.hpp"

using namespace sbpolicy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::map<std::string, std::string> params = {
      {"HOME", "/Users/u"}, {"WRITABLE_ROOT_0", "/Users/u/w"}, {"P0", "^/Users/u/w/(.*/)?[^/]*\\.env(/.*)?$"}};
  auto loaded = sbpl::Profile::load(std::string_view(reinterpret_cast<const char*>(data), size), params);
  const auto* p = std::get_if<sbpl::Profile>(&loaded);
  if (p == nullptr) return 0;
  sbpl::Question file;
  file.path = "/Users/u/w/src/.env";
  for (const char* op : {"file-read-data", "file-read-metadata", "file-write-create", "file-write-unlink",
                         "process-exec", "file-map-executable", "network-outbound", "mach-lookup"}) {
    (void)p->decide(op, file);
  }
  sbpl::Question net;
  net.address = "127.0.0.1";
  net.port = 3128;
  (void)p->decide("network-outbound", net);
  net.protocol = "udp";
  net.address = "::1";
  (void)p->decide("network-bind", net);
  sbpl::Question sock;
  sock.unix_socket = true;
  sock.path = "/private/tmp/s.sock";
  (void)p->decide("network-outbound", sock);
  return 0;
}
