// sbrun: run a command inside the sandbox a policy describes.
//   sbrun [OPTIONS] POLICY -- CMD [ARGS…]
// The exit status is the command's (128+N when killed by signal N); 125 when
// sbrun cannot set up the sandbox, in which case the command did not run.
// What runs inside the sandbox (the init, ssh's ProxyCommand) is the
// program sbrun-init, next to this one.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string>

#include "build_info.hpp"
#include "launch.hpp"

extern char** environ;

using namespace sbpolicy::runtime;

namespace {

// `bwrap --version`'s first line, or nothing when it cannot be run.
std::string bubblewrap_version(const std::string& bwrap) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return "";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  char* argv[] = {const_cast<char*>(bwrap.c_str()), const_cast<char*>("--version"), nullptr};
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, bwrap.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  std::string text;
  char buf[256];
  for (ssize_t n; spawned == 0 && (n = read(out[0], buf, sizeof buf)) > 0 && text.size() < 4096;) text.append(buf, n);
  close(out[0]);
  int status = 0;
  if (spawned != 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return "";
  return text.substr(0, text.find('\n'));
}

// What --version says: the build, and the bubblewrap sbrun would start.
std::string version_text(const std::string& bwrap) {
  std::string text = "sbrun " SBPOLICY_VERSION " (commit " SBPOLICY_COMMIT "; " SBPOLICY_BUILD_TYPE " build)\n";
  const std::string found = bubblewrap_version(bwrap);
  if (found.empty()) return text + "bubblewrap: not found at " + bwrap + " (install it: apt-get install bubblewrap)";
  return text + "bubblewrap: " + found + ", at " + bwrap;
}

}  // namespace

// CLI11 would print `sbrun [OPTIONS] policy`: the command after `--` is
// ours to split off, so the usage line is written here, once.
class UsageFormatter : public CLI::Formatter {
 public:
  std::string make_usage(const CLI::App*, std::string) const override {
    return "usage: sbrun [OPTIONS] POLICY -- CMD [ARGS...]\n";
  }
};

int main(int argc, char** argv) {
  try {
    // Everything after the first `--` is the command, untouched.
    int split = argc;
    for (int i = 1; i < argc; ++i) {
      if (std::strcmp(argv[i], "--") == 0) {
        split = i;
        break;
      }
    }
    LaunchOptions o;
    for (int i = split + 1; i < argc; ++i) o.command.emplace_back(argv[i]);

    CLI::App app{"sbrun: run a command inside the sandbox a policy describes", "sbrun"};
    app.formatter(std::make_shared<UsageFormatter>());
    app.set_version_flag("--version", [&o] { return version_text(o.bwrap); });
    app.footer("Exit status: the command's (128+N when killed by signal N); 124 when it reached its wall_time limit; "
               "125 when the sandbox cannot be set up.");
    app.add_option("policy", o.policy, "The .sbpolicy file, or a standard library module (std.agent)")->required();
    app.add_option("--workspace", o.workspace, "The workspace directory, `.` in the policy (default: current directory)");
    app.add_option("--user", o.user,
                   "When started as root: run as this user (name or uid). Default: the workspace's owner; "
                   "sbrun never runs a command as host root");
    std::string ask = "prompt";
    app.add_option("--ask", ask,
                   "How `ask` rules are settled: prompt on the terminal (filesystem and env once at launch, "
                   "network per new host), or deny, or allow them all")
        ->check(CLI::IsMember({"prompt", "deny", "allow"}))
        ->capture_default_str();
    app.add_flag("--dry-run", o.dry_run, "Print the mount plan and bwrap arguments, run nothing");
    app.add_option("--log", o.log_path,
                   "Append decisions as JSON lines to FILE (never a file the sandbox can write or a symlink)");
    app.add_option("--log-max-bytes", o.log_max_bytes, "At most this many bytes of log per run")
        ->check(CLI::Range(std::size_t{4096}, std::size_t{1} << 40))
        ->capture_default_str();
    app.add_option("--tmp-size", o.tmp_size, "Size of the sandbox's private /tmp (memory it may fill): 512M, 4G, ...")
        ->transform(CLI::AsSizeValue(false))
        ->check(CLI::Range(std::uint64_t{1} << 20, std::uint64_t{1} << 50));
    app.add_option("--shm-size", o.shm_size, "Size of the sandbox's private /dev/shm")
        ->transform(CLI::AsSizeValue(false))
        ->check(CLI::Range(std::uint64_t{1} << 20, std::uint64_t{1} << 50));
    std::vector<std::string> limits;
    app.add_option("--limit", limits,
                   "KIND=VALUE: a resource limit over the policy's (memory=4G, processes=512, cpu_time=10m, "
                   "wall_time=1h, file_size=1G, open_files=4096), or KIND=none to lift it (repeatable)");
    app.add_flag("-v,--verbose", o.verbose, "Show how the policy is enforced (fidelity warnings)");
    app.add_flag("-q,--quiet", o.quiet, "Do not print a line on stderr for each refused host and port");
    app.add_flag("--target-strict", o.target_strict,
                 "Refuse to run when a rule can only be approximated here (launch-time globs, ...)");
    app.add_flag("!--no-pty", o.pty,
                 "Let the command share sbrun's terminal instead of giving it one of its own (no job control)");
    app.add_option("--stdlib", o.stdlib_dir, "Use the standard library policies under DIR/std/");
    app.add_option("--resolve", o.net.resolve,
                   "HOST:IP: the proxy dials IP for HOST without DNS (repeatable; the address is your choice, "
                   "so it passes the guard against loopback and private ranges)");
    app.add_option("--net-max-connections", o.net.max_sessions, "Concurrent proxy connections before 503")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    app.add_option("--net-head-timeout", o.net.head_timeout_ms,
                   "Milliseconds a client has to send its request head or SOCKS handshake")
        ->check(CLI::Range(1, 3600000))
        ->capture_default_str();
    app.add_option("--net-idle-timeout", o.net.idle_timeout_ms,
                   "Milliseconds a tunnel may stay silent in both directions before it is closed")
        ->check(CLI::Range(1, 86400000))
        ->capture_default_str();
    try {
      app.parse(split, argv);
    } catch (const CLI::ParseError& e) {
      const int code = app.exit(e);
      return code == 0 ? 0 : kSetupFailed;
    }
    if (o.command.empty() && !o.dry_run) {
      std::fprintf(stderr, "sbrun: no command; usage: sbrun [OPTIONS] POLICY -- CMD [ARGS...]\n");
      return kSetupFailed;
    }
    for (const std::string& text : limits) {
      LimitOverride limit;
      if (std::string error; !parse_limit_override(text, limit, error)) {
        std::fprintf(stderr, "sbrun: %s\n", error.c_str());
        return kSetupFailed;
      }
      o.limits.push_back(limit);
    }
    o.ask = ask == "allow" ? AskMode::Allow : ask == "deny" ? AskMode::Deny : AskMode::Prompt;
#if defined(__APPLE__)
    return launch_macos(o);
#else
    return launch(o);
#endif
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sbrun: internal error: %s\n", e.what());
    return kSetupFailed;
  }
}
