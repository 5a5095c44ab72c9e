#include "lower/proxy_table.hpp"

#include <fmt/format.h>
#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <tuple>
#include <unordered_map>

#include "ir/evaluator.hpp"
#include "sema/guarded_ranges.hpp"
#include "support/text.hpp"

namespace sbpolicy::lower {

namespace {

using sema::Effect;
using sema::HostPattern;
using Kind = sema::HostPattern::Kind;

bool port_in(const HostPattern& p, std::uint16_t port) {
  return std::any_of(p.ports.begin(), p.ports.end(),
                     [&](const sema::PortRange& r) { return r.lo <= port && port <= r.hi; });
}

std::string name_regex(const HostPattern& p) {
  switch (p.kind) {
    case Kind::Exact:
      return RE2::QuoteMeta(reversed_name(p.name));
    case Kind::Subdomains:
      return RE2::QuoteMeta(reversed_name(p.name)) + "\\..+";
    case Kind::AnyName:
      return ".+";
    case Kind::Address:
      break;
  }
  return {};
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Exact:
      return "name";
    case Kind::Subdomains:
      return "subdomains";
    case Kind::AnyName:
      return "any-name";
    case Kind::Address:
      return "address";
  }
  return "";
}

int rank(Effect e) { return e == Effect::Deny ? 3 : e == Effect::Allow ? 2 : 1; }

}  // namespace

struct ProxyRuleTable::NameSet {
  explicit NameSet(const RE2::Options& options) : set(options, RE2::ANCHOR_BOTH) {}
  RE2::Set set;
};

// Address entries keyed by their masked network, one map per (family,
// prefix length) present: a lookup masks the address once per length.
struct ProxyRuleTable::AddressIndex {
  struct BytesHash {
    std::size_t operator()(const std::array<std::uint8_t, 16>& b) const {
      std::uint64_t lo, hi;
      std::memcpy(&lo, b.data(), 8);
      std::memcpy(&hi, b.data() + 8, 8);
      return std::hash<std::uint64_t>{}(lo * 0x9e3779b97f4a7c15ULL ^ hi);
    }
  };
  struct Length {
    std::uint8_t family;
    std::uint8_t prefix;
    std::unordered_map<std::array<std::uint8_t, 16>, std::vector<std::uint32_t>, BytesHash> nets;
  };
  std::vector<Length> lengths;

  static std::array<std::uint8_t, 16> mask(const std::array<std::uint8_t, 16>& bytes, unsigned prefix) {
    std::array<std::uint8_t, 16> out{};
    for (unsigned i = 0; i < 16 && prefix > 0; ++i) {
      const unsigned take = std::min(prefix, 8u);
      out[i] = static_cast<std::uint8_t>(bytes[i] & static_cast<std::uint8_t>(0xff00u >> take));
      prefix -= take;
    }
    return out;
  }

  void add(const sema::IpNet& net, std::uint32_t entry) {
    auto it = std::find_if(lengths.begin(), lengths.end(),
                           [&](const Length& l) { return l.family == net.family && l.prefix == net.prefix; });
    if (it == lengths.end()) {
      lengths.push_back({net.family, net.prefix, {}});
      it = std::prev(lengths.end());
    }
    it->nets[mask(net.bytes, net.prefix)].push_back(entry);
  }

  template <typename F>
  void find(const sema::IpNet& address, F&& each) const {
    for (const Length& l : lengths) {
      if (l.family != address.family) continue;
      const auto it = l.nets.find(mask(address.bytes, l.prefix));
      if (it == l.nets.end()) continue;
      for (std::uint32_t e : it->second) each(e);
    }
  }
};

std::string reversed_name(std::string_view name) { return std::string(name.rbegin(), name.rend()); }

ProxyRuleTable::ProxyRuleTable() : addresses_(std::make_unique<AddressIndex>()) {}
ProxyRuleTable::ProxyRuleTable(ProxyRuleTable&&) noexcept = default;
ProxyRuleTable& ProxyRuleTable::operator=(ProxyRuleTable&&) noexcept = default;
ProxyRuleTable::~ProxyRuleTable() = default;

