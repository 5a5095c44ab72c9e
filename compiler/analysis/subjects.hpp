// Every kind of subject as automata: what a rule's pattern covers, for each
// operation, over one alphabet of units (analysis/automaton.hpp).
//
// Paths (read, write, unix) are their units (analysis/path_automaton.hpp).
// A host subject is its port as one unit (0-65535) and a separator, then
// its canonical name read from the right, or a marker and the address's
// bytes as units 0-255; so a port range or a CIDR block is one edge, and
// `*.a.example` patterns share their suffixes as a trie does prefixes:
//   443 kSep "moc.elpmaxe"        80 kSep kIpv4 127 0 0 1
// The markers are units past the code points that no name holds. A variable
// name (env) is its units. Each pattern's automaton accepts exactly the
// subjects its reference matcher accepts (sema::host_matches, env_matches):
// tests/unit/subjects_test.cpp checks both on generated inputs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analysis/automaton.hpp"
#include "analysis/path_automaton.hpp"
#include "sema/env_pattern.hpp"
#include "sema/host_pattern.hpp"
#include "sema/path_pattern.hpp"
#include "sema/resolve.hpp"

namespace sbpolicy::analysis {

inline constexpr std::uint32_t kHostSeparator = 0x110000 + 0xF0;
inline constexpr std::uint32_t kIpv4 = 0x110000 + 0xF4;
inline constexpr std::uint32_t kIpv6 = 0x110000 + 0xF6;

Nfa host_nfa(const sema::HostPattern& pattern);
Nfa env_nfa(const sema::EnvPattern& pattern);
// The same states added to `n`; each returns their start.
std::size_t add_host(Nfa& n, const sema::HostPattern& pattern);
std::size_t add_env(Nfa& n, const sema::EnvPattern& pattern);
std::optional<std::size_t> add_pattern(Nfa& n, const sema::Pattern& pattern, const sema::PathBindings& bindings,
                                       PathEnds& ends);

// The automaton of what `pattern` covers (bound with `bindings` for a
// path); nullopt when a path pattern cannot be bound.
std::optional<Nfa> pattern_nfa(const sema::Pattern& pattern, const sema::PathBindings& bindings);

// A subject as units: a path or a variable name (`text`), or a host.
std::vector<std::uint32_t> host_units(const sema::HostSubject& subject);
// A host's units back to the subject; nullopt when they are not one.
std::optional<sema::HostSubject> units_host(const std::vector<std::uint32_t>& units);

}  // namespace sbpolicy::analysis
