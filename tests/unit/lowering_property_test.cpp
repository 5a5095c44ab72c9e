// The mount plan never grants more than the evaluator, on generated trees.
//
// Each seed builds a small real tree (a workspace inside a home, and a
// directory beside them) with directories, files and symlinks (to
// directories, files, secrets, chains, missing targets, absolute and
// relative), then lowers generated policies against it without starting
// bubblewrap. For every object in the tree (each directory and file, at its
// canonical path) the access the plan's mounts give it (the last mount
// covering it: --bind read-write, --ro-bind read-only, anything else none)
// is compared with the reference evaluator's, over the policy on resolved
// paths (lower/resolved_paths.hpp), as `sbc explain` and the conformance
// suites decide. The plan may grant less (the known restrictive
// approximations, docs/linux.md); granting more is a failure. The real
// sandbox is held to the same by runtime_conformance_tests, far more slowly.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "driver/pipeline.hpp"
#include "ir/evaluator.hpp"
#include "lower/fs_view.hpp"
#include "lower/mount_plan.hpp"
#include "lower/resolved_paths.hpp"

using namespace sbpolicy;
namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t kFirstSeed = 20261205;
constexpr int kTrees = 300;
constexpr int kPoliciesPerTree = 4;

using lower::at_or_below;

// The access the plan gives the existing object at canonical `path`.
lower::Access planned(const lower::MountPlan& plan, const std::string& path) {
  const lower::Mount* found = lower::covering_mount(plan, path);
  if (found == nullptr) return lower::Access::None;
  if (found->kind == lower::Mount::Kind::Bind) return lower::Access::ReadWrite;
  if (found->kind == lower::Mount::Kind::RoBind) return lower::Access::ReadOnly;
  return lower::Access::None;
}

lower::Access expected(const ir::Policy& resolved, const sema::PathBindings& b, const std::string& path) {
  if (ir::decide(resolved, ir::Operation::Write, path, b).effect == ir::Effect::Allow) return lower::Access::ReadWrite;
  if (ir::decide(resolved, ir::Operation::Read, path, b).effect == ir::Effect::Allow) return lower::Access::ReadOnly;
  return lower::Access::None;
}

const char* access_name(lower::Access a) {
  return a == lower::Access::ReadWrite ? "read-write" : a == lower::Access::ReadOnly ? "read-only" : "none";
}

class Tree {
 public:
  Tree(std::uint32_t seed, const std::string& root) : rng_(seed), root_(root) {
    // Anchors: R/h (the home), R/h/w (the workspace), R/o (elsewhere).
    dirs_ = {root + "/h", root + "/h/w", root + "/o"};
    for (const auto& d : dirs_) fs::create_directories(d);
    static const char* kNames[] = {"a", "b", ".git", "hooks", ".ssh", "sub", "x.env", "k.pem", "c.txt", "id_rsa"};
    const int dirs = 4 + pick(8), files = 6 + pick(10), links = 2 + pick(6);
    for (int i = 0; i < dirs; ++i) {
      const std::string d = one(dirs_) + "/" + kNames[pick(6)];
      if (fs::exists(d)) continue;
      fs::create_directories(d);
      dirs_.push_back(d);
    }
    for (int i = 0; i < files; ++i) {
      const std::string f = one(dirs_) + "/" + kNames[5 + pick(5)];
      if (fs::exists(fs::symlink_status(f))) continue;
      std::ofstream(f) << "x\n";
      files_.push_back(f);
    }
    for (int i = 0; i < links; ++i) {
      const std::string at = one(dirs_) + "/" + (pick(2) == 0 ? "lnk" + std::to_string(i) : kNames[pick(10)]);
      if (fs::exists(fs::symlink_status(at))) continue;
      std::string target;
      switch (pick(4)) {
        case 0: target = one(dirs_); break;                       // absolute, to a directory
        case 1: target = files_.empty() ? "missing" : one(files_); break;
        case 2: target = fs::relative(one(dirs_), fs::path(at).parent_path()).string(); break;
        default: target = "missing/" + std::to_string(i); break;  // dangling
      }
      if (target.empty()) target = ".";
      fs::create_symlink(target, at);
      links_.push_back(at);
    }
  }

  // A policy of 2 to 5 rules over the tree's paths and some globs.
  std::string policy() {
    std::string out;
    static const char* kBases[] = {"allow read \".\";", "allow write \".\";", "allow read \"~\";",
                                   "allow write \".\";\nallow read \"~\";", ""};
    out += std::string(kBases[pick(std::size(kBases))]) + "\n";
    const int rules = 2 + pick(4);
    for (int i = 0; i < rules; ++i) {
      const char* effect = pick(100) < 45 ? "allow" : pick(100) < 85 ? "deny" : "ask";
      const char* op = pick(2) == 0 ? "read" : "write";
      out += std::string(effect) + " " + op + " \"" + target() + "\"";
      if (pick(4) == 0) out += " except \"" + target() + "\"";
      out += ";\n";
    }
    return out;
  }