std::variant<ProxyRuleTable, std::string> ProxyRuleTable::build(const ir::Policy& policy,
                                                                const ProxyTableOptions& options) {
  ProxyRuleTable t;
  auto add = [&](const ir::Rule& rule, const sema::Pattern& pattern, bool is_except) {
    const auto* host = std::get_if<HostPattern>(&pattern);
    if (host == nullptr) return;  // sema allows only host patterns in net rules
    t.entries_.push_back({&rule, is_except, *host, name_regex(*host)});
  };
  for (const ir::Rule& rule : policy.rules) {
    if (rule.operation != sema::Operation::Net) continue;
    add(rule, rule.pattern, false);
    for (const auto& e : rule.excepts) add(rule, e, true);
  }

  RE2::Options re;
  re.set_max_mem(options.max_mem);
  re.set_log_errors(false);
  re.set_encoding(RE2::Options::EncodingLatin1);  // names are ASCII; `.` is one byte
  re.set_dot_nl(true);
  t.names_ = std::make_unique<NameSet>(re);
  for (std::uint32_t i = 0; i < t.entries_.size(); ++i) {
    const ProxyEntry& e = t.entries_[i];
    if (e.pattern.kind == Kind::Address) {
      t.addresses_->add(e.pattern.net, i);
      continue;
    }
    std::string error;
    if (t.names_->set.Add(e.regex, &error) < 0) {
      return "the proxy rule table cannot hold `" + e.pattern.text() + "`: " + error;
    }
    t.name_entries_.push_back(i);
  }
  if (!t.names_->set.Compile()) {
    return "the proxy rule table is too large to compile (" + std::to_string(t.name_entries_.size()) +
           " host patterns within " + std::to_string(options.max_mem >> 20) + " MiB)";
  }
  return t;
}

ProxyDecision ProxyRuleTable::decide(const sema::HostSubject& subject) const {
  // Entries whose pattern (host and port) matches, in entry order.
  std::vector<std::uint32_t> hits;
  if (subject.is_ip) {
    addresses_->find(subject.address, [&](std::uint32_t e) { hits.push_back(e); });
  } else if (!name_entries_.empty()) {
    std::vector<int> set_hits;
    RE2::Set::ErrorInfo info{};
    if (!names_->set.Match(reversed_name(subject.name), &set_hits, &info) && info.kind != RE2::Set::kNoError) {
      return {Effect::Deny, nullptr, true};
    }
    for (int h : set_hits) hits.push_back(name_entries_[static_cast<std::size_t>(h)]);
  }
  hits.erase(std::remove_if(hits.begin(), hits.end(),
                            [&](std::uint32_t e) { return !port_in(entries_[e].pattern, subject.port); }),
             hits.end());

  // A rule matches when its own entry hit and none of its excepts did.
  ProxyDecision d;
  for (std::uint32_t h : hits) {
    const ProxyEntry& e = entries_[h];
    if (e.is_except) continue;
    const bool excepted = std::any_of(
        hits.begin(), hits.end(), [&](std::uint32_t o) { return entries_[o].is_except && entries_[o].rule == e.rule; });
    if (excepted) continue;
    const bool better = d.rule == nullptr || rank(e.rule->effect) > rank(d.effect) ||
                        (e.rule->effect == d.effect && e.rule->id < d.rule->id);
    if (better) {
      d.effect = e.rule->effect;
      d.rule = e.rule;
    }
  }
  return d;
}

bool ProxyRuleTable::opens_guarded(const sema::HostSubject& ip, const sema::IpNet& block) const {
  for (const ProxyEntry& e : entries_) {
    if (e.is_except || e.rule->effect != sema::Effect::Allow || e.pattern.kind != sema::HostPattern::Kind::Address) {
      continue;
    }
    if (block.contains(e.pattern.net) && ir::rule_matches(*e.rule, ip, sema::PathBindings{})) return true;
  }
  return false;
}

std::string rule_reference(const ir::Rule& rule) {
  return text::printable(fmt::format("{} ({} net \"{}\")", rule.origin.target.text(), sema::effect_name(rule.effect),
                                     sema::pattern_text(rule.pattern)));
}

bool names_loopback(const ProxyRuleTable& table, const sema::HostSubject& subject) {
  if (subject.is_ip || (subject.name != "localhost" && !subject.name.ends_with(".localhost"))) return false;
  return std::any_of(table.entries().begin(), table.entries().end(), [&](const ProxyEntry& e) {
    return !e.is_except && e.rule->effect == Effect::Allow && e.pattern.kind == Kind::Exact &&
           sema::host_matches(e.pattern, subject);
  });
}

