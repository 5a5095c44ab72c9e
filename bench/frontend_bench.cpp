// Front-end throughput: parse + resolve + type-check + IR for generated
// policies of 100 to 10,000 rules, in-process (no process start-up), plus
// the reference evaluator over the result.
//
// Run: build/bench/frontend_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <string>

#include "driver/pipeline.hpp"
#include "driver/std_summaries.hpp"
#include "ir/evaluator.hpp"

using namespace sbpolicy;

namespace {

// A mix like real policies: subtrees, globs, excepts, hosts with ports,
// CIDRs, env names and lets.
std::string generate(int rules) {
  std::string out = "version 1;\nlet hosts = [\"a.pkgs.test\", \"*.b.pkgs.test\"];\nallow net hosts;\n";
  for (int i = 0; i < rules; ++i) {
    switch (i % 8) {
      case 0: out += fmt::format("allow read \"./src/module{}/**\";\n", i); break;
      case 1: out += fmt::format("deny write \"./src/module{}/gen/*.tmp\";\n", i); break;
      case 2: out += fmt::format("deny read \"~/.config/app{}\" except \"~/.config/app{}/public\";\n", i, i); break;
      case 3: out += fmt::format("allow net \"host{}.example.com:8000-8100\";\n", i); break;
      case 4: out += fmt::format("ask net \"*.zone{}.example.org\";\n", i); break;
      case 5: out += fmt::format("deny net \"10.{}.{}.0/24\";\n", (i / 256) % 256, i % 256); break;
      case 6: out += fmt::format("allow env \"APP{}_*\";\n", i); break;
      case 7: out += fmt::format("allow write \"$TMPDIR/build{}/{{a,b}}/[0-9]*\";\n", i); break;
    }
  }
  return out;
}

void BM_Check(benchmark::State& state) {
  const std::string text = generate(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    driver::Compilation c;
    driver::compile_text(c, "bench.sbpolicy", "/", text, {});
    if (!c.policy) state.SkipWithError("policy did not compile");
    benchmark::DoNotOptimize(c.policy);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}
BENCHMARK(BM_Check)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// `use std.agent;` compiled in full, as sbc does: five standard library
// files, ~400 rules.
void BM_CheckStdAgent(benchmark::State& state) {
  const std::string text = "version 1;\nuse std.agent;\n";
  for (auto _ : state) {
    driver::Compilation c;
    driver::compile_text(c, "agent.sbpolicy", "/", text, {});
    if (!c.policy) state.SkipWithError("policy did not compile");
    benchmark::DoNotOptimize(c.policy);
  }
}
BENCHMARK(BM_CheckStdAgent)->Unit(benchmark::kMicrosecond);

// The same as sbrun compiles it on every launch: the standard library from
// the summaries built with the binary (sema/std_summary.hpp).
void BM_CheckStdAgentFromSummaries(benchmark::State& state) {
  const std::string text = "version 1;\nuse std.agent;\n";
  sema::LoadOptions options;
  options.std_summaries = driver::embedded_std_summaries();
  for (auto _ : state) {
    driver::Compilation c;
    driver::compile_text(c, "agent.sbpolicy", "/", text, options);
    if (!c.policy) state.SkipWithError("policy did not compile");
    benchmark::DoNotOptimize(c.policy);
  }
}
BENCHMARK(BM_CheckStdAgentFromSummaries)->Unit(benchmark::kMicrosecond);

void BM_DecideRead(benchmark::State& state) {
  driver::Compilation c;
  driver::compile_text(c, "bench.sbpolicy", "/", generate(static_cast<int>(state.range(0))), {});
  sema::PathBindings b;
  b.home = "/home/u";
  b.workspace = "/home/u/w";
  const ir::Subject subject = std::string("/home/u/w/src/module8/x/y.c");
  for (auto _ : state) benchmark::DoNotOptimize(ir::decide(*c.policy, sema::Operation::Read, subject, b));
}
BENCHMARK(BM_DecideRead)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