  // Every object in the tree (directories and files, no links), canonical.
  std::vector<std::string> objects() const {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root_)) {
      if (!e.is_symlink()) out.push_back(e.path().string());
    }
    return out;
  }

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<std::uint32_t>(n)); }
  const std::string& one(const std::vector<std::string>& v) { return v[static_cast<std::size_t>(pick(static_cast<int>(v.size())))]; }

  // A spelled path: "./x" in the workspace, "~/x" in the home, absolute elsewhere.
  std::string spell(const std::string& abs) const {
    const std::string w = root_ + "/h/w", h = root_ + "/h";
    if (at_or_below(abs, w)) return abs == w ? "." : "." + abs.substr(w.size());
    if (at_or_below(abs, h)) return abs == h ? "~" : "~" + abs.substr(h.size());
    return abs;
  }
  std::string target() {
    static const char* kGlobs[] = {"./**/*.pem", "./*",      "~/*/x.env", "./**/hooks", "./*/k.pem",
                                   "~/**/id_rsa", "./lnk*",  "~/*",       "./**/sub",   "./*/*"};
    static const char* kBelow[] = {"/*", "/**/*.pem", "/*/x.env", "/**"};
    switch (pick(6)) {
      case 0: return kGlobs[pick(std::size(kGlobs))];
      case 5:  // a glob whose literal prefix goes through a link
        if (!links_.empty()) return spell(one(links_)) + kBelow[pick(std::size(kBelow))];
        return kGlobs[pick(std::size(kGlobs))];
      case 1: if (!links_.empty()) return spell(one(links_)); [[fallthrough]];
      case 2: if (!files_.empty()) return spell(one(files_)); [[fallthrough]];
      default: return spell(one(dirs_));
    }
  }

  std::mt19937 rng_;
  std::string root_;
  std::vector<std::string> dirs_, files_, links_;
};

TEST(LoweringProperty, PlanNeverGrantsMoreThanTheEvaluator) {
  std::size_t lowered = 0, refused = 0, checked = 0, less = 0;
  std::string failures;
  for (int t = 0; t < kTrees; ++t) {
    char templ[] = "/tmp/sbpolicy-property-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    const std::string root = fs::canonical(templ).string();
    Tree tree(kFirstSeed + static_cast<std::uint32_t>(t), root);
    sema::PathBindings b;
    b.home = root + "/h";
    b.workspace = root + "/h/w";
    b.tmpdir = "/tmp";
    const std::vector<std::string> objects = tree.objects();
    for (int k = 0; k < kPoliciesPerTree; ++k) {
      const std::string text = tree.policy();
      driver::Compilation c;
      driver::compile_text(c, "policy.sbpolicy", root, text, {});
      ASSERT_TRUE(c.policy) << text;
      lower::LowerOptions o;
      o.bindings = b;
      lower::PosixFs host;
      Diagnostics diags;
      const auto plan = lower::lower_to_mount_plan(*c.policy, host, o, diags);
      if (!plan) {
        // Only the refusals the lowering documents: a protection through a
        // replaceable link, or a glob walk that cannot finish.
        ++refused;
        for (const auto& d : diags.all()) {
          if (d.severity == Severity::Error) {
            EXPECT_TRUE(d.code == Code::E0401 || d.code == Code::E0400 || d.code == Code::E0402)
                << d.message << "\n" << text;
          }
        }
        continue;
      }
      ++lowered;
      const ir::Policy resolved = lower::resolve_rule_paths(*c.policy, host, b);
      for (const std::string& path : objects) {
        ++checked;
        const lower::Access have = planned(*plan, path), want = expected(resolved, b, path);
        if (have < want) ++less;
        if (have > want) {
          failures += "  seed " + std::to_string(kFirstSeed + t) + ": " + path.substr(root.size()) + " planned " +
                      access_name(have) + ", the evaluator says " + access_name(want) + "\n" + text;
        }
      }
    }
    fs::remove_all(root);
  }
  std::cout << "lowering property: " << kTrees << " trees, " << lowered << " plans, " << refused
            << " refused at launch, " << checked << " objects checked, " << less
            << " granted less than the evaluator (restrictive)\n";
  EXPECT_GE(checked, 20000u);
  EXPECT_GE(lowered, static_cast<std::size_t>(kTrees * kPoliciesPerTree) / 2);
  EXPECT_TRUE(failures.empty()) << "the plan grants more than the evaluator:\n" << failures;
}

}  // namespace
