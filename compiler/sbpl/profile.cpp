#include "sbpl/profile.hpp"

#include <fmt/format.h>
#include <re2/re2.h>

#include <unordered_map>

#include <algorithm>
#include <optional>

#include "sbpl/regex.hpp"

namespace sbpolicy::sbpl {

struct Filter {
  enum class Kind : std::uint8_t { Literal, Subpath, Prefix, Regex, VnodeType, All, Any, Not, Remote, Local, Opaque };
  Kind kind = Kind::Opaque;
  std::string value;  // a path, a vnode type, an opaque filter's name
  std::shared_ptr<const RE2> regex;
  std::vector<Filter> children;
  // remote/local: "ip", "tcp", "udp", with 4/6 suffixes, or "unix"
  std::string protocol;
  bool any_host = true;
  int port = 0;  // 0: any
};

namespace {

using Kind = Filter::Kind;

struct Failure {
  std::uint32_t line, column;
  std::string message;
};

[[noreturn]] void fail(const Datum& at, std::string message) { throw Failure{at.line, at.column, std::move(message)}; }

// A one-line rendering of a form, for verdicts.
std::string render(const Datum& d) {
  switch (d.kind) {
    case Datum::Kind::Symbol: return d.text;
    case Datum::Kind::Integer: return std::to_string(d.number);
    case Datum::Kind::Boolean: return d.number != 0 ? "#t" : "#f";
    case Datum::Kind::String: {
      std::string out = d.raw ? "#\"" : "\"";
      for (char c : d.text) {
        if (!d.raw && (c == '"' || c == '\\')) out += '\\';
        out += c;
      }
      return out + "\"";
    }
    case Datum::Kind::List: {
      std::string out = "(";
      for (std::size_t i = 0; i < d.items.size(); ++i) out += (i ? " " : "") + render(d.items[i]);
      return out + ")";
    }
  }
  return "";
}

std::string regex_quote(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\.^$|()[]{}*+?").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

class Loader {
 public:
  explicit Loader(const std::map<std::string, std::string>& params) : params_(params) {}

  // A string-valued expression: a string, (param "K"), (string-append …),
  // (regex-quote …).
  std::string string_of(const Datum& d) {
    if (d.kind == Datum::Kind::String) return d.text;
    if (d.kind != Datum::Kind::List || d.items.empty() || d.items[0].kind != Datum::Kind::Symbol) {
      fail(d, fmt::format("expected a string, got `{}`", render(d)));
    }
    const std::string& head = d.items[0].text;
    if (head == "param") {
      if (d.items.size() != 2 || d.items[1].kind != Datum::Kind::String) fail(d, "`param` takes one string");
      const auto it = params_.find(d.items[1].text);
      if (it == params_.end()) {
        fail(d, fmt::format("parameter `{}` is not defined (macOS: `invalid data type of path filter; expected "
                            "pattern, got boolean`)",
                            d.items[1].text));
      }
      return it->second;
    }
    if (head == "string-append") {
      std::string out;
      for (std::size_t i = 1; i < d.items.size(); ++i) out += string_of(d.items[i]);
      return out;
    }
    if (head == "regex-quote") {
      if (d.items.size() != 2) fail(d, "`regex-quote` takes one string");
      return regex_quote(string_of(d.items[1]));
    }
    fail(d, fmt::format("`{}` is Scheme this evaluator does not run", head));
  }

  Filter path_filter(Kind kind, const Datum& d) {
    if (d.items.size() < 2) fail(d, fmt::format("`{}` needs at least one string", d.items[0].text));
    Filter any{Kind::Any};
    for (std::size_t i = 1; i < d.items.size(); ++i) {
      Filter f{kind};
      f.value = string_of(d.items[i]);
      if (kind == Kind::Subpath) {
        if (f.value.empty()) fail(d.items[i], "a subpath must not be empty");
        if (f.value.size() > 1 && f.value.back() == '/') fail(d.items[i], "subpaths must not end with a slash");
      }
      if (kind == Kind::Regex) {
        std::string error;
        const std::string pattern = translate_regex(f.value, error);
        if (pattern.empty()) fail(d.items[i], error);
        // A profile repeats its regexes (a deny's, in every grant it is
        // taken from): each is compiled once.
        auto& re = regexes_[pattern];
        if (!re) {
          RE2::Options options;
          options.set_encoding(RE2::Options::EncodingLatin1);
          options.set_log_errors(false);
          re = std::make_shared<RE2>(pattern, options);
        }
        if (!re->ok()) fail(d.items[i], fmt::format("regex `{}`: {}", f.value, re->error()));
        f.regex = re;
      } else if (kind != Kind::VnodeType && (f.value.empty() || f.value.front() != '/')) {
        fail(d.items[i], fmt::format("`{}` is not an absolute path", f.value));
      }
      any.children.push_back(std::move(f));
    }
    return any.children.size() == 1 ? std::move(any.children.front()) : any;
  }

  // (remote tcp "localhost:3128"), (remote unix-socket (path-literal …)).
  Filter network_filter(Kind kind, const Datum& d) {
    Filter f{kind};
    if (d.items.size() < 2 || d.items[1].kind != Datum::Kind::Symbol) {
      fail(d, fmt::format("`{}` needs a protocol", d.items[0].text));
    }
    std::string proto = d.items[1].text;
    if (proto == "unix-socket") proto = "unix";
    static const std::vector<std::string> kProtocols = {"ip", "ip4", "ip6", "tcp", "tcp4", "tcp6",
                                                        "udp", "udp4", "udp6", "unix"};
    if (std::find(kProtocols.begin(), kProtocols.end(), proto) == kProtocols.end()) {
      fail(d.items[1], fmt::format("unknown protocol `{}`", proto));
    }
    f.protocol = proto;
    if (proto == "unix") {
      for (std::size_t i = 2; i < d.items.size(); ++i) f.children.push_back(filter(d.items[i]));
      return f;
    }
    if (d.items.size() > 3) fail(d, "a network address is one string");
    const std::string address = d.items.size() == 3 ? string_of(d.items[2]) : "*:*";
    const std::size_t colon = address.rfind(':');
    if (colon == std::string::npos) fail(d, fmt::format("`{}`: a network address is HOST:PORT", address));
    const std::string host = address.substr(0, colon), port = address.substr(colon + 1);
    if (host == "*") {
      f.any_host = true;
    } else if (host == "localhost") {
      f.any_host = false;
    } else {
      fail(d, "host must be * or localhost in network address");
    }
    if (port == "*") {
      f.port = 0;
    } else {
      int n = 0;
      for (char c : port) {
        if (c < '0' || c > '9' || n > 65535) fail(d, "invalid port in network address");
        n = n * 10 + (c - '0');
      }
      if (port.empty() || n < 1 || n > 65535) fail(d, "invalid port in network address");
      f.port = n;
    }
    return f;
  }

  Filter filter(const Datum& d) {
    if (d.kind != Datum::Kind::List || d.items.empty() || d.items[0].kind != Datum::Kind::Symbol) {
      fail(d, fmt::format("expected a filter, got `{}`", render(d)));
    }
    const std::string& head = d.items[0].text;
    if (head == "literal" || head == "path" || head == "path-literal") return path_filter(Kind::Literal, d);
    if (head == "subpath") return path_filter(Kind::Subpath, d);
    if (head == "prefix" || head == "path-prefix") return path_filter(Kind::Prefix, d);
    if (head == "regex" || head == "path-regex") return path_filter(Kind::Regex, d);
    if (head == "path-ancestors") {
      // require-any of the literal of every ancestor, the path itself included
      Filter any{Kind::Any};
      if (d.items.size() != 2) fail(d, "`path-ancestors` takes one string");
      std::string path = string_of(d.items[1]);
      for (;;) {
        Filter l{Kind::Literal};
        l.value = path.empty() ? "/" : path;
        any.children.push_back(l);
        if (path.empty() || path == "/") break;
        path = path.substr(0, path.rfind('/'));
      }
      return any;
    }
    if (head == "vnode-type") {
      static const std::vector<std::string> kTypes = {"REGULAR-FILE",     "DIRECTORY", "BLOCK-DEVICE", "CHARACTER-DEVICE",
                                                      "SYMLINK",          "SOCKET",    "FIFO",         "TTY"};
      Filter any{Kind::Any};
      for (std::size_t i = 1; i < d.items.size(); ++i) {
        if (d.items[i].kind != Datum::Kind::Symbol ||
            std::find(kTypes.begin(), kTypes.end(), d.items[i].text) == kTypes.end()) {
          fail(d.items[i], fmt::format("`{}` is not a vnode type", render(d.items[i])));
        }
        Filter t{Kind::VnodeType};
        t.value = d.items[i].text;
        any.children.push_back(t);
      }
      if (any.children.empty()) fail(d, "`vnode-type` needs a type");
      return any.children.size() == 1 ? std::move(any.children.front()) : any;
    }
    if (head == "require-all" || head == "require-any") {
      Filter f{head == "require-all" ? Kind::All : Kind::Any};
      if (d.items.size() < 2) fail(d, fmt::format("`{}` requires at least one filter", head));
      for (std::size_t i = 1; i < d.items.size(); ++i) f.children.push_back(filter(d.items[i]));
      return f;
    }
    if (head == "require-not") {
      if (d.items.size() != 2) fail(d, "`require-not` takes exactly one filter");
      Filter f{Kind::Not};
      f.children.push_back(filter(d.items[1]));
      return f;
    }
    if (head == "remote" || head == "to") return network_filter(Kind::Remote, d);
    if (head == "local" || head == "from") return network_filter(Kind::Local, d);
    // Filters of questions this evaluator is not asked (mach names, sysctl
    // names, signal targets, ...): read, and never matching.
    static const std::vector<std::string> kOpaque = {
        "global-name",        "global-name-regex",       "global-name-prefix",     "local-name",
        "local-name-regex",   "local-name-prefix",       "xpc-service-name",       "xpc-service-name-prefix",
        "xpc-service-name-regex", "sysctl-name",         "sysctl-name-prefix",     "sysctl-name-regex",
        "target",             "ipc-posix-name",          "ipc-posix-name-prefix",  "ipc-posix-name-regex",
        "iokit-user-client-class", "iokit-registry-entry-class", "iokit-connection", "iokit-property",
        "preference-domain",  "require-entitlement",     "process-attribute",      "system-attribute",
        "extension",          "extension-class",         "file-mode",              "socket-domain",
        "socket-type",        "socket-protocol",         "control-name",           "device-major",
        "device-minor",       "xattr",                   "mount-relative-literal", "mount-relative-regex",
        "signing-identifier", "appleevent-destination",  "notification-name",      "fsctl-command",
        "ioctl-command",      "info-type",               "kext-bundle-id",         "privilege-id"};
    if (std::find(kOpaque.begin(), kOpaque.end(), head) != kOpaque.end()) {
      Filter f{Kind::Opaque};
      f.value = head;
      return f;
    }
    fail(d, fmt::format("unknown filter `{}`", head));
  }

  // (allow|deny OP… FILTER… (with …)…)
  void rule(const Datum& d, std::map<std::string, std::vector<std::shared_ptr<const Rule>>>& filtered,
            std::map<std::string, std::shared_ptr<const Rule>>& unfiltered) {
    auto r = std::make_shared<Rule>();
    r->allow = d.items[0].text == "allow";
    r->text = render(d);
    r->line = d.line;
    r->column = d.column;
    std::vector<const Operation*> ops;
    std::vector<Filter> filters;
    std::vector<std::string> seen_modifiers;
    for (std::size_t i = 1; i < d.items.size(); ++i) {
      const Datum& a = d.items[i];
      if (a.kind == Datum::Kind::Symbol) {
        bool dropped = false;
        const Operation* op = find_operation(a.text, &dropped);
        if (dropped) continue;
        if (op == nullptr) fail(a, fmt::format("unknown operation `{}`", a.text));
        ops.push_back(op);
        continue;
      }
      if (a.kind == Datum::Kind::List && !a.items.empty() && a.items[0].is_symbol("with")) {
        modifier(a, *r, seen_modifiers);
        continue;
      }
      filters.push_back(filter(a));
    }
    if (ops.empty()) {
      // Every operation named was one libsandbox drops: so is the rule.
      for (std::size_t i = 1; i < d.items.size(); ++i) {
        if (d.items[i].kind == Datum::Kind::Symbol) return;
      }
      fail(d, "at least one operation required");
    }
    if (r->no_sandbox) {
      for (const Operation* op : ops) {
        if (!r->allow || (op->name != "process-exec*" && op->name != "process-exec-interpreter")) {
          fail(d, "`(with no-sandbox)` applies to allowing process-exec only");
        }
      }
    }
    for (const Operation* op : ops) {
      for (const Filter& f : filters) check_applies(d, f, *op);
    }
    if (!filters.empty()) {
      if (filters.size() == 1) {
        r->filter = std::make_shared<Filter>(std::move(filters.front()));
      } else {
        // Several filters of one rule are OR'ed.
        Filter any{Kind::Any};
        any.children = std::move(filters);
        r->filter = std::make_shared<Filter>(std::move(any));
      }
    }
    for (const Operation* op : ops) {
      if (r->filter) filtered[std::string(op->name)].push_back(r);
      else unfiltered[std::string(op->name)] = r;  // replaces the fallback, wherever it is written
    }
  }

  void check_applies(const Datum& d, const Filter& f, const Operation& op) {
    switch (f.kind) {
      case Kind::Literal:
      case Kind::Subpath:
      case Kind::Prefix:
      case Kind::Regex:
      case Kind::VnodeType:
        if (!op.path_filters) fail(d, fmt::format("path filter does not apply to {} operation", op.name));
        break;
      case Kind::Remote:
      case Kind::Local:
        if (!op.name.starts_with("network")) {
          fail(d, fmt::format("network filter does not apply to {} operation", op.name));
        }
        break;
      default: break;
    }
    for (const Filter& c : f.children) {
      if (f.kind != Kind::Remote && f.kind != Kind::Local) check_applies(d, c, op);
    }
  }

  void modifier(const Datum& d, Rule& r, std::vector<std::string>& seen) {
    if (d.items.size() < 2 || d.items[1].kind != Datum::Kind::Symbol) fail(d, "`with` needs a modifier");
    std::string name = d.items[1].text;
    if (name == "no-report") name = "no-log";
    if (name == "no-profile") name = "no-sandbox";
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) fail(d, fmt::format("`{}` given twice", name));
    seen.push_back(name);
    if (name == "message") {
      if (d.items.size() != 3) fail(d, "`(with message …)` takes one string");
      if (r.allow) fail(d, "`(with message …)` is for deny rules");
      r.message = string_of(d.items[2]);
    } else if (name == "report") {
      if (!r.allow) fail(d, "`(with report)` is for allow rules");
      r.report = true;
    } else if (name == "no-log") {
      if (r.allow) fail(d, "`(with no-log)` is for deny rules");
      r.no_log = true;
    } else if (name == "send-signal") {
      if (d.items.size() != 3 || d.items[2].kind != Datum::Kind::Symbol || !d.items[2].text.starts_with("SIG")) {
        fail(d, "`(with send-signal SIGNAME)`");
      }
      r.send_signal = 1;
    } else if (name == "no-sandbox") {
      r.no_sandbox = true;
    } else {
      fail(d, fmt::format("unknown modifier `{}`", name));
    }
  }

 private:
  const std::map<std::string, std::string>& params_;
  std::unordered_map<std::string, std::shared_ptr<const RE2>> regexes_;  // by translated pattern
};

bool localhost(const std::string& address) {
  return address == "127.0.0.1" || address == "::1" || address == "0.0.0.0" || address == "::";
}

bool protocol_matches(const std::string& filter, const Question& q) {
  if (filter == "unix") return q.unix_socket;
  if (q.unix_socket) return false;
  const bool v6 = q.address.find(':') != std::string::npos;
  const char family = filter.back();
  if ((family == '4' && v6) || (family == '6' && !v6)) return false;
  const std::string base = family == '4' || family == '6' ? filter.substr(0, filter.size() - 1) : filter;
  return base == "ip" || base == q.protocol;
}

bool matches(const Filter& f, const Question& q) {
  const bool has_path = !q.path.empty();
  switch (f.kind) {
    case Kind::Literal: return has_path && q.path == f.value;
    case Kind::Subpath:
      return has_path && (f.value == "/" ? q.path.front() == '/'
                                         : q.path == f.value || (q.path.size() > f.value.size() &&
                                                                 q.path.compare(0, f.value.size(), f.value) == 0 &&
                                                                 q.path[f.value.size()] == '/'));
    case Kind::Prefix: return has_path && q.path.compare(0, f.value.size(), f.value) == 0;
    case Kind::Regex: return has_path && RE2::PartialMatch(q.path, *f.regex);
    case Kind::VnodeType: return false;  // questions carry no vnode type: an allow so filtered never opens
    case Kind::All:
      return std::all_of(f.children.begin(), f.children.end(), [&](const Filter& c) { return matches(c, q); });
    case Kind::Any:
      return std::any_of(f.children.begin(), f.children.end(), [&](const Filter& c) { return matches(c, q); });
    case Kind::Not: return !matches(f.children.front(), q);
    case Kind::Remote:
    case Kind::Local: {
      if (!protocol_matches(f.protocol, q)) return false;
      if (f.protocol == "unix") {
        return f.children.empty() ||
               std::any_of(f.children.begin(), f.children.end(), [&](const Filter& c) { return matches(c, q); });
      }
      const std::string& address = f.kind == Kind::Remote ? q.address : q.local_address;
      const int port = f.kind == Kind::Remote ? q.port : q.local_port;
      if (!f.any_host && !localhost(address)) return false;
      return f.port == 0 || f.port == port;
    }
    case Kind::Opaque: return false;
  }
  return false;
}

}  // namespace

std::variant<Profile, std::string> Profile::load(std::string_view text,
                                                 const std::map<std::string, std::string>& params) {
  auto forms = read(text);
  if (const auto* e = std::get_if<ReadError>(&forms)) return e->text();
  Profile profile;
  std::map<std::string, std::vector<std::shared_ptr<const Rule>>> filtered;
  std::map<std::string, std::shared_ptr<const Rule>> unfiltered;
  try {
    Loader loader(params);
    bool version = false;
    for (const Datum& d : std::get<std::vector<Datum>>(forms)) {
      if (d.kind != Datum::Kind::List || d.items.empty() || d.items[0].kind != Datum::Kind::Symbol) {
        fail(d, "expected a form such as `(version 1)` or `(allow …)`");
      }
      const std::string& head = d.items[0].text;
      if (head == "version") {
        if (d.items.size() != 2 || d.items[1].kind != Datum::Kind::Integer) fail(d, "`(version 1)`");
        if (d.items[1].number != 1) fail(d, "unsupported version");
        if (version) fail(d, "only one version may be specified");
        version = true;
        continue;
      }
      if (!version) fail(d, "no version specified");
      if (head == "allow" || head == "deny") {
        loader.rule(d, filtered, unfiltered);
      } else if (head == "debug") {
        continue;  // a no-op macro in libsandbox
      } else {
        fail(d, fmt::format("`{}` is not a form this evaluator reads", head));
      }
    }
    if (!version) return std::string("no version specified");
    // The implicit rules libsandbox appends when it finalizes (notes
    // §1.3.2), the newest of all; NO_IMPLICIT_RULES suppresses them.
    if (params.find("NO_IMPLICIT_RULES") == params.end()) {
      const std::string implicit = R"((version 1)
(deny network-outbound (literal "/private/var/tmp/launchd/sock") (regex #"^/private/tmp/launchd-[0-9]+\.[^/]+/sock$"))
)";
      auto implicit_forms = read(implicit);
      for (Datum d : std::get<std::vector<Datum>>(implicit_forms)) {
        d.line = 0;  // not written in the profile
        if (d.items[0].text != "version") loader.rule(d, filtered, unfiltered);
      }
      // Every path operation but the cache-safe reads.
      auto r = std::make_shared<Rule>();
      r->allow = false;
      r->text = "(deny <path operations> (regex #\"/com\\.apple\\.sandbox($|/)\"))";
      Filter f{Kind::Regex};
      f.value = "/com\\.apple\\.sandbox($|/)";
      std::string error;
      RE2::Options options;
      options.set_encoding(RE2::Options::EncodingLatin1);
      f.regex = std::make_shared<RE2>(translate_regex(f.value, error), options);
      r->filter = std::make_shared<Filter>(std::move(f));
      for (const Operation* op = operations_begin(); op != operations_end(); ++op) {
        if (op->path_filters && !op->name.starts_with("file-read")) filtered[std::string(op->name)].push_back(r);
      }
    }
  } catch (const Failure& f) {
    return fmt::format("{}:{}: {}", f.line, f.column, f.message);
  }
  for (auto& [name, rules] : filtered) profile.lists_[name].filtered = std::move(rules);
  for (auto& [name, rule] : unfiltered) profile.lists_[name].unfiltered = std::move(rule);
  return profile;
}

std::vector<const Rule*> Profile::rules_of(std::string_view operation) const {
  std::vector<const Rule*> out;
  const Operation* op = find_operation(operation);
  if (op == nullptr) return out;
  const auto it = lists_.find(op->name);
  if (it == lists_.end()) return out;
  for (auto r = it->second.filtered.rbegin(); r != it->second.filtered.rend(); ++r) out.push_back(r->get());
  if (it->second.unfiltered) out.push_back(it->second.unfiltered.get());
  return out;
}

std::variant<Verdict, std::string> Profile::decide(std::string_view operation, const Question& question) const {
  const Operation* op = find_operation(operation);
  if (op == nullptr) return fmt::format("unknown operation `{}`", operation);
  if (!op->known_parent) {
    return fmt::format("`{}` has no published place in the operation hierarchy: its decision is not known", op->name);
  }
  const bool network = op->name.starts_with("network");
  if (!network && !op->path_filters) return fmt::format("`{}` is not asked about paths or addresses", op->name);
  if (!network && question.path.empty()) return fmt::format("`{}` is asked about a path", op->name);
  if (!question.path.empty() && question.path.front() != '/') return std::string("a path question needs an absolute path");
  for (const Operation* at = op; at != nullptr;) {
    const auto it = lists_.find(at->name);
    if (it != lists_.end()) {
      // Newest filtered rule first; the first that matches decides.
      for (auto r = it->second.filtered.rbegin(); r != it->second.filtered.rend(); ++r) {
        if (matches(*(*r)->filter, question)) {
          return Verdict{(*r)->allow, false, (*r)->text, (*r)->line, (*r)->message, std::string(at->name)};
        }
      }
      if (const auto& u = it->second.unfiltered) {
        return Verdict{u->allow, false, u->text, u->line, u->message, std::string(at->name)};
      }
    }
    if (at->own_default != OwnDefault::None) {
      return Verdict{at->own_default == OwnDefault::Allow, true, "", 0, "", std::string(at->name)};
    }
    at = at->parent.empty() ? nullptr : find_operation(at->parent);
  }
  return Verdict{false, true, "", 0, "", "default"};
}

}  // namespace sbpolicy::sbpl
