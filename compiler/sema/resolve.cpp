#include "sema/resolve.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>

#include "sema/guarded_ranges.hpp"
#include "sema/std_summary.hpp"
#include "support/suggest.hpp"

namespace sbpolicy::sema {

std::string_view effect_name(Effect effect) {
  switch (effect) {
    case Effect::Allow: return "allow";
    case Effect::Deny: return "deny";
    case Effect::Ask: return "ask";
  }
  return "?";
}

std::string_view operation_name(Operation op) {
  switch (op) {
    case Operation::Read: return "read";
    case Operation::Write: return "write";
    case Operation::Net: return "net";
    case Operation::Unix: return "unix";
    case Operation::Env: return "env";
  }
  return "?";
}

std::string pattern_text(const Pattern& pattern) {
  return std::visit([](const auto& p) { return std::string(p.text()); }, pattern);
}

namespace {

constexpr std::size_t kMaxFlattenedValues = 1u << 16;

enum class Kind { Path, Host, Env };

Kind kind_of(Operation op) {
  switch (op) {
    case Operation::Net: return Kind::Host;
    case Operation::Env: return Kind::Env;
    default: return Kind::Path;
  }
}

std::string_view kind_noun(Kind kind) {
  switch (kind) {
    case Kind::Path: return "path pattern";
    case Kind::Host: return "host pattern";
    case Kind::Env: return "environment variable pattern";
  }
  return "";
}

// A string that reached a rule, and the `let` name it came through (if any).
struct Flat {
  const ast::StringLit* lit;
  Span reference;
};

struct LetBinding {
  const ast::LetStmt* stmt = nullptr;
  std::vector<Flat> values;
  bool used = false;
  bool ok = true;  // false when its value had errors: uses stay quiet
};

// The names each resolved file exports (`export let`), for the files that
// import it: resolve_program resolves a file's imports before the file.
using ExportTable = std::map<FileId, std::unordered_map<std::string, LetBinding>>;

class FileResolver {
 public:
  FileResolver(const LoadedFile& file, const SourceMap& sources, Diagnostics& diags, CheckedPolicy& out,
               ExportTable& exports)
      : file_(file), sources_(sources), diags_(diags), out_(out), exports_(exports) {}

  void run() {
    for (const auto& s : file_.module.statements) {
      if (const auto* let = std::get_if<ast::LetStmt>(&s.node)) defined_anywhere_.emplace(let->name.text, let);
    }
    for (std::size_t i = 0; i < file_.module.statements.size(); ++i) {
      const ast::Statement& s = file_.module.statements[i];
      if (const auto* v = std::get_if<ast::VersionStmt>(&s.node)) {
        version(*v, s, i);
      } else if (const auto* let = std::get_if<ast::LetStmt>(&s.node)) {
        bind(*let);
      } else if (const auto* rule = std::get_if<ast::RuleStmt>(&s.node)) {
        check_rule(*rule, s);
      } else if (const auto* use = std::get_if<ast::UseStmt>(&s.node)) {
        carve_out(*use);
      } else if (const auto* limit = std::get_if<ast::LimitStmt>(&s.node)) {
        check_limit(*limit, s);
      } else if (const auto* test = std::get_if<ast::TestStmt>(&s.node)) {
        // `sbc test` runs tests; here their words are checked, so a typo
        // is found by `sbc check` too.
        for (const auto& e : test->expects) {
          effect(e.effect);
          operation(e.operation);
        }
      }
    }
    auto& mine = exports_[file_.file];
    for (const auto& name : let_order_) {
      const LetBinding& b = lets_.at(name);
      if (b.stmt->exported) {
        mine.emplace(name, b);  // its importers' to use: never "unused" here
        continue;
      }
      if (!b.used) {
        diags_.report(Code::W0001, b.stmt->name.span, fmt::format("`{}` is defined but never used", name))
            .label("unused")
            .help("remove it, or use it in a rule");
      }
    }
  }

