// Runs a policy test file: many cases separated by lines of `---`, each a
// policy whose expected diagnostics are written inline, on the line they are
// about, after `###`:
//
//   allow reed "./x";   ### E0201
//   allow read "/a", "/b/.."  ### W0002 E0303
//
// A case without `###` must check clean. A line `=== NAME` starts another
// file of the same case, which the case can import with `use "NAME";` (the
// first file is `case.sbpolicy`). A line `##! warning-free` is not needed:
// warnings are diagnostics like any other and must be expected too.
//
// The comparison is exact: the multiset of (file, line, code) produced must
// equal the one written down. On a mismatch the runner prints both and the
// rendered diagnostics.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "driver/pipeline.hpp"
#include "support/render.hpp"

using namespace sbpolicy;

namespace {

struct Expectation {
  std::string file;
  std::uint32_t line;
  std::string code;
  auto key() const { return std::tie(file, line, code); }
  bool operator<(const Expectation& o) const { return key() < o.key(); }
  bool operator==(const Expectation& o) const { return key() == o.key(); }
};

struct Case {
  std::size_t first_line;  // in the .sbtest file
  std::vector<std::pair<std::string, std::string>> files;  // name, text
};

std::vector<Case> split_cases(const std::string& text) {
  std::vector<Case> cases(1);
  cases.back().first_line = 1;
  cases.back().files.push_back({"case.sbpolicy", ""});
  std::istringstream in(text);
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line == "---") {
      cases.push_back({number + 1, {{"case.sbpolicy", ""}}});
    } else if (line.rfind("=== ", 0) == 0) {
      cases.back().files.push_back({line.substr(4), ""});
    } else {
      cases.back().files.back().second += line + "\n";
    }
  }
  return cases;
}

std::vector<Expectation> expected(const Case& c) {
  std::vector<Expectation> out;
  for (const auto& [name, text] : c.files) {
    std::istringstream in(text);
    std::string line;
    std::uint32_t number = 0;
    while (std::getline(in, line)) {
      ++number;
      const auto mark = line.find("###");
      if (mark == std::string::npos) continue;
      std::istringstream codes(line.substr(mark + 3));
      std::string code;
      while (codes >> code) out.push_back({name, number, code});
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: policy_tests FILE.sbtest\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", argv[1]);
    return 2;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  const std::vector<Case> cases = split_cases(buf.str());
  std::size_t passed = 0, failed = 0;
  for (const Case& c : cases) {
    sema::MemoryReader reader;
    for (const auto& [name, text] : c.files) reader.files["/case/" + name] = text;
    sema::LoadOptions options;
    options.reader = &reader;
    driver::Compilation comp;
    driver::compile_file(comp, "/case/case.sbpolicy", options);
    std::vector<Expectation> actual;
    for (const Diagnostic& d : comp.diags.all()) {
      std::string file = "?";
      std::uint32_t line = 0;
      if (d.primary.span.valid()) {
        const SourceFile& f = comp.sources.file(d.primary.span.file);
        file = f.name();
        const auto slash = file.rfind('/');
        if (file.rfind("/case/", 0) == 0) file = file.substr(slash + 1);
        line = f.line_col(d.primary.span.begin).line;
      }
      actual.push_back({file, line, std::string(code_info(d.code).id)});
    }
    std::sort(actual.begin(), actual.end());
    const std::vector<Expectation> want = expected(c);
    if (actual == want) {
      ++passed;
      continue;
    }
    ++failed;
    std::string w, a;
    for (const auto& e : want) w += fmt::format("  {}:{} {}\n", e.file, e.line, e.code);
    for (const auto& e : actual) a += fmt::format("  {}:{} {}\n", e.file, e.line, e.code);
    std::fprintf(stderr, "%s:%zu: case failed\nexpected:\n%sactual:\n%s%s\n", argv[1], c.first_line, w.c_str(),
                 a.c_str(), render_diagnostics(comp.diags, comp.sources, {RenderFormat::Plain, false}).c_str());
  }
  std::printf("%zu passed, %zu failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
