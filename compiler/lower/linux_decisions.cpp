#include "lower/linux_decisions.hpp"

#include <algorithm>

#include "lower/fs_view.hpp"
#include "lower/mount_plan.hpp"

namespace sbpolicy::lower {
namespace {

bool denied_by_a_rule(const ir::Decision& d) { return d.effect == ir::Effect::Deny && !d.defaulted(); }

template <std::size_t N>
bool one_of(const std::string_view (&names)[N], std::string_view name) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

std::optional<SandboxOverride> in_proc(ir::Operation op, const std::vector<std::string>& parts,
                                       const ir::Decision& decision) {
  if (denied_by_a_rule(decision)) return std::nullopt;  // masked, or refused (E0403)
  if (op == ir::Operation::Read) {
    return SandboxOverride{ir::Effect::Allow, "inside the sandbox's own /proc: its processes and the kernel's global entries"};
  }
  if (parts.size() >= 2 && one_of(kProcReadOnly, parts[1])) {
    if (decision.effect == ir::Effect::Deny) return std::nullopt;
    return SandboxOverride{ir::Effect::Deny, "the host kernel's settings in /proc are read-only in the sandbox"};
  }
  return SandboxOverride{ir::Effect::Allow,
                         "inside the sandbox's own /proc; the file's own permissions apply"};
}

std::optional<SandboxOverride> in_dev(const ir::Policy& policy, const sema::PathBindings& bindings,
                                      ir::Operation op, const std::string& path,
                                      const std::vector<std::string>& parts, const ir::Decision& decision) {
  if (parts.size() >= 2 && !one_of(kSandboxDev, parts[1])) {
    if (decision.effect != ir::Effect::Allow) return std::nullopt;
    return SandboxOverride{ir::Effect::Deny, "not in the sandbox's minimal /dev, which nothing of the host's joins"};
  }
  if (denied_by_a_rule(decision)) return std::nullopt;
  if (parts.size() == 1 && op == ir::Operation::Write) {
    return SandboxOverride{ir::Effect::Deny, "the sandbox's /dev is read-only: nothing can be made in it"};
  }
  // A device stays writable on a read-only mount, so a write denial hides it
  // (W0102), and the private /dev/shm likewise.
  if (op == ir::Operation::Read && denied_by_a_rule(ir::decide(policy, ir::Operation::Write, path, bindings))) {
    return SandboxOverride{ir::Effect::Deny, "a write denial hides it in the sandbox's /dev (W0102)"};
  }
  return SandboxOverride{ir::Effect::Allow, parts.size() >= 2 && parts[1] == "shm"
                                                ? "the sandbox's own /dev/shm, empty at start"
                                                : "in the sandbox's minimal /dev, made by bubblewrap"};
}

}  // namespace

std::optional<SandboxOverride> linux_override(const ir::Policy& policy, const sema::PathBindings& bindings,
                                              ir::Operation op, const std::string& path,
                                              const ir::Decision& decision) {
  if (op == ir::Operation::Unix) {
    if (decision.effect != ir::Effect::Allow) return std::nullopt;
    if (denied_by_a_rule(ir::decide(policy, ir::Operation::Read, path, bindings)) ||
        denied_by_a_rule(ir::decide(policy, ir::Operation::Write, path, bindings))) {
      return SandboxOverride{ir::Effect::Deny, "a read or write denial of the socket holds over the unix grant"};
    }
    return std::nullopt;
  }
  if (op != ir::Operation::Read && op != ir::Operation::Write) return std::nullopt;
  const auto parts = split_path(path);
  if (parts.empty()) return std::nullopt;
  if (parts[0] == "proc") return in_proc(op, parts, decision);
  if (parts[0] == "dev") return in_dev(policy, bindings, op, path, parts, decision);
  return std::nullopt;
}

}  // namespace sbpolicy::lower
