#include "launch.hpp"

// clang-format off
#include <utility>  // first: Boost 1.74's awaitable.hpp uses std::exchange without including it
// clang-format on
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <thread>

#include "bubblewrap.hpp"
#include "driver/bindings.hpp"
#include "driver/pipeline.hpp"
#include "driver/guards.hpp"
#include "driver/std_summaries.hpp"
#include "ir/evaluator.hpp"
#include "event_log.hpp"
#include "host_files.hpp"
#include "identity.hpp"
#include "janitor.hpp"
#include "lower/bwrap_args.hpp"
#include "lower/mount_plan.hpp"
#include "lower/local_services.hpp"
#include "lower/proxy_table.hpp"
#include "sandbox/proxy_doors.hpp"
#include "launch_common.hpp"
#include "limits.hpp"
#include "terminal.hpp"
#include "proxy/denial_notice.hpp"
#include "proxy/gate.hpp"
#include "proxy/net_prompt.hpp"
#include "proxy/server.hpp"
#include "self_image.hpp"
#include "support/render.hpp"

namespace sbpolicy::runtime {

namespace {

// When the command is on this machine but not in the sandbox (`cargo` in
// ~/.cargo/bin, which the policy does not grant), what to tell the user if
// it is not found inside (exit 127): where it is, and the grant to add.
// Empty when the sandbox sees it, or the host does not have it either.
std::string missing_command_hint(const lower::MountPlan& plan, lower::FsView& fs, const std::string& command,
                                 const std::string& home) {
  std::vector<std::string> candidates;
  if (command.find('/') != std::string::npos) {
    candidates.push_back(command);
  } else {
    std::string path = "/usr/local/bin:/usr/bin:/bin";
    for (const auto& [name, value] : plan.env) {
      if (name == "PATH") path = value;
    }
    for (std::size_t at = 0; at <= path.size();) {
      const std::size_t end = std::min(path.find(':', at), path.size());
      if (end > at && path[at] == '/') candidates.push_back(path.substr(at, end - at) + "/" + command);
      at = end + 1;
    }
  }
  std::string hidden;
  for (const std::string& candidate : candidates) {
    if (candidate.front() != '/' || access(candidate.c_str(), X_OK) != 0) continue;
    if (lower::visible_in_plan(plan, fs, candidate)) return "";  // found inside: another cause
    if (hidden.empty()) hidden = candidate;
  }
  if (hidden.empty()) return "";
  std::string dir = hidden.substr(0, hidden.rfind('/'));
  if (!home.empty() && (dir == home || dir.starts_with(home + "/"))) dir = "~" + dir.substr(home.size());
  return fmt::format(
      "sbrun: `{}` is {} on this machine, which the policy does not let the sandbox see; to run it, grant its "
      "directory (and whatever else it needs): allow read \"{}\";\n",
      command, hidden, dir);
}

// The sandbox init's host pid, for signal forwarding (0 until known).
volatile sig_atomic_t g_init_pid = 0;
// sbrun's end of the proxy channel, once the init holds the other (-1 before).
volatile sig_atomic_t g_channel_fd = -1;
// A job signal that arrived before the init's go: the command is not started.
volatile sig_atomic_t g_pending_signal = 0;

void forward_signal(int sig) {
  // The job signals go through the channel, in order with the holds and
  // releases of network questions (a signal to the init could overtake a
  // release and arrive after the command went on). kill() otherwise.
  const bool job = std::find(std::begin(kJobSignals), std::end(kJobSignals), sig) != std::end(kJobSignals);
  if (job && g_channel_fd < 0) {
    g_pending_signal = sig;
    return;
  }
  if (job) {
    const char order[2] = {sandbox::kOrderSignal, static_cast<char>(sig)};
    if (send(g_channel_fd, order, sizeof order, MSG_NOSIGNAL | MSG_DONTWAIT) == 2) return;
  }
  if (g_init_pid > 0) kill(static_cast<pid_t>(g_init_pid), sig);
}

// Reads bwrap's --json-status-fd until it reports the init's pid, or EOF.
pid_t read_child_pid(int fd) {
  std::string buf;
  char chunk[512];
  for (;;) {
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    buf.append(chunk, static_cast<std::size_t>(n));
    const auto at = buf.find("\"child-pid\"");
    if (at == std::string::npos) continue;
    const auto colon = buf.find(':', at);
    const auto end = buf.find_first_of(",}", colon);
    if (colon == std::string::npos || end == std::string::npos) continue;
    return static_cast<pid_t>(std::atol(buf.substr(colon + 1, end - colon - 1).c_str()));
  }
}

// The descriptors of a plan's bind sources (host_files.hpp's walk from `/`),
// numbered above bubblewrap's fixed ones.
class SourceDescriptors {
 public:
  SourceDescriptors() = default;
  SourceDescriptors(const SourceDescriptors&) = delete;
  SourceDescriptors& operator=(const SourceDescriptors&) = delete;
  ~SourceDescriptors() { close_all(); }