std::optional<std::string> guard_refusal(const ProxyRuleTable& table, const sema::HostSubject& ip,
                                         const ProxyDecision& d, const std::vector<sema::IpNet>& own) {
  const auto p = sema::protection_of(ip.address, own);
  if (!p) return std::nullopt;
  const bool allowed = d.effect == sema::Effect::Allow;
  if (allowed && table.opens_guarded(ip, p->block)) return std::nullopt;
  if (allowed && d.rule != nullptr) {
    return fmt::format("{} is {}; {} covers it only as part of a wider block: a rule must name the address or a block "
                       "inside {}",
                       ip.address.text(), p->why, rule_reference(*d.rule), p->block.text());
  }
  return fmt::format("{} is {}; only an `allow net` rule naming it or a block inside {} opens it", ip.address.text(),
                     p->why, p->block.text());
}

nlohmann::json proxy_table_to_json(const ProxyRuleTable& table) {
  nlohmann::json entries = nlohmann::json::array();
  for (const ProxyEntry& e : table.entries()) {
    nlohmann::json ports = nlohmann::json::array();
    for (const auto& r : e.pattern.ports) ports.push_back({r.lo, r.hi});
    nlohmann::json j = {{"rule", e.rule->id},
                        {"effect", sema::effect_name(e.rule->effect)},
                        {"except", e.is_except},
                        {"kind", kind_name(e.pattern.kind)},
                        {"pattern", e.pattern.text()},
                        {"ports", ports},
                        {"span", e.rule->origin.target.text()}};
    if (e.pattern.kind == Kind::Address)
      j["network"] = e.pattern.net.text();
    else
      j["regex"] = e.regex;
    entries.push_back(std::move(j));
  }
  return {{"schema_version", 1}, {"target", "proxy"}, {"entries", entries}};
}

namespace {

std::string host_text(const HostPattern& p) {
  switch (p.kind) {
    case Kind::Exact: return p.name;
    case Kind::Subdomains: return "*." + p.name;
    case Kind::AnyName: return "*";
    case Kind::Address: return p.net.text();
  }
  return "?";
}

std::string ports_text(const std::vector<sema::PortRange>& ports) {
  if (ports.size() == 1 && ports[0].lo == 1 && ports[0].hi == 65535) return "*";
  std::string out;
  for (const auto& r : ports) {
    if (!out.empty()) out += ",";
    out += r.lo == r.hi ? std::to_string(r.lo) : fmt::format("{}-{}", r.lo, r.hi);
  }
  return out;
}

int effect_rank(Effect e) { return e == Effect::Deny ? 0 : e == Effect::Allow ? 1 : 2; }

}  // namespace

std::string proxy_table_to_text(const ProxyRuleTable& table) {
  // Rows: a rule's own patterns, then its excepts, indented; rules by
  // effect (the order in which they decide), then in policy order.
  std::vector<const ProxyEntry*> order;
  for (const ProxyEntry& e : table.entries()) order.push_back(&e);
  std::stable_sort(order.begin(), order.end(), [](const ProxyEntry* a, const ProxyEntry* b) {
    const auto key = [](const ProxyEntry* e) {
      return std::make_tuple(effect_rank(e->rule->effect), e->rule->id, e->is_except);
    };
    return key(a) < key(b);
  });
  struct Row {
    std::string effect, host, ports, rule;
  };
  std::vector<Row> rows{{"EFFECT", "HOST", "PORTS", "RULE"}};
  for (const ProxyEntry* e : order) {
    rows.push_back({e->is_except ? std::string("  except") : std::string(sema::effect_name(e->rule->effect)), host_text(e->pattern),
                    ports_text(e->pattern.ports), text::printable(e->rule->origin.target.text())});
  }
  std::size_t w_effect = 0, w_host = 0, w_ports = 0;
  for (const Row& r : rows) {
    w_effect = std::max(w_effect, r.effect.size());
    w_host = std::max(w_host, r.host.size());
    w_ports = std::max(w_ports, r.ports.size());
  }
  std::string out;
  for (const Row& r : rows) {
    out += fmt::format("{:<{}}  {:<{}}  {:<{}}  {}\n", r.effect, w_effect, r.host, w_host, r.ports, w_ports, r.rule);
  }
  if (rows.size() == 1) out += "(no net rules)\n";
  out +=
      "\nA host:port takes the strongest effect among the rows that match it: deny, then allow, then ask;\n"
      "no row: deny. An except row takes its host out of the rule above it only. `*` alone as a host\n"
      "is any name, never an IP address; as ports, every port.\n";
  return out;
}

}  // namespace sbpolicy::lower
