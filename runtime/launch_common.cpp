#include "launch_common.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "launch.hpp"
#include "proxy/address_guard.hpp"

namespace sbpolicy::runtime {

int fail(const std::string& message) {
  std::fprintf(stderr, "sbrun: %s\n", message.c_str());
  return kSetupFailed;
}

// `std.agent`, `std.dev.node`: a standard library module named as the
// policy, and no file of that name here. (The `use` it becomes checks the
// name, and lists the modules when there is none such.)
bool names_std_module(const std::string& policy) {
  return policy.starts_with("std.") && policy.find_first_of("/;\n") == std::string::npos &&
         access(policy.c_str(), F_OK) != 0;
}

// The workspace is made writable: never the root directory, the home, or a
// directory holding the home (a link planted by an earlier run, `ws/sub ->
// ~`, must not turn the home into the next run's workspace). Both canonical.
bool workspace_allowed(const std::string& workspace, const std::string& home, std::string& error) {
  if (workspace == "/") {
    error = "the workspace `/` is the whole filesystem; give the project's directory (--workspace DIR)";
    return false;
  }
  if (!home.empty() && home != "/" &&
      (home == workspace || (home.size() > workspace.size() && home.compare(0, workspace.size(), workspace) == 0 &&
                             home[workspace.size()] == '/'))) {
    error = fmt::format("the workspace `{}` is the home directory or holds it (`{}`); give the project's directory "
                        "(--workspace DIR)",
                        workspace, home);
    return false;
  }
  return true;
}

// `requested` (default: the current directory) through every symlink, as
// the kernel will resolve it, checked against the invoking home.
bool resolve_workspace(const std::string& requested, std::string& out, std::string& error) {
  const std::string path = requested.empty() ? "." : requested;
  char* real = realpath(path.c_str(), nullptr);
  struct stat st {};
  if (real == nullptr || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
    error = fmt::format("the workspace `{}` is not a directory", path);
    std::free(real);
    return false;
  }
  out = real;
  std::free(real);
  std::string home;
  if (const char* h = std::getenv("HOME"); h != nullptr && *h == '/') {
    if (char* rh = realpath(h, nullptr)) {
      home = rh;
      std::free(rh);
    }
  }
  return workspace_allowed(out, home, error);
}

// `--resolve HOST:IP` pins, by canonical name.
bool parse_pins(const std::vector<std::string>& specs, std::map<std::string, std::vector<sema::IpNet>>& pins,
                std::string& error) {
  for (const std::string& spec : specs) {
    const std::size_t colon = spec.find(':');
    if (colon == std::string::npos) {
      error = fmt::format("--resolve `{}`: expected HOST:IP", spec);
      return false;
    }
    auto host = sema::parse_host_subject(spec.substr(0, colon), 443);
    auto ip = sema::parse_host_subject(spec.substr(colon + 1), 443);
    const auto* h = std::get_if<sema::HostSubject>(&host);
    const auto* a = std::get_if<sema::HostSubject>(&ip);
    if (h == nullptr || h->is_ip) {
      error = fmt::format("--resolve `{}`: `{}` is not a host name", spec, spec.substr(0, colon));
      return false;
    }
    if (a == nullptr || !a->is_ip) {
      error = fmt::format("--resolve `{}`: `{}` is not an IP address", spec, spec.substr(colon + 1));
      return false;
    }
    // A port there would be dropped: the pin is an address, the port comes
    // from each connection. (Parsed with another default port: the same
    // port twice means the text named one.)
    const auto again = sema::parse_host_subject(spec.substr(colon + 1), 80);
    if (std::get<sema::HostSubject>(again).port == a->port) {
      const std::string address = a->address.family == 6 ? "[" + a->address.text() + "]" : a->address.text();
      error = fmt::format("--resolve `{}`: a pin is HOST:IP without a port (`{}:{}`); the port is the connection's",
                          spec, spec.substr(0, colon), address);
      return false;
    }
    pins[h->name].push_back(proxy::canonical_address(a->address));
  }
  return true;
}

// Every session holds a few descriptors (client, upstream, a pipe per
// direction): let the proxy use what the hard limit allows. Returns the
// limit in force.
std::size_t raise_descriptor_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return 1024;
  if (r.rlim_cur < r.rlim_max) {
    const rlim_t before = r.rlim_cur;
    r.rlim_cur = r.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &r) != 0) r.rlim_cur = before;
  }
  return r.rlim_cur == RLIM_INFINITY ? std::numeric_limits<std::size_t>::max() / 2 : static_cast<std::size_t>(r.rlim_cur);
}

proxy::NetAskMode net_ask_mode(AskMode mode) {
  return mode == AskMode::Allow  ? proxy::NetAskMode::Allow
         : mode == AskMode::Deny ? proxy::NetAskMode::Deny
                                 : proxy::NetAskMode::Prompt;
}

proxy::ProxyLimits proxy_limits(const NetOptions& net, bool quiet) {
  proxy::ProxyLimits limits;
  limits.max_sessions = static_cast<std::size_t>(net.max_sessions);
  std::string note;
  limits = proxy::fit_descriptor_limit(limits, raise_descriptor_limit(), &note);
  if (!quiet && !note.empty()) (void)!::write(STDERR_FILENO, note.data(), note.size());
  limits.head_timeout = std::chrono::milliseconds(net.head_timeout_ms);
  limits.connect_timeout = std::chrono::milliseconds(net.connect_timeout_ms);
  limits.idle_timeout = std::chrono::milliseconds(net.idle_timeout_ms);
  return limits;
}

void arm_wall_time(boost::asio::steady_timer& wall, boost::asio::steady_timer& wall_kill, const Limits& limits,
                   EventLog& log, bool& expired, std::function<void()> stop, std::function<void()> kill) {
  const AppliedLimit* l = limits.find(LimitKind::WallTime);
  if (l == nullptr) return;
  wall.expires_after(std::chrono::seconds(l->value));
  wall.async_wait([&wall_kill, &log, &expired, l, stop = std::move(stop),
                   kill = std::move(kill)](const boost::system::error_code& ec) {
    if (ec) return;
    expired = true;
    const std::string text = fmt::format(
        "sbrun: the wall_time limit of {} ({}) is reached: stopping the command (SIGTERM, SIGKILL in 5 s)\n",
        sema::format_limit_value(l->kind, l->value), l->from);
    (void)!::write(STDERR_FILENO, text.data(), text.size());
    log.write({{"event", "limit"}, {"limit", "wall_time"}, {"value", l->value}});
    stop();
    wall_kill.expires_after(std::chrono::seconds(5));
    wall_kill.async_wait([kill](const boost::system::error_code& e) {
      if (!e) kill();
    });
  });
}

}  // namespace sbpolicy::runtime
