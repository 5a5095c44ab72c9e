// Which rules make the init listen inside for a host loopback service, and
// which are said not to.
#include "lower/local_services.hpp"

#include <gtest/gtest.h>

#include "driver/pipeline.hpp"

namespace sbpolicy::lower {
namespace {

std::vector<std::string> listened(const LocalServices& l) {
  std::vector<std::string> out;
  for (const auto& s : l.services) out.push_back(listen_text(s) + " -> " + s.subject.text());
  return out;
}

// `c` keeps the rules the services point at.
LocalServices of(driver::Compilation& c, const std::string& text) {
  driver::compile_text(c, "p.sbpolicy", "/", text, {});
  EXPECT_TRUE(c.policy) << text;
  return c.policy ? local_services(*c.policy) : LocalServices{};
}

TEST(LocalServices, LoopbackAddressesAndLocalhostWithTheirPorts) {
  driver::Compilation c;
  const auto l = of(c, "allow net \"127.0.0.1:5432\";\nask net \"localhost:3000-3001\";\nallow net \"[::1]:6379\";\n"
                    "deny net \"127.0.0.2:7000\";\nallow net \"10.0.0.1:5432\";\nallow net \"127.0.0.1:5432\";\n");
  EXPECT_EQ(listened(l), (std::vector<std::string>{
                             "127.0.0.1:5432 -> 127.0.0.1:5432", "[::1]:6379 -> [::1]:6379",
                             "127.0.0.1:3000 -> localhost:3000", "[::1]:3000 -> localhost:3000",
                             "127.0.0.1:3001 -> localhost:3001", "[::1]:3001 -> localhost:3001"}));
  EXPECT_TRUE(l.not_forwarded.empty());
}

TEST(LocalServices, WhatCannotBeListenedOnIsSaid) {
  driver::Compilation c;
  const auto l = of(c, "allow net \"localhost\";\nallow net \"127.0.0.0/8:5432\";\nallow net \"127.0.0.1:1000-1100\";\n"
                    "allow net \"127.0.0.1:3128\";\nallow net \"127.0.0.1:2000-9000\";\n");
  std::string all;
  for (const auto& n : l.not_forwarded) all += n + "\n";
  EXPECT_NE(all.find("ports below 1024"), std::string::npos) << all;
  EXPECT_NE(all.find("a block of addresses"), std::string::npos) << all;
  EXPECT_NE(all.find("port 3128 is the proxy's"), std::string::npos) << all;
  EXPECT_NE(all.find("more than 64 loopback ports"), std::string::npos) << all;
  EXPECT_EQ(l.services.size(), kMaxLocalServices);
}

}  // namespace
}  // namespace sbpolicy::lower
