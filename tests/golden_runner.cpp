// Golden tests for target lowerings (wabt style).
//
// A test file is:
//   ;;; TARGET: bwrap                                         (or sbpl: the macOS profile, for the
//                                                               Mac directories /Users/u/w and
//                                                               /Users/u, with its parameters after
//                                                               `;;; PARAMS`; FILES and LINKS unused)
//   ;;; PORT: 3128                                            (sbpl: the proxy's port)
//   ;;; PRIVATE_TMP: /private/var/folders/x/T/sbrun-1         (sbpl: the run's own TMPDIR)
//   ;;; FILES: ws/.git/hooks/ ws/src/a.c home/.ssh/id_rsa     (a trailing / makes a directory)
//   ;;; LINKS: ws/link=../home                                (symlinks: path=target)
//   ;;; ENV: PATH=/usr/bin SECRET=x                           (the invoking environment)
//   ;;; STRICT                                                (optional: --target-strict)
//   ;;; EMIT: points                                          (optional: a stage's dump instead of
//                                                               the plan: bind, expand, resolve, points)
//   <the policy, any number of lines>
//   ;;; EXPECTED
//   <the expected output>
// The runner builds the FILES in a fresh temporary directory, binds the
// workspace to ROOT/ws and the home to ROOT/home, lowers the policy with the
// real filesystem, and compares the plan JSON (and any diagnostics), with
// the temporary directory written as $ROOT. `--rebase` rewrites EXPECTED
// with what the lowering produces now; review the diff like code.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "driver/pipeline.hpp"
#include "lower/bwrap_args.hpp"
#include "lower/mount_plan.hpp"
#include "analysis/policy_sets.hpp"
#include "lint/lint.hpp"
#include "lower/sbpl/profile.hpp"
#include "support/render.hpp"

namespace fs = std::filesystem;
using namespace sbpolicy;

