// sbrun on macOS (docs/sbpl.md): the policy lowered to a Seatbelt profile
// and the command run by sandbox-exec under it, with the same proxy, the
// same `ask` settling, limits, log and exit statuses as on Linux.
//
//   compile the policy -> protect its files and the git metadata -> settle
//   launch-time asks -> lower to SBPL with the canonical bindings of this
//   launch -> write the profile to a private file -> listen on two loopback
//   ports for the proxy -> fork: own process group, the rlimits, exec
//   sandbox-exec -> watch the unified log for the sandbox's denials ->
//   serve the proxy until the command exits -> exit with its status.
//
// Plain POSIX, compiled on every platform so that the Linux build checks it;
// sbrun calls it only on Apple platforms, where sandbox-exec exists. It has
// not run on a Mac yet: the profile it writes is what the tests check, with
// the SBPL evaluator, on Linux.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>

#include "driver/bindings.hpp"
#include "driver/guards.hpp"
#include "driver/pipeline.hpp"
#include "driver/std_summaries.hpp"
#include "event_log.hpp"
#include "host_files.hpp"
#include "ir/evaluator.hpp"
#include "launch.hpp"
#include "launch_common.hpp"
#include "limits.hpp"
#include "lower/mount_plan.hpp"
#include "lower/proxy_table.hpp"
#include "lower/sbpl/profile.hpp"
#include "macos/sandbox_exec.hpp"
#include "prompt.hpp"
#include "proxy/address_guard.hpp"
#include "proxy/gate.hpp"
#include "proxy/net_prompt.hpp"
#include "proxy/server.hpp"
#include "sandbox/proxy_doors.hpp"
#include "support/render.hpp"

extern char** environ;

namespace sbpolicy::runtime {

namespace {

// A listening socket on 127.0.0.1 at a port the kernel picks, and the port.
int listen_on_loopback(int& port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 128) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(fd);
    return -1;
  }
  port = ntohs(a.sin_port);
  return fd;
}

// The invoking environment, as pairs.
std::vector<std::pair<std::string, std::string>> invoking_environment() {
  std::vector<std::pair<std::string, std::string>> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string kv = *e;
    const std::size_t eq = kv.find('=');
    if (eq != std::string::npos && eq > 0) env.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// The command's process group, for the wall-time limit and the prompter's
// holds (there is no init to ask on macOS).
volatile sig_atomic_t g_group = 0;
// A network question holds the command stopped: that stop is not Ctrl-Z.
std::atomic<bool> g_holding{false};

void forward_to_group(int sig) {
  if (g_group > 0) kill(-static_cast<pid_t>(g_group), sig);
}

}  // namespace

