#include "driver/policy_files.hpp"

#include <unistd.h>

#include <set>

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

sema::PathPattern literal(const std::string& absolute) {
  sema::PathPattern p;
  p.anchor = sema::PathAnchor::Root;
  std::size_t at = 1;
  while (at < absolute.size()) {
    const std::size_t slash = absolute.find('/', at);
    const std::string part = absolute.substr(at, slash == std::string::npos ? std::string::npos : slash - at);
    if (!part.empty()) p.components.push_back(sema::glob::escape_literal(part));
    if (slash == std::string::npos) break;
    at = slash + 1;
  }
  return p;
}

}  // namespace

void protect_policy_files(Compilation& c) {
  std::set<std::string> done;
  for (const sema::LoadedFile& loaded : c.program.files) {
    if (loaded.read_from.empty()) continue;
    const SourceFile& file = c.sources.file(loaded.file);
    for (const std::string& path : {absolute_path(loaded.read_from), file.canonical_path()}) {
      if (path.empty() || path.front() != '/' || !done.insert(path).second) continue;
      ir::Rule rule;
      rule.id = static_cast<std::uint32_t>(c.policy->rules.size());
      rule.effect = ir::Effect::Deny;
      rule.operation = ir::Operation::Write;
      rule.pattern = literal(path);
      ir::SourceLocation at;
      at.file = file.name();
      at.line = 1;
      at.column = 1;
      at.span = Span{file.id(), 0, 0};
      rule.origin.target = at;
      rule.origin.statement = at;
      c.policy->rules.push_back(std::move(rule));
    }
  }
}

}  // namespace sbpolicy::driver
