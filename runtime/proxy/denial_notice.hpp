// What the user sees of a refused connection.
//
// Clients report a refusal as `CONNECT tunnel failed, response 403` or
// "forbidden by your security policy", and nothing tells the user which
// rule to change. So sbrun prints one line on its stderr (where the
// command's own errors go) for each refused host and port, once per run:
//   sbrun: refused evil.test:8080: no rule allows this host (to allow it: allow net "evil.test:8080";)
//   sbrun: refused gist.github.com:443: denied by p.sbpolicy:5:10 (deny net "gist.github.com")
// Connections the proxy turned away because too many were open at once
// (503) are told once per run:
//   sbrun: turned connections away: too many connections through the proxy at once (limit 256; ...)
// `sbrun --quiet` turns it off; the `--log` file has every connection.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

namespace sbpolicy::proxy {

class DenialNotices {
 public:
  // At most this many different host:port lines in a run; then one last
  // line says that more are not shown.
  static constexpr std::size_t kMaxLines = 1000;

  // The line (ending in a newline) for a finished session's log event, or
  // nullopt: not a policy refusal, or one already told.
  std::optional<std::string> line_for(const nlohmann::json& event);

 private:
  std::set<std::string> told_;
  bool overflow_told_ = false;
  bool busy_told_ = false;
};

}  // namespace sbpolicy::proxy
