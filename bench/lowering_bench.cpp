// Linux lowering at launch: std.agent (dozens of `./**/X` globs from
// std.secrets and std.persistence) lowered against a generated workspace of
// 1,000 / 10,000 / 100,000 files, against a plain recursive walk of the same
// tree (the floor any launch-time glob expansion pays). The ratio is the
// point: the NFA walk of all globs together should cost about one walk.
//
// Run: build/release/bench/lowering_bench
#include <benchmark/benchmark.h>
#include <dirent.h>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "driver/pipeline.hpp"
#include "lower/mount_plan.hpp"

namespace fs = std::filesystem;
using namespace sbpolicy;

namespace {

// A tree of `files` files: 10 files per directory, directories 3 levels deep.
const std::string& workspace(int files) {
  static std::map<int, std::string> made;
  auto it = made.find(files);
  if (it != made.end()) return it->second;
  char templ[] = "/tmp/sbpolicy-bench-XXXXXX";
  const std::string root = mkdtemp(templ);
  for (int i = 0; i < files; ++i) {
    const int d = i / 10;
    const fs::path dir = fs::path(root) / fmt::format("d{}", d / 100) / fmt::format("e{}", (d / 10) % 10) /
                         fmt::format("f{}", d % 10);
    if (i % 10 == 0) fs::create_directories(dir);
    std::ofstream(dir / fmt::format("file{}.c", i)) << "x";
  }
  return made.emplace(files, root).first->second;
}

std::size_t plain_walk(const std::string& dir) {
  std::size_t n = 0;
  std::vector<std::string> stack = {dir};
  while (!stack.empty()) {
    const std::string d = std::move(stack.back());
    stack.pop_back();
    DIR* h = opendir(d.c_str());
    if (h == nullptr) continue;
    while (const dirent* e = readdir(h)) {
      if (e->d_name[0] == '.' && (e->d_name[1] == 0 || (e->d_name[1] == '.' && e->d_name[2] == 0))) continue;
      ++n;
      if (e->d_type == DT_DIR) stack.push_back(d + "/" + e->d_name);
    }
    closedir(h);
  }
  return n;
}

void BM_PlainWalk(benchmark::State& state) {
  const std::string& ws = workspace(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(plain_walk(ws));
}
BENCHMARK(BM_PlainWalk)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);

void BM_LowerStdAgent(benchmark::State& state) {
  const std::string& ws = workspace(static_cast<int>(state.range(0)));
  driver::Compilation c;
  driver::compile_text(c, "bench.sbpolicy", "/", "use std.agent;\n", {});
  lower::LowerOptions o;
  o.bindings.workspace = ws;
  o.bindings.home = "/nonexistent-home";
  o.runtime_env = {{"TMPDIR", "/tmp"}};
  lower::PosixFs posix;
  for (auto _ : state) {
    Diagnostics d;
    auto plan = lower::lower_to_mount_plan(*c.policy, posix, o, d);
    if (!plan) state.SkipWithError("lowering failed");
    benchmark::DoNotOptimize(plan);
  }
}
BENCHMARK(BM_LowerStdAgent)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);

// Lowers std.agent against `ws` with this user's real home (std.agent
// names dozens of paths in it), as sbrun does at launch. With
// `protected_paths_exist`, the paths it protects are made first, so the
// lowering has more to walk and more mount points but no placeholders.
void lower_std_agent_real_home(benchmark::State& state, const std::string& ws, bool protected_paths_exist) {
  driver::Compilation c;
  driver::compile_text(c, "bench.sbpolicy", "/", "use std.agent;\n", {});
  lower::LowerOptions o;
  o.bindings.workspace = ws;
  const char* home = getenv("HOME");
  o.bindings.home = home != nullptr ? home : "/root";
  o.runtime_env = {{"TMPDIR", "/tmp"}};
  lower::PosixFs posix;
  if (protected_paths_exist) {
    Diagnostics d;
    if (auto plan = lower::lower_to_mount_plan(*c.policy, posix, o, d)) {
      for (const auto& p : plan->placeholders) fs::create_directories(p);
    }
  }
  for (auto _ : state) {
    Diagnostics d;
    auto plan = lower::lower_to_mount_plan(*c.policy, posix, o, d);
    if (!plan) state.SkipWithError("lowering failed");
    if (plan && protected_paths_exist && !plan->placeholders.empty()) state.SkipWithError("still needs placeholders");
    benchmark::DoNotOptimize(plan);
  }
}

// A small workspace (10 files).
void BM_LowerStdAgentRealHome(benchmark::State& state) { lower_std_agent_real_home(state, workspace(10), false); }
BENCHMARK(BM_LowerStdAgentRealHome)->Unit(benchmark::kMillisecond);

// An empty workspace where std.agent's protected paths (.git/hooks,
// .vscode, ...) exist: launch-bench's second sbrun row.
void BM_LowerStdAgentRealHomeProtectedPathsExist(benchmark::State& state) {
  char templ[] = "/tmp/sbpolicy-bench-XXXXXX";
  const std::string ws = mkdtemp(templ);
  lower_std_agent_real_home(state, ws, true);
  fs::remove_all(ws);
}
BENCHMARK(BM_LowerStdAgentRealHomeProtectedPathsExist)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