 private:
  void version(const ast::VersionStmt& v, const ast::Statement& s, std::size_t index) {
    if (index != 0 || seen_version_) {
      diags_.report(Code::E0108, s.span, "`version` must be the first statement of the file, and appear once")
          .label("misplaced");
    }
    seen_version_ = true;
    if (v.number != 1) {
      diags_.report(Code::E0106, v.number_span, fmt::format("unsupported language version `{}`", v.number))
          .label("this compiler supports version 1")
          .help("write `version 1;`");
    }
  }

  void bind(const ast::LetStmt& let) {
    if (const auto it = lets_.find(let.name.text); it != lets_.end()) {
      diags_.report(Code::E0203, let.name.span, fmt::format("`{}` is defined twice", let.name.text))
          .label("second definition")
          .secondary(it->second.stmt->name.span, "first defined here")
          .help("rename one of them");
      return;
    }
    if (const auto [from, imported] = imported_binding(let.name.text); imported != nullptr) {
      diags_.report(Code::E0213, let.name.span,
                    fmt::format("`{}` is also a name `{}` exports", let.name.text, sources_.file(from).name()))
          .label("defined here too")
          .secondary(imported->stmt->name.span, "exported here")
          .help("rename this one: a name from an import and a name of this file must not be confused");
      clashed_.insert(let.name.text);  // one mistake: its uses are not reported too
      return;
    }
    LetBinding b;
    b.stmt = &let;
    b.used = used_early_.count(let.name.text) > 0;
    b.ok = flatten(let.value, Span{}, b.values);
    let_order_.push_back(let.name.text);
    lets_.emplace(let.name.text, std::move(b));
  }

  // Flattens a value into strings; false when something in it was wrong.
  bool flatten(const ast::Value& value, Span reference, std::vector<Flat>& out) {
    if (const auto* lit = std::get_if<ast::StringLit>(&value.node)) {
      out.push_back({lit, reference});
    } else if (const auto* name = std::get_if<ast::Name>(&value.node)) {
      const LetBinding* b = lookup(*name);
      if (b == nullptr) return false;
      for (const Flat& f : b->values) out.push_back({f.lit, reference.valid() ? reference : name->span});
      if (!b->ok) return false;
    } else {
      const auto& list = std::get<ast::ListValue>(value.node);
      bool ok = true;
      for (const ast::Value& item : list.items) ok = flatten(item, reference, out) && ok;
    }
    if (out.size() > kMaxFlattenedValues) {
      diags_.report(Code::E0105, value.span(),
                    fmt::format("this value expands to more than {} strings", kMaxFlattenedValues));
      out.resize(kMaxFlattenedValues);
      return false;
    }
    return true;
  }

  LetBinding* lookup(const ast::Name& name) {
    if (auto it = lets_.find(name.text); it != lets_.end()) {
      it->second.used = true;
      return &it->second;
    }
    if (clashed_.count(name.text) != 0) return nullptr;  // E0213 said so
    if (auto later = defined_anywhere_.find(name.text); later != defined_anywhere_.end()) {
      used_early_.insert(name.text);  // so the later definition is not also "unused"
      diags_.report(Code::E0208, name.span, fmt::format("`{}` is used before its definition", name.text))
          .label("used here")
          .secondary(later->second->name.span, "defined here")
          .help("move the `let` above its first use");
      return nullptr;
    }
    const auto& broken = file_.module.unparsed_lets;
    if (std::find(broken.begin(), broken.end(), name.text) != broken.end()) return nullptr;  // its `let` is in error
    // A name a directly imported file exports.
    std::vector<std::pair<FileId, LetBinding*>> found;
    for (const auto& import : file_.imports) {
      const FileId id = import.second;
      auto it = exports_.find(id);
      if (it == exports_.end()) continue;
      if (auto e = it->second.find(name.text); e != it->second.end()) {
        if (std::none_of(found.begin(), found.end(), [&](const auto& f) { return f.first == id; })) {
          found.emplace_back(id, &e->second);
        }
      }
    }
    if (found.size() == 1) return found.front().second;
    if (found.size() > 1) {
      diags_.report(Code::E0213, name.span,
                    fmt::format("`{}` is exported by both `{}` and `{}`", name.text,
                                sources_.file(found[0].first).name(), sources_.file(found[1].first).name()))
          .label("which one?")
          .secondary(found[0].second->stmt->name.span, "exported here")
          .secondary(found[1].second->stmt->name.span, "and here")
          .help("rename one of the exports");
      return nullptr;
    }
    std::vector<std::string> names(let_order_.begin(), let_order_.end());
    auto d = diags_.report(Code::E0202, name.span, fmt::format("undefined name `{}`", name.text));
    d.label("not defined in this file");
    if (auto s = closest_match(name.text, names)) {
      d.help(fmt::format("did you mean `{}`?", *s)).fixit(name.span, *s);
    } else {
      d.help("targets are quoted patterns (`\"./src\"`) or names defined with `let`");
    }
    return nullptr;
  }

