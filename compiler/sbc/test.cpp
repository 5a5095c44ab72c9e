// sbc test [PATH…]: runs the `test` blocks of policy files. Each
// expectation is checked against the reference evaluator (the effect, and
// with `by` the deciding rule's place) and against every target's own
// answer (sbc/targets.hpp): a policy whose Linux plan, macOS profile or
// proxy table decides otherwise than its tests say fails them.
#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "analysis/policy_sets.hpp"
#include "ir/ir_json.hpp"
#include "sbc/commands.hpp"
#include "sbc/targets.hpp"

namespace sbpolicy::sbc {

namespace {

namespace fs = std::filesystem;

std::optional<ir::Operation> operation_of(const std::string& word) {
  for (ir::Operation op : {ir::Operation::Read, ir::Operation::Write, ir::Operation::Net, ir::Operation::Unix,
                           ir::Operation::Env}) {
    if (sema::operation_name(op) == word) return op;
  }
  return std::nullopt;
}

std::optional<ir::Effect> effect_of(const std::string& word) {
  for (ir::Effect e : {ir::Effect::Allow, ir::Effect::Deny, ir::Effect::Ask}) {
    if (sema::effect_name(e) == word) return e;
  }
  return std::nullopt;
}

// Does `rule` sit at `place` ("file:line" or "file:line:col")? The file is
// the rule's as displayed, or its last components.
bool rule_at(const ir::Rule& rule, const std::string& place) {
  std::string file = place;
  std::vector<std::uint32_t> numbers;
  for (int i = 0; i < 2; ++i) {
    const std::size_t colon = file.rfind(':');
    if (colon == std::string::npos) break;
    const std::string tail = file.substr(colon + 1);
    if (tail.empty() || tail.size() > 9 || !std::all_of(tail.begin(), tail.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) break;
    numbers.insert(numbers.begin(), static_cast<std::uint32_t>(std::stoul(tail)));
    file.resize(colon);
  }
  if (numbers.empty()) return false;
  const auto at = [&](const ir::SourceLocation& l) {
    const bool same_file = l.file == file || l.file.ends_with("/" + file);
    return same_file && l.line == numbers[0] && (numbers.size() < 2 || l.column == numbers[1]);
  };
  return at(rule.origin.target) || at(rule.origin.statement);
}

struct ExpectResult {
  const ast::Expectation* expect = nullptr;
  std::string at;  // file:line:col
  ir::Decision reference;
  bool reference_known = false;
  std::vector<TargetAnswer> targets;
  std::vector<std::string> problems;
  bool passed() const { return problems.empty(); }
};

struct TestResult {
  std::string name;
  std::string at;
  std::vector<ExpectResult> expects;
  bool passed() const {
    return std::all_of(expects.begin(), expects.end(), [](const ExpectResult& e) { return e.passed(); });
  }
};

struct FileResult {
  // The compiled file: the results point into its syntax tree and rules.
  std::unique_ptr<driver::Compilation> compilation = std::make_unique<driver::Compilation>();
  std::string file;
  std::string error;  // the file did not compile (or could not be read)
  std::vector<TestResult> tests;
  std::vector<const ir::Rule*> uncovered;
  std::size_t rules = 0;
};

std::string where(const SourceMap& sources, Span span) {
  const auto& f = sources.file(span.file);
  const auto lc = f.line_col(span.begin);
  return fmt::format("{}:{}:{}", f.name(), lc.line, lc.column);
}

// The files to run: each PATH that is a file, and the `*_test.sbpolicy`
// files under each PATH that is a directory, in name order.
std::vector<std::string> test_files(const std::vector<std::string>& paths, std::string& error) {
  std::vector<std::string> out;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (it->is_regular_file(ec) && name.ends_with("_test.sbpolicy")) found.push_back(it->path().string());
      }
      if (ec) {
        error = fmt::format("{}: {}", p, ec.message());
        return {};
      }
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else {
      out.push_back(p);
    }
  }
  return out;
}

FileResult run_file(const CommonOptions& common, const TestOptions& options, const std::string& path,
                    const RE2* filter, const RenderOptions& render) {
  FileResult result;
  result.file = path;
  driver::Compilation& c = *result.compilation;
  driver::compile_file(c, path, load_options(common));
  const Findings f = findings(c, c.diags, common);
  if (!f.shown.all().empty()) std::fputs(render_diagnostics(f.shown, c.sources, render).c_str(), stderr);
  if (c.root_unreadable) {
    result.error = "cannot be read";
    return result;
  }
  if (!c.policy) {
    result.error = "has errors (above); its tests did not run";
    return result;
  }
  const ir::Policy& policy = *c.policy;
  const sema::PathBindings bindings = analysis::analysis_bindings(options.workspace, options.home);

  // The tests of the file itself (not of the files it uses), and their subjects.
  std::vector<const ast::TestStmt*> tests;
  std::vector<std::pair<Span, const ast::TestStmt*>> spans;
  for (const auto& s : c.program.files.front().module.statements) {
    if (const auto* t = std::get_if<ast::TestStmt>(&s.node)) {
      if (filter != nullptr && !RE2::PartialMatch(t->name.value, *filter)) continue;
      tests.push_back(t);
      spans.emplace_back(s.span, t);
    }
  }
  struct Question {
    ir::Operation op;
    ir::Subject subject;
    std::string error;
  };
  std::vector<std::vector<Question>> questions(tests.size());
  std::vector<std::pair<ir::Operation, std::string>> paths;
  for (std::size_t i = 0; i < tests.size(); ++i) {
    for (const auto& e : tests[i]->expects) {
      Question q{*operation_of(e.operation.text), std::string(), ""};
      if (q.op == ir::Operation::Net) {
        auto h = sema::parse_host_subject(e.subject.value, 443);
        if (auto* err = std::get_if<std::string>(&h)) q.error = fmt::format("`{}` is not a host: {}", e.subject.value, *err);
        else q.subject = std::get<sema::HostSubject>(h);
      } else if (q.op == ir::Operation::Env) {
        q.subject = e.subject.value;
      } else {
        std::string why;
        const auto p = sema::normalize_subject_path(e.subject.value, bindings, &why);
        if (!p) q.error = fmt::format("`{}` is not a path: {}", e.subject.value, why);
        else {
          q.subject = *p;
          paths.emplace_back(q.op, *p);
        }
      }
      questions[i].push_back(std::move(q));
    }
  }

  const TargetOracle targets(policy, bindings, paths);
  std::set<const ir::Rule*> decided;
  for (std::size_t i = 0; i < tests.size(); ++i) {
    TestResult t;
    t.name = tests[i]->name.value;
    t.at = where(c.sources, spans[i].first);
    for (std::size_t k = 0; k < tests[i]->expects.size(); ++k) {
      const ast::Expectation& e = tests[i]->expects[k];
      const Question& q = questions[i][k];
      ExpectResult r;
      r.expect = &e;
      r.at = where(c.sources, e.span);
      if (!q.error.empty()) {
        r.problems.push_back(q.error);
        t.expects.push_back(std::move(r));
        continue;
      }
      const ir::Effect want = *effect_of(e.effect.text);
      r.reference = ir::decide(policy, q.op, q.subject, bindings);
      r.reference_known = true;
      decided.insert(r.reference.deciding.begin(), r.reference.deciding.end());
      if (r.reference.effect != want) {
        r.problems.push_back(fmt::format("the policy decides {}, not {}", sema::effect_name(r.reference.effect),
                                         sema::effect_name(want)));
      }
      if (e.by) {
        const bool found = std::any_of(r.reference.deciding.begin(), r.reference.deciding.end(),
                                       [&](const ir::Rule* rule) { return rule_at(*rule, e.by->value); });
        if (!found) {
          r.problems.push_back(r.reference.defaulted()
                                   ? fmt::format("no rule decides it (the default deny), not the rule at {}", e.by->value)
                                   : fmt::format("the rule at {} does not decide it", e.by->value));
        }
      }
      // Each target, asks unanswered: an ask grants nothing at launch,
      // except at the proxy, which asks per connection.
      const ir::Effect at_target = want == ir::Effect::Ask && q.op != ir::Operation::Net ? ir::Effect::Deny : want;
      r.targets = targets.answers(q.op, q.subject);
      for (const TargetAnswer& a : r.targets) {
        if (a.own) continue;  // not the policy's to decide
        if (!a.effect) {
          r.problems.push_back(fmt::format("{}: no answer: {}", a.target, a.detail));
        } else if (*a.effect != at_target) {
          r.problems.push_back(fmt::format("{} decides {}{}: {}", a.target, sema::effect_name(*a.effect),
                                           want == ir::Effect::Ask && q.op != ir::Operation::Net
                                               ? " before the ask is answered"
                                               : "",
                                           a.detail));
        }
      }
      t.expects.push_back(std::move(r));
    }
    result.tests.push_back(std::move(t));
  }
  result.rules = policy.rules.size();
  for (const ir::Rule& r : policy.rules) {
    if (decided.count(&r) == 0) result.uncovered.push_back(&r);
  }
  return result;
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 has no place for other control characters.
        if (static_cast<unsigned char>(ch) < 0x20 && ch != '\n' && ch != '\t') out += ' ';
        else out += ch;
    }
  }
  return out;
}

