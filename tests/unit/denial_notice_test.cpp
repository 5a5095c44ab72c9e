// The line a refused connection prints on sbrun's stderr: once per host and
// port, naming the rule or what to add, nothing for what was not a refusal.
#include "proxy/denial_notice.hpp"

#include <gtest/gtest.h>

namespace sbpolicy::proxy {
namespace {

nlohmann::json refused(const std::string& host, unsigned port, const std::string& reason) {
  return {{"event", "net"}, {"outcome", "refused"}, {"host", host}, {"port", port}, {"reason", reason}};
}

TEST(DenialNotices, OncePerHostAndPortWithWhatToChange) {
  DenialNotices n;
  EXPECT_EQ(n.line_for(refused("evil.test", 8080, "no rule allows this host")).value_or(""),
            "sbrun: refused evil.test:8080: no rule allows this host (to allow it: allow net \"evil.test:8080\";)\n");
  EXPECT_FALSE(n.line_for(refused("evil.test", 8080, "no rule allows this host")).has_value());
  EXPECT_EQ(n.line_for(refused("evil.test", 443, "no rule allows this host")).value_or(""),
            "sbrun: refused evil.test:443: no rule allows this host (to allow it: allow net \"evil.test\";)\n");
  EXPECT_EQ(n.line_for(refused("::1", 22, "::1 is loopback; only an `allow net` rule naming it or a block inside ::1 "
                                          "opens it"))
                .value_or(""),
            "sbrun: refused [::1]:22: ::1 is loopback; only an `allow net` rule naming it or a block inside ::1 opens "
            "it\n");
  EXPECT_EQ(n.line_for(refused("gist.github.com", 443, "denied by p.sbpolicy:5:10 (deny net \"gist.github.com\")"))
                .value_or(""),
            "sbrun: refused gist.github.com:443: denied by p.sbpolicy:5:10 (deny net \"gist.github.com\")\n");
}

TEST(DenialNotices, NothingForWhatWasNotARefusal) {
  DenialNotices n;
  EXPECT_FALSE(n.line_for({{"event", "net"}, {"outcome", "tunnel"}, {"host", "a.test"}, {"port", 443}}).has_value());
  EXPECT_FALSE(n.line_for({{"event", "net"}, {"outcome", "bad-request"}, {"reason", "bad port"}}).has_value());
  EXPECT_FALSE(n.line_for({{"event", "launch"}}).has_value());
  EXPECT_FALSE(n.line_for({{"event", "net"}, {"outcome", "refused"}, {"reason", "no host"}}).has_value());
}

TEST(DenialNotices, ConnectionsTurnedAwayAreToldOnce) {
  DenialNotices n;
  const nlohmann::json busy = {{"event", "net"},
                               {"outcome", "busy"},
                               {"host", "a.test"},
                               {"port", 443},
                               {"reason", "too many connections through the proxy at once (limit 2)"}};
  EXPECT_EQ(n.line_for(busy).value_or(""),
            "sbrun: turned connections away: too many connections through the proxy at once (limit 2)\n");
  EXPECT_FALSE(n.line_for(busy).has_value());
  EXPECT_FALSE(n.line_for({{"event", "net"}, {"outcome", "busy"}, {"host", "b.test"}, {"port", 80}}).has_value());
}

TEST(DenialNotices, AFloodOfHostsEndsInOneLine) {
  DenialNotices n;
  std::size_t lines = 0;
  for (unsigned port = 1; port <= DenialNotices::kMaxLines + 50; ++port) {
    lines += n.line_for(refused("evil.test", port, "no rule allows this host")).has_value() ? 1 : 0;
  }
  EXPECT_EQ(lines, DenialNotices::kMaxLines + 1);
}

}  // namespace
}  // namespace sbpolicy::proxy
