#include "syntax/parser.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace sbpolicy;

namespace {

struct Parsed {
  SourceMap sources;
  Diagnostics diags;
  ast::Module module;
};

std::unique_ptr<Parsed> parse(std::string text, syntax::ParseLimits limits = {}) {
  auto p = std::make_unique<Parsed>();
  const SourceFile& f = p->sources.add("t.sbpolicy", "t", std::move(text));
  p->module = syntax::parse_module(f, p->diags, limits);
  return p;
}

std::vector<std::string> codes(const Parsed& p) {
  std::vector<std::string> out;
  for (const auto& d : p.diags.all()) out.emplace_back(code_info(d.code).id);
  return out;
}

}  // namespace

TEST(Parser, OneLinePolicy) {
  // The brief's one-line policy: the last statement may omit its `;`.
  auto q = parse("allow read \"./**\"; ask net \"*.pkgs.test\"");
  EXPECT_TRUE(q->diags.all().empty());
  ASSERT_EQ(q->module.statements.size(), 2u);
  const auto& r = std::get<ast::RuleStmt>(q->module.statements[1].node);
  EXPECT_EQ(r.effect.text, "ask");
  EXPECT_EQ(r.operation.text, "net");
  EXPECT_EQ(std::get<ast::StringLit>(r.targets[0].node).value, "*.pkgs.test");
}

TEST(Parser, EveryFormOfTheBrief) {
  auto p = parse(R"(version 1;                       # optional pragma
use std.base;
use "../org/baseline.sbpolicy";
let registries = ["registry.pkgs.test", "*.pkgs.test",];
allow read  "./**";
deny  read  "~/**" except "~/proj/**", "~/.gitconfig";
allow net   registries;
allow env   "PATH", "LANG", "LC_*";
)");
  EXPECT_TRUE(p->diags.all().empty());
  ASSERT_EQ(p->module.statements.size(), 8u);
  const auto& use = std::get<ast::UseStmt>(p->module.statements[1].node);
  EXPECT_TRUE(use.is_stdlib);
  EXPECT_EQ(use.module, "std.base");
  const auto& deny = std::get<ast::RuleStmt>(p->module.statements[5].node);
  EXPECT_EQ(deny.targets.size(), 1u);
  EXPECT_EQ(deny.excepts.size(), 2u);
  const auto& let = std::get<ast::LetStmt>(p->module.statements[3].node);
  EXPECT_EQ(std::get<ast::ListValue>(let.value.node).items.size(), 2u);
}

TEST(Parser, ReportsEverySyntaxErrorInOneRun) {
  auto p = parse("allow read \"a\"\nallow write \"b\";\nlet = 3;\ndeny read \"c\" \"d\";\nallow read \"ok\";\n");
  EXPECT_EQ(codes(*p), (std::vector<std::string>{"E0102", "E0102", "E0102"}));
  // The statements around the errors still parse.
  EXPECT_EQ(p->module.statements.size(), 2u);
}

TEST(Parser, OnlyTheLastStatementMayOmitItsSemicolon) {
  EXPECT_TRUE(parse("allow read \"/a\"  # done\n\n")->diags.all().empty());
  EXPECT_EQ(codes(*parse("allow read \"/a\"\nallow read \"/b\"")), std::vector<std::string>{"E0102"});
}

TEST(Parser, MissingSemicolonPointsAfterTheLastToken) {
  auto p = parse("allow read \"a\"   # comment\n\nallow read \"b\";\n");
  ASSERT_EQ(p->diags.all().size(), 1u);
  const auto& d = p->diags.all()[0];
  EXPECT_EQ(d.primary.span.begin, 14u);
  ASSERT_EQ(d.fixits.size(), 1u);
  EXPECT_EQ(d.fixits[0].replacement, ";");
  EXPECT_EQ(p->module.statements.size(), 1u);
}

TEST(Parser, StringEscapes) {
  auto p = parse(R"(allow read "/a\"b\\c\u{e9}\u{1F600}";)");
  ASSERT_TRUE(p->diags.all().empty());
  const auto& r = std::get<ast::RuleStmt>(p->module.statements[0].node);
  const auto& s = std::get<ast::StringLit>(r.targets[0].node);
  EXPECT_EQ(s.value, "/a\"b\\c\xC3\xA9\xF0\x9F\x98\x80");
  // Spans of decoded bytes map back through the escapes.
  EXPECT_EQ(s.sub_span(2, 3).begin, 14u);  // the `"` decoded from the `\"` at offset 14
}

TEST(Parser, BadEscapesAndStrings) {
  EXPECT_EQ(codes(*parse(R"(allow read "/a\q";)")), std::vector<std::string>{"E0104"});
  EXPECT_EQ(codes(*parse(R"(allow read "/a\u{0}";)")), std::vector<std::string>{"E0104"});
  EXPECT_EQ(codes(*parse(R"(allow read "/a\u{D800}";)")), std::vector<std::string>{"E0104"});
  EXPECT_EQ(codes(*parse(R"(allow read "/a\u{110000}";)")), std::vector<std::string>{"E0104"});
  EXPECT_EQ(codes(*parse(R"(allow read "/a\u{1234567}";)")), std::vector<std::string>{"E0104"});
  EXPECT_EQ(codes(*parse("allow read \"/a;\nallow read \"/b\";")), std::vector<std::string>{"E0103"});
}