  // The binding of `name` among the exports of this file's imports (the
  // first found), or {kNoFile, nullptr}.
  std::pair<FileId, const LetBinding*> imported_binding(const std::string& name) const {
    for (const auto& [span, id] : file_.imports) {
      auto it = exports_.find(id);
      if (it == exports_.end()) continue;
      if (auto e = it->second.find(name); e != it->second.end()) return {id, &e->second};
    }
    return {kNoFile, nullptr};
  }

  std::optional<Effect> effect(const ast::Name& word) {
    static const std::vector<std::string> words = {"allow", "deny", "ask"};
    if (word.text == "allow") return Effect::Allow;
    if (word.text == "deny") return Effect::Deny;
    if (word.text == "ask") return Effect::Ask;
    auto d = diags_.report(Code::E0200, word.span, fmt::format("unknown effect `{}`", word.text));
    d.label("not an effect");
    if (auto s = closest_match(word.text, words)) {
      d.help(fmt::format("did you mean `{}`?", *s)).fixit(word.span, *s);
    } else {
      d.help("a rule starts with `allow`, `deny` or `ask`");
    }
    return std::nullopt;
  }

  std::optional<Operation> operation(const ast::Name& word) {
    static const std::vector<std::string> words = {"read", "write", "net", "unix", "env", "ptrace"};
    static const std::map<std::string, Operation, std::less<>> ops = {{"read", Operation::Read},
                                                                      {"write", Operation::Write},
                                                                      {"net", Operation::Net},
                                                                      {"unix", Operation::Unix},
                                                                      {"env", Operation::Env}};
    if (auto it = ops.find(word.text); it != ops.end()) return it->second;
    if (word.text == "exec" || word.text == "listen" || word.text == "git") {
      diags_.report(Code::E0107, word.span, fmt::format("operation `{}` is not supported yet", word.text))
          .label("reserved for a later version")
          .note("the operations supported now are `read`, `write`, `net`, `unix` and `env`");
      return std::nullopt;
    }
    auto d = diags_.report(Code::E0201, word.span, fmt::format("unknown operation `{}`", word.text));
    d.label("not an operation");
    if (auto s = closest_match(word.text, words)) {
      d.help(fmt::format("did you mean `{}`?", *s)).fixit(word.span, *s);
    } else {
      d.help("the operations are `read`, `write`, `net`, `unix` and `env`");
    }
    return std::nullopt;
  }

