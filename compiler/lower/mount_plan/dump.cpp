// Each stage's output as JSON (`sbc compile --target bwrap --emit STAGE`):
// what the lowering knew at that point, to see where a mount came from.
#include <nlohmann/json.hpp>

#include "lower/mount_plan/stages.hpp"
#include "sema/resolve.hpp"

namespace sbpolicy::lower::plan {
namespace {

std::string_view access_name(Access a) {
  switch (a) {
    case Access::None: return "none";
    case Access::ReadOnly: return "read-only";
    case Access::ReadWrite: return "read-write";
  }
  return "?";
}

std::string rest_text(const GlobQuery& q) {
  std::string out;
  for (const std::string& c : q.components) out += (out.empty() ? "" : "/") + c;
  return out;
}

nlohmann::json pattern_json(const BoundPattern& p, const BoundRules& bound) {
  if (!p.ok) return {{"unbound", true}};
  if (p.dropped) return {{"dropped", true}};
  if (p.query == kNoQuery) return {{"literal", p.literal}};
  const GlobQuery& q = bound.queries[p.query];
  return {{"query", p.query}, {"root", q.root}, {"rest", rest_text(q)}};
}

}  // namespace

nlohmann::json dump(const BoundRules& bound) {
  nlohmann::json rules = nlohmann::json::array();
  for (const BoundRule& b : bound.rules) {
    nlohmann::json excepts = nlohmann::json::array();
    for (const BoundPattern& e : b.excepts) excepts.push_back(pattern_json(e, bound));
    rules.push_back({{"rule", b.rule->id},
                     {"source", sema::pattern_text(b.rule->pattern)},
                     {"effect", sema::effect_name(b.effect)},
                     {"operation", sema::operation_name(b.rule->operation)},
                     {"role", role_name(b.role)},
                     {"target", pattern_json(b.target, bound)},
                     {"excepts", excepts}});
  }
  return {{"stage", "bind"}, {"rules", rules}};
}

nlohmann::json dump(const BoundRules& bound, const GlobExpansion& expansion) {
  nlohmann::json queries = nlohmann::json::array();
  for (std::size_t i = 0; i < bound.queries.size(); ++i) {
    const GlobQuery& q = bound.queries[i];
    nlohmann::json query = {{"query", i},
                            {"root", q.root},
                            {"rest", rest_text(q)},
                            {"match_unlistable", q.match_unlistable},
                            {"follow_links", q.follow_links}};
    if (i < expansion.matches.size()) query["matches"] = expansion.matches[i];
    queries.push_back(std::move(query));
  }
  nlohmann::json out = {{"stage", "expand"}, {"queries", queries}, {"entries_seen", expansion.entries_seen}};
  if (expansion.budget_exceeded) out["budget_exceeded_under"] = expansion.budget_root;
  if (!expansion.links_cut_short.empty()) out["links_cut_short_under"] = expansion.links_cut_short;
  return out;
}

nlohmann::json dump(const ResolvedRules& resolved) {
  nlohmann::json rules = nlohmann::json::array();
  for (const ConcreteRule& r : resolved.rules) {
    rules.push_back({{"rule", r.id},
                     {"effect", sema::effect_name(r.effect)},
                     {"operation", sema::operation_name(r.operation)},
                     {"path", r.path},
                     {"excepts", r.excepts}});
  }
  nlohmann::json links = nlohmann::json::array();
  for (const auto& [link, target] : resolved.grant_links) links.push_back({{"link", link}, {"target", target}});
  nlohmann::json system = nlohmann::json::array();
  for (const auto& [path, d] : resolved.system_denials) {
    system.push_back({{"path", path}, {"access", access_name(d.access)}, {"rules", d.rules}});
  }
  nlohmann::json unix_rules = nlohmann::json::array();
  for (const ir::Rule& r : resolved.unix_rules.rules) {
    nlohmann::json excepts = nlohmann::json::array();
    for (const auto& e : r.excepts) excepts.push_back(sema::pattern_text(e));
    unix_rules.push_back({{"rule", r.id},
                          {"effect", sema::effect_name(r.effect)},
                          {"path", sema::pattern_text(r.pattern)},
                          {"excepts", excepts}});
  }
  return {{"stage", "resolve"},   {"rules", rules},          {"grant_links", links},
          {"system_denials", system}, {"unix_rules", unix_rules}, {"unix_sockets", resolved.unix_sockets}};
}

nlohmann::json dump(const PointTable& table) {
  nlohmann::json points = nlohmann::json::array();
  for (const auto& [path, p] : table.points) {
    nlohmann::json point = {{"path", path},
                            {"kind", point_kind_name(p.kind)},
                            {"access", access_name(p.access)},
                            {"rules", p.rules}};
    if (p.kind == Point::Kind::Symlink) point["link_target"] = p.link_target;
    points.push_back(std::move(point));
  }
  nlohmann::json sockets = nlohmann::json::array();
  for (const auto& [path, id] : table.unix_sockets) sockets.push_back({{"path", path}, {"rule", id}});
  return {{"stage", "points"}, {"points", points}, {"unix_sockets", sockets}};
}

}  // namespace sbpolicy::lower::plan
