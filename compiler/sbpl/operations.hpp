// SBPL's operations: the hierarchy each rule list falls back through.
//
// From Apple's sbpl1.scm of macOS 10.10.5 as the research notes give it
// (§1.4): each operation's parent (the list a question continues in when
// no rule of its own matched), the operations with a default of their own,
// and whether path filters apply. Operations newer macOS added have no
// published place in the hierarchy: they are known, so profiles that use
// them read, but a question about one is refused.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sbpolicy::sbpl {

enum class OwnDefault : unsigned char { None, Allow, Deny };

struct Operation {
  std::string_view name;
  std::string_view parent;  // "" for `default` and for an unknown place
  OwnDefault own_default = OwnDefault::None;
  bool path_filters = false;   // literal/subpath/prefix/regex apply
  bool known_parent = true;    // false: newer than the published table
};

// The operation `name` names, aliases resolved (`process-exec` is
// `process-exec*`, `sysctl-write` is `sysctl*`, `file-unlink` is
// `file-write-unlink`, ...); null when unknown. `dropped` is set for the
// names libsandbox turns into no-ops (the rule is silently dropped).
const Operation* find_operation(std::string_view name, bool* dropped = nullptr);

// Every operation of the table, for iteration.
const Operation* operations_begin();
const Operation* operations_end();

}  // namespace sbpolicy::sbpl
