// Runs sbc's command-line behaviour as one table of cases (tests/cli/cases.json):
//
//   {"name": "...", "args": ["check", "p.sbpolicy"], "files": {"p.sbpolicy": "..."},
//    "stdin": "...", "env": {"NO_COLOR": "1"},
//    "exit": 1, "stdout": "exact text", "stdout_contains": ["..."],
//    "stderr": "exact text", "stderr_contains": ["..."], "stderr_excludes": ["..."],
//    "json_stdout": {"top-level field": value}, "json_pointers": {"/rules/0/id": 0},
//    "links": {"name": "target"} (symlinks made before the run),
//    "executable": ["name"] (files of `files` made executable),
//    "files_after": {"name": "content" or null}, "files_after_contains": {"name": "text"}}
//
// Each case runs the real sbc binary in a fresh temporary directory holding
// `files`, with a minimal environment (plus `env`; HOME is an empty directory
// beside it). `{src}` in args is the
// project's source directory, `{home}` the case's HOME. With `--owner USER`, run as root, each case's
// directory belongs to USER (created with `useradd -m` when missing): sbrun
// started as root runs the sandbox as the workspace's owner and refuses a
// root-owned workspace (runtime/identity.hpp).
#include <fcntl.h>
#include <fmt/format.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

struct Result {
  int exit = -1;
  std::string out, err;
};

