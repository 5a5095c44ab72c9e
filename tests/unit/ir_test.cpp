// The IR: deterministic, order-independent, and faithful to its origins.
#include "ir/ir.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "driver/pipeline.hpp"
#include "ir/ir_json.hpp"

using namespace sbpolicy;

namespace {

std::string ir_json(sema::MemoryReader& reader, const std::string& root) {
  sema::LoadOptions options;
  options.reader = &reader;
  driver::Compilation c;
  driver::compile_file(c, root, options);
  EXPECT_TRUE(c.policy) << root;
  return c.policy ? ir::policy_to_json(*c.policy).dump(2) : "";
}

// The rules without their origins: what the policy means.
std::vector<std::string> meaning(const std::string& text) {
  driver::Compilation c;
  driver::compile_text(c, "p.sbpolicy", "/", text, {});
  std::vector<std::string> out;
  if (!c.policy) return {"compile error"};
  for (const auto& r : c.policy->rules) {
    auto j = ir::rule_to_json(r);
    j.erase("origin");
    out.push_back(j.dump());
  }
  return out;
}

}  // namespace

TEST(Ir, SameInputSameBytes) {
  sema::MemoryReader reader;
  reader.files["/p/root.sbpolicy"] = "use \"a.sbpolicy\";\nuse std.secrets;\nallow read \"./**\";\nask net \"*\";\n";
  reader.files["/p/a.sbpolicy"] = "deny write \"./.git/hooks\";\nallow env \"LC_*\";\n";
  const std::string first = ir_json(reader, "/p/root.sbpolicy");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(ir_json(reader, "/p/root.sbpolicy"), first);
}

TEST(Ir, MeaningDoesNotDependOnStatementOrder) {
  std::vector<std::string> statements = {"allow read \"~\";", "deny read \"~/.ssh\" except \"~/.ssh/config\";",
                                         "ask net \"*.test\";", "allow net \"a.test:22\";", "allow env \"PATH\";",
                                         "allow write \"./out\";"};
  std::sort(statements.begin(), statements.end());
  std::vector<std::string> first;
  int permutations = 0;
  do {
    std::string text;
    for (const auto& s : statements) text += s + "\n";
    const auto m = meaning(text);
    if (first.empty()) first = m;
    EXPECT_EQ(m, first);
    ++permutations;
  } while (std::next_permutation(statements.begin(), statements.end()) && permutations < 200);
}

TEST(Ir, ExceptListsAreSortedAndDeduplicated) {
  EXPECT_EQ(meaning("deny read \"~\" except \"~/b\", \"~/a\", \"~/b/\";"),
            meaning("deny read \"~\" except \"~/a\", \"~/b\";"));
}

TEST(Ir, OriginsNameTheTargetAndTheImportChain) {
  sema::MemoryReader reader;
  reader.files["/p/root.sbpolicy"] = "version 1;\nuse \"lib/a.sbpolicy\";\n";
  reader.files["/p/lib/a.sbpolicy"] = "\n  deny read \"/x\", \"/y\";\n";
  sema::LoadOptions options;
  options.reader = &reader;
  driver::Compilation c;
  driver::compile_file(c, "/p/root.sbpolicy", options);
  ASSERT_TRUE(c.policy);
  ASSERT_EQ(c.policy->rules.size(), 2u);
  const ir::Rule& y = c.policy->rules[1];
  EXPECT_EQ(y.origin.target.file, "/p/lib/a.sbpolicy");
  EXPECT_EQ(y.origin.target.line, 2u);
  EXPECT_EQ(y.origin.target.column, 19u);
  EXPECT_EQ(y.origin.statement.column, 3u);
  ASSERT_EQ(y.origin.via.size(), 1u);
  EXPECT_EQ(y.origin.via[0].text(), "/p/root.sbpolicy:2:5");
  EXPECT_EQ(c.policy->files, (std::vector<std::string>{"/p/root.sbpolicy", "/p/lib/a.sbpolicy"}));
}

TEST(Ir, StdlibPoliciesCompile) {
  for (const char* m : {"std.base", "std.secrets", "std.persistence", "std.dev.node", "std.dev.python", "std.dev.git",
                        "std.agent"}) {
    driver::Compilation c;
    driver::compile_text(c, "p.sbpolicy", "/", std::string("use ") + m + ";\n", {});
    EXPECT_TRUE(c.policy) << m;
    EXPECT_TRUE(c.diags.all().empty()) << m;
    EXPECT_FALSE(c.policy->rules.empty()) << m;
  }
}
