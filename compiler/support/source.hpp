// Source files and spans.
//
// Every byte of policy text the compiler reads lives in a SourceMap, which
// owns it for the whole compilation. Everything else refers to text by Span:
// a file id plus a half-open byte range. Line and column numbers are computed
// only when a diagnostic is rendered, from a per-file table of line starts.
// Columns are 1-based and count Unicode scalar values, as editors do.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sbpolicy {

using FileId = std::uint32_t;
inline constexpr FileId kNoFile = 0xffffffffu;

struct Span {
  FileId file = kNoFile;
  std::uint32_t begin = 0;  // byte offset, inclusive
  std::uint32_t end = 0;    // byte offset, exclusive

  bool valid() const { return file != kNoFile; }
  friend bool operator==(const Span&, const Span&) = default;
};

struct LineCol {
  std::uint32_t line = 1;    // 1-based
  std::uint32_t column = 1;  // 1-based, in Unicode scalar values
};

class SourceFile {
 public:
  SourceFile(FileId id, std::string display_name, std::string canonical_path, std::string text);

  FileId id() const { return id_; }
  // The name shown to users (`policy.sbpolicy`, `std/base.sbpolicy`).
  const std::string& name() const { return name_; }
  // The identity used to load each file once (a realpath, or `std:base`).
  const std::string& canonical_path() const { return canonical_; }
  std::string_view text() const { return text_; }

  LineCol line_col(std::uint32_t offset) const;
  // The text of 1-based line `line`, without its line terminator.
  std::string_view line_text(std::uint32_t line) const;
  std::uint32_t line_count() const { return static_cast<std::uint32_t>(line_starts_.size()); }

 private:
  FileId id_;
  std::string name_;
  std::string canonical_;
  std::string text_;
  std::vector<std::uint32_t> line_starts_;
};

class SourceMap {
 public:
  // Adds a file and returns it; the reference stays valid for the map's life.
  const SourceFile& add(std::string display_name, std::string canonical_path, std::string text);
  const SourceFile& file(FileId id) const { return *files_.at(id); }
  const SourceFile* find_canonical(std::string_view canonical_path) const;
  std::size_t size() const { return files_.size(); }

 private:
  std::vector<std::unique_ptr<SourceFile>> files_;
};

}  // namespace sbpolicy
