#include "driver/pipeline.hpp"

#include <fmt/format.h>

#include <map>

#include <unistd.h>

#include <cerrno>

namespace sbpolicy::driver {

namespace {

void finish(Compilation& c) {
  sema::CheckedPolicy checked = sema::resolve_program(c.program, c.sources, c.diags);
  if (!c.diags.has_errors()) c.policy = ir::build_policy(c.program, std::move(checked), c.sources);
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
