#include "driver/guards.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "sema/glob.hpp"

namespace sbpolicy::driver {

namespace {

// `path` made absolute against the working directory and normalised
// lexically; empty when it cannot be.
std::string absolute_path(const std::string& path) {
  if (path.empty()) return {};
  sema::PathBindings cwd;
  char buf[4096];
  cwd.workspace = getcwd(buf, sizeof buf) != nullptr ? buf : "/";
  cwd.home = cwd.workspace;
  const std::string spelled = path.front() == '/' ? path : "./" + path;
  auto normalized = sema::normalize_subject_path(spelled, cwd, nullptr);
  return normalized ? *normalized : std::string();
}

// A root-anchored pattern: the absolute literal `base` (escaped), then the
// glob components of `tail` ("hooks", "modules/**/config").
sema::PathPattern pattern(const std::string& base, const std::string& tail = "") {
  sema::PathPattern p;
  p.anchor = sema::PathAnchor::Root;
  const auto split = [](const std::string& s, auto&& each) {
    for (std::size_t at = 0; at < s.size();) {
      const std::size_t slash = s.find('/', at);
      const std::string part = s.substr(at, slash == std::string::npos ? std::string::npos : slash - at);
      if (!part.empty()) each(part);
      if (slash == std::string::npos) break;
      at = slash + 1;
    }
  };
  split(base, [&](const std::string& part) { p.components.push_back(sema::glob::escape_literal(part)); });
  split(tail, [&](const std::string& part) { p.components.push_back(part); });
  return p;
}

void deny_write(Compilation& c, sema::PathPattern p, const ir::SourceLocation& at) {
  ir::Rule rule;
  rule.id = static_cast<std::uint32_t>(c.policy->rules.size());
  rule.effect = ir::Effect::Deny;
  rule.operation = ir::Operation::Write;
  rule.pattern = std::move(p);
  rule.origin.target = at;
  rule.origin.statement = at;
  c.policy->rules.push_back(std::move(rule));
}

std::string read_small_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text(4096, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string canonical(const std::string& path) {
  char* real = realpath(path.c_str(), nullptr);
  if (real == nullptr) return {};
  std::string out = real;
  std::free(real);
  return out;
}

std::string join(const std::string& dir, const std::string& rel) {
  return !rel.empty() && rel.front() == '/' ? rel : dir + "/" + rel;
}

// What git reads from a repository directory (a `.git`, or the gitdir of a
// submodule or a linked worktree) to find configuration or code to run.
constexpr const char* kGitDirFiles[] = {"config",
                                        "config.worktree",
                                        "commondir",
                                        "hooks",
                                        "info",
                                        "modules/**/config",
                                        "modules/**/config.worktree",
                                        "modules/**/commondir",
                                        "modules/**/hooks",
                                        "worktrees/*/commondir",
                                        "worktrees/*/gitdir",
                                        "worktrees/*/config.worktree"};

}  // namespace

void protect_policy_files(Compilation& c) {
  std::set<std::string> done;
  for (const sema::LoadedFile& loaded : c.program.files) {
    if (loaded.read_from.empty()) continue;
    const SourceFile& file = c.sources.file(loaded.file);
    ir::SourceLocation at;
    at.file = file.name();
    at.line = 1;
    at.column = 1;
    at.span = Span{file.id(), 0, 0};
    for (const std::string& path : {absolute_path(loaded.read_from), file.canonical_path()}) {
      if (path.empty() || path.front() != '/' || !done.insert(path).second) continue;
      deny_write(c, pattern(path), at);
    }
  }
}

void protect_git_metadata_unseen(Compilation& c, const std::string& workspace) {
  if (workspace.empty() || workspace.front() != '/') return;
  ir::SourceLocation at;
  at.file = "<git metadata>";
  deny_write(c, pattern(workspace, ".gitmodules"), at);
  for (const char* file : kGitDirFiles) deny_write(c, pattern(join(workspace, ".git"), file), at);
}

void protect_git_metadata(Compilation& c, const sema::PathBindings& bindings) {
  if (bindings.workspace.empty() || bindings.workspace.front() != '/') return;
  ir::SourceLocation at;
  at.file = "<git metadata>";
  const std::string dot_git = join(bindings.workspace, ".git");
  deny_write(c, pattern(bindings.workspace, ".gitmodules"), at);
  struct stat st {};
  if (lstat(dot_git.c_str(), &st) != 0 || S_ISLNK(st.st_mode)) {
    // No repository at launch: none can be made (run `git init` outside).
    // A symlink is protected as itself, which the lowering refuses (E0401).
    deny_write(c, pattern(dot_git), at);
    return;
  }
  std::set<std::string> dirs;  // repository directories to protect
  if (S_ISDIR(st.st_mode)) {
    dirs.insert(dot_git);
  } else {
    // `gitdir: DIR` (a linked worktree or a submodule): the file itself,
    // and the directory it names.
    deny_write(c, pattern(dot_git), at);
    const std::string text = read_small_file(dot_git);
    if (text.rfind("gitdir:", 0) == 0) {
      std::string target = text.substr(7);
      target.erase(0, target.find_first_not_of(" \t"));
      if (const std::string g = canonical(join(bindings.workspace, target)); !g.empty()) dirs.insert(g);
    }
  }
  // The common directory each one names (a worktree's main repository).
  for (const std::string& dir : std::set<std::string>(dirs)) {
    const std::string common = read_small_file(dir + "/commondir");
    if (common.empty()) continue;
    if (const std::string c_dir = canonical(join(dir, common)); !c_dir.empty()) dirs.insert(c_dir);
  }
  for (const std::string& dir : dirs) {
    for (const char* file : kGitDirFiles) deny_write(c, pattern(dir, file), at);
  }
}

}  // namespace sbpolicy::driver
