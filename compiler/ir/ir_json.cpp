#include "ir/ir_json.hpp"

namespace sbpolicy::ir {

namespace {

std::string_view anchor_name(sema::PathAnchor a) {
  switch (a) {
    case sema::PathAnchor::Root: return "root";
    case sema::PathAnchor::Home: return "home";
    case sema::PathAnchor::Workspace: return "workspace";
    case sema::PathAnchor::Tmpdir: return "tmpdir";
    case sema::PathAnchor::XdgConfigHome: return "xdg_config_home";
    case sema::PathAnchor::XdgCacheHome: return "xdg_cache_home";
    case sema::PathAnchor::XdgDataHome: return "xdg_data_home";
    case sema::PathAnchor::XdgStateHome: return "xdg_state_home";
    case sema::PathAnchor::XdgRuntimeDir: return "xdg_runtime_dir";
  }
  return "?";
}

std::string_view host_kind_name(sema::HostPattern::Kind k) {
  switch (k) {
    case sema::HostPattern::Kind::Exact: return "exact";
    case sema::HostPattern::Kind::Subdomains: return "subdomains";
    case sema::HostPattern::Kind::AnyName: return "any_name";
    case sema::HostPattern::Kind::Address: return "address";
  }
  return "?";
}

nlohmann::json location(const SourceLocation& loc) {
  return {{"file", loc.file}, {"line", loc.line}, {"column", loc.column}};
}

}  // namespace

nlohmann::json pattern_to_json(const Pattern& pattern) {
  if (const auto* p = std::get_if<sema::PathPattern>(&pattern)) {
    return {{"kind", "path"},
            {"text", p->text()},
            {"anchor", anchor_name(p->anchor)},
            {"components", p->components},
            {"glob", p->has_glob()}};
  }
  if (const auto* h = std::get_if<sema::HostPattern>(&pattern)) {
    nlohmann::json ports = nlohmann::json::array();
    for (const auto& r : h->ports) ports.push_back({r.lo, r.hi});
    nlohmann::json j = {{"kind", "host"}, {"text", h->text()}, {"match", host_kind_name(h->kind)}, {"ports", ports}};
    if (h->kind == sema::HostPattern::Kind::Address) {
      j["address"] = h->net.text();
      j["family"] = h->net.family == 4 ? "ipv4" : "ipv6";
      j["prefix"] = h->net.prefix;
    } else if (h->kind != sema::HostPattern::Kind::AnyName) {
      j["name"] = h->name;
    }
    return j;
  }
  const auto& e = std::get<sema::EnvPattern>(pattern);
  return {{"kind", "env"}, {"text", e.text()}, {"glob", e.has_wildcard()}};
}

nlohmann::json rule_to_json(const Rule& rule) {
  nlohmann::json excepts = nlohmann::json::array();
  for (const auto& e : rule.excepts) excepts.push_back(pattern_to_json(e));
  nlohmann::json via = nlohmann::json::array();
  for (const auto& v : rule.origin.via) via.push_back(location(v));
  return {{"id", rule.id},
          {"effect", sema::effect_name(rule.effect)},
          {"operation", sema::operation_name(rule.operation)},
          {"pattern", pattern_to_json(rule.pattern)},
          {"except", excepts},
          {"origin", {{"target", location(rule.origin.target)}, {"statement", location(rule.origin.statement)}, {"via", via}}}};
}

nlohmann::json policy_to_json(const Policy& policy) {
  nlohmann::json rules = nlohmann::json::array();
  for (const Rule& r : policy.rules) rules.push_back(rule_to_json(r));
  nlohmann::json out = {{"schema_version", kIrSchemaVersion}, {"files", policy.files}, {"rules", rules}};
  // Only when there are any: policies without limits read as before.
  if (!policy.limits.empty()) {
    nlohmann::json limits = nlohmann::json::array();
    for (const Limit& l : policy.limits) {
      nlohmann::json via = nlohmann::json::array();
      for (const auto& v : l.origin.via) via.push_back(location(v));
      limits.push_back({{"kind", sema::limit_name(l.kind)},
                        {"value", l.value},
                        {"text", sema::format_limit_value(l.kind, l.value)},
                        {"origin", {{"target", location(l.origin.target)}, {"statement", location(l.origin.statement)},
                                    {"via", via}}}});
    }
    out["limits"] = std::move(limits);
  }
  if (policy.ptrace) {
    nlohmann::json via = nlohmann::json::array();
    for (const auto& v : policy.ptrace->origin.via) via.push_back(location(v));
    out["ptrace"] = {{"effect", sema::effect_name(policy.ptrace->effect)},
                     {"origin", {{"statement", location(policy.ptrace->origin.statement)}, {"via", via}}}};
  }
  return out;
}

}  // namespace sbpolicy::ir