int launch_macos(const LaunchOptions& o) {
  std::string workspace;
  if (std::string e; !resolve_workspace(o.workspace, workspace, e)) return fail(e);
  if (geteuid() == 0) {
    return fail("sbrun on macOS does not run as root: sandbox-exec would start the command as root; run it as the "
                "user who works in the workspace");
  }

  // 1. The policy, and what every sandbox protects.
  driver::Compilation c;
  sema::LoadOptions load;
  load.stdlib_dir = o.stdlib_dir;
  load.std_summaries = driver::embedded_std_summaries();
  if (names_std_module(o.policy)) {
    driver::compile_text(c, o.policy, workspace, "version 1;\nuse " + o.policy + ";\n", load);
  } else {
    driver::compile_file(c, o.policy, load);
  }
  if (c.diags.has_errors() || c.root_unreadable) {
    std::fputs(render_diagnostics(c.diags, c.sources, {RenderFormat::Human, false}).c_str(), stderr);
    return fail(fmt::format("the policy `{}` has errors; fix them (sbc check shows the same report)", o.policy));
  }
  driver::protect_policy_files(c);
  lower::LowerOptions lo = driver::lowering_options(workspace, "");
  sema::PathBindings& bindings = lo.bindings;
  if (std::string e; !workspace_allowed(bindings.workspace, bindings.home, e)) return fail(e);
  driver::protect_git_metadata(c, bindings);

  std::map<std::string, std::vector<sema::IpNet>> pins;
  if (std::string e; !parse_pins(o.net.resolve, pins, e)) return fail(e);

  // 2. Launch-time asks, the limits, the profile.
  const auto asks = lower::launch_asks(*c.policy);
  const std::set<std::uint32_t> allowed = o.dry_run ? std::set<std::uint32_t>{} : settle_launch_asks(asks, o.ask);
  CgroupSupport no_cgroup;
  no_cgroup.user_wide_processes = true;
  Limits limits(*c.policy, o.limits, no_cgroup);
  if (o.target_strict && !limits.per_process_notes().empty()) {
    for (const auto& n : limits.per_process_notes()) std::fprintf(stderr, "sbrun: error[W0106]: %s\n", n.c_str());
    return fail("--target-strict: a limit cannot be enforced as the policy means here");
  }
  // The run's own temporary directory, as the Linux sandbox has a private
  // /tmp: under the user's, removed after the run; `$TMPDIR` in the policy
  // means it.
  std::string private_tmp;
  if (!o.dry_run) {
    std::string base = bindings.tmpdir.empty() ? "/tmp" : bindings.tmpdir;
    std::string templ = base + "/sbrun-tmp-XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) {
      return fail(fmt::format("cannot make the run's temporary directory in {}: {}", base, std::strerror(errno)));
    }
    private_tmp = templ;
    bindings.tmpdir = private_tmp;
  }
  // Removed on every way out from here, whatever the command left in it.
  struct RemoveAtExit {
    const std::string& path;
    ~RemoveAtExit() {
      if (std::string e; !path.empty() && !macos::remove_tree(path, e)) {
        std::fprintf(stderr, "sbrun: the run's temporary directory is not all removed: %s\n", e.c_str());
      }
    }
  } remove_private_tmp{private_tmp};
  int http_port = 0, socks_port = 0;
  const int http = listen_on_loopback(http_port), socks = listen_on_loopback(socks_port);
  if (http < 0 || socks < 0) return fail("cannot listen on 127.0.0.1 for the proxy");
  lower::sbpl::SbplOptions so;
  // A word of this run's in every message of the profile, to tell its
  // denials in the unified log from other processes' and runs'.
  char tag_bytes[6];
  if (getentropy(tag_bytes, sizeof tag_bytes) != 0) return fail("cannot draw a random tag for the run");
  for (unsigned char b : tag_bytes) so.run_tag += fmt::format("{:02x}", b);
  // The command's terminals: sbrun's own, never every terminal of the user.
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
    if (const char* t = isatty(fd) ? ttyname(fd) : nullptr; t != nullptr) {
      if (std::find(so.terminals.begin(), so.terminals.end(), t) == so.terminals.end()) so.terminals.push_back(t);
    }
  }
  so.bindings = bindings;
  so.proxy_port = http_port;
  so.asks_allowed = allowed;
  so.private_tmp = private_tmp;
  lower::sbpl::SbplProfile profile = lower::sbpl::lower_to_sbpl(*c.policy, so);
  if (!profile.error.empty()) return fail(profile.error + "; the policy cannot be enforced here");
  for (const std::string& n : profile.narrowed) std::fprintf(stderr, "sbrun: warning: %s\n", n.c_str());
  // SOCKS too: the profile allows the proxy's ports only.
  profile.text += fmt::format("(allow network-outbound (remote tcp \"localhost:{}\"))\n", socks_port);
  if (o.dry_run) {
    std::fputs(profile.text.c_str(), stdout);
    for (const auto& [k, v] : profile.params) std::printf(";; -D %s=%s\n", k.c_str(), v.c_str());
    return 0;
  }
  char dir_template[] = "/tmp/sbrun-profile-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (dir == nullptr) return fail(fmt::format("cannot make a private directory for the profile: {}", std::strerror(errno)));
  std::string profile_path, error;
  if (!macos::write_private_file(dir, "profile.sb", profile.text, profile_path, error)) {
    rmdir(dir);
    return fail(error);
  }
  const auto cleanup = [&] {
    unlink(profile_path.c_str());
    rmdir(dir);
  };

  // The log, never where the sandbox can write; opened before the command
  // exists.
  EventLog log(!o.log_path.empty(), o.log_max_bytes);
  if (!o.log_path.empty()) {
    const auto sandbox_writes = [&](const std::string& path) {
      const ir::Effect e = ir::decide(*c.policy, ir::Operation::Write, path, bindings).effect;
      return e == ir::Effect::Allow || e == ir::Effect::Ask || path.starts_with(private_tmp + "/");
    };
    const int fd = open_host_file_for_append(o.log_path, sandbox_writes, error);
    if (fd < 0) {
      cleanup();
      return fail("the log: " + error);
    }
    log.attach(fd);
    log.write({{"event", "launch"}, {"policy", o.policy}, {"command", o.command}, {"workspace", bindings.workspace},
               {"target", "sbpl"}});
  }
  // The network rules, before the command exists: a table that cannot be
  // built means no sandbox, not one without network rules.
  auto built = lower::ProxyRuleTable::build(*c.policy);
  if (const auto* e = std::get_if<std::string>(&built)) {
    cleanup();
    return fail(*e);
  }
  const lower::ProxyRuleTable table = std::move(std::get<lower::ProxyRuleTable>(built));

  // 3. The command: its own process group, the rlimits, sandbox-exec.
  std::vector<std::string> argv = macos::sandbox_exec_argv(profile_path, profile.params, o.command);
  auto environment = lower::passed_environment(*c.policy, invoking_environment(), bindings, allowed);
  std::vector<std::string> env = macos::command_environment(environment, http_port, socks_port, bindings.tmpdir);
  std::vector<char*> argv_c = c_strings(argv), env_c = c_strings(env);
  const std::vector<CommandRlimit> rlimits = limits.command_rlimits();
  // On a terminal the command's group is the foreground one, as a shell
  // makes it: its keys and Ctrl-C reach it, and sbrun takes the terminal
  // back when it stops or ends. Both sides set it, so neither waits.
  const bool foreground = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
  if (foreground) signal(SIGTTOU, SIG_IGN);
  const pid_t child = fork();
  if (child < 0) {
    cleanup();
    return fail(fmt::format("cannot fork: {}", std::strerror(errno)));
  }
  if (child == 0) {
    setpgid(0, 0);
    if (foreground) tcsetpgrp(STDIN_FILENO, getpid());
    signal(SIGTTOU, SIG_DFL);
    for (const CommandRlimit& r : rlimits) {
      struct rlimit now {};
      getrlimit(r.resource, &now);
      struct rlimit want {static_cast<rlim_t>(r.soft), static_cast<rlim_t>(r.hard)};
      if (now.rlim_max != RLIM_INFINITY && want.rlim_max > now.rlim_max) want.rlim_max = now.rlim_max;
      if (want.rlim_cur > want.rlim_max) want.rlim_cur = want.rlim_max;
      if (setrlimit(r.resource, &want) != 0) {
        std::fprintf(stderr, "sbrun: cannot set the command's limits: %s\n", std::strerror(errno));
        _exit(kSetupFailed);
      }
    }
    execve(argv_c[0], argv_c.data(), env_c.data());
    std::fprintf(stderr, "sbrun: cannot run %s: %s\n", argv_c[0], std::strerror(errno));
    _exit(kSetupFailed);
  }
  setpgid(child, child);
  g_group = child;
  if (foreground) tcsetpgrp(STDIN_FILENO, child);
  if (o.verbose > 0) {
    std::fprintf(stderr, "sbrun: macOS: %s -f %s with %zu parameters; proxy on 127.0.0.1:%d (HTTP) and :%d (SOCKS)\n",
                 macos::kSandboxExec, profile_path.c_str(), profile.params.size(), http_port, socks_port);
    for (const std::string& line : limits.describe()) std::fprintf(stderr, "sbrun: limit: %s\n", line.c_str());
    for (const std::string& n : limits.per_process_notes()) std::fprintf(stderr, "sbrun: warning[W0106]: %s\n", n.c_str());
  }
  struct sigaction sa {};
  sa.sa_handler = forward_to_group;
  sigemptyset(&sa.sa_mask);
  for (int s : kForwardedSignals) sigaction(s, &sa, nullptr);

  // 4. The sandbox's denials, from the unified log, by their rule tags.
  // What each rule says and where, for the denials' lines.
  std::vector<std::string> rule_texts;
  for (const ir::Rule& r : c.policy->rules) {
    rule_texts.push_back(fmt::format("{} {} \"{}\" at {}", sema::effect_name(r.effect), sema::operation_name(r.operation),
                                     sema::pattern_text(r.pattern),
                                     r.origin.target.line == 0 ? r.origin.target.file : r.origin.target.text()));
  }
  int log_pipe[2] = {-1, -1};
  pid_t log_stream = -1;
  if (!o.quiet && pipe(log_pipe) == 0) {
    std::vector<std::string> largv = macos::violation_log_argv();
    std::vector<char*> largv_c = c_strings(largv);
    log_stream = fork();
    if (log_stream == 0) {
      dup2(log_pipe[1], STDOUT_FILENO);
      close(log_pipe[0]);
      execv(largv_c[0], largv_c.data());
      _exit(127);
    }
    close(log_pipe[1]);
  }
  std::thread violations;
  if (log_stream > 0) {
    violations = std::thread([fd = log_pipe[0], &rule_texts, &log, tag = so.run_tag] {
      std::string buffer;
      char chunk[4096];
      ssize_t n;
      while ((n = read(fd, chunk, sizeof chunk)) > 0) {
        buffer.append(chunk, static_cast<std::size_t>(n));
        for (std::size_t nl; (nl = buffer.find('\n')) != std::string::npos; buffer.erase(0, nl + 1)) {
          const auto v = macos::parse_violation(std::string_view(buffer).substr(0, nl), tag);
          if (!v) continue;
          const bool known = v->rule >= 0 && static_cast<std::size_t>(v->rule) < rule_texts.size();
          const std::string line =
              macos::describe_violation(*v, known ? rule_texts[static_cast<std::size_t>(v->rule)] : "");
          (void)!::write(STDERR_FILENO, line.data(), line.size());
          nlohmann::json event = {{"event", "denied"},  {"operation", v->operation}, {"subject", v->subject},
                                  {"process", v->process}, {"pid", v->pid}};
          event["rule"] = known ? nlohmann::json(rule_texts[static_cast<std::size_t>(v->rule)]) : nlohmann::json();
          log.write(std::move(event));
        }
      }
      close(fd);
    });
  }

  // 5. The proxy, until the command exits; the wall-time limit.
  int status = 0;
  bool wall_expired = false;
  {
    boost::asio::io_context io;
    std::unique_ptr<proxy::NetPrompter> prompter;
    if (o.ask == AskMode::Prompt) {
      // A question stops the command and takes the terminal for the answer,
      // then gives both back; the waiter does not take that stop for Ctrl-Z.
      prompter = std::make_unique<proxy::NetPrompter>("/dev/tty", std::chrono::seconds(60), [child, foreground](bool hold) {
        if (hold) {
          g_holding = true;
          kill(-child, SIGSTOP);
          if (foreground) tcsetpgrp(STDIN_FILENO, getpgrp());
        } else {
          if (foreground) tcsetpgrp(STDIN_FILENO, child);
          kill(-child, SIGCONT);
          g_holding = false;
        }
      });
    }
    proxy::GateConfig gc;
    gc.table = &table;
    gc.ask = net_ask_mode(o.ask);
    gc.guard = proxy::AddressGuard::for_this_host();
    gc.pins = pins;
    proxy::Gate gate(io, std::move(gc), prompter.get());
    proxy::ProxyServer server(io, gate, proxy_limits(o.net, o.quiet), [&log](nlohmann::json e) { log.write(std::move(e)); });
    server.listen(http, sandbox::kTagHttp);
    server.listen(socks, sandbox::kTagSocks);
    boost::asio::steady_timer wall(io), wall_kill(io);
    arm_wall_time(wall, wall_kill, limits, log, wall_expired, [child] { kill(-child, SIGTERM); },
                  [child] { kill(-child, SIGKILL); });
    std::thread waiter([&] {
      for (;;) {
        const pid_t r = waitpid(child, &status, WUNTRACED);
        if (r < 0 && errno == EINTR) continue;
        if (r > 0 && WIFSTOPPED(status)) {
          // Only the job-control stops are Ctrl-Z; a question's hold
          // (SIGSTOP) is the prompter's to end.
          const int sig = WSTOPSIG(status);
          if (g_holding || (sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU)) continue;
          // Ctrl-Z: the terminal back to the shell, sbrun stopped with the
          // command; `fg` continues both.
          if (foreground) tcsetpgrp(STDIN_FILENO, getpgrp());
          kill(getpid(), SIGSTOP);
          if (foreground) tcsetpgrp(STDIN_FILENO, child);
          kill(-child, SIGCONT);
          continue;
        }
        break;
      }
      boost::asio::post(io, [&] { io.stop(); });
    });
    io.run();
    waiter.join();
    prompter.reset();
  }
  if (log_stream > 0) {
    kill(log_stream, SIGTERM);
    waitpid(log_stream, nullptr, 0);
    violations.join();
  }
  if (foreground) tcsetpgrp(STDIN_FILENO, getpgrp());
  cleanup();
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  log.write({{"event", "exit"}, {"status", wall_expired ? kWallTimeExceeded : code}});
  if (wall_expired) {
    code = kWallTimeExceeded;
  } else if (const std::string text = limits.outcome(code); !text.empty()) {
    (void)!::write(STDERR_FILENO, text.data(), text.size());
  }
  std::fflush(nullptr);
  return code;
}

}  // namespace sbpolicy::runtime
