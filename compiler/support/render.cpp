#include "support/render.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "support/text.hpp"

namespace sbpolicy {

namespace {

struct Style {
  bool on;
  std::string wrap(std::string_view code, std::string_view text) const {
    return on ? fmt::format("\x1b[{}m{}\x1b[0m", code, text) : std::string(text);
  }
};

std::size_t scalar_count(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// One source excerpt: the line of `span` and a row of `mark` under the span.
void render_excerpt(std::string& out, const SourceFile& file, Span span, char mark, std::string_view label,
                    std::size_t gutter, const Style& style, std::string_view mark_color) {
  const LineCol start = file.line_col(span.begin);
  const std::string_view raw_line = file.line_text(start.line);
  // Invisible characters are shown escaped (text::visible), never raw: the
  // carets are placed on the line as shown.
  std::string line = text::visible(raw_line);
  std::replace(line.begin(), line.end(), '\t', ' ');
  // Carets cover the span on its first line, at least one column wide.
  const std::string_view text = file.text();
  std::uint32_t end = std::min<std::uint32_t>(span.end, static_cast<std::uint32_t>(text.size()));
  const auto newline = text.find('\n', span.begin);
  if (newline != std::string_view::npos && newline < end) end = static_cast<std::uint32_t>(newline);
  const std::size_t line_begin = static_cast<std::size_t>(raw_line.data() - text.data());
  const std::size_t pad =
      span.begin >= line_begin ? scalar_count(text::visible(text.substr(line_begin, span.begin - line_begin))) : 0;
  const std::size_t width = std::max<std::size_t>(
      1, end > span.begin ? scalar_count(text::visible(text.substr(span.begin, end - span.begin))) : 0);
  const std::string number = std::to_string(start.line);
  const std::string bar = style.wrap("1;34", "|");
  out += fmt::format("{:>{}} {}\n", "", gutter, bar);
  out += fmt::format("{} {} {}\n", style.wrap("1;34", fmt::format("{:>{}}", number, gutter)), bar, line);
  std::string marks(width, mark);
  if (!label.empty()) marks += fmt::format(" {}", text::visible(label));
  out += fmt::format("{:>{}} {} {:>{}}{}\n", "", gutter, bar, "", pad, style.wrap(mark_color, marks));
}

std::string location(const SourceMap& sources, Span span) {
  const SourceFile& file = sources.file(span.file);
  const LineCol lc = file.line_col(span.begin);
  return fmt::format("{}:{}:{}", file.name(), lc.line, lc.column);
}

std::string render_human(const Diagnostics& diags, const SourceMap& sources, bool color) {
  const Style style{color};
  std::string out;
  for (const Diagnostic& d : diags.all()) {
    const CodeInfo& info = code_info(d.code);
    const std::string_view color_code =
        d.severity == Severity::Error ? "1;31" : d.severity == Severity::Warning ? "1;33" : "1;36";
    out += style.wrap(color_code, fmt::format("{}[{}]", severity_name(d.severity), info.id));
    out += style.wrap("1", fmt::format(": {}", text::visible(d.message)));
    out += '\n';
    // The gutter is wide enough for every line number shown.
    std::size_t gutter = 1;
    auto widen = [&](Span s) {
      if (s.valid()) gutter = std::max(gutter, std::to_string(sources.file(s.file).line_col(s.begin).line).size());
    };
    widen(d.primary.span);
    for (const Label& l : d.secondary) widen(l.span);
    if (d.primary.span.valid()) {
      out += fmt::format("{:>{}}{} {}\n", "", gutter, style.wrap("1;34", "-->"), location(sources, d.primary.span));
      render_excerpt(out, sources.file(d.primary.span.file), d.primary.span, '^', d.primary.message, gutter, style,
                     color_code);
    }
    for (const Label& l : d.secondary) {
      if (!l.span.valid()) continue;
      out += fmt::format("{:>{}}{} {}\n", "", gutter, style.wrap("1;34", ":::"), location(sources, l.span));
      render_excerpt(out, sources.file(l.span.file), l.span, '-', l.message, gutter, style, "1;34");
    }
    const bool tail = !d.help.empty() || !d.notes.empty();
    if (tail && d.primary.span.valid()) out += fmt::format("{:>{}} {}\n", "", gutter, style.wrap("1;34", "|"));
    for (const std::string& note : d.notes) {
      out += fmt::format("{:>{}} {} {}\n", "", gutter, style.wrap("1;34", "="),
                         style.wrap("1", "note:") + " " + text::visible(note));
    }
    if (!d.help.empty()) {
      out += fmt::format("{:>{}} {} {}\n", "", gutter, style.wrap("1;34", "="),
                         style.wrap("1", "help:") + " " + text::visible(d.help));
    }
    out += '\n';
  }
  return out;
}

nlohmann::json span_json(const SourceMap& sources, Span span) {
  if (!span.valid()) return nullptr;
  const SourceFile& file = sources.file(span.file);
  const LineCol b = file.line_col(span.begin);
  const LineCol e = file.line_col(span.end);
  return {{"file", file.name()},      {"line", b.line},        {"column", b.column},     {"end_line", e.line},
          {"end_column", e.column},   {"byte_offset", span.begin}, {"byte_length", span.end - span.begin}};
}

std::string render_json(const Diagnostics& diags, const SourceMap& sources) {
  nlohmann::json list = nlohmann::json::array();
  for (const Diagnostic& d : diags.all()) {
    const CodeInfo& info = code_info(d.code);
    nlohmann::json labels = nlohmann::json::array();
    for (const Label& l : d.secondary) {
      labels.push_back({{"span", span_json(sources, l.span)}, {"message", text::visible(l.message)}});
    }
    std::vector<std::string> notes;
    for (const std::string& n : d.notes) notes.push_back(text::visible(n));
    nlohmann::json fixits = nlohmann::json::array();
    for (const FixIt& f : d.fixits) fixits.push_back({{"span", span_json(sources, f.span)}, {"replacement", f.replacement}});
    list.push_back({{"code", info.id},
                    {"name", info.name},
                    {"severity", severity_name(d.severity)},
                    {"message", text::visible(d.message)},
                    {"span", span_json(sources, d.primary.span)},
                    {"label", text::visible(d.primary.message)},
                    {"secondary", labels},
                    {"notes", notes},
                    {"help", d.help.empty() ? nlohmann::json(nullptr) : nlohmann::json(text::visible(d.help))},
                    {"fixits", fixits},
                    {"docs", lint_rule(d.code) != nullptr ? fmt::format("docs/lint/{}.md", info.name)
                                                           : fmt::format("docs/diagnostics.md#{}", info.slug)}});
  }
  nlohmann::json doc = {{"schema_version", kDiagnosticsSchemaVersion},
                        {"diagnostics", list},
                        {"summary", {{"errors", diags.error_count()}, {"warnings", diags.warning_count()}, {"notes", diags.note_count()}}}};
  // A message quoting the user's bytes must not make the report fail:
  // anything that is not UTF-8 is replaced, not thrown on.
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace

bool color_wanted(int fd) {
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  return isatty(fd) != 0 && (no_color == nullptr || *no_color == '\0') &&
         !(term != nullptr && std::strcmp(term, "dumb") == 0);
}

std::string render_diagnostics(const Diagnostics& diags, const SourceMap& sources, const RenderOptions& options) {
  switch (options.format) {
    case RenderFormat::Json:
      return render_json(diags, sources);
    case RenderFormat::Plain:
      return render_human(diags, sources, false);
    case RenderFormat::Human:
      return render_human(diags, sources, options.color);
  }
  return {};
}

}  // namespace sbpolicy