TEST(Parser, RefusesBadBytes) {
  EXPECT_EQ(codes(*parse(std::string("allow read \"/a\xff\";"))), std::vector<std::string>{"E0100"});
  EXPECT_EQ(codes(*parse(std::string("allow read \"/a\xc0\xaf\";"))), std::vector<std::string>{"E0100"});  // overlong
  EXPECT_EQ(codes(*parse(std::string("allow read \"/a\";\0", 17))), std::vector<std::string>{"E0101"});
  EXPECT_EQ(codes(*parse("allow read \"/a\x01\";")), std::vector<std::string>{"E0101"});
  // A bidirectional override could make `deny` look like something else.
  EXPECT_EQ(codes(*parse("allow read \"/a\";  # \xE2\x80\xAE evil")), std::vector<std::string>{"E0101"});
  // A byte order mark is fine.
  EXPECT_TRUE(parse("\xEF\xBB\xBF" "allow read \"/a\";")->diags.all().empty());
}

TEST(Parser, LimitsAreDiagnosticsNotCrashes) {
  std::string deep = "let x = " + std::string(100000, '[') + std::string(100000, ']') + ";";
  EXPECT_EQ(codes(*parse(deep)), std::vector<std::string>{"E0105"});
  std::string longstr = "allow read \"/" + std::string(5000, 'a') + "\";";
  EXPECT_EQ(codes(*parse(longstr)), std::vector<std::string>{"E0105"});
  std::string longname = "allow read " + std::string(200, 'a') + ";";
  EXPECT_EQ(codes(*parse(longname)), std::vector<std::string>{"E0105"});
  syntax::ParseLimits small;
  small.max_file_bytes = 10;
  EXPECT_EQ(codes(*parse("allow read \"/aaaaaa\";", small)), std::vector<std::string>{"E0105"});
}

TEST(Parser, ManyErrorsStopAtTheLimit) {
  std::string text;
  for (int i = 0; i < 500; ++i) text += "allow read read read;\n";
  auto p = parse(text);
  EXPECT_EQ(p->diags.all().size(), 101u);  // 100 errors, then one saying it stopped
}

TEST(Parser, ReservedWordsAreNotNames) {
  EXPECT_EQ(codes(*parse("let read = \"/a\";")), std::vector<std::string>{"E0102"});
  EXPECT_EQ(codes(*parse("let except = \"/a\";")), std::vector<std::string>{"E0102"});
}

TEST(Parser, GarbageNeverLoopsAndIsReported) {
  for (const char* text : {"@@@", "}", "allow", "allow read", "allow read ,", "let x = [", "use", "use ;", "version x;",
                           "\"unterminated", "allow read \"a\" except ;", "###", "[[[[", "let x = [\"a\" \"b\"];"}) {
    auto p = parse(text);
    if (std::string(text) == "###") {
      EXPECT_TRUE(p->diags.all().empty());
    } else {
      EXPECT_FALSE(p->diags.all().empty()) << text;
    }
  }
}

TEST(Parser, TestBlocks) {
  auto p = parse(R"(allow read "./**";
test "secrets" {
  expect deny read "./.env" by "t.sbpolicy:1";
  expect allow net "a.test:443";  # a comment
}
test "empty" {}
let test = "./x";  # `test` is not reserved: a name may still be one
)");
  EXPECT_TRUE(p->diags.all().empty()) << codes(*p).size();
  ASSERT_EQ(p->module.statements.size(), 4u);
  const auto& t = std::get<ast::TestStmt>(p->module.statements[1].node);
  EXPECT_EQ(t.name.value, "secrets");
  ASSERT_EQ(t.expects.size(), 2u);
  EXPECT_EQ(t.expects[0].effect.text, "deny");
  EXPECT_EQ(t.expects[0].subject.value, "./.env");
  ASSERT_TRUE(t.expects[0].by);
  EXPECT_EQ(t.expects[0].by->value, "t.sbpolicy:1");
  EXPECT_FALSE(t.expects[1].by);
  EXPECT_TRUE(std::get<ast::TestStmt>(p->module.statements[2].node).expects.empty());
}

TEST(Parser, AnErrorInATestBlockResumesAfterTheBlock) {
  // One error for the block, not one per expectation after it; the rule
  // after the block is parsed.
  auto p = parse(R"(test "x" {
  expect deny read;
  expect deny read "./a";
  expect deny read "./b";
}
allow read "./c";
test "y" { expect deny read "./d" }
allow read "./e";
)");
  EXPECT_EQ(codes(*p), (std::vector<std::string>{"E0102", "E0102"}));
  ASSERT_EQ(p->module.statements.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<ast::RuleStmt>(p->module.statements[0].node));
  EXPECT_TRUE(std::holds_alternative<ast::RuleStmt>(p->module.statements[1].node));
}
