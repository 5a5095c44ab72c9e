#include "sbpl/operations.hpp"

#include <algorithm>
#include <array>
#include <iterator>

namespace sbpolicy::sbpl {

namespace {

// name, parent, own default, path filters apply, place in the hierarchy known
const Operation kOperations[] = {
    {"default", "", OwnDefault::Deny, false, true},
    {"appleevent-send", "default", OwnDefault::None, false, true},
    {"authorization-right-obtain", "default", OwnDefault::None, false, true},
    {"device*", "default", OwnDefault::None, false, true},
    {"device-camera", "device*", OwnDefault::None, false, true},
    {"device-microphone", "device*", OwnDefault::None, false, true},
    {"distributed-notification-post", "default", OwnDefault::None, false, true},
    {"file*", "default", OwnDefault::None, true, true},
    {"file-chroot", "file*", OwnDefault::None, true, true},
    {"file-ioctl", "file*", OwnDefault::None, true, true},
    {"file-issue-extension", "file*", OwnDefault::None, true, true},
    {"file-map-executable", "file*", OwnDefault::Allow, true, true},
    {"file-mknod", "file*", OwnDefault::None, true, true},
    {"file-mount", "file*", OwnDefault::None, true, true},
    {"file-read*", "file*", OwnDefault::None, true, true},
    {"file-read-data", "file-read*", OwnDefault::None, true, true},
    {"file-read-metadata", "file-read*", OwnDefault::None, true, true},
    {"file-read-xattr", "file-read*", OwnDefault::None, true, true},
    {"file-revoke", "file*", OwnDefault::None, true, true},
    {"file-search", "file*", OwnDefault::None, true, true},
    {"file-unmount", "file*", OwnDefault::None, true, true},
    {"file-write*", "file*", OwnDefault::None, true, true},
    {"file-write-create", "file-write*", OwnDefault::None, true, true},
    {"file-write-data", "file-write*", OwnDefault::None, true, true},
    {"file-write-flags", "file-write*", OwnDefault::None, true, true},
    {"file-write-mode", "file-write*", OwnDefault::None, true, true},
    {"file-write-owner", "file-write*", OwnDefault::None, true, true},
    {"file-write-setugid", "file-write*", OwnDefault::None, true, true},
    {"file-write-times", "file-write*", OwnDefault::None, true, true},
    {"file-write-unlink", "file-write*", OwnDefault::None, true, true},
    {"file-write-xattr", "file-write*", OwnDefault::None, true, true},
    {"generic-issue-extension", "default", OwnDefault::None, false, true},
    {"qtn-user", "default", OwnDefault::None, true, true},
    {"qtn-sandbox", "default", OwnDefault::None, true, true},
    {"hid-control", "default", OwnDefault::None, false, true},
    {"iokit*", "default", OwnDefault::None, false, true},
    {"iokit-issue-extension", "iokit*", OwnDefault::None, false, true},
    {"iokit-open", "iokit*", OwnDefault::None, false, true},
    {"iokit-set-properties", "iokit*", OwnDefault::None, false, true},
    {"iokit-get-properties", "iokit*", OwnDefault::Allow, false, true},
    {"ipc*", "default", OwnDefault::None, false, true},
    {"ipc-posix*", "ipc*", OwnDefault::None, false, true},
    {"ipc-posix-issue-extension", "ipc-posix*", OwnDefault::None, false, true},
    {"ipc-posix-sem*", "ipc-posix*", OwnDefault::None, false, true},
    {"ipc-posix-shm*", "ipc-posix*", OwnDefault::None, false, true},
    {"ipc-posix-shm-read*", "ipc-posix-shm*", OwnDefault::None, false, true},
    {"ipc-posix-shm-read-data", "ipc-posix-shm-read*", OwnDefault::None, false, true},
    {"ipc-posix-shm-write*", "ipc-posix-shm*", OwnDefault::None, false, true},
    {"ipc-posix-shm-write-create", "ipc-posix-shm-write*", OwnDefault::None, false, true},
    {"ipc-posix-shm-write-data", "ipc-posix-shm-write*", OwnDefault::None, false, true},
    {"ipc-posix-shm-write-unlink", "ipc-posix-shm-write*", OwnDefault::None, false, true},
    {"ipc-sysv*", "ipc*", OwnDefault::None, false, true},
    {"ipc-sysv-msg", "ipc-sysv*", OwnDefault::None, false, true},
    {"ipc-sysv-sem", "ipc-sysv*", OwnDefault::None, false, true},
    {"ipc-sysv-shm", "ipc-sysv*", OwnDefault::None, false, true},
    {"job-creation", "default", OwnDefault::Deny, true, true},
    {"load-unsigned-code", "default", OwnDefault::None, true, true},
    {"lsopen", "default", OwnDefault::None, false, true},
    {"mach*", "default", OwnDefault::None, false, true},
    {"mach-bootstrap", "mach*", OwnDefault::None, false, true},
    {"mach-issue-extension", "mach*", OwnDefault::None, false, true},
    {"mach-lookup", "mach*", OwnDefault::None, false, true},
    {"mach-priv*", "mach*", OwnDefault::None, false, true},
    {"mach-priv-host-port", "mach-priv*", OwnDefault::None, false, true},
    {"mach-priv-task-port", "mach-priv*", OwnDefault::None, true, true},
    {"mach-register", "mach*", OwnDefault::None, false, true},
    {"mach-task-name", "mach*", OwnDefault::None, false, true},
    {"network*", "default", OwnDefault::None, true, true},
    {"network-inbound", "network*", OwnDefault::None, true, true},
    {"network-bind", "network-inbound", OwnDefault::None, true, true},
    {"network-outbound", "network*", OwnDefault::None, true, true},
    {"user-preference*", "default", OwnDefault::None, false, true},
    {"user-preference-read", "user-preference*", OwnDefault::None, false, true},
    {"user-preference-write", "user-preference*", OwnDefault::None, false, true},
    {"process*", "default", OwnDefault::None, false, true},
    {"process-exec*", "process*", OwnDefault::None, true, true},
    {"process-exec-interpreter", "process-exec*", OwnDefault::None, true, true},
    {"process-fork", "process*", OwnDefault::None, false, true},
    {"process-info*", "process*", OwnDefault::Allow, false, true},
    {"process-info-listpids", "process-info*", OwnDefault::None, false, true},
    {"process-info-pidinfo", "process-info*", OwnDefault::None, false, true},
    {"process-info-pidfdinfo", "process-info*", OwnDefault::None, false, true},
    {"process-info-pidfileportinfo", "process-info*", OwnDefault::None, false, true},
    {"process-info-setcontrol", "process-info*", OwnDefault::None, false, true},
    {"process-info-dirtycontrol", "process-info*", OwnDefault::None, false, true},
    {"process-info-rusage", "process-info*", OwnDefault::None, false, true},
    {"pseudo-tty", "default", OwnDefault::None, false, true},
    {"signal", "default", OwnDefault::None, false, true},
    {"sysctl*", "default", OwnDefault::None, false, true},
    {"sysctl-read", "sysctl*", OwnDefault::None, false, true},
    {"system*", "default", OwnDefault::None, false, true},
    {"system-acct", "system*", OwnDefault::None, false, true},
    {"system-audit", "system*", OwnDefault::None, false, true},
    {"system-debug", "system*", OwnDefault::None, false, true},
    {"system-fsctl", "system*", OwnDefault::None, false, true},
    {"system-info", "system*", OwnDefault::None, false, true},
    {"system-kext*", "system*", OwnDefault::None, false, true},
    {"system-kext-load", "system-kext*", OwnDefault::None, false, true},
    {"system-kext-unload", "system-kext*", OwnDefault::None, false, true},
    {"system-lcid", "system*", OwnDefault::None, false, true},
    {"system-mac-label", "system*", OwnDefault::None, false, true},
    {"system-nfssvc", "system*", OwnDefault::None, false, true},
    {"system-privilege", "system*", OwnDefault::Allow, false, true},
    {"system-reboot", "system*", OwnDefault::None, false, true},
    {"system-sched", "system*", OwnDefault::None, false, true},
    {"system-set-time", "system*", OwnDefault::None, false, true},
    {"system-socket", "system*", OwnDefault::None, false, true},
    {"system-suspend-resume", "system*", OwnDefault::None, false, true},
    {"system-swap", "system*", OwnDefault::None, false, true},
    {"system-write-bootstrap", "system*", OwnDefault::None, false, true},
    {"file-test-existence", "", OwnDefault::None, true, false},
    {"file-link", "", OwnDefault::None, true, false},
    {"file-clone", "", OwnDefault::None, true, false},
    {"dynamic-code-generation", "", OwnDefault::None, false, false},
    {"process-info-codesignature", "", OwnDefault::None, false, false},
    {"process-codesigning*", "", OwnDefault::None, false, false},
    {"system-mac-syscall", "", OwnDefault::None, false, false},
    {"system-fcntl", "", OwnDefault::None, false, false},
    {"syscall-unix", "", OwnDefault::None, false, false},
    {"syscall-mig", "", OwnDefault::None, false, false},
    {"syscall-mach", "", OwnDefault::None, false, false},
    {"mach-host*", "", OwnDefault::None, false, false},
    {"mach-host-special-port-set", "", OwnDefault::None, false, false},
    {"nvram-get", "", OwnDefault::None, false, false},
    {"nvram-set", "", OwnDefault::None, false, false},
    {"nvram-delete", "", OwnDefault::None, false, false},
    {"iokit-open-user-client", "", OwnDefault::None, false, false},
    {"iokit-open-service", "", OwnDefault::None, false, false},
    {"user-preference-read-data", "", OwnDefault::None, false, false},
    {"darwin-notification-post", "", OwnDefault::None, false, false},
    {"socket-ioctl", "", OwnDefault::None, false, false},
    {"socket-option-get", "", OwnDefault::None, false, false},
    {"socket-option-set", "", OwnDefault::None, false, false},
    {"sysctl-write-data", "", OwnDefault::None, false, false},
};

struct Alias {
  std::string_view name, is;
};
// Names that mean another operation (notes §1.4); `sysctl-write` really
// is `sysctl*`, reads included.
constexpr Alias kAliases[] = {
    {"process-exec", "process-exec*"},       {"ipc-posix-shm", "ipc-posix-shm*"},
    {"ipc-posix-sem", "ipc-posix-sem*"},     {"sysctl-write", "sysctl*"},
    {"file-unlink", "file-write-unlink"},    {"file-write-mount", "file-mount"},
    {"file-write-unmount", "file-unmount"},
};
// Names libsandbox accepts and drops.
constexpr std::string_view kDropped[] = {"mach-per-user-lookup", "system-chud", "qtn-download",
                                         "ipc-posix-shm-read-metadata"};

}  // namespace

const Operation* find_operation(std::string_view name, bool* dropped) {
  if (dropped != nullptr) *dropped = false;
  if (std::find(std::begin(kDropped), std::end(kDropped), name) != std::end(kDropped)) {
    if (dropped != nullptr) *dropped = true;
    return nullptr;
  }
  for (const Alias& a : kAliases) {
    if (a.name == name) name = a.is;
  }
  for (const Operation& op : kOperations) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

const Operation* operations_begin() { return std::begin(kOperations); }
const Operation* operations_end() { return std::end(kOperations); }

}  // namespace sbpolicy::sbpl
