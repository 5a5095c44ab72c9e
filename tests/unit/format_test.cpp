// `sbc fmt`'s formatter (format/format.hpp) on every policy the project
// holds: the policy test files (each `---` section), the golden files'
// policies, the CLI cases' policy files, the standard library and its tests,
// and the docs' fenced blocks. For each text that parses: formatting again
// changes nothing, the IR is the same (positions aside) for the texts that
// compile, and every comment is kept in order. A text that does not parse
// is refused, never formatted. (tests/format/fmt_test.py runs the command.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "driver/pipeline.hpp"
#include "format/format.hpp"
#include "ir/ir_json.hpp"
#include "syntax/ast_json.hpp"

namespace sbpolicy {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Text {
  std::string label, body, base_dir;
};

std::vector<Text> corpus() {
  const fs::path root = SBPOLICY_SOURCE_DIR;
  std::vector<Text> out;
  for (const auto& e : fs::directory_iterator(root / "tests/policy")) {
    const std::string text = read(e.path());
    std::size_t b = 0, k = 0;
    while (b <= text.size()) {
      std::size_t sep = text.find("\n---\n", b);
      if (sep == std::string::npos) sep = text.size();
      out.push_back({e.path().filename().string() + "#" + std::to_string(k++), text.substr(b, sep - b) + "\n",
                     (root / "tests/policy").string()});
      b = sep + 5;
    }
  }
  for (const auto& dir : fs::directory_iterator(root / "tests/golden")) {
    for (const auto& e : fs::directory_iterator(dir.path())) {
      const std::string text = read(e.path());
      std::string policy;
      std::istringstream lines(text.substr(0, text.find(";;; EXPECTED")));
      for (std::string line; std::getline(lines, line);) {
        if (!line.starts_with(";;;")) policy += line + "\n";
      }
      out.push_back({e.path().filename().string(), policy, "/home/user/project"});
    }
  }
  for (const auto& c : nlohmann::json::parse(read(root / "tests/cli/cases.json"))) {
    if (!c.contains("files")) continue;
    for (const auto& [name, body] : c["files"].items()) {
      if (name.ends_with(".sbpolicy")) out.push_back({"cli: " + c["name"].get<std::string>(), body, "/tmp"});
    }
  }
  for (const auto& e : fs::recursive_directory_iterator(root / "stdlib-policies")) {
    if (e.path().extension() == ".sbpolicy") {
      out.push_back({e.path().lexically_relative(root).string(), read(e.path()), e.path().parent_path().string()});
    }
  }
  std::vector<fs::path> docs = {root / "README.md"};
  for (const auto& e : fs::directory_iterator(root / "docs")) {
    if (e.path().extension() == ".md") docs.push_back(e.path());
  }
  const std::regex block("```[a-z]*\n([\\s\\S]*?)```");
  for (const auto& d : docs) {
    const std::string text = read(d);
    int k = 0;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), block); it != std::sregex_iterator(); ++it) {
      out.push_back({d.filename().string() + "#" + std::to_string(k++), (*it)[1], "/tmp"});
    }
  }
  return out;
}

// The IR without positions and ids: what a policy means.
nlohmann::json meaning(const std::string& text, const std::string& base, bool& ok) {
  driver::Compilation c;
  driver::compile_text(c, "p.sbpolicy", base, text, {});
  ok = c.policy.has_value();
  if (!ok) return nullptr;
  nlohmann::json j = ir::policy_to_json(*c.policy);
  syntax::erase_keys(j, {"origin", "id", "files"});
  return j;
}

std::vector<std::string> comments(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    bool in_string = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (in_string) {
        if (line[i] == '\\') ++i;
        else if (line[i] == '"') in_string = false;
      } else if (line[i] == '"') {
        in_string = true;
      } else if (line[i] == '#') {
        std::string c = line.substr(i);
        while (!c.empty() && (c.back() == ' ' || c.back() == '\r' || c.back() == '\t')) c.pop_back();
        out.push_back(c);
        break;
      }
    }
  }
  return out;
}

TEST(Format, KeepsMeaningAndCommentsOnEveryPolicyAndIsIdempotent) {
  std::size_t formatted = 0, compiled = 0, refused = 0;
  for (const Text& t : corpus()) {
    auto r = format::format_policy("p.sbpolicy", t.body);
    if (const auto* no = std::get_if<format::Refused>(&r)) {
      EXPECT_NE(no->message.find("syntax errors"), std::string::npos) << t.label << ": " << no->message;
      ++refused;
      continue;
    }
    ++formatted;
    const std::string& out = std::get<std::string>(r);
    auto again = format::format_policy("p.sbpolicy", out);
    ASSERT_TRUE(std::holds_alternative<std::string>(again)) << t.label;
    EXPECT_EQ(std::get<std::string>(again), out) << t.label << ": not idempotent";
    EXPECT_EQ(comments(out), comments(t.body)) << t.label;
    bool ok_before = false, ok_after = false;
    const auto before = meaning(t.body, t.base_dir, ok_before);
    const auto after = meaning(out, t.base_dir, ok_after);
    if (ok_before) {
      ++compiled;
      EXPECT_TRUE(ok_after) << t.label;
      EXPECT_EQ(before, after) << t.label << "\n" << out;
    }
  }
  std::printf("fmt: %zu texts formatted (%zu compiled, IR compared), %zu refused as not parsing\n", formatted,
              compiled, refused);
  EXPECT_GE(formatted, 150u);
  EXPECT_GE(compiled, 100u);
}

}  // namespace
}  // namespace sbpolicy
