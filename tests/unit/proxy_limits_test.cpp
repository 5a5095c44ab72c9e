// The proxy's limits fitted to the descriptors sbrun may open: a session
// never lacks a descriptor for its client (one it lacked would be a
// connection lost without an answer).
#include <gtest/gtest.h>

#include "proxy/server.hpp"

namespace sbpolicy::proxy {
namespace {

std::size_t descriptors(const ProxyLimits& l) {
  return l.max_sessions * kDescriptorsPerSession + l.max_turned_away + kDescriptorReserve;
}

TEST(ProxyLimits, UnchangedWhenTheyFit) {
  std::string note;
  const ProxyLimits l = fit_descriptor_limit(ProxyLimits{}, 1 << 20, &note);
  EXPECT_EQ(l.max_sessions, ProxyLimits{}.max_sessions);
  EXPECT_EQ(l.max_turned_away, ProxyLimits{}.max_turned_away);
  EXPECT_EQ(note, "");
}

TEST(ProxyLimits, ShrunkToTheLimitAndToldWhenSessionsShrink) {
  for (std::size_t limit : {1024u, 2000u, 4096u, 20000u}) {
    ProxyLimits wanted;
    wanted.max_sessions = 5000;
    std::string note;
    const ProxyLimits l = fit_descriptor_limit(wanted, limit, &note);
    EXPECT_LE(descriptors(l), limit) << limit;
    EXPECT_GE(l.max_sessions, 1u);
    EXPECT_GE(l.max_turned_away, 1u);
    EXPECT_NE(note.find("at most " + std::to_string(l.max_sessions) + " connections at once, not 5000"),
              std::string::npos)
        << note;
  }
}

TEST(ProxyLimits, TheWaitingRoomShrinksFirst) {
  ProxyLimits wanted;  // 256 sessions: 1,536 descriptors, and 1,024 waiting
  std::string note;
  const ProxyLimits l = fit_descriptor_limit(wanted, 2000, &note);
  EXPECT_EQ(l.max_sessions, 256u);
  EXPECT_EQ(descriptors(l), 2000u);
  EXPECT_EQ(note, "");
}

TEST(ProxyLimits, ATinyLimitStillServesOne) {
  std::string note;
  const ProxyLimits l = fit_descriptor_limit(ProxyLimits{}, 10, &note);
  EXPECT_EQ(l.max_sessions, 1u);
  EXPECT_EQ(l.max_turned_away, 1u);
  EXPECT_NE(note, "");
}

}  // namespace
}  // namespace sbpolicy::proxy
