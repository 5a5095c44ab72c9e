#include "sema/env_pattern.hpp"

#include <gtest/gtest.h>

using namespace sbpolicy;
using namespace sbpolicy::sema;

TEST(EnvPattern, ParsesAndMatches) {
  struct Row {
    const char* pattern;
    const char* name;
    bool match;
  };
  const Row rows[] = {
      {"PATH", "PATH", true},        {"PATH", "PATHX", false},       {"PATH", "path", false},
      {"LC_*", "LC_ALL", true},      {"LC_*", "LC_", true},          {"LC_*", "LANG", false},
      {"*_PROXY", "HTTP_PROXY", true}, {"*_PROXY", "HTTP_PROXYX", false}, {"*", "ANYTHING", true},
      {"A*B*C", "AxxBxxC", true},    {"A*B*C", "AxxCxxB", false},    {"A**B", "AB", true},
      // `*` spans name characters only: an exported bash function (which
      // bash imports and runs) passes only when named exactly.
      {"BASH_FUNC_*", "BASH_FUNC_ls%%", false}, {"*", "BASH_FUNC_ls%%", false},
      {"BASH_FUNC_ls%%", "BASH_FUNC_ls%%", true}, {"BASH_FUNC_ls%%", "BASH_FUNC_cd%%", false},
      {"*", "A.B", false},           {"A*", "A-B", false},           {"*B", "A.B", false},
  };
  for (const Row& r : rows) {
    auto p = parse_env_pattern(r.pattern);
    ASSERT_TRUE(std::holds_alternative<EnvPattern>(p)) << r.pattern;
    EXPECT_EQ(env_matches(std::get<EnvPattern>(p), r.name), r.match) << r.pattern << " " << r.name;
  }
}

TEST(EnvPattern, Errors) {
  struct Row {
    const char* text;
    Code code;
    std::uint32_t begin;
  };
  const Row rows[] = {{"", Code::E0310, 0},        {"1ABC", Code::E0309, 0}, {"$PATH", Code::E0309, 0},
                      {"A=B", Code::E0309, 1},     {"A B", Code::E0309, 1},  {"A\x01", Code::E0311, 1},
                      {"/usr", Code::E0309, 0},    {"é", Code::E0309, 0},
                      {"BASH_FUNC_*%%", Code::E0309, 11}, {"A%%", Code::E0309, 1},
                      {"BASH_FUNC_%%", Code::E0309, 10},  {"BASH_FUNC_ls%", Code::E0309, 12}};
  for (const Row& r : rows) {
    auto p = parse_env_pattern(r.text);
    ASSERT_TRUE(std::holds_alternative<PatternErrors>(p)) << r.text;
    const auto& e = std::get<PatternErrors>(p).front();
    EXPECT_EQ(e.code, r.code) << r.text;
    EXPECT_EQ(e.begin, r.begin) << r.text;
  }
}

TEST(EnvPattern, StarsCollapse) {
  auto p = parse_env_pattern("A***B");
  ASSERT_TRUE(std::holds_alternative<EnvPattern>(p));
  EXPECT_EQ(std::get<EnvPattern>(p).text(), "A*B");
}
