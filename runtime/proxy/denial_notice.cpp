#include "proxy/denial_notice.hpp"

#include <fmt/format.h>

#include "support/text.hpp"

namespace sbpolicy::proxy {

std::optional<std::string> DenialNotices::line_for(const nlohmann::json& event) {
  if (event.value("event", "") != "net") return std::nullopt;
  if (event.value("outcome", "") == "busy") {
    if (busy_told_) return std::nullopt;
    busy_told_ = true;
    return text::printable("sbrun: turned connections away: " + event.value("reason", "the proxy is busy")) + "\n";
  }
  if (event.value("outcome", "") != "refused") return std::nullopt;
  if (!event.contains("host") || !event.contains("port")) return std::nullopt;
  const std::string host = event["host"].get<std::string>();
  const unsigned port = event["port"].get<unsigned>();
  const bool v6 = host.find(':') != std::string::npos;
  const std::string where = fmt::format("{}{}{}:{}", v6 ? "[" : "", host, v6 ? "]" : "", port);
  if (told_.count(where) > 0) return std::nullopt;
  if (told_.size() >= kMaxLines) {
    if (overflow_told_) return std::nullopt;
    overflow_told_ = true;
    return fmt::format("sbrun: more connections were refused; see --log for all of them\n");
  }
  told_.insert(where);
  const std::string reason = event.value("reason", "refused");
  std::string hint;
  if (reason == "no rule allows this host") {
    const bool default_port = port == 80 || port == 443;
    hint = fmt::format(" (to allow it: allow net \"{}\";)", default_port ? (v6 ? "[" + host + "]" : host) : where);
  }
  // The terminal sees printable ASCII only, whatever produced the reason.
  return text::printable(fmt::format("sbrun: refused {}: {}{}", where, reason, hint)) + "\n";
}

}  // namespace sbpolicy::proxy
