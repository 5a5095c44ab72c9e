// Settling filesystem and environment `ask` rules once, at launch.
//
// With `--ask prompt` (the default) sbrun asks on the controlling terminal
// (/dev/tty, never stdin, which belongs to the command), one question per
// rule with the rule's source location; anything but `y`/`yes` is no.
// Without a terminal every ask is denied, with a message saying so, unless
// `--ask allow` was given.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "ir/ir.hpp"

namespace sbpolicy::runtime {

enum class AskMode { Prompt, Deny, Allow };

// The ids of the rules the user allowed.
std::set<std::uint32_t> settle_launch_asks(const std::vector<const ir::Rule*>& asks, AskMode mode);

}  // namespace sbpolicy::runtime
