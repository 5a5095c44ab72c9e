// The SBPL evaluator: what a Seatbelt profile decides, computed on Linux.
//
// Written from the research notes on SBPL (brief SBPL-NOTES.md §1), not
// from the lowering (lower/sbpl), so that the two agreeing is evidence:
//  - the rule table of Apple's sbpl1.scm (§1.3.1): one list per operation,
//    holding at first a fallback (the operation's own default, or a jump to
//    its parent); an unfiltered rule replaces the fallback, wherever it is
//    written; a filtered rule goes on the front; a question walks the list
//    from the front, the first rule that matches decides, a jump continues
//    in the parent's list, and `default` ends in deny;
//  - the implicit rules libsandbox appends when it finalizes (§1.3.2);
//  - the filters of path and network questions (§1.5): `literal`/`path`,
//    `subpath`, `prefix`, `regex`, `vnode-type`, `require-all|any|not`,
//    `remote`/`local` with a host `*` or `localhost` (127.0.0.1, ::1 and
//    0.0.0.0) and a port, `remote unix-socket` with path filters; other
//    filters read but never match a path or network question.
// What it does not understand it refuses, with a line and column: Scheme
// beyond `param`, `string-append` and `regex-quote`; unknown operations,
// filters and modifiers; a question about an operation whose place in the
// hierarchy is not published.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sbpl/operations.hpp"
#include "sbpl/reader.hpp"

namespace sbpolicy::sbpl {

// What an operation is asked about. File operations and process-exec* ask
// about `path`; network operations about an endpoint (`address`, `port`,
// `protocol`) or, with `unix_socket`, the socket at `path`.
struct Question {
  std::string path;
  bool unix_socket = false;
  std::string protocol = "tcp";  // tcp or udp
  std::string address;           // the remote address ("127.0.0.1", "::1", "93.184.216.34")
  int port = 0;
  // The local endpoint of an outbound connection before it is bound, as the
  // kernel shows it to the sandbox: the unspecified address (notes §4.2).
  std::string local_address = "0.0.0.0";
  int local_port = 0;
};

struct Verdict {
  bool allowed = false;
  bool defaulted = false;     // no rule matched: an operation's own default or `default`'s
  std::string rule;           // the deciding rule's text, "" when defaulted
  std::uint32_t line = 0;     // where it was written (0: an implicit rule, or defaulted)
  std::string message;        // its `(with message "…")`
  std::string operation;      // the operation whose list decided
};

struct Filter;

struct Rule {
  bool allow = false;
  std::shared_ptr<const Filter> filter;  // null: unfiltered
  std::string message;
  bool report = false, no_log = false, no_sandbox = false;
  int send_signal = 0;
  std::string text;  // as written, on one line
  std::uint32_t line = 0, column = 0;
};

class Profile {
 public:
  // Reads and checks `text` with the parameter values `params` (as
  // `sandbox-exec -D K=V`). The error names the line and column.
  static std::variant<Profile, std::string> load(std::string_view text,
                                                 const std::map<std::string, std::string>& params);

  // What the profile decides for `operation` (aliases accepted) and the
  // question; an error when the operation is unknown, has no published place
  // in the hierarchy, or does not take the question's kind.
  std::variant<Verdict, std::string> decide(std::string_view operation, const Question& question) const;

  // The rules written for `operation` itself (not its parents), newest first.
  std::vector<const Rule*> rules_of(std::string_view operation) const;

 private:
  struct List {
    std::vector<std::shared_ptr<const Rule>> filtered;  // oldest first
    std::shared_ptr<const Rule> unfiltered;
  };
  std::map<std::string, List, std::less<>> lists_;
};

}  // namespace sbpolicy::sbpl
