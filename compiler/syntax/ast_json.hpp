// The AST as JSON, for `sbc compile --emit ast`: the parser's view of a
// file, with spans as line:column, before any meaning is given to it.
#pragma once

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <string_view>

#include "support/source.hpp"
#include "syntax/ast.hpp"

namespace sbpolicy::syntax {

nlohmann::json module_to_json(const ast::Module& module, const SourceMap& sources);

// Removes `keys` from every object in `j`, at any depth: what two documents
// that mean the same may differ in (positions, ids), before they are compared.
void erase_keys(nlohmann::json& j, std::initializer_list<std::string_view> keys);

}  // namespace sbpolicy::syntax
