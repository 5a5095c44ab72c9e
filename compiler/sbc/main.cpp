// sbc: the policy compiler and authoring tool. A straight line: parse the
// command line, run one subcommand, exit with its status.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "sbc/commands.hpp"
#include "support/suggest.hpp"

#include "build_info.hpp"

using namespace sbpolicy::sbc;

namespace {

// `compile` also takes `--format table` (for --target proxy): the output
// as a table, diagnostics as for human.
void add_common(CLI::App* cmd, CommonOptions& common, bool table = false, bool format = true, bool fail_level = true) {
  if (format) {
    cmd->add_option("--format", common.format,
                    table ? "Diagnostic format; table: the proxy table as a table" : "Diagnostic format")
        ->check(table ? CLI::IsMember({"human", "plain", "json", "table"}) : CLI::IsMember({"human", "plain", "json"}))
        ->capture_default_str();
  }
  cmd->add_option("--color", common.color, "Colour in human output (NO_COLOR is honoured)")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  if (fail_level) {
    cmd->add_option("--fail-level", common.fail_level, "Exit 1 on diagnostics of this severity or worse")
        ->check(CLI::IsMember({"error", "warning"}))
        ->capture_default_str();
  }
  cmd->add_option("--stdlib", common.stdlib_dir,
                  "Use the standard library policies under DIR/std/ instead of the built-in ones");
  cmd->add_flag("-v,--verbose", common.verbose,
                "Show the standard library's own findings (by default one line counts them)");
  cmd->add_option("--allow", common.allowed, "Accept this warning code: not shown, never fails (repeatable)")
      ->check([](const std::string& code) -> std::string {
        return sbpolicy::is_warning_code(code) ? "" : "`" + code + "` is not a warning code (docs/diagnostics.md)";
      });
}

}  // namespace