Result run(const std::string& sbc, const std::vector<std::string>& args, const fs::path& dir, const std::string& input,
           const nlohmann::json& env) {
  {
    std::ofstream(dir / ".stdin", std::ios::binary) << input;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    if (chdir(dir.c_str()) != 0) _exit(120);
    const int in = open(".stdin", O_RDONLY);
    const int out = open(".stdout", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open(".stderr", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) _exit(121);
    dup2(in, 0), dup2(out, 1), dup2(err, 2);
    std::vector<std::string> envs = {"PATH=/usr/bin:/bin", "HOME=" + dir.string() + ".home"};
    for (const auto& [k, v] : env.items()) envs.push_back(k + "=" + v.get<std::string>());
    std::vector<char*> argv = {const_cast<char*>(sbc.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    execve(sbc.c_str(), argv.data(), envp.data());
    _exit(122);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  Result r;
  r.exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(dir / ".stdout");
  r.err = slurp(dir / ".stderr");
  return r;
}

}  // namespace

// Every file of `dir` (and `dir`) to `owner`'s uid and gid.
void chown_tree(const fs::path& dir, const passwd& owner) {
  lchown(dir.c_str(), owner.pw_uid, owner.pw_gid);
  for (const auto& e : fs::recursive_directory_iterator(dir)) lchown(e.path().c_str(), owner.pw_uid, owner.pw_gid);
}

int main(int argc, char** argv) {
  if (argc != 4 && !(argc == 6 && std::string(argv[4]) == "--owner")) {
    std::fprintf(stderr, "usage: cli_tests PROGRAM CASES.json SOURCE_DIR [--owner USER]\n");
    return 2;
  }
  passwd owner{};
  const bool chown_cases = argc == 6 && geteuid() == 0;
  std::string owner_name;
  if (chown_cases) {
    owner_name = argv[5];
    if (getpwnam(owner_name.c_str()) == nullptr) {
      (void)!std::system(("useradd -m " + owner_name + " >/dev/null 2>&1").c_str());
    }
    const passwd* pw = getpwnam(owner_name.c_str());
    if (pw == nullptr) {
      std::fprintf(stderr, "cli_tests: no user `%s` and useradd failed\n", owner_name.c_str());
      return 2;
    }
    owner = *pw;
  }
  const std::string sbc = fs::absolute(argv[1]).string();
  const std::string src = fs::absolute(argv[3]).string();
  const nlohmann::json cases = nlohmann::json::parse(slurp(argv[2]));
  std::size_t passed = 0, failed = 0;
  for (const auto& c : cases) {
    const std::string name = c.value("name", "(unnamed)");
    try {
    char templ[] = "/tmp/sbc-cli-XXXXXX";
    const fs::path dir = mkdtemp(templ);
    // $HOME: beside the case's directory (sbrun refuses a workspace that is
    // the home or holds it).
    const fs::path home = dir.string() + ".home";
    fs::create_directory(home);
    const nlohmann::json files = c.value("files", nlohmann::json::object());
    for (const auto& [file, text] : files.items()) {
      fs::create_directories((dir / file).parent_path());
      std::ofstream(dir / file, std::ios::binary) << text.get<std::string>();
    }
    for (const auto& file : c.value("executable", nlohmann::json::array())) {
      fs::permissions(dir / file.get<std::string>(), fs::perms::owner_all | fs::perms::group_read |
                                                         fs::perms::group_exec | fs::perms::others_read |
                                                         fs::perms::others_exec);
    }
    const nlohmann::json links = c.value("links", nlohmann::json::object());
    for (const auto& [link, target] : links.items()) fs::create_symlink(target.get<std::string>(), dir / link);
    std::vector<std::string> args;
    for (const auto& a : c.at("args")) {
      args.push_back(replace_all(replace_all(a.get<std::string>(), "{src}", src), "{home}", home.string()));
    }
    const nlohmann::json env = c.value("env", nlohmann::json::object());
    if (chown_cases) {
      chown_tree(dir, owner);
      chown_tree(home, owner);
    }
    const Result r = run(sbc, args, dir, c.value("stdin", ""), env);
    std::vector<std::string> problems;
    if (r.exit != c.value("exit", 0)) problems.push_back(fmt::format("exit {} (expected {})", r.exit, c.value("exit", 0)));
    auto exact = [&](const char* key, const std::string& got) {
      if (c.contains(key) && c[key].get<std::string>() != got) problems.push_back(fmt::format("{} differs", key));
    };
    exact("stdout", r.out);
    exact("stderr", r.err);
    auto contains = [&](const char* key, const std::string& got, bool want) {
      const nlohmann::json list = c.value(key, nlohmann::json::array());
      for (const auto& s : list) {
        if ((got.find(s.get<std::string>()) != std::string::npos) != want) {
          problems.push_back(fmt::format("{}: {}", key, s.get<std::string>()));
        }
      }
    };
    contains("stdout_contains", r.out, true);
    contains("stderr_contains", r.err, true);
    contains("stdout_excludes", r.out, false);
    contains("stderr_excludes", r.err, false);
    if (c.contains("json_pointers")) {
      // stdout must parse as JSON and hold these values at these JSON pointers.
      try {
        const auto doc = nlohmann::json::parse(r.out);
        for (const auto& [ptr, v] : c["json_pointers"].items()) {
          const nlohmann::json::json_pointer at(ptr);
          if (!doc.contains(at) || doc[at] != v) problems.push_back(fmt::format("json value at `{}`", ptr));
        }
      } catch (const std::exception& e) {
        problems.push_back(fmt::format("stdout is not JSON: {}", e.what()));
      }
    }
    if (c.contains("json_stdout")) {
      // stdout must parse as JSON and contain these top-level fields with these values.
      try {
        const auto doc = nlohmann::json::parse(r.out);
        for (const auto& [k, v] : c["json_stdout"].items()) {
          if (!doc.contains(k) || doc[k] != v) problems.push_back(fmt::format("json field `{}`", k));
        }
      } catch (const std::exception& e) {
        problems.push_back(fmt::format("stdout is not JSON: {}", e.what()));
      }
    }
    // Files after the run: exact content, or null for "must not exist".
    const nlohmann::json after = c.value("files_after", nlohmann::json::object());
    const nlohmann::json after_contains = c.value("files_after_contains", nlohmann::json::object());
    for (const auto& [file, want] : after.items()) {
      const bool exists = fs::exists(dir / file);
      if (want.is_null() ? exists : (!exists || slurp(dir / file) != want.get<std::string>())) {
        problems.push_back(fmt::format("file `{}` after the run", file));
      }
    }
    for (const auto& [file, want] : after_contains.items()) {
      if (slurp(dir / file).find(want.get<std::string>()) == std::string::npos) {
        problems.push_back(fmt::format("file `{}` lacks `{}`", file, want.get<std::string>()));
      }
    }
    // No temporary files left behind next to outputs.
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().filename().string().find(".json.") != std::string::npos) {
        problems.push_back(fmt::format("left behind `{}`", entry.path().filename().string()));
      }
    }
    fs::remove_all(dir);
    fs::remove_all(home);
    if (problems.empty()) {
      ++passed;
      continue;
    }
    ++failed;
    std::string list;
    for (const auto& p : problems) list += "  - " + p + "\n";
    std::fprintf(stderr, "case `%s` failed:\n%s--- stdout ---\n%s--- stderr ---\n%s\n", name.c_str(), list.c_str(),
                 r.out.c_str(), r.err.c_str());
    } catch (const std::exception& e) {
      ++failed;
      std::fprintf(stderr, "case `%s` is malformed: %s\n", name.c_str(), e.what());
    }
  }
  std::printf("%zu passed, %zu failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
