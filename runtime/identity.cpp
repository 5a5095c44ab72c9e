#include "identity.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace sbpolicy::runtime {

namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The password entry of NAME or UID (copied: getpw* reuse their buffer).
bool lookup(const std::string& who, passwd& entry, std::string& name, std::string& home) {
  const passwd* pw =
      all_digits(who) ? getpwuid(static_cast<uid_t>(std::strtoul(who.c_str(), nullptr, 10))) : getpwnam(who.c_str());
  if (pw == nullptr) return false;
  entry = *pw;
  name = pw->pw_name != nullptr ? pw->pw_name : "";
  home = pw->pw_dir != nullptr ? pw->pw_dir : "";
  return true;
}

}  // namespace

bool leave_root(const std::string& requested, const std::string& workspace, Identity& out, std::string& error) {
  if (getuid() != 0 && geteuid() != 0) {
    if (requested.empty()) return true;
    passwd pw{};
    std::string name, home;
    if (lookup(requested, pw, name, home) && pw.pw_uid == getuid()) return true;
    error = fmt::format("--user `{}` needs sbrun to be started as root", requested);
    return false;
  }

  passwd pw{};
  std::string name, home;
  if (!requested.empty()) {
    if (!lookup(requested, pw, name, home)) {
      error = fmt::format("--user `{}`: no such user", requested);
      return false;
    }
    out.why = "--user";
  } else {
    struct stat st {};
    const std::string ws = workspace.empty() ? "." : workspace;
    if (stat(ws.c_str(), &st) != 0) {
      error = fmt::format("the workspace `{}` is not a directory: {}", ws, std::strerror(errno));
      return false;
    }
    if (st.st_uid == 0) {
      error = fmt::format(
          "sbrun runs as root and the workspace `{}` is owned by root; the command must not run as host root. "
          "Pass --user USER to run it as USER (who then writes only what USER may write), chown the workspace "
          "to the user who works in it, or start sbrun as an ordinary user",
          ws);
      return false;
    }
    if (!lookup(std::to_string(st.st_uid), pw, name, home)) {
      error = fmt::format("the workspace `{}` is owned by uid {}, which has no password entry; pass --user USER", ws,
                          st.st_uid);
      return false;
    }
    out.why = "the workspace's owner";
  }
  if (pw.pw_uid == 0) {
    error = fmt::format("--user `{}` is root; the command must not run as host root", requested);
    return false;
  }
  if (pw.pw_gid == 0) {
    error =
        fmt::format("the user `{}` has group 0 (root) as primary group; the command must not hold host gid 0", name);
    return false;
  }

  // Supplementary groups as login gives them, without group 0.
  int count = 0;
  getgrouplist(name.c_str(), pw.pw_gid, nullptr, &count);
  std::vector<gid_t> groups(static_cast<std::size_t>(std::max(count, 1)));
  if (getgrouplist(name.c_str(), pw.pw_gid, groups.data(), &count) < 0) count = 0;
  groups.resize(static_cast<std::size_t>(std::max(count, 0)));
  groups.erase(std::remove(groups.begin(), groups.end(), gid_t{0}), groups.end());

  if (setgroups(groups.size(), groups.data()) != 0 || setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid) != 0 ||
      setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) != 0) {
    error = fmt::format("cannot switch to the user `{}`: {}", name, std::strerror(errno));
    return false;
  }
  // For good: no id of root is left to return to.
  uid_t ru, eu, su;
  gid_t rg, eg, sg;
  if (setuid(0) == 0 || getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 || ru == 0 || eu == 0 ||
      su == 0 || rg == 0 || eg == 0 || sg == 0) {
    error = fmt::format("switching to the user `{}` left root's ids behind", name);
    return false;
  }

  // `~` is a directory of the user the command runs as.
  struct stat hs {};
  const char* env_home = std::getenv("HOME");
  if (env_home == nullptr || *env_home != '/' || stat(env_home, &hs) != 0 || hs.st_uid != pw.pw_uid) {
    setenv("HOME", home.empty() ? "/" : home.c_str(), 1);
  }
  setenv("USER", name.c_str(), 1);
  setenv("LOGNAME", name.c_str(), 1);
  out.switched = true;
  out.uid = pw.pw_uid;
  out.gid = pw.pw_gid;
  out.name = name;
  return true;
}

}  // namespace sbpolicy::runtime