int main(int argc, char** argv) {
  try {
    CLI::App app{"sbc: check, compile and explain sandbox policies (.sbpolicy)", "sbc"};
    app.set_version_flag("--version", "sbc " SBPOLICY_VERSION " (commit " SBPOLICY_COMMIT "; " SBPOLICY_BUILD_TYPE " build)");
    app.require_subcommand(1);
    CommonOptions common;

    CheckOptions check;
    auto* check_cmd = app.add_subcommand("check", "Parse, resolve and type-check policies");
    check_cmd->add_option("files", check.files, "Policy files (- for standard input)")->required();
    add_common(check_cmd, common);

    CompileOptions compile;
    auto* compile_cmd = app.add_subcommand("compile", "Compile a policy for a target");
    compile_cmd->add_option("file", compile.file, "Policy file (- for standard input)")->required();
    compile_cmd->add_option("--target", compile.target, "Compilation target")
        ->check(CLI::IsMember({"ir", "bwrap", "proxy", "sbpl"}))
        ->capture_default_str();
    compile_cmd->add_option("--emit", compile.emit,
                            "Dump a stage instead: ast, ir, or (--target bwrap) bind, expand, resolve, points")
        ->check(CLI::IsMember({"ast", "ir", "bind", "expand", "resolve", "points"}));
    compile_cmd->add_option("-o,--output", compile.output, "Write to this file (atomically) instead of stdout");
    compile_cmd->add_option("--workspace", compile.workspace,
                            "bwrap, sbpl: the workspace directory (default: .; for sbpl a macOS path, not checked here)");
    compile_cmd->add_option("--home", compile.home,
                            "bwrap, sbpl: the home directory (default: $HOME); must exist for bwrap");
    compile_cmd->add_option("--proxy-port", compile.proxy_port, "sbpl: the proxy's port on localhost (0: no network)")
        ->check(CLI::Range(0, 65535))
        ->capture_default_str();
    compile_cmd->add_flag("--params", compile.params, "sbpl: print the profile's parameter values (JSON) instead");
    compile_cmd->add_flag("--target-strict", compile.target_strict,
                          "Make every rule the target cannot enforce exactly an error");
    add_common(compile_cmd, common, /*table=*/true);

    ExplainOptions explain;
    auto* explain_cmd = app.add_subcommand("explain", "Show the decision for one operation on one subject");
    explain_cmd->add_option("file", explain.file, "Policy file")->required();
    explain_cmd->add_option("operation", explain.operation, "read, write, net, unix or env")->required();
    explain_cmd->add_option("subject", explain.subject, "A path, host[:port] or variable name")->required();
    explain_cmd->add_option("--workspace", explain.workspace, "The workspace directory (default: .)");
    explain_cmd->add_option("--home", explain.home,
                            "The home directory (default: $HOME); one that does not exist here is taken as given");
    explain_cmd->add_flag("--exit-code", explain.exit_code,
                          "Exit by the decision: 0 allow, 4 ask, 5 deny (errors stay 1-3)");
    explain_cmd->add_option("--target", explain.target,
                            "sbpl: also show what the macOS profile decides, and the forms that decide it "
                            "(--workspace and --home are then a Mac's)")
        ->check(CLI::IsMember({"sbpl"}));
    explain_cmd->add_option("--proxy-port", explain.proxy_port, "sbpl: the proxy's port on localhost")
        ->check(CLI::Range(0, 65535))
        ->capture_default_str();
    add_common(explain_cmd, common);

    DiffOptions diff;
    auto* diff_cmd = app.add_subcommand("diff", "Compare two policies: what access the new one adds or removes");
    diff_cmd->add_option("old", diff.old_file, "The policy before")->required();
    diff_cmd->add_option("new", diff.new_file, "The policy after")->required();
    diff_cmd->add_option("--workspace", diff.workspace,
                         "The workspace the comparison binds `.` to (default: /home/user/project)");
    diff_cmd->add_option("--home", diff.home, "The home the comparison binds `~` to (default: /home/user)");
    diff_cmd->add_option("--fail-on", diff.fail_on,
                         "Exit 1 on new-access (anything the new policy opens) or any-change")
        ->check(CLI::IsMember({"new-access", "any-change"}));
    diff_cmd->add_option("--max-examples", diff.max_examples, "Examples per operation and direction")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    add_common(diff_cmd, common);

    TestOptions test;
    auto* test_cmd = app.add_subcommand("test", "Run the test blocks of policies against the rules and every target");
    test_cmd->add_option("paths", test.paths, "Policy files, or directories to search for *_test.sbpolicy (default: .)");
    test_cmd->add_option("--workspace", test.workspace, "The workspace `.` binds to (default: /home/user/project)");
    test_cmd->add_option("--home", test.home, "The home `~` binds to (default: /home/user)");
    test_cmd->add_option("--format", test.format, "Output format")
        ->check(CLI::IsMember({"pretty", "json", "junit"}))
        ->capture_default_str();
    test_cmd->add_option("--run", test.run, "Run only the tests whose name matches this regular expression");
    test_cmd->add_flag("--coverage", test.coverage, "List the rules that decided no expectation");
    test_cmd->add_option("--threshold", test.threshold, "With --coverage: exit 1 below this percentage of rules")
        ->check(CLI::Range(0.0, 100.0));
    add_common(test_cmd, common, false, /*format=*/false);

    LintOptions lint;
    auto* lint_cmd = app.add_subcommand("lint", "Find dead, redundant and dangerous rules, and missing protections");
    lint_cmd->add_option("files", lint.files, "Policy files (- for standard input)");
    lint_cmd->add_option("--enable", lint.enable, "Turn on a rule, code or category (repeatable)")->delimiter(',');
    lint_cmd->add_option("--disable", lint.disable, "Turn off a rule, code or category (repeatable)")->delimiter(',');
    lint_cmd->add_option("--config", lint.config, "The configuration file (default: .sbc-lint.json, searched upwards)");
    lint_cmd->add_option("--format", lint.format, "Report format")
        ->check(CLI::IsMember({"human", "plain", "json", "sarif", "github"}))
        ->capture_default_str();
    lint_cmd->add_option("--fail-level", lint.fail_level,
                         "Exit 1 on findings of this level or worse (default: the configuration's, else warning)")
        ->check(CLI::IsMember({"error", "warning", "note"}));
    lint_cmd->add_option("--workspace", lint.workspace, "The workspace `.` binds to (default: /home/user/project)");
    lint_cmd->add_option("--home", lint.home, "The home `~` binds to (default: /home/user)");
    lint_cmd->add_flag("--list-rules", lint.list_rules, "Print the rules (with --format json: as JSON)");
    lint_cmd->add_option("--write-docs", lint.write_docs, "Write the rules' documentation pages into DIR");
    add_common(lint_cmd, common, false, /*format=*/false, /*fail_level=*/false);

    FmtOptions fmt_options;
    auto* fmt_cmd = app.add_subcommand("fmt", "Print policies in the canonical layout, comments kept");
    fmt_cmd->add_option("files", fmt_options.files, "Policy files (none or -: standard input)");
    fmt_cmd->add_flag("--check", fmt_options.check, "Exit 1 and list the files that are not in the canonical layout");
    fmt_cmd->add_flag("--diff", fmt_options.diff, "Print the changes as a unified diff instead");
    fmt_cmd->add_flag("-w,--write", fmt_options.write, "Rewrite the files in place");
    add_common(fmt_cmd, common, false, /*format=*/false, /*fail_level=*/false);

    // A mistyped command gets the one it resembles.
    if (argc > 1 && argv[1][0] != '-') {
      const std::string word = argv[1];
      const std::vector<std::string> commands = {"check", "compile", "explain", "diff", "test", "lint", "fmt"};
      if (std::find(commands.begin(), commands.end(), word) == commands.end()) {
        const auto near = sbpolicy::closest_match(word, commands);
        std::string all;
        for (std::size_t i = 0; i < commands.size(); ++i) {
          all += (i == 0 ? "" : i + 1 == commands.size() ? " and " : ", ") + commands[i];
        }
        std::fprintf(stderr, "sbc: unknown command `%s`; %s\n", word.c_str(),
                     (near ? "did you mean `" + *near + "`?" : "the commands are " + all).c_str());
        return kUsage;
      }
    }

    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      const int code = app.exit(e);
      return code == 0 ? kOk : kUsage;
    }
    if (!common.stdlib_dir.empty() && !is_directory(common.stdlib_dir)) {
      std::fprintf(stderr, "sbc: --stdlib %s: no such directory\n", common.stdlib_dir.c_str());
      return kUsage;
    }
    if (check_cmd->parsed()) return run_check(common, check);
    compile.target_given = compile_cmd->get_option("--target")->count() > 0;
    if (compile_cmd->parsed()) return run_compile(common, compile);
    if (explain_cmd->parsed()) return run_explain(common, explain);
    if (diff_cmd->parsed()) return run_diff(common, diff);
    if (test_cmd->parsed()) return run_test(common, test);
    if (lint_cmd->parsed()) return run_lint(common, lint);
    if (fmt_cmd->parsed()) return run_fmt(common, fmt_options);
    return kUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sbc: internal error: %s\n", e.what());
    return kInternal;
  } catch (...) {
    std::fprintf(stderr, "sbc: internal error\n");
    return kInternal;
  }
}
