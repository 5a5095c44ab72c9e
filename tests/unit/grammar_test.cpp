#include <gtest/gtest.h>

#include <policy_grammar.hpp>
#include <tao/pegtl/contrib/analyze.hpp>

// PEGTL's analysis finds rules that can loop without consuming input and
// left recursion; the grammar must have none.
TEST(Grammar, AnalyzeFindsNoProblems) {
  EXPECT_EQ(tao::pegtl::analyze<sbpolicy::grammar::file>(1), 0u);
}

TEST(Grammar, WholeFileRuleAcceptsTheOneLinePolicy) {
  tao::pegtl::memory_input in(std::string_view("allow read \"./**\"; ask net \"*.pkgs.test\""), "t");
  EXPECT_TRUE(tao::pegtl::parse<sbpolicy::grammar::file>(in));
}
