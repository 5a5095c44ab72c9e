#include "launch_common.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "launch.hpp"

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

}  // namespace sbpolicy::runtime
