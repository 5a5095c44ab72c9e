// Loading a policy and everything it imports.
//
// `use std.NAME` names a standard library policy (compiled into the binary;
// a directory can stand in for it during development), `use "path"` a file
// relative to the importing file. Each file is loaded and parsed once, keyed
// by its canonical path, so diamonds are fine; a file that imports itself,
// directly or through others, is an error that prints the whole cycle.
// Import depth and the number of files are bounded.
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "support/diagnostic.hpp"
#include "support/source.hpp"
#include "syntax/ast.hpp"
#include "syntax/parser.hpp"

namespace sbpolicy::sema {

// How the loader reads files; tests and the fuzzer use an in-memory one.
class PolicyReader {
 public:
  virtual ~PolicyReader() = default;
  // Reads `path`; on success sets `canonical` (the identity used to load each
  // file once) and `text`. On failure sets `error` (lowercase, no path).
  virtual bool read(const std::string& path, std::string& canonical, std::string& text, std::string& error) = 0;
};

// Reads from the filesystem: realpath for identity, regular files only, a
// size limit.
class DiskReader : public PolicyReader {
 public:
  explicit DiskReader(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  bool read(const std::string& path, std::string& canonical, std::string& text, std::string& error) override;

 private:
  std::size_t max_bytes_;
};

// Reads from a fixed set of files held in memory, keyed by path: tests,
// the fuzzer, and policies that do not come from disk.
class MemoryReader : public PolicyReader {
 public:
  std::map<std::string, std::string> files;
  bool read(const std::string& path, std::string& canonical, std::string& text, std::string& error) override;
};

// One step of an import chain: the `use` statement in `file` at `use_span`.
struct ImportStep {
  FileId file = kNoFile;
  Span use_span;
};

struct StdSummary;     // std_summary.hpp
struct EncodedSummary;  // std_summary.hpp

struct LoadedFile {
  FileId file = kNoFile;
  bool is_stdlib = false;
  // The parsed file; empty when it was loaded from its summary.
  ast::Module module;
  // A standard library module taken from the summary built with the binary
  // (std_summary.hpp): its uses and checked rules, with spans in this file.
  std::shared_ptr<const StdSummary> summary;
  // How the file was first reached from the root, root first; empty for the root.
  std::vector<ImportStep> chain;
  // The path it was read from, as named (the command line's, or the
  // importing file's directory joined with the `use` path), before symlinks
  // were resolved; empty for the embedded standard library and for text.
  std::string read_from;
  // What each of its `use` statements loaded (by the span of the use's
  // target), also when another path had loaded it first.
  std::vector<std::pair<Span, FileId>> imports;
};

struct Program {
  FileId root = kNoFile;
  std::vector<LoadedFile> files;  // the root first, then in the order first imported
};

struct LoadOptions {
  PolicyReader* reader = nullptr;  // null: a DiskReader
  std::string stdlib_dir;          // empty: the embedded standard library
  std::size_t max_import_depth = 32;
  std::size_t max_files = 1024;
  syntax::ParseLimits parse_limits;
  // Summaries of the embedded standard library modules (std_summary.hpp),
  // taken instead of parsing them. Not with stdlib_dir. Tools that show a
  // module's syntax tree leave this empty.
  std::span<const EncodedSummary> std_summaries;
};

// Loads `path` and its imports. Problems are reported in `diags`; the program
// holds whatever could be loaded. The root's I/O failure is E0109.
Program load_program(const std::string& path, SourceMap& sources, Diagnostics& diags, const LoadOptions& options);

// The same, for text that is not in a file (stdin, tests, fuzzing):
// relative imports resolve against `base_dir`.
Program load_program_text(const std::string& display_name, const std::string& base_dir, std::string text,
                          SourceMap& sources, Diagnostics& diags, const LoadOptions& options);

// The names of the standard library modules ("std.base", …), sorted.
std::vector<std::string> stdlib_module_names();

}  // namespace sbpolicy::sema