  // Parses one string as a pattern of `kind`, reporting each string's errors
  // once per kind even when a `let` brings it to many rules.
  std::optional<Pattern> typed(const Flat& flat, Kind kind) {
    const auto key = std::make_pair(flat.lit, kind);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    std::variant<Pattern, PatternErrors> result = PatternErrors{};
    const std::string& text = flat.lit->value;
    switch (kind) {
      case Kind::Path: {
        auto r = parse_path_pattern(text);
        if (auto* p = std::get_if<PathPattern>(&r)) result = Pattern{std::move(*p)};
        else result = std::get<PatternErrors>(std::move(r));
        break;
      }
      case Kind::Host: {
        auto r = parse_host_pattern(text);
        if (auto* p = std::get_if<HostPattern>(&r)) result = Pattern{std::move(*p)};
        else result = std::get<PatternErrors>(std::move(r));
        break;
      }
      case Kind::Env: {
        auto r = parse_env_pattern(text);
        if (auto* p = std::get_if<EnvPattern>(&r)) result = Pattern{std::move(*p)};
        else result = std::get<PatternErrors>(std::move(r));
        break;
      }
    }
    std::optional<Pattern> pattern;
    if (auto* p = std::get_if<Pattern>(&result)) {
      pattern = std::move(*p);
    } else {
      for (const PatternError& e : std::get<PatternErrors>(result)) {
        auto d = diags_.report(e.code, flat.lit->sub_span(e.begin, e.end), e.message);
        if (!e.label.empty()) d.label(e.label);
        if (!e.help.empty()) d.help(e.help);
        if (flat.reference.valid()) d.secondary(flat.reference, fmt::format("used as a {} here", kind_noun(kind)));
      }
    }
    cache_.emplace(key, pattern);
    return pattern;
  }

  // Flattens and types a target list; false when any part had an error.
  bool targets(const std::vector<ast::Value>& values, Kind kind, std::vector<std::pair<Pattern, Flat>>& out) {
    bool ok = true;
    std::vector<Flat> flat;
    for (const ast::Value& v : values) ok = flatten(v, Span{}, flat) && ok;
    for (const Flat& f : flat) {
      if (auto p = typed(f, kind)) out.emplace_back(std::move(*p), f);
      else ok = false;
    }
    return ok;
  }

  // `use M except ...`: typed as path patterns here, applied to M's deny
  // rules once every file is resolved (apply_carve_outs).
  void carve_out(const ast::UseStmt& use) {
    if (use.excepts.empty()) return;
    std::vector<std::pair<Pattern, Flat>> patterns;
    if (!targets(use.excepts, Kind::Path, patterns)) return;
    if (patterns.empty()) {
      diags_.report(Code::E0209, use.excepts.front().span(), "this `except` list has no targets")
          .label("expands to an empty list")
          .help("remove the `except` clause or give it targets");
      return;
    }
    CarveOut c{file_.file, use.target_span, use.except_keyword, {}};
    for (auto& [p, f] : patterns) c.patterns.push_back(std::move(p));
    out_.carve_outs.push_back(std::move(c));
  }

  // `limit KIND VALUE;`: a known kind, a value in its unit, once per file.
  void check_limit(const ast::LimitStmt& limit, const ast::Statement& s) {
    const auto kind = limit_kind_named(limit.kind.text);
    if (!kind) {
      std::vector<std::string> names;
      for (LimitKind k : kLimitKinds) names.emplace_back(limit_name(k));
      auto d = diags_.report(Code::E0210, limit.kind.span, fmt::format("unknown limit `{}`", limit.kind.text));
      d.label("not a limit");
      if (auto m = closest_match(limit.kind.text, names)) {
        d.help(fmt::format("did you mean `{}`?", *m)).fixit(limit.kind.span, *m);
      } else {
        d.help("the limits are `memory`, `processes`, `cpu_time`, `wall_time`, `file_size` and `open_files`");
      }
      return;
    }
    const auto value = parse_limit_value(*kind, limit.value);
    if (const auto* e = std::get_if<LimitValueError>(&value)) {
      diags_.report(Code::E0312, limit.value_span, e->message).label("invalid limit").help(e->help);
      return;
    }
    if (const auto it = limits_seen_.find(*kind); it != limits_seen_.end()) {
      diags_.report(Code::E0211, s.span, fmt::format("`{}` is limited twice in this file", limit.kind.text))
          .label("second limit")
          .secondary(it->second, "first set here")
          .help("keep one of them");
      return;
    }
    limits_seen_.emplace(*kind, s.span);
    out_.limits.push_back(CheckedLimit{*kind, std::get<std::uint64_t>(value), file_.file, s.span, limit.value_span,
                                       file_.chain});
  }