  bool open(const lower::MountPlan& plan, std::string& error) {
    for (const lower::Mount& m : plan.mounts) {
      const bool bind = m.kind == lower::Mount::Kind::Bind || m.kind == lower::Mount::Kind::RoBind;
      // Optional binds are the kernel's own /proc entries: no one can swap those.
      if (!bind || m.optional || m.source.empty() || by_path_.count(m.source) > 0) continue;
      const int fd = open_path_nofollow(m.source, error);
      if (fd < 0) return false;
      // A `unix` grant exposes a socket and nothing else: an object swapped
      // in since the plan was made (a directory, a file) is not bound.
      struct stat st {};
      const bool socket_expected =
          std::find(plan.unix_sockets.begin(), plan.unix_sockets.end(), m.source) != plan.unix_sockets.end();
      if (socket_expected && (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))) {
        ::close(fd);
        error = fmt::format("`{}` is no longer a socket: it changed while the sandbox was being set up", m.source);
        return false;
      }
      const int high = fcntl(fd, F_DUPFD_CLOEXEC, 10);
      ::close(fd);
      if (high < 0) {
        error = fmt::format("cannot keep a descriptor of `{}`: {}", m.source, std::strerror(errno));
        return false;
      }
      by_path_[m.source] = high;
      fds_.push_back(high);
    }
    return true;
  }
  const std::map<std::string, int>& by_path() const { return by_path_; }
  const std::vector<int>& descriptors() const { return fds_; }
  void close_all() {
    for (int fd : fds_) ::close(fd);
    fds_.clear();
  }

 private:
  std::map<std::string, int> by_path_;
  std::vector<int> fds_;
};

// ssh through the proxy: sbrun itself is the ProxyCommand. Left unset for
// an executable path a shell would split or expand.
std::string git_ssh_command(const std::string& executable) {
  const bool plain = !executable.empty() && std::all_of(executable.begin(), executable.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("/._-+", c) != nullptr;
  });
  return plain ? "ssh -o 'ProxyCommand=" + executable + " --sbrun-connect %h %p'" : "";
}

}  // namespace

