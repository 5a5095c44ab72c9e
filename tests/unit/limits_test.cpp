// Resource limits: their values (sema/limits.hpp) and how sbrun plans them
// (runtime/limits.hpp). The runtime tests run real sandboxes against them.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <variant>

#include "driver/pipeline.hpp"
#include "limits.hpp"
#include "sema/limits.hpp"

namespace sbpolicy {
namespace {

using sema::LimitKind;

std::uint64_t value_of(LimitKind kind, std::string_view text) {
  auto v = sema::parse_limit_value(kind, text);
  if (const auto* e = std::get_if<sema::LimitValueError>(&v)) {
    ADD_FAILURE() << text << ": " << e->message;
    return 0;
  }
  return std::get<std::uint64_t>(v);
}

std::string error_of(LimitKind kind, std::string_view text) {
  auto v = sema::parse_limit_value(kind, text);
  const auto* e = std::get_if<sema::LimitValueError>(&v);
  return e != nullptr ? e->message : "";
}

TEST(LimitValues, SizesAreBinaryAndCaseInsensitive) {
  EXPECT_EQ(value_of(LimitKind::Memory, "4G"), std::uint64_t{4} << 30);
  EXPECT_EQ(value_of(LimitKind::Memory, "4g"), std::uint64_t{4} << 30);
  EXPECT_EQ(value_of(LimitKind::Memory, "4GiB"), std::uint64_t{4} << 30);
  EXPECT_EQ(value_of(LimitKind::Memory, "4GB"), std::uint64_t{4} << 30);
  EXPECT_EQ(value_of(LimitKind::Memory, "512M"), std::uint64_t{512} << 20);
  EXPECT_EQ(value_of(LimitKind::FileSize, "1"), 1u);
  EXPECT_EQ(value_of(LimitKind::FileSize, "10K"), 10240u);
  EXPECT_EQ(value_of(LimitKind::FileSize, "2T"), std::uint64_t{2} << 40);
  EXPECT_EQ(value_of(LimitKind::FileSize, "100b"), 100u);
}

TEST(LimitValues, TimesAndCounts) {
  EXPECT_EQ(value_of(LimitKind::WallTime, "90"), 90u);
  EXPECT_EQ(value_of(LimitKind::WallTime, "90s"), 90u);
  EXPECT_EQ(value_of(LimitKind::WallTime, "30m"), 1800u);
  EXPECT_EQ(value_of(LimitKind::CpuTime, "2min"), 120u);
  EXPECT_EQ(value_of(LimitKind::CpuTime, "2h"), 7200u);
  EXPECT_EQ(value_of(LimitKind::Processes, "512"), 512u);
  EXPECT_EQ(value_of(LimitKind::OpenFiles, "4096"), 4096u);
}

TEST(LimitValues, RefusedWithAReason) {
  EXPECT_NE(error_of(LimitKind::Memory, "4X").find("not a unit of size"), std::string::npos);
  EXPECT_NE(error_of(LimitKind::Memory, "1.5G").find("whole number"), std::string::npos);
  EXPECT_NE(error_of(LimitKind::Memory, "G").find("not a number"), std::string::npos);
  EXPECT_NE(error_of(LimitKind::Memory, "").find("not a number"), std::string::npos);
  EXPECT_NE(error_of(LimitKind::Memory, "4096").find("too small"), std::string::npos);
  EXPECT_NE(error_of(LimitKind::Processes, "0").find("of 0"), std::string::npos);
  EXPECT_NE(error_of(LimitKind::Processes, "10k").find("takes no unit"), std::string::npos);
  EXPECT_NE(error_of(LimitKind::Processes, "5000000").find("above the largest"), std::string::npos);
  EXPECT_NE(error_of(LimitKind::WallTime, "500ms").find("whole seconds"), std::string::npos);
  EXPECT_NE(error_of(LimitKind::WallTime, "3d").find("not a unit of time"), std::string::npos);
  EXPECT_NE(error_of(LimitKind::WallTime, "10000h").find("above the largest"), std::string::npos);
  EXPECT_NE(error_of(LimitKind::FileSize, "99999999999999999999999").find("above the largest"), std::string::npos);
  EXPECT_NE(error_of(LimitKind::FileSize, "2000000T").find("above the largest"), std::string::npos);
}

TEST(LimitValues, FormattedForPeople) {
  EXPECT_EQ(sema::format_limit_value(LimitKind::Memory, std::uint64_t{4} << 30), "4 GiB");
  EXPECT_EQ(sema::format_limit_value(LimitKind::Memory, (std::uint64_t{3} << 20) + 1), "3145729 bytes");
  EXPECT_EQ(sema::format_limit_value(LimitKind::FileSize, 1536), "1536 bytes");
  EXPECT_EQ(sema::format_limit_value(LimitKind::WallTime, 5400), "1 h 30 min");
  EXPECT_EQ(sema::format_limit_value(LimitKind::WallTime, 61), "1 min 1 s");
  EXPECT_EQ(sema::format_limit_value(LimitKind::CpuTime, 2), "2 s");
  EXPECT_EQ(sema::format_limit_value(LimitKind::Processes, 512), "512");
}

TEST(LimitOverrides, ParsedAndRefused) {
  runtime::LimitOverride o;
  std::string error;
  ASSERT_TRUE(runtime::parse_limit_override("memory=1G", o, error)) << error;
  EXPECT_EQ(o.kind, LimitKind::Memory);
  EXPECT_EQ(o.value, std::uint64_t{1} << 30);
  ASSERT_TRUE(runtime::parse_limit_override("wall_time=none", o, error)) << error;
  EXPECT_EQ(o.kind, LimitKind::WallTime);
  EXPECT_FALSE(o.value.has_value());
  EXPECT_FALSE(runtime::parse_limit_override("memroy=1G", o, error));
  EXPECT_NE(error.find("unknown limit `memroy`"), std::string::npos) << error;
  EXPECT_FALSE(runtime::parse_limit_override("memory", o, error));
  EXPECT_NE(error.find("give a value"), std::string::npos) << error;
  EXPECT_FALSE(runtime::parse_limit_override("processes=ten", o, error));
  EXPECT_NE(error.find("not a number"), std::string::npos) << error;
}

ir::Policy compile(const std::string& text) {
  driver::Compilation c;
  driver::compile_text(c, "p.sbpolicy", "/ws", text, {});
  EXPECT_FALSE(c.diags.has_errors());
  return c.policy ? *c.policy : ir::Policy{};
}

TEST(LimitPlan, SmallestAcrossFilesThenTheCommandLine) {
  const ir::Policy p = compile("limit memory 2G;\nlimit wall_time 10m;\nlimit processes 64;\n");
  ASSERT_EQ(p.limits.size(), 3u);
  const runtime::Limits none(p, {}, runtime::CgroupSupport{});
  ASSERT_NE(none.find(LimitKind::Memory), nullptr);
  EXPECT_EQ(none.find(LimitKind::Memory)->from, "p.sbpolicy:1:1");
  const runtime::Limits over(p, {{LimitKind::Memory, std::uint64_t{8} << 30}, {LimitKind::WallTime, std::nullopt}},
                             runtime::CgroupSupport{});
  EXPECT_EQ(over.find(LimitKind::Memory)->value, std::uint64_t{8} << 30);
  EXPECT_EQ(over.find(LimitKind::Memory)->from, "--limit");
  EXPECT_EQ(over.find(LimitKind::WallTime), nullptr);
  ASSERT_NE(none.find(LimitKind::WallTime), nullptr);
  EXPECT_EQ(none.find(LimitKind::WallTime)->value, 600u);
}

TEST(LimitPlan, RlimitsWithoutACgroup) {
  const ir::Policy p = compile(
      "limit memory 1G;\nlimit processes 10;\nlimit cpu_time 5;\nlimit file_size 1M;\nlimit open_files 100;\n"
      "limit wall_time 1h;\n");
  const runtime::Limits l(p, {}, runtime::CgroupSupport{});
  EXPECT_FALSE(l.wants_cgroup());
  std::map<int, std::pair<std::uint64_t, std::uint64_t>> set;
  for (const auto& r : l.command_rlimits()) set[r.resource] = {r.soft, r.hard};
  EXPECT_EQ(set.size(), 5u);  // wall_time is sbrun's timer
  EXPECT_EQ(set[RLIMIT_DATA], std::make_pair(std::uint64_t{1} << 30, std::uint64_t{1} << 30));
  EXPECT_EQ(set[RLIMIT_NPROC], std::make_pair(std::uint64_t{11}, std::uint64_t{11}));  // and the init
  EXPECT_EQ(set[RLIMIT_CPU], std::make_pair(std::uint64_t{5}, std::uint64_t{6}));      // SIGXCPU, then SIGKILL
  EXPECT_EQ(set[RLIMIT_FSIZE], std::make_pair(std::uint64_t{1} << 20, std::uint64_t{1} << 20));
  EXPECT_EQ(set[RLIMIT_NOFILE], std::make_pair(std::uint64_t{100}, std::uint64_t{100}));
  // memory, cpu_time and open_files bound each process: W0106.
  EXPECT_EQ(l.per_process_notes().size(), 3u);
  EXPECT_EQ(l.describe().size(), 6u);
}

TEST(LimitPlan, OnMacosProcessesCountTheUsersAllAndSaySo) {
  const ir::Policy p = compile("limit processes 10;\n");
  runtime::CgroupSupport mac;
  mac.user_wide_processes = true;
  const runtime::Limits l(p, {}, mac);
  ASSERT_EQ(l.command_rlimits().size(), 1u);
  EXPECT_EQ(l.command_rlimits()[0].resource, RLIMIT_NPROC);
  EXPECT_EQ(l.command_rlimits()[0].soft, 10u);  // no init to count
  ASSERT_EQ(l.per_process_notes().size(), 1u);
  EXPECT_NE(l.per_process_notes()[0].find("every process of the user"), std::string::npos);
}

TEST(LimitPlan, CgroupForMemoryAndProcessesWhenAvailable) {
  const ir::Policy p = compile("limit memory 1G;\nlimit processes 10;\nlimit file_size 1M;\n");
  const runtime::Limits l(p, {}, runtime::CgroupSupport{true, true, {}});
  EXPECT_TRUE(l.wants_cgroup());
  ASSERT_EQ(l.command_rlimits().size(), 1u);
  EXPECT_EQ(l.command_rlimits()[0].resource, RLIMIT_FSIZE);
  EXPECT_TRUE(l.per_process_notes().empty());
  const auto argv = runtime::scope_command("sbrun-1-2.scope", {100, 101}, l.applied(), true);
  const std::vector<std::string> tail(argv.begin() + 1, argv.end());
  const std::vector<std::string> expected = {
      "--user", "call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
      "StartTransientUnit", "ssa(sv)a(sa(sv))", "sbrun-1-2.scope", "fail", "5", "PIDs", "au", "2", "100", "101",
      "MemoryMax", "t", "1073741824", "MemorySwapMax", "t", "0", "TasksMax", "t", "12", "CollectMode", "s",
      "inactive-or-failed", "0"};
  EXPECT_EQ(tail, expected);
  EXPECT_NE(argv.front().find("busctl"), std::string::npos);
}

TEST(LimitPlan, AFailedScopeFallsBackToRlimitsAndSaysWhy) {
  // This process is not a systemd unit's, and no manager will take a
  // request for a scope with its pid: the limits must not be lost.
  const ir::Policy p = compile("limit memory 1G;\nlimit processes 10;\n");
  runtime::Limits l(p, {}, runtime::CgroupSupport{true, geteuid() != 0, {}});
  std::string note;
  l.enter_scope({getpid()}, note);
  if (note.empty()) GTEST_SKIP() << "a systemd manager made the scope here: the fallback is not reachable";
  EXPECT_NE(note.find("rlimits instead"), std::string::npos) << note;
  EXPECT_FALSE(l.wants_cgroup());
  EXPECT_EQ(l.command_rlimits().size(), 2u);
  EXPECT_EQ(l.per_process_notes().size(), 1u);  // memory now per process
}

TEST(LimitPlan, OutcomeNamesTheLimitMet) {
  const ir::Policy p = compile("limit cpu_time 2;\nlimit file_size 1M;\nlimit processes 8;\n");
  const runtime::Limits l(p, {}, runtime::CgroupSupport{});
  EXPECT_EQ(l.outcome(0), "");
  EXPECT_NE(l.outcome(128 + SIGXCPU).find("CPU time limit of 2 s (p.sbpolicy:1:1)"), std::string::npos);
  EXPECT_NE(l.outcome(128 + SIGXFSZ).find("file size limit of 1 MiB (p.sbpolicy:2:1)"), std::string::npos);
  EXPECT_NE(l.outcome(128 + SIGKILL).find("ignores SIGXCPU"), std::string::npos);
  EXPECT_NE(l.outcome(1).find("processes 8 (p.sbpolicy:3:1)"), std::string::npos);
  const runtime::Limits quiet(compile("limit wall_time 5;\n"), {}, runtime::CgroupSupport{});
  EXPECT_EQ(quiet.outcome(1), "");
}

}  // namespace
}  // namespace sbpolicy
