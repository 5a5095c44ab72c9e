#include "syntax/ast_json.hpp"

#include <fmt/format.h>

namespace sbpolicy::syntax {

namespace {

std::string where(const SourceMap& sources, Span span) {
  const LineCol b = sources.file(span.file).line_col(span.begin);
  return fmt::format("{}:{}", b.line, b.column);
}

nlohmann::json value_json(const ast::Value& v, const SourceMap& sources) {
  // Lists nest at most ParseLimits::max_list_depth deep, so recursion is bounded.
  if (const auto* s = std::get_if<ast::StringLit>(&v.node)) {
    return {{"string", s->value}, {"at", where(sources, s->span)}};
  }
  if (const auto* n = std::get_if<ast::Name>(&v.node)) {
    return {{"name", n->text}, {"at", where(sources, n->span)}};
  }
  const auto& list = std::get<ast::ListValue>(v.node);
  nlohmann::json items = nlohmann::json::array();
  for (const auto& item : list.items) items.push_back(value_json(item, sources));
  return {{"list", items}, {"at", where(sources, list.span)}};
}

nlohmann::json values_json(const std::vector<ast::Value>& values, const SourceMap& sources) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& v : values) out.push_back(value_json(v, sources));
  return out;
}

}  // namespace

nlohmann::json module_to_json(const ast::Module& module, const SourceMap& sources) {
  nlohmann::json statements = nlohmann::json::array();
  for (const ast::Statement& s : module.statements) {
    nlohmann::json j;
    if (const auto* v = std::get_if<ast::VersionStmt>(&s.node)) {
      j = {{"kind", "version"}, {"number", v->number}};
    } else if (const auto* u = std::get_if<ast::UseStmt>(&s.node)) {
      j = {{"kind", "use"}};
      if (u->is_stdlib) j["module"] = u->module;
      else j["path"] = u->path.value;
      if (!u->excepts.empty()) j["except"] = values_json(u->excepts, sources);
    } else if (const auto* l = std::get_if<ast::LetStmt>(&s.node)) {
      j = {{"kind", "let"}, {"name", l->name.text}, {"value", value_json(l->value, sources)}};
      if (l->exported) j["export"] = true;
    } else if (const auto* m = std::get_if<ast::LimitStmt>(&s.node)) {
      j = {{"kind", "limit"}, {"limit", m->kind.text}, {"value", m->value}};
    } else if (const auto* t = std::get_if<ast::TestStmt>(&s.node)) {
      nlohmann::json expects = nlohmann::json::array();
      for (const auto& e : t->expects) {
        nlohmann::json x = {{"effect", e.effect.text}, {"operation", e.operation.text}, {"subject", e.subject.value},
                            {"at", where(sources, e.span)}};
        if (e.by) x["by"] = e.by->value;
        expects.push_back(std::move(x));
      }
      j = {{"kind", "test"}, {"name", t->name.value}, {"expect", expects}};
    } else {
      const auto& r = std::get<ast::RuleStmt>(s.node);
      j = {{"kind", "rule"},
           {"effect", r.effect.text},
           {"operation", r.operation.text},
           {"targets", values_json(r.targets, sources)},
           {"except", values_json(r.excepts, sources)}};
    }
    j["at"] = where(sources, s.span);
    statements.push_back(std::move(j));
  }
  return {{"file", sources.file(module.file).name()}, {"statements", statements}};
}

void erase_keys(nlohmann::json& j, std::initializer_list<std::string_view> keys) {
  std::vector<nlohmann::json*> todo{&j};
  while (!todo.empty()) {
    nlohmann::json* x = todo.back();
    todo.pop_back();
    if (x->is_object()) {
      for (std::string_view k : keys) x->erase(std::string(k));
      for (auto& [k, v] : x->items()) todo.push_back(&v);
    } else if (x->is_array()) {
      for (auto& v : *x) todo.push_back(&v);
    }
  }
}

}  // namespace sbpolicy::syntax