std::string expectation_text(const ast::Expectation& e) {
  return fmt::format("expect {} {} \"{}\"{}", e.effect.text, e.operation.text, e.subject.value,
                     e.by ? " by \"" + e.by->value + "\"" : "");
}

std::string failure_text(const ExpectResult& r) {
  std::string out = fmt::format("{} {}\n", r.at, expectation_text(*r.expect));
  for (const std::string& p : r.problems) out += "  " + p + "\n";
  if (r.reference_known) {
    for (const ir::Rule* rule : r.reference.deciding) {
      out += fmt::format("  decided by {} at {}\n", rule_text(*rule), rule_place(*rule));
    }
  }
  return out;
}

}  // namespace

int run_test(const CommonOptions& common, const TestOptions& options) {
  std::unique_ptr<RE2> filter;
  if (!options.run.empty()) {
    filter = std::make_unique<RE2>(options.run, RE2::Quiet);
    if (!filter->ok()) {
      std::fprintf(stderr, "sbc test: --run: %s\n", filter->error().c_str());
      return kUsage;
    }
  }
  std::string error;
  const std::vector<std::string> files = test_files(options.paths.empty() ? std::vector<std::string>{"."} : options.paths, error);
  if (!error.empty()) {
    std::fprintf(stderr, "sbc test: %s\n", error.c_str());
    return kUsage;
  }
  if (files.empty()) {
    std::fprintf(stderr, "sbc test: no *_test.sbpolicy files under %s\n",
                 options.paths.empty() ? "." : fmt::format("{}", fmt::join(options.paths, ", ")).c_str());
    return kUsage;
  }
  const RenderOptions render = render_options(common);
  std::vector<FileResult> results;
  for (const std::string& f : files) results.push_back(run_file(common, options, f, filter.get(), render));

  std::size_t tests = 0, failed = 0, expectations = 0, broken_files = 0, rules = 0, uncovered = 0;
  for (const auto& r : results) {
    broken_files += r.error.empty() ? 0 : 1;
    rules += r.rules;
    uncovered += r.uncovered.size();
    for (const auto& t : r.tests) {
      ++tests;
      failed += t.passed() ? 0 : 1;
      expectations += t.expects.size();
    }
  }
  const double coverage = rules == 0 ? 100.0 : 100.0 * static_cast<double>(rules - uncovered) / static_cast<double>(rules);
  const bool below = options.coverage && coverage + 1e-9 < options.threshold;

  if (options.format == "json") {
    nlohmann::json out = {{"schema_version", 1}};
    nlohmann::json jfiles = nlohmann::json::array();
    for (const auto& r : results) {
      nlohmann::json jt = nlohmann::json::array();
      for (const auto& t : r.tests) {
        nlohmann::json je = nlohmann::json::array();
        for (const auto& e : t.expects) {
          nlohmann::json targets = nlohmann::json::array();
          for (const auto& a : e.targets) {
            targets.push_back({{"target", a.target},
                               {"effect", a.effect ? nlohmann::json(sema::effect_name(*a.effect)) : nlohmann::json()},
                               {"detail", a.detail}});
          }
          nlohmann::json deciding = nlohmann::json::array();
          for (const ir::Rule* rule : e.reference.deciding) deciding.push_back(ir::rule_to_json(*rule));
          je.push_back({{"at", e.at},
                        {"expect", e.expect->effect.text},
                        {"operation", e.expect->operation.text},
                        {"subject", e.expect->subject.value},
                        {"passed", e.passed()},
                        {"problems", e.problems},
                        {"reference", e.reference_known ? nlohmann::json{{"effect", sema::effect_name(e.reference.effect)},
                                                                         {"deciding", deciding}}
                                                        : nlohmann::json()},
                        {"targets", targets}});
        }
        jt.push_back({{"name", t.name}, {"at", t.at}, {"passed", t.passed()}, {"expectations", je}});
      }
      nlohmann::json f = {{"file", r.file}, {"tests", jt}};
      if (!r.error.empty()) f["error"] = r.error;
      if (options.coverage) {
        nlohmann::json u = nlohmann::json::array();
        for (const ir::Rule* rule : r.uncovered) u.push_back(ir::rule_to_json(*rule));
        f["uncovered"] = u;
      }
      jfiles.push_back(std::move(f));
    }
    out["files"] = jfiles;
    out["summary"] = {{"tests", tests}, {"failed", failed}, {"expectations", expectations}, {"files_with_errors", broken_files}};
    if (options.coverage) out["coverage"] = {{"rules", rules}, {"decided", rules - uncovered}, {"percent", coverage}};
    std::fputs((out.dump(2) + "\n").c_str(), stdout);
  } else if (options.format == "junit") {
    std::string x = fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"sbc test\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
                                tests, failed, broken_files);
    for (const auto& r : results) {
      std::size_t file_failed = 0;
      for (const auto& t : r.tests) file_failed += t.passed() ? 0 : 1;
      x += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n", xml_escape(r.file),
                       r.tests.size(), file_failed, r.error.empty() ? 0 : 1);
      if (!r.error.empty()) {
        x += fmt::format("    <testcase name=\"(the policy)\" classname=\"{}\"><error message=\"{}\"/></testcase>\n",
                         xml_escape(r.file), xml_escape(r.file + " " + r.error));
      }
      for (const auto& t : r.tests) {
        x += fmt::format("    <testcase name=\"{}\" classname=\"{}\"", xml_escape(t.name), xml_escape(r.file));
        if (t.passed()) {
          x += "/>\n";
          continue;
        }
        std::string text;
        for (const auto& e : t.expects) {
          if (!e.passed()) text += failure_text(e);
        }
        x += fmt::format(">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                         xml_escape(t.expects.empty() ? "" : t.at + ": an expectation failed"), xml_escape(text));
      }
      x += "  </testsuite>\n";
    }
    x += "</testsuites>\n";
    std::fputs(x.c_str(), stdout);
  } else {
    std::string out;
    for (const auto& r : results) {
      out += r.file + "\n";
      if (!r.error.empty()) out += "  error: " + r.file + " " + r.error + "\n";
      for (const auto& t : r.tests) {
        out += fmt::format("  {} {} ({} expectation{})\n", t.passed() ? "ok  " : "FAIL", t.name, t.expects.size(),
                           t.expects.size() == 1 ? "" : "s");
        for (const auto& e : t.expects) {
          if (e.passed()) continue;
          std::string text = failure_text(e);
          std::string indented;
          for (std::size_t b = 0; b < text.size();) {
            const std::size_t n = text.find('\n', b);
            indented += "      " + text.substr(b, n - b) + "\n";
            b = n + 1;
          }
          out += indented;
        }
      }
      if (options.coverage && !r.uncovered.empty()) {
        out += fmt::format("  {} of {} rules decide no expectation:\n", r.uncovered.size(), r.rules);
        for (const ir::Rule* rule : r.uncovered) out += fmt::format("    {} at {}\n", rule_text(*rule), rule_place(*rule));
      }
    }
    out += fmt::format("{} test{}, {} passed, {} failed; {} expectations, each checked against the reference "
                       "evaluator and the Linux, macOS and proxy targets",
                       tests, tests == 1 ? "" : "s", tests - failed, failed, expectations);
    if (broken_files != 0) out += fmt::format("; {} file{} with errors", broken_files, broken_files == 1 ? "" : "s");
    out += "\n";
    if (options.coverage) {
      out += fmt::format("rule coverage: {:.1f}% ({} of {} rules decide an expectation){}\n", coverage,
                         rules - uncovered, rules, below ? fmt::format(", below --threshold {}", options.threshold) : "");
    }
    std::fputs(out.c_str(), stdout);
  }
  return failed != 0 || broken_files != 0 || below ? kPolicyErrors : kOk;
}

}  // namespace sbpolicy::sbc
