// Stage 5: the points, in path order, become the mounts.
//
// A point is mounted when its access differs from its parent's:
//   read+write -> --bind,  read-only -> --ro-bind,
//   none under a visible parent -> a mask (an empty mode-0 read-only tmpfs
//   over a directory, /dev/null over a file); 0111 instead when mounts lie
//   below it, so they can be reached but the directory not listed, and made
//   read-only only after the last of them.
// A protected path that does not exist inside a writable parent gets a
// placeholder, created on the host by the runtime before launch and removed
// after, so the mount has somewhere to go and the path cannot be created.
// So does a granted directory that does not exist yet (missing_grant).
// Then the environment the policy passes.
#include <fmt/format.h>

#include <algorithm>

#include "ir/evaluator.hpp"
#include "lower/mount_plan/stages.hpp"

namespace sbpolicy::lower::plan {
namespace {

// A missing protected name must not look like a directory (`.mcp.json`,
// `.bashrc` and `.git/config` as directories break the tools that read
// them), so its placeholder is a file: empty, read-only inside (or, when the
// policy denies reading it, unreadable), and made at the first missing level
// only, so nothing below it can be made either. Some names get content:
//  - `.git/commondir` holds "." (the repository is its own common
//    directory): git dies on a commondir it cannot read;
//  - a `.git` names, as git's own error will show, why the repository
//    cannot be made inside and where to make it instead. Except inside
//    another repository (the workspace is a subdirectory of one): there a
//    `.git` file would stop git's search for the enclosing repository, in
//    the sandbox and on the host, where an empty directory does not; its
//    placeholder is an empty read-only directory.
constexpr std::pair<std::string_view, std::string_view> kFilePlaceholders[] = {
    {"/.git/commondir", ".\n"},
    {"/.git", "gitdir: /sbrun: .git is protected in the sandbox and did not exist when it started; run `git init` "
              "or `git clone` outside the sandbox\n"}};

std::string_view file_placeholder_content(std::string_view path) {
  for (const auto& [suffix, content] : kFilePlaceholders) {
    if (path.size() > suffix.size() && path.substr(path.size() - suffix.size()) == suffix) return content;
  }
  return "";
}

// Does a directory above `dir` hold a `.git`?
bool inside_a_repository(FsView& fs, std::string_view dir) {
  for (std::string_view up = dir; up != "/";) {
    up = parent_of(up);
    if (fs.kind(std::string(up == "/" ? "" : up) + "/.git") != FileKind::Missing) return true;
  }
  return false;
}

// Is the nearest existing ancestor of `path` a directory?
bool under_directory(FsView& fs, std::string_view path) {
  for (std::string_view up = parent_of(path);; up = parent_of(up)) {
    const FileKind k = fs.kind(std::string(up));
    if (k != FileKind::Missing) return k == FileKind::Directory;
    if (up == "/") return true;
  }
}

// A directory granted write that does not exist yet (`~/.npm/_cacache`
// after `npm cache clean --force`): with nothing to mount, the place would
// be read-only inside and the tool fail with EROFS. It gets a placeholder,
// bound read-write, when
//  - a write rule that decided it spells it as a directory, with no
//    wildcard: a trailing `/` or `/**` (`allow write "~/.npm/_cacache/";`,
//    as the standard library spells its caches). A missing file grant
//    (`"~/.npmrc"`) never becomes a directory;
//  - its parent is a directory on the host (not a symlink), visible in the
//    sandbox or inside the home directory; one level only.
// The runtime makes it as the user the sandbox runs as and removes it after
// the run while it is still empty: what the command wrote in it stays, and
// a cache of a tool the command never ran leaves nothing behind.
bool missing_grant(LoweringContext& cx, const std::string& path, const Point& p, Access parent) {
  if (p.kind != Point::Kind::Policy || p.access != Access::ReadWrite || parent == Access::ReadWrite) return false;
  const std::string up(parent_of(path));
  if (cx.fs.kind(up) != FileKind::Directory) return false;
  const std::string& home = cx.options.bindings.home;
  if (parent == Access::None && (home.empty() || (up != home && !strictly_below(up, home)))) return false;
  return std::any_of(p.rules.begin(), p.rules.end(), [&](std::uint32_t id) {
    const ir::Rule& r = cx.policy.rules[id];
    const auto* pattern = std::get_if<sema::PathPattern>(&r.pattern);
    if (r.operation != ir::Operation::Write || pattern == nullptr || !pattern->spelled_as_directory ||
        pattern->has_glob()) {
      return false;
    }
    const auto bound = sema::bind_literal_prefix(*pattern, cx.options.bindings);
    return bound && bound->rest.empty() && bound->prefix == path;
  });
}

// A masked directory is made read-only after the last mount inside it;
// with mounts inside, it must stay traversable for them to be reachable.
void close_masks(std::vector<Mount>& mounts) {
  std::vector<Mount> out;
  std::vector<std::pair<std::size_t, std::size_t>> closes;  // (insert after index, mask index)
  for (std::size_t i = 0; i < mounts.size(); ++i) {
    if (mounts[i].kind != Mount::Kind::MaskDir) continue;
    const std::string& dest = mounts[i].dest;
    std::size_t last = i;
    for (std::size_t j = i + 1; j < mounts.size(); ++j) {
      if (strictly_below(mounts[j].dest, dest)) last = j;
    }
    mounts[i].traversable = last != i;
    closes.emplace_back(last, i);
  }
  for (std::size_t i = 0; i < mounts.size(); ++i) {
    out.push_back(mounts[i]);
    // Innermost masks close first: they were opened later.
    std::vector<std::size_t> here;
    for (const auto& [after, mask] : closes) {
      if (after == i) here.push_back(mask);
    }
    std::sort(here.rbegin(), here.rend());
    for (std::size_t mask : here) {
      const Mount& m = mounts[mask];
      out.push_back({Mount::Kind::RemountRo, "", m.dest, m.rules, "the mask becomes read-only"});
    }
  }
  mounts = std::move(out);
}

std::vector<std::pair<std::string, std::string>> environment(const LoweringContext& cx) {
  std::vector<std::pair<std::string, std::string>> env =
      lower::passed_environment(cx.policy, cx.options.environment, cx.options.bindings, cx.options.asks_allowed);
  for (const auto& kv : cx.options.runtime_env) {
    env.erase(std::remove_if(env.begin(), env.end(), [&](const auto& e) { return e.first == kv.first; }), env.end());
    env.push_back(kv);
  }
  std::sort(env.begin(), env.end());
  return env;
}

}  // namespace

MountPlan emit_plan(LoweringContext& cx, const PointTable& table, const ConcreteDecider& decider) {
  MountPlan plan;
  struct Frame {
    std::string_view path;  // a key of the points
    Access children;
  };
  std::vector<Frame> stack;
  // Missing paths below which nothing can be made: placeholders, and the
  // ones whose directory the sandbox cannot write (no placeholder needed).
  std::vector<std::string> sealed_tops;
  std::vector<std::string>& unmade = plan.unneeded_placeholders;
  const auto& points = table.points;
  for (auto at = points.begin(); at != points.end(); ++at) {
    // Named, not structured, bindings: lambdas below capture them.
    const std::string& path = at->first;
    const Point& p = at->second;
    while (!stack.empty() && !strictly_below(path, stack.back().path)) stack.pop_back();
    const Access parent = stack.empty() ? Access::None : stack.back().children;
    const auto mount = [&](Mount::Kind k, std::string src, std::string why) {
      plan.mounts.push_back({k, std::move(src), path, p.rules, std::move(why)});
    };
    switch (p.kind) {
      case Point::Kind::Proc:
        mount(Mount::Kind::Proc, "", "a fresh /proc for the sandbox's own processes");
        for (std::string_view entry : kProcReadOnly) {
          const std::string setting = fmt::format("/proc/{}", entry);
          plan.mounts.push_back(
              {Mount::Kind::RoBind, setting, setting, {}, "the host kernel's settings, read-only", false, true});
        }
        break;
      case Point::Kind::Dev: mount(Mount::Kind::Dev, "", "a minimal /dev (null, zero, random, tty, pts)"); break;
      case Point::Kind::SystemDenial:
        if (p.access == Access::None) {
          const bool dir = path == "/proc" || path == "/dev" || path == "/dev/shm" || path == "/dev/pts" ||
                           cx.fs.kind(path) == FileKind::Directory;
          mount(dir ? Mount::Kind::MaskDir : Mount::Kind::MaskFile, "", "denied inside the sandbox's own /proc or /dev");
        } else {
          mount(Mount::Kind::RoBind, path, "read-only inside the sandbox's own /proc");
          plan.mounts.back().optional = true;
        }
        break;
      case Point::Kind::PrivateTmp:
        mount(Mount::Kind::Tmpfs, "", "a private /tmp; TMPDIR points here");
        plan.mounts.back().size = cx.options.tmp_size;
        break;
      case Point::Kind::PrivateShm:
        mount(Mount::Kind::Tmpfs, "", "a private /dev/shm");
        plan.mounts.back().size = cx.options.shm_size;
        break;
      case Point::Kind::Symlink:
        if (parent == Access::None) mount(Mount::Kind::Symlink, p.link_target, "a symlink on the way to a grant");
        break;
      case Point::Kind::UnixSocket: mount(Mount::Kind::Bind, path, "an allowed unix socket"); break;
      case Point::Kind::Policy:
      case Point::Kind::Pin: {
        const FileKind kind = cx.fs.kind(path);
        const bool exists = kind != FileKind::Missing;
        const bool pin = p.kind == Point::Kind::Pin;
        // Nothing can be made below an existing file (it is pinned: a mount
        // point, not replaced by a directory), below a placeholder, or in
        // a directory the sandbox's user cannot write (a read-only
        // checkout): such a path needs no placeholder.
        const bool sealed = !exists && (!under_directory(cx.fs, path) ||
                                        std::any_of(sealed_tops.begin(), sealed_tops.end(), [&](const std::string& top) {
                                          return strictly_below(path, top);
                                        }));
        const bool granted_placeholder = !exists && !sealed && missing_grant(cx, path, p, parent);
        bool placeholder =
            granted_placeholder ||
            (!exists && !sealed && parent == Access::ReadWrite && (pin || p.access != Access::ReadWrite));
        if (placeholder && !granted_placeholder && !cx.fs.may_create_in(std::string(parent_of(path)))) {
          placeholder = false;
          sealed_tops.push_back(path);
          unmade.push_back(path);
          stack.push_back({path, parent});
          continue;
        }
        if (!exists && !placeholder) {
          if (p.access != Access::None && !sealed) plan.skipped.push_back(path);
          stack.push_back({path, parent});
          continue;
        }
        // A missing protected name: a file (see kFilePlaceholders), or for
        // a `.git` inside another repository an empty directory; nothing is
        // made below it.
        const bool protected_placeholder = placeholder && !granted_placeholder;
        const bool empty_dir = protected_placeholder && path.ends_with("/.git") &&
                               inside_a_repository(cx.fs, parent_of(path));
        if (protected_placeholder) sealed_tops.push_back(path);
        if (protected_placeholder && !empty_dir) {
          plan.placeholder_files.emplace_back(path, std::string(file_placeholder_content(path)));
          mount(p.access == Access::None ? Mount::Kind::MaskFile : Mount::Kind::RoBind,
                p.access == Access::None ? "" : path,
                p.access == Access::None ? "denied; a placeholder file, so it cannot be created"
                                         : "read-only; a placeholder file, so it cannot be created");
          stack.push_back({path, Access::None});
          continue;
        }
        if (placeholder) {
          plan.placeholders.push_back(path);
          if (granted_placeholder) plan.granted_placeholders.push_back(path);
        }
        if (empty_dir) {
          mount(p.access == Access::None ? Mount::Kind::MaskDir : Mount::Kind::RoBind,
                p.access == Access::None ? "" : path,
                "an empty read-only directory, so a repository cannot be made here (inside another one)");
          stack.push_back({path, Access::None});
          continue;
        }
        const bool dir = !exists || kind == FileKind::Directory;
        if (p.access == Access::ReadWrite && (parent != Access::ReadWrite || pin)) {
          mount(Mount::Kind::Bind, path,
                pin                   ? "a parent of a protected path, pinned so it cannot be renamed"
                : granted_placeholder ? "read and write; it did not exist: made for the run, removed after it if still empty"
                                      : "read and write");
        } else if (p.access == Access::ReadOnly && parent != Access::ReadOnly) {
          mount(Mount::Kind::RoBind, path, placeholder ? "read-only; a placeholder, so it cannot be created" : "read only");
        } else if (p.access == Access::None && parent != Access::None) {
          mount(dir ? Mount::Kind::MaskDir : Mount::Kind::MaskFile, "",
                placeholder ? "denied; a placeholder, so it cannot be created" : "denied inside a visible parent");
        }
        break;
      }
    }
    stack.push_back({path, child_access(p)});
  }
  close_masks(plan.mounts);
  if (const auto proc = points.find("/proc");
      proc != points.end() && proc->second.kind == Point::Kind::Proc && proc->second.access == Access::ReadOnly) {
    // After every mount below it: a write denial of /proc.
    plan.mounts.push_back({Mount::Kind::RemountRo, "", "/proc", proc->second.rules, "/proc is denied writing"});
  }
  // Start in the workspace when any of it is visible (bwrap creates the
  // directories leading to a mount), else at the root.
  const std::string& workspace = cx.options.bindings.workspace;
  const bool workspace_visible =
      !workspace.empty() &&
      (planned_access(table, decider, workspace) != Access::None ||
       std::any_of(plan.mounts.begin(), plan.mounts.end(), [&](const Mount& m) {
         return (m.kind == Mount::Kind::Bind || m.kind == Mount::Kind::RoBind) && at_or_below(m.dest, workspace);
       }));
  if (workspace_visible) plan.chdir = workspace;
  for (const auto& [path, id] : table.unix_sockets) plan.unix_sockets.push_back(path);
  plan.env = environment(cx);
  return plan;
}

}  // namespace sbpolicy::lower::plan
