// The AST as JSON, for `sbc compile --emit ast`: the parser's view of a
// file, with spans as line:column, before any meaning is given to it.
#pragma once

#include <nlohmann/json.hpp>

#include "support/source.hpp"
#include "syntax/ast.hpp"

namespace sbpolicy::syntax {

nlohmann::json module_to_json(const ast::Module& module, const SourceMap& sources);

}  // namespace sbpolicy::syntax
