#include "prompt.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace sbpolicy::runtime {

std::set<std::uint32_t> settle_launch_asks(const std::vector<const ir::Rule*>& asks, AskMode mode) {
  std::set<std::uint32_t> allowed;
  if (asks.empty() || mode == AskMode::Deny) return allowed;
  if (mode == AskMode::Allow) {
    for (const ir::Rule* r : asks) allowed.insert(r->id);
    return allowed;
  }
  const int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (tty < 0) {
    std::fprintf(stderr, "sbrun: no terminal to ask on; denying %zu `ask` rule%s (use --ask allow to grant them)\n",
                 asks.size(), asks.size() == 1 ? "" : "s");
    return allowed;
  }
  const std::string header = fmt::format("sbrun: the policy asks about {} rule{} before starting:\n", asks.size(),
                                         asks.size() == 1 ? "" : "s");
  (void)!write(tty, header.data(), header.size());
  for (const ir::Rule* r : asks) {
    const std::string q = fmt::format("  {} {} \"{}\"  ({})\n  allow? [y/N] ", sema::effect_name(r->effect),
                                      sema::operation_name(r->operation), sema::pattern_text(r->pattern),
                                      r->origin.target.text());
    (void)!write(tty, q.data(), q.size());
    std::string answer;
    char c;
    while (read(tty, &c, 1) == 1 && c != '\n') answer += c;
    if (answer == "y" || answer == "Y" || answer == "yes") allowed.insert(r->id);
  }
  close(tty);
  return allowed;
}

}  // namespace sbpolicy::runtime
