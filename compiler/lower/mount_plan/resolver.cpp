// The one place where paths meet the symlink policy (see stages.hpp).
#include <fmt/format.h>

#include "lower/mount_plan/stages.hpp"
#include "lower/resolved_paths.hpp"

namespace sbpolicy::lower::plan {

std::string_view role_name(Role role) { return role == Role::Grant ? "grant" : "protect"; }

std::optional<CanonicalPath> PathResolver::resolve(const std::string& path, Role role, const ir::Rule& r,
                                                   const std::string* wildcard_root, std::string_view shown) {
  CanonicalPath c = cx_.canonical(path);
  if (anchor_moved(c, r)) return std::nullopt;
  const bool found =
      wildcard_root != nullptr && !c.links.empty() && strictly_below(c.links.front().link, *wildcard_root);
  std::string parent;
  const SymlinkStep* replaceable = link_in_writable_dir(c, parent);
  if (role == Role::Grant) {
    if (replaceable != nullptr) {
      cx_.fidelity(Code::W0101, r,
                   fmt::format("`{}` goes through the symlink `{}` in writable `{}`; the grant is not followed", shown,
                               replaceable->link, parent));
      return std::nullopt;
    }
    if (found) {
      const SymlinkStep& link = c.links.front();
      const std::string how = link.link == path
                                  ? fmt::format("it is a symlink (to `{}`)", link.target)
                                  : fmt::format("it goes through the symlink `{}` (to `{}`)", link.link, link.target);
      cx_.fidelity(Code::W0101, r,
                   fmt::format("`{}` was found by this rule's wildcard, but {}; a grant does not follow a link its "
                               "wildcard found",
                               path, how));
      return std::nullopt;
    }
    return c;
  }
  if (replaceable == nullptr) return c;
  // Sockets are decided on their canonical paths, and nothing is mounted
  // for a denial of one: following the link only ever denies more.
  if (r.operation == ir::Operation::Unix) return c;
  if (found && r.operation == ir::Operation::Read) return c;
  cx_.diags
      .report(Code::E0401, r.origin.target.span,
              fmt::format("`{}` is protected, but `{}` is a symlink (to `{}`) in writable `{}`", path,
                          replaceable->link, replaceable->target, parent))
      .label("this protection could be walked around")
      .help("replace the symlink with the real file or directory, or deny writing its parent");
  cx_.failed = true;
  return std::nullopt;
}

const SymlinkStep* PathResolver::link_in_writable_dir(const CanonicalPath& c, std::string& parent) {
  for (const SymlinkStep& link : c.links) {
    parent = parent_of(link.link);
    auto [it, fresh] = writable_.try_emplace(parent, false);
    if (fresh) {
      // Over the whole policy (globs included): many paths go through the
      // same links (/bin, /lib64, a linked home), so each parent once.
      it->second = may_plant_in(cx_.policy, cx_.options.bindings, parent);
    }
    if (it->second) return &link;
  }
  return nullptr;
}

// The bindings were canonical when the launch began: a symlink at or above
// the workspace or the home now means a process moved it meanwhile (to
// point the workspace's grant at the home, say). Nothing is planned from
// such a view: the launch fails, and can be tried again.
bool PathResolver::anchor_moved(const CanonicalPath& c, const ir::Rule& r) {
  for (const SymlinkStep& link : c.links) {
    for (const std::string* anchor : {&cx_.options.bindings.workspace, &cx_.options.bindings.home}) {
      if (anchor->empty() || !at_or_below(*anchor, link.link)) continue;
      cx_.failed = true;
      if (anchor_moved_reported_) return true;  // said once
      anchor_moved_reported_ = true;
      cx_.diags
          .report(Code::E0401, r.origin.target.span,
                  fmt::format("`{}` is a symlink now, but was not when the launch began: `{}` changed while the "
                              "sandbox was being set up",
                              link.link, *anchor))
          .label("this rule's path goes through it")
          .help("make sure nothing moves the workspace or the home during the launch, and run again");
      return true;
    }
  }
  return false;
}

}  // namespace sbpolicy::lower::plan