  // `allow ptrace;`: lets the sandbox's processes trace each other
  // (docs/linux.md); `deny ptrace;` keeps any importer from allowing it.
  void check_switch(const ast::RuleStmt& rule, const ast::Statement& s, std::optional<Effect> eff) {
    if (!rule.targets.empty() || !rule.excepts.empty()) {
      diags_.report(Code::E0212, rule.targets.empty() ? rule.except_keyword : rule.targets.front().span(),
                    "`ptrace` takes no targets")
          .label("not for ptrace")
          .help("write `allow ptrace;`: it lets the sandbox's own processes trace each other, never the init or "
                "anything outside");
      return;
    }
    if (!eff) return;
    if (*eff == Effect::Ask) {
      diags_.report(Code::E0212, rule.effect.span, "`ptrace` cannot be asked about")
          .label("allow or deny")
          .help("write `allow ptrace;` to allow it for the run, or leave it out (denied)");
      return;
    }
    out_.ptrace.push_back(CheckedSwitch{*eff, file_.file, s.span, file_.chain});
  }

  void check_rule(const ast::RuleStmt& rule, const ast::Statement& s) {
    if (rule.operation.text == "ptrace") {
      check_switch(rule, s, effect(rule.effect));
      return;
    }
    const auto eff = effect(rule.effect);
    const auto op = operation(rule.operation);
    if (!eff || !op) {
      // Still mark the names as used, so one mistake does not cause another.
      std::vector<Flat> ignored;
      for (const auto& v : rule.targets) flatten(v, Span{}, ignored);
      for (const auto& v : rule.excepts) flatten(v, Span{}, ignored);
      return;
    }
    const Kind kind = kind_of(*op);
    std::vector<std::pair<Pattern, Flat>> patterns, excepts;
    bool ok = targets(rule.targets, kind, patterns);
    ok = targets(rule.excepts, kind, excepts) && ok;
    if (ok && patterns.empty()) {
      diags_.report(Code::E0209, rule.targets.front().span(), "this rule has no targets")
          .label("expands to an empty list")
          .help("a rule without targets would silently do nothing; remove it or give it targets");
      return;
    }
    if (ok && !rule.excepts.empty() && excepts.empty()) {
      diags_.report(Code::E0209, rule.excepts.front().span(), "this `except` list has no targets")
          .label("expands to an empty list")
          .help("remove the `except` clause or give it targets");
      return;
    }
    if (!ok) return;
    std::vector<Pattern> except_patterns;
    for (auto& [p, f] : excepts) except_patterns.push_back(std::move(p));
    // Fences cover every port unless they name theirs (host_pattern.hpp):
    // a deny's targets, and the excepts of an allow or ask.
    const auto fence = [](Pattern& p) {
      if (auto* host = std::get_if<HostPattern>(&p)) fence_ports(*host);
    };
    if (*eff == Effect::Deny) {
      for (auto& entry : patterns) fence(entry.first);
    } else {
      for (Pattern& p : except_patterns) fence(p);
    }
    if (*eff != Effect::Deny) {
      for (const auto& entry : patterns) warn_wide_block(entry.first, entry.second);
    }
    std::string except_key;
    for (const auto& p : except_patterns) except_key += "\x1f" + pattern_text(p);
    for (auto& [p, f] : patterns) {
      const std::string key = fmt::format("{}\x1f{}\x1f{}{}", effect_name(*eff), operation_name(*op), pattern_text(p),
                                          except_key);
      // The same string reaching a rule twice through `let`s is one spelling,
      // not a duplicate the author wrote twice.
      if (auto [it, fresh] = seen_rules_.emplace(key, f.lit->span); !fresh && it->second != f.lit->span) {
        diags_.report(Code::W0002, f.lit->span,
                      fmt::format("`{} {} \"{}\"` appears twice in this file", effect_name(*eff), operation_name(*op),
                                  pattern_text(p)))
            .label("duplicate")
            .secondary(it->second, "first here")
            .help("remove one of them");
      }
      out_.rules.push_back(CheckedRule{*eff, *op, std::move(p), except_patterns, file_.file, s.span, f.lit->span,
                                       f.reference, file_.chain});
    }
  }

