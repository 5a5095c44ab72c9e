// sbc fmt [FILE…]: the canonical layout (format/format.hpp), to stdout, as a
// diff (--diff), as a check (--check) or in place (-w).
#include <fmt/format.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "format/format.hpp"
#include "sbc/commands.hpp"
#include "sbc/output.hpp"

namespace sbpolicy::sbc {

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t b = 0;
  while (b < text.size()) {
    std::size_t e = text.find('\n', b);
    if (e == std::string::npos) e = text.size();
    out.push_back(text.substr(b, e - b));
    b = e + 1;
  }
  return out;
}

// A unified diff of two texts: the lines they share at the start and the end
// are left out, and the middle is matched by longest common subsequence (a
// middle too large for that is shown as one replaced block).
std::string unified_diff(const std::string& name, const std::string& a_text, const std::string& b_text) {
  const auto a = lines_of(a_text), b = lines_of(b_text);
  std::size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
  std::size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre && a[a.size() - 1 - suf] == b[b.size() - 1 - suf]) ++suf;
  const std::size_t n = a.size() - pre - suf, m = b.size() - pre - suf;
  // ops: ' ' keep, '-' a only, '+' b only, over the middle.
  std::vector<std::pair<char, std::string>> ops;
  if (n * m <= 4000000) {
    std::vector<std::vector<std::uint32_t>> l(n + 1, std::vector<std::uint32_t>(m + 1, 0));
    for (std::size_t i = n; i-- > 0;) {
      for (std::size_t j = m; j-- > 0;) {
        l[i][j] = a[pre + i] == b[pre + j] ? l[i + 1][j + 1] + 1 : std::max(l[i + 1][j], l[i][j + 1]);
      }
    }
    std::size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[pre + i] == b[pre + j]) {
        ops.push_back({' ', a[pre + i]});
        ++i, ++j;
      } else if (i < n && (j == m || l[i + 1][j] >= l[i][j + 1])) {
        ops.push_back({'-', a[pre + i++]});
      } else {
        ops.push_back({'+', b[pre + j++]});
      }
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) ops.push_back({'-', a[pre + i]});
    for (std::size_t j = 0; j < m; ++j) ops.push_back({'+', b[pre + j]});
  }
  // Three lines of context on each side, one hunk.
  const std::size_t ctx_before = std::min<std::size_t>(pre, 3), ctx_after = std::min<std::size_t>(suf, 3);
  std::size_t a_count = ctx_before + ctx_after, b_count = ctx_before + ctx_after;
  for (const auto& [op, line] : ops) {
    if (op != '+') ++a_count;
    if (op != '-') ++b_count;
  }
  std::string out = fmt::format("--- {}\n+++ {} (formatted)\n@@ -{},{} +{},{} @@\n", name, name,
                                pre - ctx_before + 1, a_count, pre - ctx_before + 1, b_count);
  for (std::size_t i = pre - ctx_before; i < pre; ++i) out += " " + a[i] + "\n";
  for (const auto& [op, line] : ops) out += std::string(1, op) + line + "\n";
  for (std::size_t i = a.size() - suf; i < a.size() - suf + ctx_after; ++i) out += " " + a[i] + "\n";
  return out;
}

}  // namespace

int run_fmt(const CommonOptions& common, const FmtOptions& options) {
  (void)common;
  std::vector<std::string> files = options.files;
  const bool from_stdin = files.empty() || (files.size() == 1 && files[0] == "-");
  if (from_stdin && options.write) {
    std::fprintf(stderr, "sbc fmt: -w rewrites files; name them (standard input has nowhere to go back to)\n");
    return kUsage;
  }
  if (from_stdin) files = {"-"};
  int status = kOk;
  std::vector<std::string> unformatted;
  for (const std::string& file : files) {
    std::string text;
    if (file == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      std::ifstream in(file, std::ios::binary);
      if (!in) {
        std::fprintf(stderr, "sbc fmt: %s: cannot be read\n", file.c_str());
        status = kUsage;
        continue;
      }
      std::ostringstream s;
      s << in.rdbuf();
      text = s.str();
    }
    const std::string name = file == "-" ? "<stdin>" : file;
    auto result = format::format_policy(name, text);
    if (auto* refused = std::get_if<format::Refused>(&result)) {
      std::fprintf(stderr, "sbc fmt: %s\n", refused->message.c_str());
      if (status == kOk) status = kPolicyErrors;
      continue;
    }
    const std::string& formatted = std::get<std::string>(result);
    const bool changed = formatted != text;
    if (options.check) {
      if (changed) unformatted.push_back(name);
      if (options.diff && changed) std::fputs(unified_diff(name, text, formatted).c_str(), stdout);
      continue;
    }
    if (options.diff) {
      if (changed) std::fputs(unified_diff(name, text, formatted).c_str(), stdout);
      continue;
    }
    if (options.write) {
      if (!changed) continue;
      // The file a link names is rewritten, not the link; its mode (and
      // owner, for root) is kept.
      std::error_code ec;
      const std::filesystem::path target = std::filesystem::canonical(file, ec);
      struct stat st {};
      std::string error = ec                                   ? fmt::format("{}: {}", file, ec.message())
                          : stat(target.c_str(), &st) != 0     ? fmt::format("{}: {}", file, std::strerror(errno))
                                                               : write_output(target.string(), formatted, &st);
      if (!error.empty()) {
        std::fprintf(stderr, "sbc fmt: %s\n", error.c_str());
        status = kUsage;
      }
      continue;
    }
    std::fputs(formatted.c_str(), stdout);
  }
  if (options.check && !unformatted.empty()) {
    for (const std::string& f : unformatted) std::fprintf(options.diff ? stderr : stdout, "%s\n", f.c_str());
    if (status == kOk) status = kPolicyErrors;
  }
  return status;
}

}  // namespace sbpolicy::sbc
