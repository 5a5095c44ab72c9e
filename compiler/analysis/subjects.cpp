#include "analysis/subjects.hpp"

#include "analysis/path_automaton.hpp"

namespace sbpolicy::analysis {

namespace {

// A chain of single-unit edges from `from`; returns the last state.
std::size_t literal(Nfa& n, std::size_t from, const std::string& text) {
  std::size_t at = from;
  for (unsigned char c : text) {
    const std::size_t next = n.add_state();
    n.states[at].edges.push_back({UnitSet::single(c), next});
    at = next;
  }
  return at;
}

std::size_t step(Nfa& n, std::size_t from, const UnitSet& on) {
  const std::size_t next = n.add_state();
  n.states[from].edges.push_back({on, next});
  return next;
}

// One or more units of `on` from `from`; returns the state after them.
std::size_t some(Nfa& n, std::size_t from, const UnitSet& on) {
  const std::size_t at = step(n, from, on);
  n.states[at].edges.push_back({on, at});
  return at;
}

// What a canonical host name holds (sema/host_pattern.cpp): lowercase
// letters, digits, `-`, `_` and dots.
UnitSet name_units() {
  UnitSet s = UnitSet::range('a', 'z');
  s.add('0', '9');
  s.add('-', '.');
  s.add('_', '_');
  return s;
}

// The separator and the pattern's ports; the final state accepts.
void ports(Nfa& n, std::size_t from, const sema::HostPattern& pattern) {
  UnitSet on;
  for (const auto& r : pattern.ports) on.add(r.lo, r.hi);
  const std::size_t end = step(n, step(n, from, UnitSet::single(kHostSeparator)), on);
  n.states[end].accepting = true;
}

}  // namespace

Nfa host_nfa(const sema::HostPattern& pattern) {
  using Kind = sema::HostPattern::Kind;
  Nfa n;
  n.start = n.add_state();
  std::size_t at = n.start;
  switch (pattern.kind) {
    case Kind::Exact:
      at = literal(n, at, pattern.name);
      break;
    case Kind::Subdomains:
      at = literal(n, some(n, at, name_units()), "." + pattern.name);
      break;
    case Kind::AnyName:
      at = some(n, at, name_units());
      break;
    case Kind::Address: {
      const sema::IpNet& net = pattern.net;
      const unsigned length = net.family == 6 ? 16 : 4;
      at = step(n, at, UnitSet::single(net.family == 6 ? kIpv6 : kIpv4));
      for (unsigned i = 0; i < length; ++i) {
        const unsigned fixed = net.prefix >= 8 * (i + 1) ? 8 : net.prefix > 8 * i ? net.prefix - 8 * i : 0;
        const unsigned free = (1u << (8 - fixed)) - 1;  // the low bits the block leaves open
        const unsigned lo = net.bytes[i] & ~free & 0xFF;
        at = step(n, at, UnitSet::range(lo, lo | free));
      }
      break;
    }
  }
  ports(n, at, pattern);
  return n;
}

Nfa env_nfa(const sema::EnvPattern& pattern) {
  // `*` spans name characters, as sema::env_matches has it.
  UnitSet name_chars = UnitSet::range('A', 'Z');
  name_chars.add('a', 'z');
  name_chars.add('0', '9');
  name_chars.add('_', '_');
  Nfa n;
  n.start = n.add_state();
  std::size_t at = n.start;
  for (unsigned char c : pattern.glob) {
    if (c == '*') {
      n.states[at].edges.push_back({name_chars, at});
      continue;
    }
    at = step(n, at, UnitSet::single(c));
  }
  n.states[at].accepting = true;
  return n;
}

std::optional<Nfa> pattern_nfa(const sema::Pattern& pattern, const sema::PathBindings& bindings) {
  if (const auto* p = std::get_if<sema::PathPattern>(&pattern)) return path_nfa(*p, bindings);
  if (const auto* h = std::get_if<sema::HostPattern>(&pattern)) return host_nfa(*h);
  return env_nfa(std::get<sema::EnvPattern>(pattern));
}

std::vector<std::uint32_t> host_units(const sema::HostSubject& subject) {
  std::vector<std::uint32_t> out;
  if (subject.is_ip) {
    out.push_back(subject.address.family == 6 ? kIpv6 : kIpv4);
    for (unsigned i = 0; i < (subject.address.family == 6 ? 16u : 4u); ++i) out.push_back(subject.address.bytes[i]);
  } else {
    for (unsigned char c : subject.name) out.push_back(c);
  }
  out.push_back(kHostSeparator);
  out.push_back(subject.port);
  return out;
}

std::optional<sema::HostSubject> units_host(const std::vector<std::uint32_t>& units) {
  if (units.size() < 3 || units[units.size() - 2] != kHostSeparator || units.back() > 0xFFFF) return std::nullopt;
  sema::HostSubject s;
  s.port = static_cast<std::uint16_t>(units.back());
  const std::size_t body = units.size() - 2;
  if (units[0] == kIpv4 || units[0] == kIpv6) {
    s.is_ip = true;
    s.address.family = units[0] == kIpv6 ? 6 : 4;
    const std::size_t length = s.address.family == 6 ? 16 : 4;
    if (body != length + 1) return std::nullopt;
    for (std::size_t i = 0; i < length; ++i) {
      if (units[i + 1] > 0xFF) return std::nullopt;
      s.address.bytes[i] = static_cast<std::uint8_t>(units[i + 1]);
    }
    s.address.prefix = static_cast<std::uint8_t>(8 * length);
    return s;
  }
  for (std::size_t i = 0; i < body; ++i) {
    if (units[i] > 0x7F) return std::nullopt;
    s.name += static_cast<char>(units[i]);
  }
  return s;
}

}  // namespace sbpolicy::analysis
