#include "driver/pipeline.hpp"

#include <fmt/format.h>

#include <map>

#include "ir/evaluator.hpp"

#include <unistd.h>

#include <cerrno>

namespace sbpolicy::driver {

namespace {

// `std.secrets` for std/secrets.sbpolicy, `"../org/b.sbpolicy"` for a file:
// how a `use` names the module a rule came from.
std::string use_name(const Compilation& c, Span rule) {
  for (const sema::LoadedFile& f : c.program.files) {
    if (f.file != rule.file) continue;
    std::string name = c.sources.file(f.file).name();
    if (!f.is_stdlib) return "\"" + name + "\"";
    if (name.ends_with(".sbpolicy")) name.resize(name.size() - 9);
    for (char& ch : name) ch = ch == '/' ? '.' : ch;
    return name;
  }
  return "";
}

// W0005: an allow (or ask) about paths, in the root file, that a deny of an
// imported module wins over on the very path it names: it does nothing,
// unless carved out at the import. Decided on the rule's literal path
// with stand-in anchors (the same for both rules, so the answer does not
// depend on them); globs are not judged.
void warn_shadowed_allows(Compilation& c) {
  sema::PathBindings bindings;
  bindings.home = "/home/user";
  bindings.workspace = "/workspace";
  for (const ir::Rule& r : c.policy->rules) {
    if (r.effect == ir::Effect::Deny || r.origin.target.span.file != c.program.root) continue;
    if (r.operation != ir::Operation::Read && r.operation != ir::Operation::Write && r.operation != ir::Operation::Unix) {
      continue;
    }
    const auto* pattern = std::get_if<sema::PathPattern>(&r.pattern);
    if (pattern == nullptr) continue;
    const auto bound = sema::bind_literal_prefix(*pattern, bindings);
    if (!bound || !bound->rest.empty()) continue;
    const ir::Decision d = ir::decide(*c.policy, r.operation, bound->prefix, bindings);
    if (d.effect != ir::Effect::Deny || d.deciding.empty()) continue;
    const ir::Rule& deny = *d.deciding.front();
    if (deny.origin.target.span.file == c.program.root) continue;
    const std::string module = use_name(c, deny.origin.target.span);
    if (module.empty()) continue;
    c.diags
        .report(Code::W0005, r.origin.target.span,
                fmt::format("this {} does nothing: `deny {} \"{}\"` of {} wins over it",
                            sema::effect_name(r.effect), sema::operation_name(deny.operation),
                            sema::pattern_text(deny.pattern), deny.origin.target.text()))
        .label("shadowed by an imported deny")
        .help(fmt::format("a deny beats an allow; carve the path out where it is imported: `use {} except \"{}\";`",
                          module, sema::pattern_text(r.pattern)));
  }
}

void finish(Compilation& c) {
  sema::CheckedPolicy checked = sema::resolve_program(c.program, c.sources, c.diags);
  if (!c.diags.has_errors()) {
    c.policy = ir::build_policy(c.program, std::move(checked), c.sources);
    warn_shadowed_allows(c);
  }
  c.diags.sort();
}

std::string current_directory() {
  char buf[4096];
  return getcwd(buf, sizeof buf) != nullptr ? std::string(buf) : std::string(".");
}

}  // namespace

void compile_file(Compilation& c, const std::string& path, const sema::LoadOptions& options) {
  if (path == "-") {
    // Read at most one byte past the limit: enough for the parser to refuse
    // an oversized policy, without holding an endless stream in memory.
    std::string text;
    char buf[65536];
    while (text.size() <= options.parse_limits.max_file_bytes) {
      const ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      text.append(buf, static_cast<std::size_t>(n));
    }
    compile_text(c, "<stdin>", current_directory(), std::move(text), options);
    return;
  }
  c.program = sema::load_program(path, c.sources, c.diags, options);
  if (c.program.root == kNoFile) {
    c.root_unreadable = true;
    c.diags.sort();
    return;
  }
  finish(c);
}

void compile_text(Compilation& c, const std::string& display_name, const std::string& base_dir, std::string text,
                  const sema::LoadOptions& options) {
  c.program = sema::load_program_text(display_name, base_dir, std::move(text), c.sources, c.diags, options);
  finish(c);
}

bool in_stdlib(const Compilation& c, Span span) {
  if (!span.valid()) return false;
  for (const sema::LoadedFile& f : c.program.files) {
    if (f.file == span.file) return f.is_stdlib;
  }
  return false;
}

Diagnostics users_own(const Compilation& c, const Diagnostics& all, bool verbose, std::string& summary) {
  Diagnostics shown;
  std::map<std::string, std::size_t> hidden;  // code -> count
  std::size_t total = 0;
  shown.append_if(all, [&](const Diagnostic& d) {
    if (verbose || d.severity == Severity::Error || !in_stdlib(c, d.primary.span)) return true;
    ++hidden[std::string(code_info(d.code).id)];
    ++total;
    return false;
  });
  summary.clear();
  if (total == 0) return shown;
  std::string codes;
  for (const auto& [code, n] : hidden) codes += fmt::format("{}{} x{}", codes.empty() ? "" : ", ", code, n);
  summary = fmt::format("note: {} finding{} in the standard library's own rules ({}), which this policy cannot "
                        "change; -v shows them\n",
                        total, total == 1 ? "" : "s", codes);
  return shown;
}

}  // namespace sbpolicy::driver
