#include "lower/bwrap_args.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace sbpolicy::lower {

std::vector<std::string> bwrap_arguments(const MountPlan& plan,
                                         const std::vector<std::pair<std::string, std::string>>& runtime_files,
                                         const std::map<std::string, int>* source_fds) {
  std::vector<std::string> a = {"--unshare-user", "--unshare-ipc", "--unshare-pid",    "--unshare-net",
                                "--unshare-uts",  "--unshare-cgroup", "--disable-userns", "--die-with-parent",
                                "--new-session",  "--cap-drop",     "ALL",              "--clearenv",
                                "--hostname",     "sbrun"};
  for (const Mount& m : plan.mounts) {
    switch (m.kind) {
      case Mount::Kind::Bind:
      case Mount::Kind::RoBind: {
        const bool rw = m.kind == Mount::Kind::Bind;
        const auto fd = source_fds != nullptr ? source_fds->find(m.source) : std::map<std::string, int>::const_iterator{};
        if (source_fds != nullptr && fd != source_fds->end()) {
          a.insert(a.end(), {rw ? "--bind-fd" : "--ro-bind-fd", std::to_string(fd->second), m.dest});
        } else {
          a.insert(a.end(), {rw ? "--bind" : m.optional ? "--ro-bind-try" : "--ro-bind", m.source, m.dest});
        }
        break;
      }
      case Mount::Kind::MaskDir:
        a.insert(a.end(), {"--perms", m.traversable ? "0111" : "0000", "--tmpfs", m.dest});
        break;
      case Mount::Kind::RemountRo: a.insert(a.end(), {"--remount-ro", m.dest}); break;
      case Mount::Kind::MaskFile: a.insert(a.end(), {"--ro-bind", "/dev/null", m.dest}); break;
      case Mount::Kind::Symlink: a.insert(a.end(), {"--symlink", m.source, m.dest}); break;
      case Mount::Kind::Proc: a.insert(a.end(), {"--proc", m.dest}); break;
      case Mount::Kind::Dev: a.insert(a.end(), {"--dev", m.dest}); break;
      case Mount::Kind::Tmpfs:
        if (m.size > 0) a.insert(a.end(), {"--size", std::to_string(m.size)});
        a.insert(a.end(), {"--tmpfs", m.dest});
        break;
    }
  }
  for (const auto& [source, dest] : runtime_files) a.insert(a.end(), {"--ro-bind", source, dest});
  // Last, the sandbox's own directories read-only: a write outside every
  // grant fails with EROFS instead of vanishing with the sandbox (and cannot
  // fill memory). /tmp and /dev/shm are mounts of their own and stay writable.
  // (A policy that binds the host's `/` has its own root, read-write or not.)
  const bool own_root = std::none_of(plan.mounts.begin(), plan.mounts.end(), [](const Mount& m) {
    return m.dest == "/" && (m.kind == Mount::Kind::Bind || m.kind == Mount::Kind::RoBind);
  });
  a.insert(a.end(), {"--remount-ro", "/dev"});
  if (own_root) a.insert(a.end(), {"--remount-ro", "/"});
  for (const auto& [k, v] : plan.env) a.insert(a.end(), {"--setenv", k, v});
  a.insert(a.end(), {"--chdir", plan.chdir});
  return a;
}

nlohmann::json mount_plan_to_json(const MountPlan& plan, const ir::Policy& policy) {
  nlohmann::json mounts = nlohmann::json::array();
  for (const Mount& m : plan.mounts) {
    nlohmann::json rules = nlohmann::json::array();
    for (std::uint32_t id : m.rules) {
      const ir::Rule& r = policy.rules.at(id);
      rules.push_back({{"id", id},
                       {"rule", fmt::format("{} {} \"{}\"", sema::effect_name(r.effect),
                                            sema::operation_name(r.operation), sema::pattern_text(r.pattern))},
                       {"at", r.origin.target.text()}});
    }
    nlohmann::json j = {{"kind", mount_kind_name(m.kind)}, {"dest", m.dest}, {"why", m.why}, {"rules", rules}};
    if (!m.source.empty()) j["source"] = m.source;
    if (m.kind == Mount::Kind::MaskDir) j["mode"] = m.traversable ? "0111" : "0000";
    if (m.optional) j["optional"] = true;
    if (m.size > 0) j["size"] = m.size;
    mounts.push_back(std::move(j));
  }
  nlohmann::json env = nlohmann::json::array();
  for (const auto& [k, v] : plan.env) env.push_back(k);
  return {{"schema_version", 1},
          {"placeholders", plan.placeholders},
          {"placeholder_files", [&] {
             nlohmann::json files = nlohmann::json::array();
             for (const auto& [path, content] : plan.placeholder_files) files.push_back({{"path", path}, {"content", content}});
             return files;
           }()},
          {"mounts", mounts},
          {"environment", env},
          {"chdir", plan.chdir},
          {"skipped", plan.skipped},
          {"granted_placeholders", plan.granted_placeholders},
          {"unneeded_placeholders", plan.unneeded_placeholders},
          {"unix_sockets", plan.unix_sockets},
          {"bwrap_args", bwrap_arguments(plan)}};
}

}  // namespace sbpolicy::lower
