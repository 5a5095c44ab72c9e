#include "support/diagnostic.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "driver/pipeline.hpp"
#include "support/render.hpp"
#include "support/suggest.hpp"
#include "support/text.hpp"

using namespace sbpolicy;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::unique_ptr<driver::Compilation> compile(const std::string& text) {
  auto c = std::make_unique<driver::Compilation>();
  driver::compile_text(*c, "p.sbpolicy", "/", text, {});
  return c;
}

}  // namespace

// docs/diagnostics.md documents exactly the codes of diagnostics.def, each
// under an anchor named by its slug.
TEST(Diagnostics, DocsMatchTheTable) {
  const std::string docs = read_file(SBPOLICY_SOURCE_DIR "/docs/diagnostics.md");
  ASSERT_FALSE(docs.empty());
  std::set<std::string> table;
  for (const CodeInfo& c : all_codes()) {
    if (lint_rule(c.code) != nullptr) continue;  // docs/lint.md, generated from the lint table
    table.insert(std::string(c.id));
    EXPECT_NE(docs.find("<a id=\"" + std::string(c.slug) + "\"></a>"), std::string::npos) << c.id;
    EXPECT_NE(docs.find("## " + std::string(c.id) + " " + std::string(c.name)), std::string::npos) << c.id;
  }
  std::set<std::string> documented;
  const std::regex heading("## ([EW][0-9]{4}) ");
  for (auto it = std::sregex_iterator(docs.begin(), docs.end(), heading); it != std::sregex_iterator(); ++it) {
    documented.insert((*it)[1]);
  }
  EXPECT_EQ(documented, table);
}

TEST(Diagnostics, CodesAreUniqueAndOrdered) {
  std::set<std::string> seen;
  for (const CodeInfo& c : all_codes()) {
    EXPECT_TRUE(seen.insert(std::string(c.id)).second) << c.id;
    EXPECT_EQ(&code_info(c.code), &c);
    if (c.id[0] == 'L') {
      EXPECT_NE(lint_rule(c.code), nullptr) << c.id;
    } else {
      EXPECT_EQ(c.id[0] == 'W', c.severity == Severity::Warning) << c.id;
    }
  }
}

TEST(Diagnostics, HumanRendering) {
  auto c = compile("allow read \"/a\";\nallow reed \"./x\";\n");
  ASSERT_EQ(c->diags.all().size(), 1u);
  const std::string out = render_diagnostics(c->diags, c->sources, {RenderFormat::Plain, false});
  EXPECT_EQ(out,
            "error[E0201]: unknown operation `reed`\n"
            " --> p.sbpolicy:2:7\n"
            "  |\n"
            "2 | allow reed \"./x\";\n"
            "  |       ^^^^ not an operation\n"
            "  |\n"
            "  = help: did you mean `read`?\n"
            "\n");
  const std::string colored = render_diagnostics(c->diags, c->sources, {RenderFormat::Human, true});
  EXPECT_NE(colored.find("\x1b["), std::string::npos);
}

// A diagnostic never prints the invisible characters it is about (a
// U+202E would reorder the very line that warns about it), in any format:
// they are shown as \u{XXXX}, and the carets point at what is shown.
TEST(Diagnostics, InvisibleCharactersAreNeverEchoedRaw) {
  auto c = compile("allow read \"./a\u202eb\";\nallow reed\u200b \"./x\u0007\";\n");
  ASSERT_FALSE(c->diags.all().empty());
  for (const RenderFormat f : {RenderFormat::Plain, RenderFormat::Human, RenderFormat::Json}) {
    const std::string out = render_diagnostics(c->diags, c->sources, {f, false});
    for (const char* raw : {"\u202e", "\u200b", "\a"}) {
      EXPECT_EQ(out.find(raw), std::string::npos) << "a raw invisible character in:\n" << out;
    }
  }
  const std::string plain = render_diagnostics(c->diags, c->sources, {RenderFormat::Plain, false});
  EXPECT_NE(plain.find("1 | allow read \"./a\\u{202E}b\";\n"
                       "  |                ^^^^^^^^ can make the text display differently from what it means\n"),
            std::string::npos)
      << plain;
  EXPECT_NE(plain.find("write it as `\\u{202E}`"), std::string::npos) << plain;
  EXPECT_EQ(text::visible("a\tb\x01\xff\u2067c"), "a\tb\\u{0001}\\x{FF}\\u{2067}c");
  EXPECT_EQ(text::quote("a\u202eb"), "`a\\xe2\\x80\\xaeb`");
}