int launch(const LaunchOptions& o) {
  // 0. bubblewrap first: it starts on the other core while this one
  // compiles, and waits for its plan (bubblewrap.hpp). A missing bubblewrap
  // is reported once the policy is known to be good.
  const SelfImage image = self_image();
  if (image.init.empty()) return fail(image.error);
  // The workspace, resolved as the kernel will see it; refused when it is
  // no place to make writable. Then root is given up before anything is
  // done for the sandbox (identity.hpp).
  std::string workspace;
  if (std::string e; !resolve_workspace(o.workspace, workspace, e)) return fail(e);
  Identity identity;
  if (std::string e; !leave_root(o.user, workspace, identity, e)) return fail(e);
  if (identity.switched && o.verbose > 0) {
    std::fprintf(stderr, "sbrun: started as root; running as `%s` (uid %u, gid %u: %s)\n", identity.name.c_str(),
                 identity.uid, identity.gid, identity.why.c_str());
  }

  // 1. The policy.
  driver::Compilation c;
  sema::LoadOptions load;
  load.stdlib_dir = o.stdlib_dir;
  if (struct stat st {}; !o.stdlib_dir.empty() && (stat(o.stdlib_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))) {
    return fail(fmt::format("--stdlib {}: no such directory", o.stdlib_dir));
  }
  // The standard library modules as checked when sbrun was built: only the
  // user's own files are compiled here (sema/std_summary.hpp).
  load.std_summaries = driver::embedded_std_summaries();
  if (names_std_module(o.policy)) {
    // `sbrun std.agent -- cmd`: a module of the standard library as the
    // whole policy, when no file has that name.
    char cwd[4096];
    driver::compile_text(c, o.policy, getcwd(cwd, sizeof cwd) ? cwd : "/", "version 1;\nuse " + o.policy + ";\n", load);
  } else {
    driver::compile_file(c, o.policy, load);
  }
  const RenderOptions render{RenderFormat::Human, color_wanted(STDERR_FILENO)};
  if (c.diags.has_errors() || c.root_unreadable) {
    std::fputs(render_diagnostics(c.diags, c.sources, render).c_str(), stderr);
    return fail(fmt::format("the policy `{}` has errors; fix them (sbc check shows the same report)", o.policy));
  }

  // The policy's own files, whatever their names, read-only inside.
  driver::protect_policy_files(c);

  std::map<std::string, std::vector<sema::IpNet>> pins;
  if (std::string e; !parse_pins(o.net.resolve, pins, e)) return fail(e);

  // The resource limits, and how this machine enforces each (limits.hpp);
  // the cgroup hierarchy is looked at only when a limit could use it.
  Limits run_limits(*c.policy, o.limits, CgroupSupport{});
  if (run_limits.find(LimitKind::Memory) != nullptr || run_limits.find(LimitKind::Processes) != nullptr) {
    run_limits = Limits(*c.policy, o.limits, CgroupSupport::detect());
  }
  if (const auto notes = run_limits.per_process_notes(); !notes.empty() && (o.verbose > 0 || o.target_strict)) {
    for (const std::string& n : notes) {
      std::fprintf(stderr, "sbrun: %s[W0106]: %s\n", o.target_strict ? "error" : "warning", n.c_str());
    }
    if (o.target_strict) return fail("--target-strict: a limit cannot be enforced as the policy means here");
  }

  // 2. Bindings, canonical now (what the kernel will resolve), and the rest
  // of what lowering needs from this machine.
  lower::LowerOptions lo = driver::lowering_options(workspace, "");
  const sema::PathBindings& bindings = lo.bindings;
  if (const std::string ssh = git_ssh_command(image.init); !ssh.empty()) {
    lo.runtime_env.emplace_back("GIT_SSH_COMMAND", ssh);
  }
  // Again with the home of the user the command runs as.
  if (std::string e; !workspace_allowed(bindings.workspace, bindings.home, e)) return fail(e);
  // The workspace's git metadata, as it is now (driver/guards.hpp).
  driver::protect_git_metadata(c, bindings);
  if (o.verbose > 0) std::fprintf(stderr, "sbrun: workspace `%s`, home `%s`\n", bindings.workspace.c_str(), bindings.home.c_str());

  std::string error;
  // Opened once the plan is known (host_files.hpp); events are kept until then.
  EventLog log(!o.log_path.empty(), o.log_max_bytes);
  log.write({{"event", "launch"}, {"policy", o.policy}, {"command", o.command}, {"workspace", bindings.workspace}});

  // 3. `ask` rules of the filesystem and environment, once.
  const auto asks = lower::launch_asks(*c.policy);
  const std::set<std::uint32_t> allowed = o.dry_run ? std::set<std::uint32_t>{} : settle_launch_asks(asks, o.ask);
  for (const ir::Rule* r : asks) {
    log.write({{"event", "ask"},
               {"operation", sema::operation_name(r->operation)},
               {"subject", sema::pattern_text(r->pattern)},
               {"effect", allowed.count(r->id) ? "allow" : "deny"},
               {"rule", r->origin.target.text()}});
  }

  // 4. The mount plan.
  lo.asks_allowed = allowed;
  lo.target_strict = o.target_strict;
  lo.tmp_size = o.tmp_size;
  lo.shm_size = o.shm_size;
  lower::PosixFs fs;
  Diagnostics lowering;
  auto plan = lower::lower_to_mount_plan(*c.policy, fs, lo, lowering);
  // Errors, and the warnings about what the command will not see as the
  // policy reads (W0103 unix sockets, W0104 a directory hidden whole, W0105
  // a secret reachable through a link) always; every fidelity note with -v.
  Diagnostics shown;
  shown.append_if(lowering, [&](const Diagnostic& d) {
    return o.verbose > 0 || d.severity == Severity::Error || d.code == Code::W0103 || d.code == Code::W0104 ||
           d.code == Code::W0105;
  });
  if (!shown.all().empty()) std::fputs(render_diagnostics(shown, c.sources, render).c_str(), stderr);
  if (!plan) return fail("the policy cannot be enforced here; see the errors above");
  if (o.verbose > 0) {
    for (const std::string& path : plan->granted_placeholders) {
      std::fprintf(stderr,
                   "sbrun: `%s` is granted write and does not exist: made for the run, removed after it if still "
                   "empty\n",
                   path.c_str());
    }
    for (const std::string& path : plan->unneeded_placeholders) {
      std::fprintf(stderr,
                   "sbrun: `%s` is protected and does not exist; its directory is not writable, so it cannot be made "
                   "inside either: no placeholder\n",
                   path.c_str());
    }
  }
  if (!o.log_path.empty()) {
    // Never where the sandbox could write (or has written a link): deny,
    // allow and a granted ask as the policy says, asks not yet granted
    // counted as writable.
    const auto sandbox_writes = [&](const std::string& path) {
      const ir::Effect e = ir::decide(*c.policy, ir::Operation::Write, path, bindings).effect;
      return e == ir::Effect::Allow || e == ir::Effect::Ask;
    };
    const int fd = open_host_file_for_append(o.log_path, sandbox_writes, error);
    if (fd < 0) return fail("the log: " + error);
    log.attach(fd);
  }

  // The init's own files, after the policy's mounts so no mask hides them.
  std::vector<std::pair<std::string, std::string>> runtime_files;
  for (const auto& file : image.files) {
    if (!lower::visible_in_plan(*plan, fs, file.second)) runtime_files.push_back(file);
  }
  // The plan as JSON is only for the log and --dry-run: not on the fast path.
  nlohmann::json plan_json;
  if (o.dry_run || !o.log_path.empty()) plan_json = lower::mount_plan_to_json(*plan, *c.policy);
  if (!o.log_path.empty()) {
    for (const auto& m : plan_json["mounts"]) log.write({{"event", "mount"}, {"mount", m}});
    log.write({{"event", "environment"}, {"passed", plan_json["environment"]}});
  }
  if (o.dry_run) {
    std::vector<std::string> args = lower::bwrap_arguments(*plan, runtime_files);
    args.insert(args.end(), {"--as-pid-1", "--json-status-fd", "5"});
    plan_json["bwrap_args"] = args;
    // The command is on bwrap's own command line (bwrap reads options only
    // from --args), behind sbrun's init.
    plan_json["bwrap_command"] = Bubblewrap::command_line(o.command);
    if (!run_limits.empty()) plan_json["limits"] = run_limits.describe();
    std::fputs((plan_json.dump(2) + "\n").c_str(), stdout);
    return 0;
  }

  if (access(o.bwrap.c_str(), X_OK) != 0) {
    return fail(fmt::format("`{}` is missing; install bubblewrap (apt-get install bubblewrap)", o.bwrap));
  }

  // 5. The placeholders, the janitor told about each before it is made
  // (and about bubblewrap once it runs).
  Janitor janitor(image.init);
  Bubblewrap bwrap;
  // bubblewrap goes first on a failure: it may be mounting the placeholders.
  auto cleanup = [&] {
    bwrap.stop();
    janitor.finish();
  };
  if (!janitor.create_placeholders(plan->placeholders, plan->placeholder_files, error)) {
    cleanup();
    return fail("cannot create a placeholder to protect a path that does not exist yet: " + error);
  }

  // 6. Every bind source opened once, from `/` without following a symlink,
  // and given to bubblewrap as that descriptor: the object mounted is the
  // object the plan was made from, whatever a racing process does to the
  // path meanwhile (a symlink found on the way fails the launch).
  SourceDescriptors sources;
  if (!sources.open(*plan, error)) {
    cleanup();
    return fail(error + "; the filesystem changed while the sandbox was being set up, try again");
  }
  std::vector<std::string> args = lower::bwrap_arguments(*plan, runtime_files, &sources.by_path());
  args.insert(args.end(), {"--as-pid-1", "--json-status-fd", "5"});
  // A terminal of its own for the sandbox when sbrun's stdin is one
  // (docs/terminal.md); pipes on stdout and stderr relayed too when network
  // questions can come, so none of the command's output overtakes one.
  Terminal terminal;
  const bool own_terminal = o.pty && Terminal::wanted();
  if (own_terminal) {
    const bool questions =
        o.ask == AskMode::Prompt && std::any_of(c.policy->rules.begin(), c.policy->rules.end(), [](const ir::Rule& r) {
          return r.effect == ir::Effect::Ask && r.operation == ir::Operation::Net;
        });
    if (!terminal.prepare(questions, error)) {
      cleanup();
      return fail(error);
    }
  }
  if (o.verbose > 0) {
    std::fprintf(stderr, "sbrun: %s\n",
                 own_terminal ? "the command runs on a terminal of its own (/dev/pts inside), relayed to this one"
                 : o.pty      ? "stdin is not a terminal in the foreground: the command shares sbrun's descriptors"
                              : "--no-pty: the command shares sbrun's descriptors, without job control");
  }
  if (!bwrap.start(o.bwrap, image.init, o.command, own_terminal ? terminal.stdio() : ChildStdio{},
                   sources.descriptors(), error)) {
    cleanup();
    return fail(error);
  }
  sources.close_all();
  terminal.started();
  janitor.watch(bwrap.pid());

  // 7. The plan to bubblewrap, the rule table, and the go to the init.
  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  for (int s : kForwardedSignals) sigaction(s, &sa, nullptr);
  if (!bwrap.send_plan(args, error)) {
    cleanup();
    return fail(error);
  }
  // The network rules, compiled while bubblewrap builds the sandbox and
  // before the init's go: a table that cannot be built means no sandbox,
  // not a sandbox without network rules.
  auto table_or = lower::ProxyRuleTable::build(*c.policy);
  if (const auto* e = std::get_if<std::string>(&table_or)) {
    cleanup();
    return fail(*e);
  }
  const lower::ProxyRuleTable table = std::move(std::get<lower::ProxyRuleTable>(table_or));
  // The host loopback services the init listens on inside.
  lower::LocalServices local = lower::local_services(*c.policy);
  std::vector<std::string> listen_texts;
  for (const auto& s : local.services) listen_texts.push_back(lower::listen_text(s));
  if (o.verbose > 0) {
    for (std::size_t i = 0; i < local.services.size(); ++i) {
      const auto& s = local.services[i];
      std::fprintf(stderr, "sbrun: inside, %s is the host's %s (%s)\n", listen_texts[i].c_str(),
                   s.subject.text().c_str(), s.rule->origin.target.text().c_str());
    }
    for (const auto& n : local.not_forwarded) {
      std::fprintf(stderr, "sbrun: not listened on inside: %s; clients that use the proxy still reach it\n", n.c_str());
    }
  }
  // The init's pid before its go, so that the janitor, if sbrun is killed
  // from here on, waits for the sandbox itself and not only for bubblewrap.
  const pid_t init = read_child_pid(bwrap.status_fd());
  if (init <= 0) {
    cleanup();
    log.write({{"event", "setup-failed"}});
    return fail(Bubblewrap::explain(bwrap.take_messages()));
  }
  g_init_pid = init;
  janitor.watch(init);
  // The memory and process limits' scope, before the command exists: all
  // it starts is inside.
  if (run_limits.wants_cgroup()) {
    std::string note;
    run_limits.enter_scope({bwrap.pid(), init}, note);
    if (!note.empty()) std::fprintf(stderr, "sbrun: limits: %s\n", note.c_str());
    // A limit the scope could not take is per process now: refused like
    // any other under --target-strict.
    if (o.target_strict && !note.empty() && !run_limits.per_process_notes().empty()) {
      for (const std::string& n : run_limits.per_process_notes()) std::fprintf(stderr, "sbrun: error[W0106]: %s\n", n.c_str());
      cleanup();
      return fail("--target-strict: a limit cannot be enforced as the policy means here");
    }
  }
  if (o.verbose > 0) {
    for (const std::string& line : run_limits.describe()) std::fprintf(stderr, "sbrun: limit: %s\n", line.c_str());
    if (c.policy->allows_ptrace()) {
      std::fprintf(stderr,
                   "sbrun: ptrace allowed between the sandbox's own processes (%s); the init cannot be traced\n",
                   c.policy->ptrace->origin.statement.text().c_str());
    }
  }
  // The go, with the job signals held: one that came during the setup
  // stops it here; one that comes now is forwarded once the channel is
  // sbrun's to write (after the go, which must be its first message).
  sigset_t jobs, before;
  sigemptyset(&jobs);
  for (int s : kJobSignals) sigaddset(&jobs, s);
  sigprocmask(SIG_BLOCK, &jobs, &before);
  if (const int sig = g_pending_signal; sig != 0) {
    sigprocmask(SIG_SETMASK, &before, nullptr);
    cleanup();
    log.write({{"event", "interrupted"}, {"signal", sig}});
    std::fprintf(stderr, "sbrun: interrupted (signal %d) before the command started; it did not run\n", sig);
    return 128 + sig;
  }
  if (!bwrap.go(!plan->unix_sockets.empty(), c.policy->allows_ptrace(), run_limits.command_rlimits(), listen_texts,
                error)) {
    sigprocmask(SIG_SETMASK, &before, nullptr);
    cleanup();
    return fail(error);
  }
  const int channel = bwrap.channel_fd();
  g_channel_fd = channel;
  sigprocmask(SIG_SETMASK, &before, nullptr);
  // One byte from the init means the sandbox was built; EOF means it was not.
  char started = 0;
  ssize_t got;
  while ((got = read(bwrap.started_fd(), &started, 1)) < 0 && errno == EINTR) {
  }
  // The init makes the terminal, then waits for its modes and size.
  const bool relayed = own_terminal && got == 1 && terminal.attach();

  // 8. The proxy, until bubblewrap exits (the init, and so the sandbox,
  // is gone then). A thread waits for bubblewrap; the event loop serves.
  int status = 0;
  bool wall_expired = false;
  {
    // Before the event loop: sessions it still holds when it is destroyed
    // log through these.
    proxy::DenialNotices notices;
    boost::asio::io_context io;
    auto work = boost::asio::make_work_guard(io);
    std::unique_ptr<proxy::NetPrompter> prompter;
    if (o.ask == AskMode::Prompt) {
      // On a terminal of its own the command is not stopped for a question:
      // the relay holds its output and the keys (terminal.hpp).
      const int channel_fd = channel;
      Terminal* relay = relayed ? &terminal : nullptr;
      prompter = std::make_unique<proxy::NetPrompter>(
          "/dev/tty", std::chrono::seconds(60), [channel_fd, relay](bool hold) {
            if (relay != nullptr) {
              hold ? relay->hold() : relay->release();
              return;
            }
            const char order = hold ? sandbox::kOrderHold : sandbox::kOrderRelease;
            (void)send(channel_fd, &order, 1, MSG_NOSIGNAL);
          });
    }
    proxy::GateConfig gc;
    gc.table = &table;
    gc.ask = net_ask_mode(o.ask);
    gc.pins = pins;
    gc.guard = proxy::AddressGuard::for_this_host();
    proxy::Gate gate(io, std::move(gc), prompter.get());
    const proxy::ProxyLimits limits = proxy_limits(o.net, o.quiet);
    // A refused host and port is told on stderr once (proxy/denial_notice.hpp).
    const bool tell = !o.quiet;
    proxy::ProxyServer server(io, gate, limits, [&log, &notices, tell](nlohmann::json e) {
      if (tell) {
        if (const auto line = notices.line_for(e)) (void)!::write(STDERR_FILENO, line->data(), line->size());
      }
      log.write(std::move(e));
    });
    server.set_local_services(std::move(local.services));
    server.serve(channel);
    // The wall-clock limit: SIGTERM to every process of the sandbox, as a
    // job signal; SIGKILL to its init (and so to all of it) 5 s later.
    boost::asio::steady_timer wall(io), wall_kill(io);
    arm_wall_time(wall, wall_kill, run_limits, log, wall_expired, [] { forward_signal(SIGTERM); },
                  [init] { kill(init, SIGKILL); });
    // What only building the sandbox needed (sources, syntax trees, the
    // plan) stays until exit: it lives in sbrun's bump arena, which freeing
    // would not give back (compiler/support/bump_new.cpp).
    std::thread waiter([&] {
      while (waitpid(bwrap.pid(), &status, 0) < 0 && errno == EINTR) {
      }
      boost::asio::post(io, [&] { io.stop(); });
    });
    io.run();
    waiter.join();
    server.log_unserved();
    // The prompter first: a question it ends now releases its hold on the
    // channel, which the server closes when it goes.
    prompter.reset();
    g_channel_fd = -1;
  }
  // What the command wrote last, then the terminal as it was.
  terminal.finish();
  cleanup();
  if (got != 1) {
    log.write({{"event", "setup-failed"}});
    return fail(Bubblewrap::explain(bwrap.take_messages()));
  }
  // bubblewrap says nothing after a good start; if it did, it is not lost.
  if (const std::string late = bwrap.take_messages(); !late.empty()) {
    std::fprintf(stderr, "sbrun: bubblewrap: %s", late.c_str());
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (wall_expired) {
    // As timeout(1) does: the command did not end, it was ended.
    code = kWallTimeExceeded;
  } else if (const std::string text = run_limits.outcome(code); !text.empty()) {
    (void)!::write(STDERR_FILENO, text.data(), text.size());
  }
  if (code == 127 && !o.command.empty()) {
    const std::string hint = missing_command_hint(*plan, fs, o.command.front(), bindings.home);
    if (!hint.empty()) (void)!::write(STDERR_FILENO, hint.data(), hint.size());
  }
  log.write({{"event", "exit"}, {"status", code}});
  // Done: the policy, its rule table and the rest are left to the kernel,
  // which frees them faster than their destructors (~0.3 ms for std.agent).
  // The log is written with write(2) as it goes; stdio is flushed here.
  std::fflush(nullptr);
  _exit(code);
}

}  // namespace sbpolicy::runtime
