#include "support/source.hpp"

#include <algorithm>

namespace sbpolicy {

SourceFile::SourceFile(FileId id, std::string display_name, std::string canonical_path, std::string text)
    : id_(id), name_(std::move(display_name)), canonical_(std::move(canonical_path)), text_(std::move(text)) {
  line_starts_.push_back(0);
  for (std::uint32_t i = 0; i < text_.size(); ++i) {
    if (text_[i] == '\n') line_starts_.push_back(i + 1);
  }
}

LineCol SourceFile::line_col(std::uint32_t offset) const {
  offset = std::min<std::uint32_t>(offset, static_cast<std::uint32_t>(text_.size()));
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  const auto line = static_cast<std::uint32_t>(it - line_starts_.begin());
  const std::uint32_t start = line_starts_[line - 1];
  // Count scalar values, not bytes: continuation bytes (10xxxxxx) do not start one.
  std::uint32_t column = 1;
  for (std::uint32_t i = start; i < offset; ++i) {
    if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++column;
  }
  return {line, column};
}

std::string_view SourceFile::line_text(std::uint32_t line) const {
  if (line == 0 || line > line_starts_.size()) return {};
  const std::uint32_t start = line_starts_[line - 1];
  std::uint32_t end = line < line_starts_.size() ? line_starts_[line] - 1 : static_cast<std::uint32_t>(text_.size());
  if (end > start && text_[end - 1] == '\r') --end;
  return std::string_view(text_).substr(start, end - start);
}

const SourceFile& SourceMap::add(std::string display_name, std::string canonical_path, std::string text) {
  const auto id = static_cast<FileId>(files_.size());
  files_.push_back(std::make_unique<SourceFile>(id, std::move(display_name), std::move(canonical_path), std::move(text)));
  return *files_.back();
}

const SourceFile* SourceMap::find_canonical(std::string_view canonical_path) const {
  for (const auto& f : files_) {
    if (f->canonical_path() == canonical_path) return f.get();
  }
  return nullptr;
}

}  // namespace sbpolicy
