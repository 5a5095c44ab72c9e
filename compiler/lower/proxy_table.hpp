// The proxy rule table: the policy's `net` rules as the proxy matches them.
//
// Every `net` rule contributes one entry for its target and one per `except`
// pattern. Name entries (`example.com`, `*.example.com`, `*`) become one
// anchored RE2::Set; address entries (IPs and CIDR blocks) become a hash
// index per prefix length. One decision is one pass of the Set over the
// subject (or one probe per prefix length for an IP), then the ports and
// excepts of the entries that matched, then deny > allow > ask, exactly as
// the reference evaluator decides (ir/evaluator.hpp); nothing matched is deny.
//
// Names are matched reversed (`api.github.com` as `moc.buhtig.ipa`), so the
// suffix rules of the language become prefix rules for the automaton: every
// regex is a literal followed at most by `\..+`, the DFA is as small as a
// trie of the names, and a decision costs one walk over the subject whatever
// the number of rules.
//
// A Set whose DFA runs out of memory answers nothing, and the table then
// answers deny (`failed`): the table fails closed, never open.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "ir/ir.hpp"
#include "sema/host_pattern.hpp"

namespace sbpolicy::lower {

struct ProxyEntry {
  const ir::Rule* rule = nullptr;
  bool is_except = false;  // one of the rule's `except` patterns
  sema::HostPattern pattern;
  std::string regex;  // for name patterns: what the Set matches (reversed name)
};

struct ProxyDecision {
  sema::Effect effect = sema::Effect::Deny;
  // The deciding rule: the lowest-numbered rule of the winning effect.
  // Null when nothing matched (the default deny) or when `failed`.
  const ir::Rule* rule = nullptr;
  bool failed = false;  // the matcher could not answer; the decision is deny
};

struct ProxyTableOptions {
  // Memory for the RE2 program and its DFA. Compiling a Set over budget
  // fails the build; a DFA over budget fails the decision (deny).
  std::int64_t max_mem = std::int64_t{1} << 30;
};

class ProxyRuleTable {
 public:
  ProxyRuleTable();
  ProxyRuleTable(ProxyRuleTable&&) noexcept;
  ProxyRuleTable& operator=(ProxyRuleTable&&) noexcept;
  ~ProxyRuleTable();

  // Builds the table from the `net` rules of `policy`, which must outlive it.
  // Fails (with a message) only when RE2 cannot compile the Set.
  static std::variant<ProxyRuleTable, std::string> build(const ir::Policy& policy,
                                                         const ProxyTableOptions& options = {});

  ProxyDecision decide(const sema::HostSubject& subject) const;

  // Does an `allow` IP rule whose block lies inside `block` (the guarded
  // range that holds `ip`, or the address itself: sema/guarded_ranges.hpp)
  // match `ip`? A wider block that merely contains the range opens nothing
  // of it. A linear scan: only guarded addresses ask.
  bool opens_guarded(const sema::HostSubject& ip, const sema::IpNet& block) const;

  const std::vector<ProxyEntry>& entries() const { return entries_; }

 private:
  struct NameSet;
  struct AddressIndex;
  std::vector<ProxyEntry> entries_;
  std::vector<std::uint32_t> name_entries_;  // Set index -> entry index
  std::unique_ptr<NameSet> names_;
  std::unique_ptr<AddressIndex> addresses_;
};

// "p.sbpolicy:3:1 (deny net \"gist.github.com\")", printable ASCII.
std::string rule_reference(const ir::Rule& rule);

// The address guard's refusal of the IP subject `ip` after the table's
// decision `d` (sema/guarded_ranges.hpp), or nullopt when it passes: not
// guarded, or opened by an allow rule naming it or a block inside its
// guarded range. `own`: the host's own addresses, which only the running
// proxy knows. The proxy and `sbc explain` both ask this.
std::optional<std::string> guard_refusal(const ProxyRuleTable& table, const sema::HostSubject& ip,
                                         const ProxyDecision& d, const std::vector<sema::IpNet>& own = {});

// `localhost` (or a name under it), allowed by a rule naming it exactly
// (`allow net "localhost:5432"`), opens the loopback addresses it resolves
// to: the rule says so as plainly as `127.0.0.1:5432` would. A wildcard
// (`allow net "*"`) never does. (The caller has decided allow.)
bool names_loopback(const ProxyRuleTable& table, const sema::HostSubject& subject);

// `sbc compile --target proxy`: the entries with their rules and spans.
nlohmann::json proxy_table_to_json(const ProxyRuleTable& table);

// `sbc compile --target proxy --format table`: the same entries for a
// reader, one row each (effect, host, ports, rule), strongest effect first
// and each rule's excepts under it, then how a host:port is decided.
std::string proxy_table_to_text(const ProxyRuleTable& table);

// What the Set matches for a canonical name: its characters reversed.
std::string reversed_name(std::string_view name);

}  // namespace sbpolicy::lower