namespace {

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

struct GoldenCase {
  std::string header, policy, expected;
  std::vector<std::string> files, links, env;
  bool strict = false;
  std::string emit;  // a lowering stage to dump, or "" for the plan
  std::string target = "bwrap";
  int port = 3128;
  std::string private_tmp;
};

GoldenCase parse(const std::string& text) {
  GoldenCase c;
  std::istringstream in(text);
  std::string line;
  bool in_expected = false;
  while (std::getline(in, line)) {
    if (in_expected) {
      c.expected += line + "\n";
      continue;
    }
    if (line.rfind(";;; ", 0) == 0) {
      c.header += line + "\n";
      const std::string rest = line.substr(4);
      if (rest == "EXPECTED") in_expected = true;
      else if (rest.rfind("FILES:", 0) == 0) c.files = words(rest.substr(6));
      else if (rest.rfind("LINKS:", 0) == 0) c.links = words(rest.substr(6));
      else if (rest.rfind("ENV:", 0) == 0) c.env = words(rest.substr(4));
      else if (rest == "STRICT") c.strict = true;
      else if (rest.rfind("EMIT:", 0) == 0) c.emit = words(rest.substr(5)).at(0);
      else if (rest == "TARGET: sbpl") c.target = "sbpl";
      else if (rest == "TARGET: lint") c.target = "lint";
      else if (rest.rfind("PORT:", 0) == 0) c.port = std::stoi(rest.substr(5));
      else if (rest.rfind("PRIVATE_TMP:", 0) == 0) c.private_tmp = words(rest.substr(12)).at(0);
      else if (rest != "TARGET: bwrap") throw std::runtime_error("unknown header line: " + line);
      if (in_expected) c.header.resize(c.header.size() - std::string(";;; EXPECTED\n").size());
      continue;
    }
    c.policy += line + "\n";
  }
  return c;
}

// The macOS profile: a Mac's directories, nothing of this machine's.
std::string run_sbpl(const GoldenCase& c) {
  driver::Compilation comp;
  driver::compile_text(comp, "policy.sbpolicy", "/Users/u/w", c.policy, {});
  std::string out;
  if (comp.policy) {
    lower::sbpl::SbplOptions o;
    o.bindings.workspace = "/Users/u/w";
    o.bindings.home = "/Users/u";
    o.bindings.tmpdir = "/private/tmp";
    o.proxy_port = c.port;
    o.private_tmp = c.private_tmp;
    if (!c.private_tmp.empty()) o.bindings.tmpdir = c.private_tmp;
    const auto profile = lower::sbpl::lower_to_sbpl(*comp.policy, o);
    if (!profile.error.empty()) return "error: " + profile.error + "\n";
    nlohmann::ordered_json params = nlohmann::ordered_json::object();
    for (const auto& [k, v] : profile.params) params[k] = v;
    out = profile.text + ";;; PARAMS\n" + params.dump(2) + "\n";
  }
  return render_diagnostics(comp.diags, comp.sources, {RenderFormat::Plain, false}) + out;
}

// `sbc lint`'s findings, every rule on, suppressions applied, for the
// analysis bindings (lint/lint.hpp): nothing of this machine's.
std::string run_lint(const GoldenCase& c) {
  driver::Compilation comp;
  driver::compile_text(comp, "policy.sbpolicy", "/home/user/project", c.policy, {});
  Diagnostics all = comp.diags;
  std::string error;
  if (comp.policy) {
    lint::Options o;
    o.enabled = lint::default_rules();
    o.bindings = analysis::analysis_bindings();
    all.append(lint::run(comp, o, error));
  }
  std::vector<lint::Suppressed> suppressed;
  lint::apply_suppressions(comp, all, suppressed);
  // The standard library's own findings are its tests' business.
  Diagnostics own;
  own.append_if(all, [&](const Diagnostic& d) { return !driver::in_stdlib(comp, d.primary.span); });
  std::string out = render_diagnostics(own, comp.sources, {RenderFormat::Plain, false});
  for (const auto& s : suppressed) out += fmt::format("suppressed {}: {}\n", code_info(s.finding.code).id, s.reason);
  if (!error.empty()) out += "error: " + error + "\n";
  return out;
}

std::string run(const GoldenCase& c) {
  if (c.target == "sbpl") return run_sbpl(c);
  if (c.target == "lint") return run_lint(c);
  char templ[] = "/tmp/sbpolicy-golden-XXXXXX";
  const fs::path root = fs::canonical(mkdtemp(templ));
  fs::create_directories(root / "ws");
  fs::create_directories(root / "home");
  for (const std::string& f : c.files) {
    if (f.back() == '/') {
      fs::create_directories(root / f);
    } else {
      fs::create_directories((root / f).parent_path());
      std::ofstream(root / f) << "content of " << f << "\n";
    }
  }
  for (const std::string& l : c.links) {
    const auto eq = l.find('=');
    fs::create_directories((root / l.substr(0, eq)).parent_path());
    fs::create_symlink(l.substr(eq + 1), root / l.substr(0, eq));
  }
  driver::Compilation comp;
  driver::compile_text(comp, "policy.sbpolicy", root.string(), c.policy, {});
  std::string out;
  if (comp.policy) {
    lower::LowerOptions o;
    o.bindings.workspace = (root / "ws").string();
    o.bindings.home = (root / "home").string();
    o.bindings.tmpdir = "/tmp";
    o.target_strict = c.strict;
    for (const std::string& kv : c.env) {
      const auto eq = kv.find('=');
      o.environment.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    o.runtime_env = {{"TMPDIR", "/tmp"}};
    lower::PosixFs posix;
    Diagnostics lowering;
    lower::LoweringDumps dumps;
    const auto plan = lower::lower_to_mount_plan(*comp.policy, posix, o, lowering, &dumps);
    comp.diags.append(lowering);
    if (!c.emit.empty()) {
      const nlohmann::json* stage = dumps.stage(c.emit);
      if (stage == nullptr) throw std::runtime_error("unknown EMIT stage: " + c.emit);
      out += stage->dump(2) + "\n";
    } else if (plan) {
      auto j = lower::mount_plan_to_json(*plan, *comp.policy);
      j.erase("bwrap_args");  // the mounts say the same; keep goldens readable
      out += j.dump(2) + "\n";
    }
  }
  out = render_diagnostics(comp.diags, comp.sources, {RenderFormat::Plain, false}) + out;
  fs::remove_all(root);
  return replace_all(out, root.string(), "$ROOT");
}

}  // namespace

int main(int argc, char** argv) {
  bool rebase = false;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--rebase") rebase = true;
    else files.push_back(argv[i]);
  }
  std::size_t passed = 0, failed = 0;
  for (const std::string& file : files) {
    std::ifstream in(file);
    std::stringstream buf;
    buf << in.rdbuf();
    const GoldenCase c = parse(buf.str());
    const std::string actual = run(c);
    if (actual == c.expected) {
      ++passed;
      continue;
    }
    if (rebase) {
      std::ofstream(file) << c.header << c.policy << ";;; EXPECTED\n" << actual;
      std::printf("rebased %s\n", file.c_str());
      ++passed;
      continue;
    }
    ++failed;
    // A unified-ish diff: the first differing line with context.
    std::istringstream e(c.expected), a(actual);
    std::string el, al;
    int line = 0;
    while (true) {
      const bool he = static_cast<bool>(std::getline(e, el));
      const bool ha = static_cast<bool>(std::getline(a, al));
      ++line;
      if (!he && !ha) break;
      if (el != al || he != ha) {
        std::fprintf(stderr, "%s: output differs at line %d of EXPECTED\n-%s\n+%s\n", file.c_str(), line,
                     he ? el.c_str() : "<end>", ha ? al.c_str() : "<end>");
        break;
      }
    }
    std::fprintf(stderr, "(run with --rebase to accept; the whole output was:)\n%s\n", actual.c_str());
  }
  std::printf("%zu passed, %zu failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
