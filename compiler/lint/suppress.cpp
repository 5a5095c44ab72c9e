// Inline suppressions and the configuration file of `sbc lint` (lint.hpp).
#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "lint/lint.hpp"
#include "support/text.hpp"

namespace sbpolicy::lint {

namespace {

struct Suppression {
  FileId file;
  std::uint32_t line = 0;      // the comment's line
  bool alone = false;          // the comment is alone on its line: it covers the next line
  Span span;                   // the comment
  std::vector<Code> codes;
  std::vector<std::string> unknown;
  std::string reason;
  // The statement it covers: the one it ends (or sits in), or, alone on its
  // line, the next one. Findings anywhere in it are covered, whatever the
  // layout (`sbc fmt` may break a statement over lines). Invalid: by line.
  Span statement;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::optional<Code> code_named(std::string_view word) {
  for (const LintRule& r : lint_rules()) {
    const CodeInfo& info = code_info(r.code);
    if (word == info.id || word == info.name) return r.code;
  }
  return std::nullopt;
}

// The suppressions of one file: comments `# sbc-lint: allow A, B -- reason`,
// outside strings.
std::vector<Suppression> suppressions_of(const SourceFile& file) {
  std::vector<Suppression> out;
  const std::string_view text = file.text();
  bool in_string = false;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (ch == '\n') {
      in_string = false;
      line_start = i + 1;
      continue;
    }
    if (in_string) {
      if (ch == '\\') ++i;
      else if (ch == '"') in_string = false;
      continue;
    }
    if (ch == '"') {
      in_string = true;
      continue;
    }
    if (ch != '#') continue;
    const std::size_t hash = i;
    std::size_t end = text.find('\n', i);
    if (end == std::string_view::npos) end = text.size();
    std::string_view body = trim(text.substr(i + 1, end - i - 1));
    const bool alone = trim(text.substr(line_start, i - line_start)).empty();
    i = end - 1;
    if (!body.starts_with("sbc-lint:")) continue;
    body = trim(body.substr(9));
    Suppression s;
    s.file = file.id();
    s.line = file.line_col(static_cast<std::uint32_t>(line_start)).line;
    s.alone = alone;
    s.span = Span{file.id(), static_cast<std::uint32_t>(hash), static_cast<std::uint32_t>(end)};
    if (!body.starts_with("allow")) {
      s.unknown.push_back(std::string(body.substr(0, body.find(' '))));
      out.push_back(std::move(s));
      continue;
    }
    body = trim(body.substr(5));
    const std::size_t dash = body.find("--");
    s.reason = dash == std::string_view::npos ? "" : std::string(trim(body.substr(dash + 2)));
    std::string names(body.substr(0, dash));
    for (char& c : names) {
      if (c == ',') c = ' ';
    }
    std::istringstream words(names);
    for (std::string w; words >> w;) {
      if (auto code = code_named(w)) s.codes.push_back(*code);
      else s.unknown.push_back(w);
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

void apply_suppressions(const driver::Compilation& c, Diagnostics& findings, std::vector<Suppressed>& suppressed) {
  std::vector<Suppression> all;
  for (const auto& f : c.program.files) {
    const SourceFile& src = c.sources.file(f.file);
    auto part = suppressions_of(src);
    for (Suppression& s : part) {
      for (const ast::Statement& st : f.module.statements) {
        const Span sp = st.span;
        const bool inside = sp.begin < s.span.begin && s.span.begin < sp.end;
        const bool ends_here = !s.alone && sp.end <= s.span.begin && src.line_col(sp.end).line == s.line;
        const bool next = s.alone && sp.begin > s.span.begin;
        if (inside || ends_here) s.statement = sp;  // the last one wins: the statement on this line
        if (next && !s.statement.valid()) {
          s.statement = sp;
          break;
        }
        if (inside) break;
      }
    }
    all.insert(all.end(), part.begin(), part.end());
  }
  Diagnostics kept;
  for (const Suppression& s : all) {
    if (!s.reason.empty() && s.unknown.empty() && !s.codes.empty()) continue;
    std::string what = s.codes.empty() && s.unknown.empty() ? "names no rule" : "gives no reason";
    if (!s.unknown.empty()) what = fmt::format("names `{}`, which is not a lint rule or code", s.unknown.front());
    kept.report(Code::L0502, s.span, fmt::format("this suppression {}, so it suppresses nothing", what))
        .label("not a suppression")
        .help("write `# sbc-lint: allow RULE -- REASON` (sbc lint --list-rules names the rules)");
  }
  for (const Diagnostic& d : findings.all()) {
    bool hidden = false;
    if (d.primary.span.valid()) {
      const std::uint32_t line = c.sources.file(d.primary.span.file).line_col(d.primary.span.begin).line;
      for (const Suppression& s : all) {
        if (s.file != d.primary.span.file || s.reason.empty() || !s.unknown.empty()) continue;
        const bool here = s.statement.valid() ? d.primary.span.begin >= s.statement.begin &&
                                                    d.primary.span.begin <= s.statement.end
                                              : s.line == line || (s.alone && s.line + 1 == line);
        if (!here) continue;
        if (std::find(s.codes.begin(), s.codes.end(), d.code) == s.codes.end()) continue;
        suppressed.push_back({d, s.reason});
        hidden = true;
        break;
      }
    }
    if (!hidden) kept.push(d);
  }
  kept.sort();
  findings = std::move(kept);
}

bool load_config(const std::string& path, const std::string& start_dir, Config& out, std::string& error) {
  namespace fs = std::filesystem;
  std::string found = path;
  if (found.empty()) {
    std::error_code ec;
    fs::path dir = fs::absolute(start_dir.empty() ? "." : start_dir, ec);
    for (; !ec && !dir.empty(); dir = dir.parent_path()) {
      const fs::path candidate = dir / ".sbc-lint.json";
      std::error_code missing;
      if (fs::is_regular_file(candidate, missing)) {
        found = candidate.string();
        break;
      }
      // The search ends at the repository's root: a file above it (in
      // /tmp, a shared home) is not the project's.
      if (fs::exists(dir / ".git", missing) || dir == dir.parent_path()) break;
    }
    if (found.empty()) return true;
  }
  // Opened once and judged by what was opened, so the file cannot be
  // swapped (a link repointed) between the check and the read; a FIFO put in
  // its place cannot make the open wait.
  const int fd = open(found.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0) close(fd);
    error = fmt::format("{}: cannot be read", found);
    return false;
  }
  // A configuration can turn rules off: a found one that another user could
  // have written is refused, not obeyed (a gate fails closed).
  if (path.empty() && ((st.st_uid != geteuid() && st.st_uid != 0) || (st.st_mode & 022) != 0)) {
    close(fd);
    error = fmt::format("{}: refused: it is owned by another user or writable by others, and could turn rules off "
                        "(pass --config to use it)",
                        found);
    return false;
  }
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const bool failed = n < 0;
      close(fd);
      if (failed) {
        error = fmt::format("{}: cannot be read", found);
        return false;
      }
      break;
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    error = fmt::format("{}: not a JSON object", found);
    return false;
  }
  out.path = found;
  for (const auto& [key, value] : j.items()) {
    if (key == "enable" || key == "disable") {
      if (!value.is_array()) {
        error = fmt::format("{}: `{}` is a list of rule names, codes or categories", found, key);
        return false;
      }
      for (const auto& v : value) {
        if (!v.is_string()) {
          error = fmt::format("{}: `{}` holds strings", found, key);
          return false;
        }
        (key == "enable" ? out.enable : out.disable).push_back(v.get<std::string>());
      }
    } else if (key == "fail_level") {
      if (!value.is_string() || (value != "error" && value != "warning" && value != "note")) {
        error = fmt::format("{}: `fail_level` is \"error\", \"warning\" or \"note\"", found);
        return false;
      }
      out.fail_level = value.get<std::string>();
    } else {
      error = fmt::format("{}: unknown key `{}` (expected enable, disable, fail_level)", found, key);
      return false;
    }
  }
  return true;
}

}  // namespace sbpolicy::lint
