// The standard library summaries sbrun takes instead of compiling the
// modules (sema/std_summary.hpp) give exactly what compiling them gives: the
// same IR (rules, patterns, ids, origins with line, column and import
// chain) and the same diagnostics, for each module alone and for policies
// mixing modules, files and their own rules. A summary made from other text,
// or bytes that do not decode, are not used.
#include <gtest/gtest.h>

#include <string>

#include "driver/pipeline.hpp"
#include "driver/std_summaries.hpp"
#include "ir/ir_json.hpp"
#include "sema/loader.hpp"
#include "sema/stdlib.hpp"
#include "support/render.hpp"

using namespace sbpolicy;

namespace {

struct Result {
  std::string ir, diagnostics;
  std::size_t files_parsed = 0;
};

Result compile(const std::string& text, std::span<const sema::EncodedSummary> summaries) {
  driver::Compilation c;
  sema::MemoryReader reader;
  reader.files["/p/extra.sbpolicy"] = "use std.base;\nallow read \"./extra\";\n";
  sema::LoadOptions options;
  options.reader = &reader;
  options.std_summaries = summaries;
  driver::compile_text(c, "policy.sbpolicy", "/p", text, options);
  Result r;
  r.ir = c.policy ? ir::policy_to_json(*c.policy).dump() : "(no policy)";
  r.diagnostics = render_diagnostics(c.diags, c.sources, RenderOptions{RenderFormat::Plain, false});
  for (const auto& f : c.program.files) r.files_parsed += f.summary == nullptr ? 1 : 0;
  return r;
}

void expect_same(const std::string& text) {
  const Result full = compile(text, {});
  const Result summarised = compile(text, driver::embedded_std_summaries());
  EXPECT_EQ(summarised.ir, full.ir) << text;
  EXPECT_EQ(summarised.diagnostics, full.diagnostics) << text;
  EXPECT_LT(summarised.files_parsed, full.files_parsed) << "no summary was taken for: " << text;
}

TEST(StdSummary, EveryModuleAloneGivesTheSameIr) {
  ASSERT_EQ(driver::embedded_std_summaries().size(), sema::stdlib_modules().size());
  for (const auto& m : sema::stdlib_modules()) expect_same("version 1;\nuse " + std::string(m.name) + ";\n");
}

TEST(StdSummary, MixedPoliciesGiveTheSameIrAndDiagnostics) {
  // Diamonds (everything uses std.base), a file import, lets, rules of the
  // root's own, and diagnostics in the root.
  expect_same(
      "use std.dev.node;\nuse std.agent;\nuse \"extra.sbpolicy\";\nuse std.dev.python;\n"
      "let keys = [\"~/.aws\", \"~/.gnupg\"];\ndeny read keys;\nallow net \"*.pkgs.test\";\n"
      "ask write \"./build/**\" except \"./build/keep\";\nallow env \"LANG\";\n");
  expect_same("use std.agent;\nallow read \"~/.ssh\";\nlet unused = \"~/x\";\n");
  expect_same("use std.agent;\nallow frobnicate \"~/x\";\n");  // an error in the root: no IR either way
}

TEST(StdSummary, EncodingRoundTrips) {
  for (const auto& e : driver::embedded_std_summaries()) {
    sema::StdSummary s;
    ASSERT_TRUE(sema::decode_summary(e.bytes, s)) << e.module;
    EXPECT_EQ(sema::encode_summary(s), e.bytes) << e.module;
  }
}

TEST(StdSummary, LimitsAreKept) {
  // A module may set limits (docs/limits.md): its summary carries them,
  // with their spans, through encoding.
  const std::string text = "limit memory 2G;\nallow read \"/a\";\nlimit wall_time \"30m\";\n";
  sema::StdSummary s;
  std::string error;
  ASSERT_TRUE(sema::summarize_module("std.limited", "std/limited.sbpolicy", text, s, error)) << error;
  ASSERT_EQ(s.limits.size(), 2u);
  sema::StdSummary back;
  ASSERT_TRUE(sema::decode_summary(sema::encode_summary(s), back));
  ASSERT_EQ(back.limits.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(back.limits[i].kind, s.limits[i].kind);
    EXPECT_EQ(back.limits[i].value, s.limits[i].value);
    EXPECT_EQ(back.limits[i].statement.begin, s.limits[i].statement.begin);
    EXPECT_EQ(back.limits[i].value_span.end, s.limits[i].value_span.end);
  }
  EXPECT_EQ(back.limits[1].kind, sema::LimitKind::WallTime);
  EXPECT_EQ(back.limits[1].value, 1800u);
}

TEST(StdSummary, ASummaryOfOtherTextOrBrokenBytesIsNotUsed) {
  const auto embedded = driver::embedded_std_summaries();
  std::string agent_bytes;
  for (const auto& e : embedded) {
    if (e.module == "std.agent") agent_bytes = std::string(e.bytes);
  }
  ASSERT_FALSE(agent_bytes.empty());
  const std::string policy = "use std.agent;\n";
  const Result full = compile(policy, {});
  // std.base's summary under std.agent's name: its text hash does not match.
  std::string base_bytes;
  for (const auto& e : embedded) {
    if (e.module == "std.base") base_bytes = std::string(e.bytes);
  }
  const sema::EncodedSummary wrong_text[] = {{"std.agent", base_bytes}};
  const Result r1 = compile(policy, wrong_text);
  EXPECT_EQ(r1.ir, full.ir);
  EXPECT_EQ(r1.files_parsed, full.files_parsed) << "a summary of other text was taken";
  // Cut short, or with a byte changed in the magic: not decoded, not used.
  const std::string cut = agent_bytes.substr(0, agent_bytes.size() / 2);
  std::string bad_magic = agent_bytes;
  bad_magic[0] = static_cast<char>(bad_magic[0] ^ 1);
  for (const std::string& bytes : {cut, bad_magic}) {
    sema::StdSummary s;
    EXPECT_FALSE(sema::decode_summary(bytes, s));
    const sema::EncodedSummary broken[] = {{"std.agent", bytes}};
    const Result r = compile(policy, broken);
    EXPECT_EQ(r.ir, full.ir);
    EXPECT_EQ(r.files_parsed, full.files_parsed);
  }
}

}  // namespace
