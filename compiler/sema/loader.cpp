#include "sema/loader.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "sema/std_summary.hpp"
#include "sema/stdlib.hpp"
#include "support/suggest.hpp"

namespace sbpolicy::sema {

bool DiskReader::read(const std::string& path, std::string& canonical, std::string& text, std::string& error) {
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) {
    error = std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (stat(resolved, &st) != 0) {
    error = std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    error = "not a regular file";
    return false;
  }
  if (static_cast<std::size_t>(st.st_size) > max_bytes_) {
    error = fmt::format("file is {} bytes, above the limit of {}", st.st_size, max_bytes_);
    return false;
  }
  std::ifstream in(resolved, std::ios::binary);
  if (!in) {
    error = std::strerror(errno);
    return false;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  canonical = resolved;
  text = std::move(buf).str();
  return true;
}

bool MemoryReader::read(const std::string& path, std::string& canonical, std::string& text, std::string& error) {
  const auto it = files.find(path);
  if (it == files.end()) {
    error = "no such file";
    return false;
  }
  canonical = path;
  text = it->second;
  return true;
}

std::vector<std::string> stdlib_module_names() {
  std::vector<std::string> names;
  for (const auto& m : stdlib_modules()) names.emplace_back(m.name);
  std::sort(names.begin(), names.end());
  return names;
}

namespace {

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

class Loader {
 public:
  Loader(SourceMap& sources, Diagnostics& diags, const LoadOptions& options)
      : sources_(sources), diags_(diags), options_(options), disk_(options.parse_limits.max_file_bytes) {
    reader_ = options.reader != nullptr ? options.reader : &disk_;
  }

  Program program;

  // Adds a file's text, parses it (or takes its summary) and follows its
  // imports.
  void add(const std::string& display, const std::string& canonical, std::string text, bool is_stdlib,
           const std::string& base_dir, std::vector<ImportStep> chain, std::string read_from) {
    const SourceFile& file = sources_.add(display, canonical, std::move(text));
    LoadedFile loaded;
    loaded.file = file.id();
    loaded.read_from = std::move(read_from);
    loaded.is_stdlib = is_stdlib;
    if (is_stdlib && options_.stdlib_dir.empty()) loaded.summary = summary_of(canonical, file);
    if (loaded.summary == nullptr) loaded.module = syntax::parse_module(file, diags_, options_.parse_limits);
    loaded.chain = std::move(chain);
    if (program.root == kNoFile) program.root = file.id();
    program.files.push_back(std::move(loaded));
    const std::size_t index = program.files.size() - 1;

    stack_.push_back(canonical);
    // Copy the use statements: loading more files grows program.files.
    std::vector<ast::UseStmt> uses;
    if (const auto& summary = program.files[index].summary) {
      for (const auto& u : summary->uses) {
        ast::UseStmt use;
        use.is_stdlib = true;
        use.module = u.module;
        use.target_span = Span{file.id(), u.begin, u.end};
        uses.push_back(std::move(use));
      }
    }
    for (const auto& s : program.files[index].module.statements) {
      if (const auto* u = std::get_if<ast::UseStmt>(&s.node)) uses.push_back(*u);
    }
    for (const ast::UseStmt& use : uses) {
      std::vector<ImportStep> next = program.files[index].chain;
      next.push_back({file.id(), use.target_span});
      const FileId loaded = follow(use, file, is_stdlib, base_dir, std::move(next));
      if (loaded != kNoFile) program.files[index].imports.emplace_back(use.target_span, loaded);
    }
    stack_.pop_back();
  }

 private:
  // Loads what `use` names (and what that imports); the file it names, or
  // kNoFile when it could not be loaded.
  FileId follow(const ast::UseStmt& use, const SourceFile& from, bool from_stdlib, const std::string& base_dir,
                std::vector<ImportStep> chain) {
    if (chain.size() > options_.max_import_depth) {
      diags_.report(Code::E0207, use.target_span,
                    fmt::format("imports are nested more than {} deep", options_.max_import_depth))
          .label("this import is too deep");
      return kNoFile;
    }
    if (sources_.size() >= options_.max_files) {
      diags_.report(Code::E0105, use.target_span,
                    fmt::format("a policy may load at most {} files", options_.max_files));
      return kNoFile;
    }
    std::string display, canonical, text, next_base, read_from;
    bool is_stdlib = false;
    if (use.is_stdlib) {
      if (!resolve_stdlib(use, display, canonical, text)) return kNoFile;
      is_stdlib = true;
    } else {
      if (from_stdlib) {
        diags_.report(Code::E0205, use.target_span, "a standard library policy can only use `std.` modules");
        return kNoFile;
      }
      const std::string& raw = use.path.value;
      if (raw.empty() || raw.find('\0') != std::string::npos) {
        diags_.report(Code::E0205, use.target_span, "empty import path");
        return kNoFile;
      }
      const std::string path = raw.front() == '/' ? raw : base_dir + "/" + raw;
      std::string error;
      if (!reader_->read(path, canonical, text, error)) {
        diags_.report(Code::E0205, use.target_span, fmt::format("cannot read `{}`: {}", raw, error))
            .label("imported here")
            .note(fmt::format("the path is relative to the directory of `{}`", from.name()));
        return kNoFile;
      }
      display = relative_display(from, raw);
      next_base = directory_of(canonical);
      read_from = path;
    }
    if (const auto it = std::find(stack_.begin(), stack_.end(), canonical); it != stack_.end()) {
      std::string cycle;
      for (auto k = it; k != stack_.end(); ++k) {
        const SourceFile* f = sources_.find_canonical(*k);
        cycle += fmt::format("`{}` → ", f != nullptr ? f->name() : *k);
      }
      const SourceFile* again = sources_.find_canonical(canonical);
      cycle += fmt::format("`{}`", again != nullptr ? again->name() : display);
      diags_.report(Code::E0206, use.target_span, "import cycle")
          .label("this import closes the cycle")
          .note(fmt::format("cycle: {}", cycle))
          .help("move the shared rules into a file that both import");
      return kNoFile;
    }
    if (const SourceFile* loaded = sources_.find_canonical(canonical)) return loaded->id();  // a diamond: loaded once
    add(display, canonical, std::move(text), is_stdlib, next_base, std::move(chain), std::move(read_from));
    const SourceFile* added = sources_.find_canonical(canonical);
    return added != nullptr ? added->id() : kNoFile;
  }

  // The summary built for this module's text, with its spans in `file`;
  // null when there is none, or it was made from other text, or it does not
  // decode: the module is then parsed.
  std::shared_ptr<const StdSummary> summary_of(const std::string& canonical, const SourceFile& file) const {
    const std::string_view module = std::string_view(canonical).substr(4);  // "std:" + name
    for (const EncodedSummary& e : options_.std_summaries) {
      if (e.module != module) continue;
      auto summary = std::make_shared<StdSummary>();
      if (!decode_summary(e.bytes, *summary) || summary->text_hash != text_hash(file.text())) return nullptr;
      for (CheckedRule& r : summary->rules) {
        r.file = file.id();
        for (Span* s : {&r.statement, &r.target, &r.reference}) {
          if (s->valid()) s->file = file.id();
        }
      }
      for (CheckedSwitch& w : summary->ptrace) {
        w.file = file.id();
        if (w.statement.valid()) w.statement.file = file.id();
      }
      for (CheckedLimit& l : summary->limits) {
        l.file = file.id();
        for (Span* s : {&l.statement, &l.value_span}) {
          if (s->valid()) s->file = file.id();
        }
      }
      return summary;
    }
    return nullptr;
  }

  bool resolve_stdlib(const ast::UseStmt& use, std::string& display, std::string& canonical, std::string& text) {
    const std::string& name = use.module;
    canonical = "std:" + name;
    if (name.rfind("std.", 0) != 0) {
      auto d = diags_.report(Code::E0204, use.target_span, fmt::format("`{}` is not a standard library module", name));
      d.label("unknown module");
      if (auto s = closest_match(name, stdlib_module_names())) {
        d.help(fmt::format("did you mean `{}`?", *s)).fixit(use.target_span, *s);
      } else {
        d.help("standard library modules are named `std.NAME`; to import a file, quote its path: `use \"file.sbpolicy\";`");
      }
      return false;
    }
    if (!options_.stdlib_dir.empty()) {
      std::string rel = name;
      std::replace(rel.begin(), rel.end(), '.', '/');
      rel += ".sbpolicy";
      std::string error, real;
      if (reader_->read(options_.stdlib_dir + "/" + rel, real, text, error)) {
        display = rel;
        return true;
      }
    } else {
      for (const auto& m : stdlib_modules()) {
        if (m.name == name) {
          display = std::string(m.path);
          text = std::string(m.text);
          return true;
        }
      }
    }
    auto d = diags_.report(Code::E0204, use.target_span, fmt::format("no standard library module `{}`", name));
    d.label("unknown module");
    if (auto s = closest_match(name, stdlib_module_names())) {
      d.help(fmt::format("did you mean `{}`?", *s)).fixit(use.target_span, *s);
    } else {
      std::string list;
      for (const auto& n : stdlib_module_names()) list += (list.empty() ? "`" : ", `") + n + "`";
      d.note(fmt::format("the standard library has {}", list));
    }
    return false;
  }

  // The name shown for an imported file: relative to the importer's display
  // directory, so output does not depend on where the checkout lives.
  std::string relative_display(const SourceFile& from, const std::string& raw) const {
    if (!raw.empty() && raw.front() == '/') return raw;
    const std::string dir = directory_of(from.name());
    std::string joined = dir == "." ? raw : dir + "/" + raw;
    // Lexically tidy "a/./b" and "a/x/../b" for display only.
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= joined.size()) {
      const auto slash = joined.find('/', start);
      const std::string part = joined.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
      if (part == "..") {
        if (!parts.empty() && parts.back() != "..") parts.pop_back();
        else parts.push_back(part);
      } else if (!part.empty() && part != ".") {
        parts.push_back(part);
      }
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    std::string out = joined.front() == '/' ? "/" : "";
    for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? "/" : "") + parts[i];
    return out.empty() ? "." : out;
  }

  SourceMap& sources_;
  Diagnostics& diags_;
  const LoadOptions& options_;
  DiskReader disk_;
  PolicyReader* reader_;
  std::vector<std::string> stack_;
};

}  // namespace

Program load_program(const std::string& path, SourceMap& sources, Diagnostics& diags, const LoadOptions& options) {
  Loader loader(sources, diags, options);
  DiskReader disk(options.parse_limits.max_file_bytes);
  PolicyReader* reader = options.reader != nullptr ? options.reader : &disk;
  std::string canonical, text, error;
  if (!reader->read(path, canonical, text, error)) {
    diags.report(Code::E0109, Span{}, fmt::format("cannot read `{}`: {}", path, error));
    return std::move(loader.program);
  }
  loader.add(path, canonical, std::move(text), false, directory_of(canonical), {}, path);
  return std::move(loader.program);
}

Program load_program_text(const std::string& display_name, const std::string& base_dir, std::string text,
                          SourceMap& sources, Diagnostics& diags, const LoadOptions& options) {
  Loader loader(sources, diags, options);
  loader.add(display_name, "text:" + display_name, std::move(text), false, base_dir, {}, "");
  return std::move(loader.program);
}

}  // namespace sbpolicy::sema