TEST(Diagnostics, CaretsLandOnTheOffendingPartOfAString) {
  auto c = compile("allow read \"/a/../../b\";\n");
  ASSERT_EQ(c->diags.all().size(), 1u);
  const Diagnostic& d = c->diags.all()[0];
  EXPECT_EQ(d.code, Code::E0303);
  // The second `..` starts at byte 18 of the line.
  EXPECT_EQ(d.primary.span.begin, 18u);
  EXPECT_EQ(d.primary.span.end, 20u);
}

TEST(Diagnostics, JsonRenderingIsStable) {
  auto c = compile("let x = \"/a\";\nallow raed \"/b\";\n");
  const auto doc = nlohmann::json::parse(render_diagnostics(c->diags, c->sources, {RenderFormat::Json, false}));
  EXPECT_EQ(doc["schema_version"], 1);
  ASSERT_EQ(doc["diagnostics"].size(), 2u);
  const auto& first = doc["diagnostics"][0];
  EXPECT_EQ(first["code"], "W0001");
  EXPECT_EQ(first["severity"], "warning");
  EXPECT_EQ(first["span"]["line"], 1);
  EXPECT_EQ(first["span"]["column"], 5);
  const auto& second = doc["diagnostics"][1];
  EXPECT_EQ(second["code"], "E0201");
  EXPECT_EQ(second["help"], "did you mean `read`?");
  EXPECT_EQ(second["fixits"][0]["replacement"], "read");
  EXPECT_EQ(doc["summary"]["errors"], 1);
  EXPECT_EQ(doc["summary"]["warnings"], 1);
}

TEST(Diagnostics, DidYouMean) {
  EXPECT_EQ(edit_distance("raed", "read"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(closest_match("reed", {"read", "write", "net"}), "read");
  EXPECT_EQ(closest_match("alow", {"allow", "deny", "ask"}), "allow");
  EXPECT_EQ(closest_match("xyzzy", {"read", "write", "net"}), std::nullopt);
  auto c = compile("alow read \"/a\";\nallow write \"/b\";\nallow nett \"x.test\";\nuse std.secret;\n"
                   "let registries = \"a.test\";\nallow net registris;\n");
  std::vector<std::string> helps;
  for (const auto& d : c->diags.all()) helps.push_back(d.help);
  EXPECT_NE(std::find(helps.begin(), helps.end(), "did you mean `allow`?"), helps.end());
  EXPECT_NE(std::find(helps.begin(), helps.end(), "did you mean `net`?"), helps.end());
  EXPECT_NE(std::find(helps.begin(), helps.end(), "did you mean `std.secrets`?"), helps.end());
  EXPECT_NE(std::find(helps.begin(), helps.end(), "did you mean `registries`?"), helps.end());
}

TEST(Diagnostics, SortedByPosition) {
  auto c = compile("allow read \"x\";\nallow raed \"/b\";\nlet q = \"/c\";\n");
  std::vector<std::uint32_t> begins;
  for (const auto& d : c->diags.all()) begins.push_back(d.primary.span.begin);
  EXPECT_TRUE(std::is_sorted(begins.begin(), begins.end()));
  EXPECT_EQ(begins.size(), 3u);
}

// Every lint rule has a golden pair in tests/golden/lint: NAME.golden, whose
// expected output has the rule's finding, and NAME-clean.golden, a near
// miss whose expected output does not.
TEST(Diagnostics, EveryLintRuleHasAGoldenPair) {
  for (const LintRule& r : lint_rules()) {
    const CodeInfo& info = code_info(r.code);
    const std::string base = std::string(SBPOLICY_SOURCE_DIR "/tests/golden/lint/") + std::string(info.name);
    const std::string hit = read_file(base + ".golden"), clean = read_file(base + "-clean.golden");
    const std::string mark = "[" + std::string(info.id) + "]";
    ASSERT_FALSE(hit.empty()) << base << ".golden";
    ASSERT_FALSE(clean.empty()) << base << "-clean.golden";
    const auto expected = [](const std::string& text) { return text.substr(text.find(";;; EXPECTED")); };
    EXPECT_NE(expected(hit).find(mark), std::string::npos) << info.name << " does not fire on its golden";
    EXPECT_EQ(expected(clean).find(mark), std::string::npos) << info.name << " fires on its clean golden";
  }
}