  // W0003: an allowed block that contains guarded ranges opens none of them
  // at the proxy (sema/guarded_ranges.hpp); say so where the rule is written.
  void warn_wide_block(const Pattern& pattern, const Flat& flat) {
    const auto* host = std::get_if<HostPattern>(&pattern);
    if (host == nullptr || host->kind != HostPattern::Kind::Address) return;
    // One of each kind, in the table's order: "loopback `127.0.0.0/8`, ...".
    std::vector<std::string_view> kinds;
    std::string list;
    std::size_t more = 0;
    for (const GuardedRange& r : guarded_ranges()) {
      if (host->net.prefix >= r.block.prefix || !host->net.contains(r.block)) continue;
      if (std::find(kinds.begin(), kinds.end(), r.why) != kinds.end()) continue;
      kinds.push_back(r.why);
      if (kinds.size() > 4) {
        ++more;
        continue;
      }
      list += fmt::format("{}{} `{}`", list.empty() ? "" : ", ", r.why, r.block.text());
    }
    if (kinds.empty()) return;
    if (more > 0) list += fmt::format(" and {} more", more);
    diags_.report(Code::W0003, flat.lit->span,
                  fmt::format("`{}` contains guarded ranges ({}) that it does not open", host->text(), list))
        .label("wider than the local ranges it contains")
        .help("the proxy opens a loopback, private or metadata address only for a rule naming it or a block "
              "inside its range, such as `127.0.0.1:5432` or `10.1.0.0/16`");
  }

