// Fuzz target: the pattern normalisers and the pattern automata on
// arbitrary strings.
//
// Beyond "no crash", it checks two promises. Normalisation: the canonical
// text of a pattern parses back to the same pattern (a fixed point), so
// every spelling of one set really is one spelling. The automata of
// compiler/analysis: a pattern's automaton (the subset construction, then
// the minimisation) accepts exactly what the reference matcher accepts, on
// fixed subjects and on one the input carries after its first newline
// (`pattern\nsubject`), and a path automaton holds only real paths. A
// violation aborts, which libFuzzer reports as a crash with the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "analysis/automaton.hpp"
#include "analysis/path_automaton.hpp"
#include "analysis/subjects.hpp"
#include "sema/env_pattern.hpp"
#include "sema/host_pattern.hpp"
#include "sema/path_pattern.hpp"

using namespace sbpolicy::sema;

namespace {

[[noreturn]] void fail(const char* what, const std::string& a, const std::string& b) {
  std::fprintf(stderr, "%s: `%s` vs `%s`\n", what, a.c_str(), b.c_str());
  std::abort();
}

// The subset construction is bounded low here so one input stays fast; an
// automaton past the bound is refused, which is not a wrong answer.
constexpr std::size_t kFuzzStates = 20000;

void check_path_automaton(const PathPattern& p, const PathBindings& b, const std::vector<std::string>& subjects,
                          const std::string& input) {
  namespace an = sbpolicy::analysis;
  const auto nfa = an::path_nfa(p, b);
  if (!nfa) return;
  std::string error;
  const auto dfa = an::determinize(*nfa, error, kFuzzStates);
  if (!dfa) return;
  const an::Dfa small = an::minimize(*dfa);
  if (small.states.size() > dfa->states.size()) fail("minimisation grew the automaton", input, p.text());
  const auto inside = an::includes(an::real_paths(), small, error);
  if (inside && !*inside) fail("a path automaton accepts a `.` or `..` component", input, p.text());
  PathBindings root;
  root.home = "/";
  root.workspace = "/";
  for (const std::string& s : subjects) {
    // Automata read normalised paths, as the evaluator does after normalising.
    const auto normal = normalize_subject_path(s, root, nullptr);
    if (!normal || *normal != s) continue;
    const bool want = path_matches(p, b, s);
    const auto units = an::path_units(s);
    if (dfa->accepts(units) != want || small.accepts(units) != want) fail("path automaton disagrees on", input, s);
  }
}

void check_host_automaton(const HostPattern& p, const std::vector<HostSubject>& subjects, const std::string& input) {
  namespace an = sbpolicy::analysis;
  std::string error;
  const auto dfa = an::determinize(an::host_nfa(p), error, kFuzzStates);
  if (!dfa) return;
  const an::Dfa small = an::minimize(*dfa);
  for (const HostSubject& s : subjects) {
    const bool want = host_matches(p, s);
    const auto units = an::host_units(s);
    if (dfa->accepts(units) != want || small.accepts(units) != want) fail("host automaton disagrees on", input, s.text());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  const std::string text = input.substr(0, newline);
  const std::string carried = newline == std::string::npos ? "" : input.substr(newline + 1);

  if (auto p = parse_path_pattern(text); auto* path = std::get_if<PathPattern>(&p)) {
    const std::string canonical = path->text();
    auto again = parse_path_pattern(canonical);
    const auto* back = std::get_if<PathPattern>(&again);
    if (back == nullptr || !(*back == *path)) fail("path canonical text does not parse back", text, canonical);
    PathBindings b;
    b.home = "/home/u";
    b.workspace = "/w";
    (void)bind_path_pattern(*path, b);
    std::vector<std::string> subjects = {"/home/u/a/b/c", "/w/x/.env", "/", "/home/u", "/w", "/w/a"};
    if (!carried.empty()) subjects.push_back(carried);
    check_path_automaton(*path, b, subjects, input);
  }

  if (auto h = parse_host_pattern(text); auto* host = std::get_if<HostPattern>(&h)) {
    const std::string canonical = host->text();
    auto again = parse_host_pattern(canonical);
    const auto* back = std::get_if<HostPattern>(&again);
    if (back == nullptr || !(*back == *host)) fail("host canonical text does not parse back", text, canonical);
    std::vector<HostSubject> subjects;
    for (const std::string h : {"a.example.com", "example.com", "10.0.0.1", "[::1]", "x.y.z"}) {
      for (std::uint16_t port : {443, 80}) {
        if (auto s = parse_host_subject(h, port); auto* hs = std::get_if<HostSubject>(&s)) subjects.push_back(*hs);
      }
    }
    if (auto s = parse_host_subject(carried, 443); auto* hs = std::get_if<HostSubject>(&s)) subjects.push_back(*hs);
    check_host_automaton(*host, subjects, input);
  }

  if (auto s = parse_host_subject(text, 443); auto* subject = std::get_if<HostSubject>(&s)) {
    auto again = parse_host_subject(subject->text(), 443);
    const auto* back = std::get_if<HostSubject>(&again);
    if (back == nullptr || back->text() != subject->text()) fail("host subject does not parse back", text, subject->text());
  }

  if (auto e = parse_env_pattern(text); auto* env = std::get_if<EnvPattern>(&e)) {
    std::string error;
    const auto dfa = sbpolicy::analysis::determinize(sbpolicy::analysis::env_nfa(*env), error, kFuzzStates);
    for (const std::string& name : {std::string("LC_ALL"), std::string("PATH"), carried}) {
      const bool want = env_matches(*env, name);
      std::vector<std::uint32_t> units;
      for (unsigned char c : name) units.push_back(c);
      if (dfa && dfa->accepts(units) != want) {
        fail("env automaton disagrees on", input, name);
      }
    }
  }
  return 0;
}
