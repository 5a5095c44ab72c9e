// Proxy rule decisions: the compiled table (one RE2::Set pass, then ports
// and excepts) against a plain loop over the same rules with the reference
// matchers, at 10, 1,000 and 100,000 host rules, side by side in one run.
// The subjects mix hits (exact names and subdomains of listed rules) and
// misses, as a proxy sees them.
//
// Run: build/bench/proxy_table_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <map>
#include <memory>
#include <string>

#include "driver/pipeline.hpp"
#include "ir/evaluator.hpp"
#include "lower/proxy_table.hpp"

using namespace sbpolicy;

namespace {

std::string generate(int rules) {
  std::string out;
  for (int i = 0; i < rules; ++i) {
    switch (i % 4) {
      case 0:
        out += fmt::format("allow net \"host{}.example.com\";\n", i);
        break;
      case 1:
        out += fmt::format("ask net \"*.zone{}.example.org\";\n", i);
        break;
      case 2:
        out += fmt::format("deny net \"bad{}.example.net:*\";\n", i);
        break;
      case 3:
        out += fmt::format("allow net \"api{}.pkgs.test:8000-8100\" except \"x.api{}.pkgs.test\";\n", i, i);
        break;
    }
  }
  return out;
}

struct Fixture {
  driver::Compilation c;
  lower::ProxyRuleTable table;
  std::vector<sema::HostSubject> subjects;

  explicit Fixture(int rules) {
    driver::compile_text(c, "bench.sbpolicy", "/", generate(rules), {});
    table = std::move(std::get<lower::ProxyRuleTable>(lower::ProxyRuleTable::build(*c.policy)));
    for (int i = 0; i < 64; ++i) {
      const int r = (i * 7919) % rules;
      std::string host;
      switch (i % 4) {
        case 0:
          host = fmt::format("host{}.example.com", r - r % 4);
          break;
        case 1:
          host = fmt::format("a.b.zone{}.example.org", r - r % 4 + 1);
          break;
        case 2:
          host = fmt::format("unlisted{}.example.io", r);
          break;
        case 3:
          host = fmt::format("registry.npmjs.org");
          break;
      }
      subjects.push_back(std::get<sema::HostSubject>(sema::parse_host_subject(host, 443)));
    }
  }
};

Fixture& fixture(int rules) {
  static std::map<int, std::unique_ptr<Fixture>> all;
  auto& f = all[rules];
  if (!f) f = std::make_unique<Fixture>(rules);
  return *f;
}

void BM_Table(benchmark::State& state) {
  Fixture& f = fixture(static_cast<int>(state.range(0)));
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.table.decide(f.subjects[i++ % f.subjects.size()]));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_Loop(benchmark::State& state) {
  Fixture& f = fixture(static_cast<int>(state.range(0)));
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ir::decide(*f.c.policy, sema::Operation::Net, f.subjects[i++ % f.subjects.size()], {}));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

BENCHMARK(BM_Table)->Arg(10)->Arg(1000)->Arg(100000)->Unit(benchmark::kNanosecond);
BENCHMARK(BM_Loop)->Arg(10)->Arg(1000)->Arg(100000)->Unit(benchmark::kNanosecond);

}  // namespace

BENCHMARK_MAIN();
