#include "analysis/subjects.hpp"

#include <algorithm>

#include "analysis/path_automaton.hpp"

namespace sbpolicy::analysis {

namespace {

// A chain of single-unit edges from `from`; returns the last state.
std::size_t literal(Nfa& n, std::size_t from, const std::string& text) {
  std::size_t at = from;
  for (unsigned char c : text) {
    const std::size_t next = n.add_state();
    n.add_edge(at, c, c, next);
    at = next;
  }
  return at;
}

std::size_t step(Nfa& n, std::size_t from, const UnitSet& on) {
  const std::size_t next = n.add_state();
  n.add_edge(from, on, next);
  return next;
}

// One or more units of `on` from `from`; returns the state after them.
std::size_t some(Nfa& n, std::size_t from, const UnitSet& on) {
  const std::size_t at = step(n, from, on);
  n.add_edge(at, on, at);
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

// The pattern's ports, then the separator; returns the state after them.
std::size_t ports(Nfa& n, std::size_t from, const sema::HostPattern& pattern) {
  UnitSet on;
  for (const auto& r : pattern.ports) on.add(r.lo, r.hi);
  return step(n, step(n, from, on), UnitSet::single(kHostSeparator));
}

std::string reversed(std::string s) {
  std::reverse(s.begin(), s.end());
  return s;
}

}  // namespace

Nfa host_nfa(const sema::HostPattern& pattern) {
  Nfa n;
  n.start = add_host(n, pattern);
  return n;
}

std::size_t add_host(Nfa& n, const sema::HostPattern& pattern) {
  using Kind = sema::HostPattern::Kind;
  const std::size_t start = n.add_state();
  std::size_t at = ports(n, start, pattern);
  switch (pattern.kind) {
    case Kind::Exact:
      at = literal(n, at, reversed(pattern.name));
      break;
    case Kind::Subdomains:
      at = some(n, literal(n, at, reversed("." + pattern.name)), name_units());
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
  n.states[at].accepting = true;
  return start;
}

Nfa env_nfa(const sema::EnvPattern& pattern) {
  Nfa n;
  n.start = add_env(n, pattern);
  return n;
}

std::size_t add_env(Nfa& n, const sema::EnvPattern& pattern) {
  // `*` spans name characters, as sema::env_matches has it.
  UnitSet name_chars = UnitSet::range('A', 'Z');
  name_chars.add('a', 'z');
  name_chars.add('0', '9');
  name_chars.add('_', '_');
  const std::size_t start = n.add_state();
  std::size_t at = start;
  for (unsigned char c : pattern.glob) {
    if (c == '*') {
      n.add_edge(at, name_chars, at);
      continue;
    }
    at = step(n, at, UnitSet::single(c));
  }
  n.states[at].accepting = true;
  return start;
}

std::optional<std::size_t> add_pattern(Nfa& n, const sema::Pattern& pattern, const sema::PathBindings& bindings,
                                       PathEnds& ends) {
  if (const auto* p = std::get_if<sema::PathPattern>(&pattern)) return add_path(n, *p, bindings, ends);
  if (const auto* h = std::get_if<sema::HostPattern>(&pattern)) return add_host(n, *h);
  return add_env(n, std::get<sema::EnvPattern>(pattern));
}

std::optional<Nfa> pattern_nfa(const sema::Pattern& pattern, const sema::PathBindings& bindings) {
  if (const auto* p = std::get_if<sema::PathPattern>(&pattern)) return path_nfa(*p, bindings);
  if (const auto* h = std::get_if<sema::HostPattern>(&pattern)) return host_nfa(*h);
  return env_nfa(std::get<sema::EnvPattern>(pattern));
}

std::vector<std::uint32_t> host_units(const sema::HostSubject& subject) {
  std::vector<std::uint32_t> out = {subject.port, kHostSeparator};
  if (subject.is_ip) {
    out.push_back(subject.address.family == 6 ? kIpv6 : kIpv4);
    for (unsigned i = 0; i < (subject.address.family == 6 ? 16u : 4u); ++i) out.push_back(subject.address.bytes[i]);
  } else {
    for (auto it = subject.name.rbegin(); it != subject.name.rend(); ++it) out.push_back(static_cast<unsigned char>(*it));
  }
  return out;
}

std::optional<sema::HostSubject> units_host(const std::vector<std::uint32_t>& units) {
  if (units.size() < 3 || units[1] != kHostSeparator || units[0] > 0xFFFF) return std::nullopt;
  sema::HostSubject s;
  s.port = static_cast<std::uint16_t>(units[0]);
  if (units[2] == kIpv4 || units[2] == kIpv6) {
    s.is_ip = true;
    s.address.family = units[2] == kIpv6 ? 6 : 4;
    const std::size_t length = s.address.family == 6 ? 16 : 4;
    if (units.size() != length + 3) return std::nullopt;
    for (std::size_t i = 0; i < length; ++i) {
      if (units[i + 3] > 0xFF) return std::nullopt;
      s.address.bytes[i] = static_cast<std::uint8_t>(units[i + 3]);
    }
    s.address.prefix = static_cast<std::uint8_t>(8 * length);
    return s;
  }
  for (std::size_t i = units.size(); i-- > 2;) {
    if (units[i] > 0x7F) return std::nullopt;
    s.name += static_cast<char>(units[i]);
  }
  return s;
}

}  // namespace sbpolicy::analysis
