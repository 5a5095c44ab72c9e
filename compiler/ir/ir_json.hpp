// The IR as JSON: what `sbc compile --target ir` prints.
//
// Field names are stable and documented in docs/language.md; objects are
// printed with sorted keys and rules in IR order, so equal policies give
// equal bytes.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ir/ir.hpp"

namespace sbpolicy::ir {

inline constexpr int kIrSchemaVersion = 1;

nlohmann::json pattern_to_json(const Pattern& pattern);
nlohmann::json rule_to_json(const Rule& rule);
nlohmann::json policy_to_json(const Policy& policy);

}  // namespace sbpolicy::ir