  const LoadedFile& file_;
  const SourceMap& sources_;
  Diagnostics& diags_;
  CheckedPolicy& out_;
  ExportTable& exports_;
  bool seen_version_ = false;
  std::unordered_map<std::string, LetBinding> lets_;
  std::vector<std::string> let_order_;
  std::set<std::string> used_early_;
  std::set<std::string> clashed_;
  std::unordered_map<std::string, const ast::LetStmt*> defined_anywhere_;
  std::map<std::pair<const ast::StringLit*, Kind>, std::optional<Pattern>> cache_;
  std::unordered_map<std::string, Span> seen_rules_;
  std::map<LimitKind, Span> limits_seen_;
};

}  // namespace

namespace {

// Each carve-out joins the excepts of every deny rule about paths (read,
// write, unix) in the module its `use` loaded and the modules that one
// imports, however else they were reached; told as W0004 (what a reviewer
// must see: a part of an imported protection no longer holds).
void apply_carve_outs(const Program& program, const SourceMap& sources, CheckedPolicy& out, Diagnostics& diags) {
  const auto loaded_file = [&](FileId id) -> const LoadedFile* {
    for (const LoadedFile& f : program.files) {
      if (f.file == id) return &f;
    }
    return nullptr;
  };
  for (const CarveOut& c : out.carve_outs) {
    const LoadedFile* from = loaded_file(c.file);
    FileId target = kNoFile;
    for (const auto& [span, id] : from != nullptr ? from->imports : std::vector<std::pair<Span, FileId>>{}) {
      if (span == c.use_target) target = id;
    }
    if (target == kNoFile) continue;  // the import failed, and said so
    std::set<FileId> reach{target};
    for (std::vector<FileId> todo{target}; !todo.empty();) {
      const LoadedFile* f = loaded_file(todo.back());
      todo.pop_back();
      if (f == nullptr) continue;
      for (const auto& [span, id] : f->imports) {
        if (reach.insert(id).second) todo.push_back(id);
      }
    }
    std::size_t lifted = 0;
    for (CheckedRule& r : out.rules) {
      if (r.effect != Effect::Deny || reach.count(r.file) == 0) continue;
      if (!takes_paths(r.operation)) continue;
      r.excepts.insert(r.excepts.end(), c.patterns.begin(), c.patterns.end());
      ++lifted;
    }
    std::string paths;
    for (const Pattern& p : c.patterns) paths += fmt::format("{}`{}`", paths.empty() ? "" : ", ", pattern_text(p));
    const std::string module = sources.file(target).name();
    if (lifted == 0) {
      diags.report(Code::W0004, c.except_keyword, fmt::format("this carve-out lifts no deny rule of `{}`", module))
          .label("nothing to carve out")
          .help("remove it: the module denies nothing about paths");
    } else {
      diags.report(Code::W0004, c.except_keyword,
                   fmt::format("{} deny rule{} of `{}` no longer cover{} {}", lifted, lifted == 1 ? "" : "s", module,
                               lifted == 1 ? "s" : "", paths))
          .label("carve-out")
          .note("an allow of the policy decides there now; `sbc explain` shows the rules a path meets");
    }
  }
}

// W0006: a limit of the root file above the same limit of a file it
// imports does nothing (the smallest wins), which its author should know.
void overruled_limits(const Program& program, const CheckedPolicy& out, Diagnostics& diags) {
  if (program.files.empty()) return;
  const FileId root = program.files.front().file;
  for (const CheckedLimit& mine : out.limits) {
    if (mine.file != root) continue;
    const CheckedLimit* lowest = nullptr;
    for (const CheckedLimit& other : out.limits) {
      if (other.file == root || other.kind != mine.kind || other.value >= mine.value) continue;
      if (lowest == nullptr || other.value < lowest->value) lowest = &other;
    }
    if (lowest == nullptr) continue;
    diags.report(Code::W0006, mine.value_span,
                 fmt::format("this {} limit is above the {} an imported file sets, which wins",
                             limit_name(mine.kind), format_limit_value(mine.kind, lowest->value)))
        .label("has no effect")
        .secondary(lowest->value_span, "the limit that applies")
        .note("across a policy's files the smallest limit of each kind applies; a baseline's limit cannot be raised "
              "by a file that imports it (sbrun's `--limit` can, for one run)");
  }
}

}  // namespace

CheckedPolicy resolve_program(const Program& program, const SourceMap& sources, Diagnostics& diags) {
  CheckedPolicy out;
  // Each file after the files it imports, so that their exports are known
  // (the order of rules and diagnostics is settled later, by sorting).
  std::map<FileId, const LoadedFile*> by_id;
  for (const LoadedFile& file : program.files) by_id.emplace(file.file, &file);
  std::vector<const LoadedFile*> order;
  std::set<FileId> seen;
  const std::function<void(const LoadedFile&)> visit = [&](const LoadedFile& f) {
    if (!seen.insert(f.file).second) return;
    for (const auto& [span, id] : f.imports) {
      if (auto it = by_id.find(id); it != by_id.end()) visit(*it->second);
    }
    order.push_back(&f);
  };
  for (const LoadedFile& file : program.files) visit(file);
  ExportTable exports;
  for (const LoadedFile* loaded : order) {
    const LoadedFile& file = *loaded;
    if (file.summary != nullptr) {
      // Resolved when the binary was built (std_summary.hpp).
      for (const CheckedRule& r : file.summary->rules) {
        out.rules.push_back(r);
        out.rules.back().chain = file.chain;
      }
      for (const CheckedLimit& l : file.summary->limits) {
        out.limits.push_back(l);
        out.limits.back().chain = file.chain;
      }
      for (const CheckedSwitch& w : file.summary->ptrace) {
        out.ptrace.push_back(w);
        out.ptrace.back().chain = file.chain;
      }
      continue;
    }
    FileResolver(file, sources, diags, out, exports).run();
  }
  apply_carve_outs(program, sources, out, diags);
  overruled_limits(program, out, diags);
  return out;
}

}  // namespace sbpolicy::sema
