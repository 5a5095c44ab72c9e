// Fuzz target: the pattern normalisers on arbitrary strings.
//
// Beyond "no crash", it checks the property normalisation promises: the
// canonical text of a pattern parses back to the same pattern (a fixed
// point), so every spelling of one set really is one spelling. A violation
// aborts, which libFuzzer reports as a crash with the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sema/env_pattern.hpp"
#include "sema/host_pattern.hpp"
#include "sema/path_pattern.hpp"

using namespace sbpolicy::sema;

namespace {

[[noreturn]] void fail(const char* what, const std::string& a, const std::string& b) {
  std::fprintf(stderr, "%s: `%s` vs `%s`\n", what, a.c_str(), b.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);

  if (auto p = parse_path_pattern(text); auto* path = std::get_if<PathPattern>(&p)) {
    const std::string canonical = path->text();
    auto again = parse_path_pattern(canonical);
    const auto* back = std::get_if<PathPattern>(&again);
    if (back == nullptr || !(*back == *path)) fail("path canonical text does not parse back", text, canonical);
    PathBindings b;
    b.home = "/home/u";
    b.workspace = "/w";
    (void)bind_path_pattern(*path, b);
    (void)path_matches(*path, b, "/home/u/a/b/c");
    (void)path_matches(*path, b, "/w/x/.env");
  }

  if (auto h = parse_host_pattern(text); auto* host = std::get_if<HostPattern>(&h)) {
    const std::string canonical = host->text();
    auto again = parse_host_pattern(canonical);
    const auto* back = std::get_if<HostPattern>(&again);
    if (back == nullptr || !(*back == *host)) fail("host canonical text does not parse back", text, canonical);
  }

  if (auto s = parse_host_subject(text, 443); auto* subject = std::get_if<HostSubject>(&s)) {
    auto again = parse_host_subject(subject->text(), 443);
    const auto* back = std::get_if<HostSubject>(&again);
    if (back == nullptr || back->text() != subject->text()) fail("host subject does not parse back", text, subject->text());
  }

  if (auto e = parse_env_pattern(text); auto* env = std::get_if<EnvPattern>(&e)) {
    (void)env_matches(*env, "LC_ALL");
  }
  return 0;
}
