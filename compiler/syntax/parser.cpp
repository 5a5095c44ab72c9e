#include "syntax/parser.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>
#include <policy_grammar.hpp>
#include <string_view>

#include "support/text.hpp"
#include "syntax/source_check.hpp"

namespace sbpolicy::syntax {

namespace g = grammar;
namespace pegtl = tao::pegtl;

namespace {

// Thrown by the grammar's control and by actions; caught per statement.
struct SyntaxFailure {
  Code code;
  std::string message;
  std::uint32_t begin;
  std::uint32_t end;
  std::string label;
  std::string help;
  std::optional<std::uint32_t> insert_semicolon_at;
};

// Everything the actions of one statement build up. Values are kept on a
// stack; a list collects the values pushed since its `[`.
struct ParserState {
  const char* base = nullptr;  // start of the file's text
  FileId file = kNoFile;
  const ParseLimits* limits = nullptr;

  std::uint32_t last_token_end = 0;
  std::uint32_t string_start = 0;
  std::vector<ast::Value> values;
  std::vector<std::size_t> list_marks;
  std::optional<std::size_t> except_mark;
  std::optional<ast::Name> effect, operation, let_name, limit_kind;
  std::optional<ast::LimitStmt> limit;
  std::optional<std::uint32_t> version;
  Span version_span, except_keyword, export_keyword;
  std::optional<ast::UseStmt> use;
  std::optional<ast::Statement> statement;
  std::optional<ast::StringLit> test_name;
  std::vector<ast::Expectation> expects;

  std::uint32_t offset(const char* p) const { return static_cast<std::uint32_t>(p - base); }
  Span span(const char* b, const char* e) const { return Span{file, offset(b), offset(e)}; }
};

// Error messages per grammar rule: what was expected where a `must<>` failed.
template <typename Rule>
struct Expectation {
  static constexpr Code code = Code::E0102;
  static constexpr const char* message = "syntax error";
};
#define SBP_EXPECT(rule, code_, text)              \
  template <>                                      \
  struct Expectation<g::rule> {                    \
    static constexpr Code code = Code::code_;      \
    static constexpr const char* message = text;   \
  };
SBP_EXPECT(statement, E0102, "expected a statement (`allow`, `deny`, `ask`, `let`, `use`, `limit` or `version`)")
SBP_EXPECT(limit_kind, E0102, "expected what to limit after `limit` (`memory`, `processes`, `cpu_time`, `wall_time`, `file_size` or `open_files`)")
SBP_EXPECT(limit_value, E0102, "expected a value after the limit's kind: a number with its unit, such as `4G` or `30m`")
SBP_EXPECT(semi, E0102, "expected `;`")
SBP_EXPECT(version_number, E0102, "expected a version number after `version`")
SBP_EXPECT(use_target, E0102, "expected a standard library name (`std.base`) or a quoted path after `use`")
SBP_EXPECT(let_name, E0102, "expected a name after `let`")
SBP_EXPECT(kw_let, E0102, "expected `let` after `export`: only `let` names are exported")
SBP_EXPECT(equals, E0102, "expected `=` after the `let` name")
SBP_EXPECT(value, E0102, "expected a value: a string, a list `[…]` or a name")
SBP_EXPECT(list_close, E0102, "expected `,` or `]` in the list")
SBP_EXPECT(operation_word, E0102, "expected an operation (`read`, `write`, `net`, `unix` or `env`) after the effect")
SBP_EXPECT(target_list, E0102, "expected a target: a quoted pattern or a `let` name")
SBP_EXPECT(target, E0102, "expected a target after `,`: a quoted pattern or a `let` name")
SBP_EXPECT(test_name, E0102, "expected the test's name, a quoted string, after `test`")
SBP_EXPECT(block_open, E0102, "expected `{` to open the test's expectations")
SBP_EXPECT(block_close, E0102, "expected `expect EFFECT OPERATION \"subject\";` or `}` to close the test")
SBP_EXPECT(effect_word, E0102, "expected an effect (`allow`, `deny` or `ask`) after `expect`")
SBP_EXPECT(expect_subject, E0102, "expected the subject, a quoted path, host or variable name")
SBP_EXPECT(expect_by, E0102, "expected the deciding rule's place after `by`, as a quoted \"file:line\"")
SBP_EXPECT(expect_end, E0102, "expected `;` after the expectation")
SBP_EXPECT(quote_close, E0103, "unterminated string literal")
SBP_EXPECT(escape_char, E0104, "invalid escape sequence")
SBP_EXPECT(brace_open, E0104, "expected `{` after `\\u`")
SBP_EXPECT(hex_digits, E0104, "expected 1 to 6 hexadecimal digits in `\\u{…}`")
SBP_EXPECT(brace_close, E0104, "expected `}` to close `\\u{…}`")
#undef SBP_EXPECT

// A target that is not one, told what it looks like: the mistakes people
// make coming from shells, YAML and other policy languages.
void target_help(std::string_view rest, const ParserState& st, SyntaxFailure& f) {
  if (rest.empty()) return;
  const std::string op = st.operation ? st.operation->text : "read";
  const char c = rest.front();
  if (c == '\'') {
    f.label = "single quote";
    f.help = "strings use double quotes: `\"./src\"`";
  } else if (c == '[') {
    f.label = "a list";
    f.help = fmt::format("list the targets with commas (`allow {} \"./a\", \"./b\";`), or name the list with "
                         "`let` (`let dirs = [\"./a\", \"./b\"];` then `allow {} dirs;`)",
                         op, op);
  } else if (c == ',') {
    f.label = "a second operation?";
    f.help = "one operation per rule; `allow write \"./a\";` alone also grants reading it (write implies read)";
  } else if (c == '.' || c == '/' || c == '~' || c == '$' || c == '*') {
    f.label = "not quoted";
    const std::size_t n = std::min<std::size_t>(rest.find_first_of(" \t\r\n;,"), 64);
    f.help = fmt::format("patterns are quoted: `\"{}\"`", text::visible(rest.substr(0, n)));
  }
}

template <typename Rule>
struct Control : pegtl::normal<Rule> {
  template <typename Input, typename... States>
  [[noreturn]] static void raise(const Input& in, ParserState& st) {
    const std::uint32_t at = st.offset(in.current());
    SyntaxFailure f{Expectation<Rule>::code, Expectation<Rule>::message, at, at + 1, {}, {}, {}};
    if constexpr (std::is_same_v<Rule, g::semi> || std::is_same_v<Rule, g::expect_end>) {
      // Point just after the last token, where the `;` belongs, not at
      // whatever follows on the next line.
      f.begin = st.last_token_end;
      f.end = st.last_token_end;
      f.label = "expected `;` here";
      f.insert_semicolon_at = st.last_token_end;
    } else if constexpr (std::is_same_v<Rule, g::quote_close>) {
      f.begin = st.string_start;
      f.end = at;
      f.label = "this string is not closed before the end of the line";
      f.help = "strings end on the line they start on; close it with `\"`";
    } else if constexpr (std::is_same_v<Rule, g::escape_char>) {
      f.begin = at > 0 ? at - 1 : at;
      f.end = at + 1;
      f.help = "the escapes are `\\\"`, `\\\\`, `\\n`, `\\t`, `\\r` and `\\u{HEX}`";
    }
    if constexpr (std::is_same_v<Rule, g::semi>) {
      // `allow read "./a" "./b"`: a target where `;` was expected is a
      // missing comma, not a missing `;`.
      if (!in.empty() && in.peek_char() == '"' && (st.operation || st.let_name)) {
        f.message = "expected `,` between targets, or `;`";
        f.begin = at;
        f.end = at + 1;
        f.label = "another target here";
        f.help = "separate targets with commas: `\"./a\", \"./b\"`";
        f.insert_semicolon_at.reset();
      }
    } else if constexpr (std::is_same_v<Rule, g::target_list> || std::is_same_v<Rule, g::target>) {
      target_help(std::string_view(in.current(), static_cast<std::size_t>(in.end() - in.current())), st, f);
    }
    throw f;
  }
};

template <typename Rule>
struct Action : pegtl::nothing<Rule> {};

// Every token records where it ends, for "expected `;` here".
template <typename Rule>
struct TokenAction {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    st.last_token_end = st.offset(in.end());
  }
};

void check_identifier(const ParserState& st, Span span) {
  if (span.end - span.begin > st.limits->max_identifier_bytes) {
    throw SyntaxFailure{Code::E0105, fmt::format("name is {} bytes long, above the limit of {}", span.end - span.begin,
                                                 st.limits->max_identifier_bytes),
                        span.begin, span.end, {}, {}, {}};
  }
}

ast::Name make_name(ParserState& st, const char* b, const char* e) {
  const Span span = st.span(b, e);
  check_identifier(st, span);
  st.last_token_end = span.end;
  return ast::Name{std::string(b, e), span};
}

template <>
struct Action<g::quote_open> {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    st.string_start = st.offset(in.begin());
  }
};


// Decodes a string literal whose escapes the grammar has already checked.
ast::StringLit decode_string(const ParserState& st, const char* b, const char* e) {
  ast::StringLit lit;
  lit.span = st.span(b, e);
  const std::string_view raw(b + 1, static_cast<std::size_t>(e - b - 2));
  const bool has_escape = raw.find('\\') != std::string_view::npos;
  const std::uint32_t first = lit.span.begin + 1;
  for (std::size_t i = 0; i < raw.size();) {
    const auto src = static_cast<std::uint32_t>(first + i);
    const std::size_t before = lit.value.size();
    if (raw[i] != '\\') {
      lit.value += raw[i];
      ++i;
    } else {
      const char c = raw[i + 1];
      if (c == 'u') {
        const std::size_t close = raw.find('}', i);
        const std::string_view digits = raw.substr(i + 3, close - (i + 3));
        char32_t cp = 0;
        for (char d : digits) cp = cp * 16 + static_cast<char32_t>(d <= '9' ? d - '0' : (d | 0x20) - 'a' + 10);
        if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
          throw SyntaxFailure{Code::E0104,
                              fmt::format("`\\u{{{}}}` is not a valid Unicode scalar value in a string", digits),
                              src,
                              static_cast<std::uint32_t>(first + close + 1),
                              "not allowed",
                              "NUL, surrogates and values above 10FFFF cannot appear in a policy string",
                              {}};
        }
        text::append_unit(lit.value, cp);
        i = close + 1;
      } else {
        lit.value += c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
        i += 2;
      }
    }
    if (has_escape) {
      for (std::size_t k = before; k < lit.value.size(); ++k) lit.source_offsets.push_back(src);
    }
    if (lit.value.size() > st.limits->max_string_bytes) {
      throw SyntaxFailure{Code::E0105,
                          fmt::format("string is longer than the limit of {} bytes", st.limits->max_string_bytes),
                          lit.span.begin, lit.span.end, {}, {}, {}};
    }
  }
  if (has_escape) lit.source_offsets.push_back(lit.span.end - 1);
  return lit;
}

template <>
struct Action<g::string_lit> {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    st.values.push_back(ast::Value{decode_string(st, in.begin(), in.end())});
    st.last_token_end = st.offset(in.end());
  }
};

template <>
struct Action<g::name_ref> {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    st.values.push_back(ast::Value{make_name(st, in.begin(), in.end())});
  }
};

template <>
struct Action<g::list_open> {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    if (st.list_marks.size() >= st.limits->max_list_depth) {
      const std::uint32_t at = st.offset(in.begin());
      throw SyntaxFailure{Code::E0105,
                          fmt::format("lists are nested more than {} deep", st.limits->max_list_depth),
                          at, at + 1, "too deep", "lists are flattened anyway; nest fewer of them", {}};
    }
    st.list_marks.push_back(st.values.size());
    st.last_token_end = st.offset(in.end());
  }
};

template <>
struct Action<g::list_value> {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    const std::size_t mark = st.list_marks.back();
    st.list_marks.pop_back();
    ast::ListValue list;
    list.span = st.span(in.begin(), in.end());
    list.items.assign(std::make_move_iterator(st.values.begin() + static_cast<std::ptrdiff_t>(mark)),
                      std::make_move_iterator(st.values.end()));
    st.values.resize(mark);
    st.values.push_back(ast::Value{std::move(list)});
    st.last_token_end = st.offset(in.end());
  }
};

template <> struct Action<g::comma> : TokenAction<g::comma> {};
template <> struct Action<g::equals> : TokenAction<g::equals> {};
template <> struct Action<g::kw_use> : TokenAction<g::kw_use> {};
template <> struct Action<g::kw_let> : TokenAction<g::kw_let> {};

template <>
struct Action<g::kw_export> {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    st.export_keyword = st.span(in.begin(), in.end());
    st.last_token_end = st.offset(in.end());
  }
};
template <> struct Action<g::kw_version> : TokenAction<g::kw_version> {};
template <> struct Action<g::kw_limit> : TokenAction<g::kw_limit> {};

template <>
struct Action<g::limit_kind> {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    st.limit_kind = make_name(st, in.begin(), in.end());
  }
};

template <>
struct Action<g::quantity> {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    const Span span = st.span(in.begin(), in.end());
    check_identifier(st, span);
    st.limit = ast::LimitStmt{{}, std::string(in.begin(), in.end()), span, false};
    st.last_token_end = span.end;
  }
};

template <>
struct Action<g::limit_stmt> {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    ast::LimitStmt limit;
    if (st.limit) {
      limit = std::move(*st.limit);
    } else {
      // The value was a string literal.
      auto lit = std::get<ast::StringLit>(std::move(st.values.back().node));
      limit.value = std::move(lit.value);
      limit.value_span = lit.span;
      limit.quoted = true;
    }
    limit.kind = std::move(*st.limit_kind);
    st.statement = ast::Statement{std::move(limit), st.span(in.begin(), in.end())};
  }
};

template <>
struct Action<g::kw_except> {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    st.except_mark = st.values.size();
    st.except_keyword = st.span(in.begin(), in.end());
    st.last_token_end = st.offset(in.end());
  }
};

template <>
struct Action<g::version_number> {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    st.version_span = st.span(in.begin(), in.end());
    st.last_token_end = st.version_span.end;
    const std::string_view digits(in.begin(), in.size());
    std::uint32_t n = 0;
    for (char c : digits) {
      n = n * 10 + static_cast<std::uint32_t>(c - '0');
      if (n > 1000000) break;
    }
    st.version = n;
  }
};

template <>
struct Action<g::module_path> {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    ast::UseStmt use;
    use.is_stdlib = true;
    use.module = std::string(in.begin(), in.end());
    use.target_span = st.span(in.begin(), in.end());
    check_identifier(st, use.target_span);
    st.use = std::move(use);
    st.last_token_end = st.offset(in.end());
  }
};

template <>
struct Action<g::let_name> {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    st.let_name = make_name(st, in.begin(), in.end());
    if (is_reserved_word(st.let_name->text)) {
      throw SyntaxFailure{Code::E0102, fmt::format("`{}` is a reserved word and cannot be a `let` name", st.let_name->text),
                          st.let_name->span.begin, st.let_name->span.end, "reserved word", "choose another name", {}};
    }
  }
};

template <>
struct Action<g::effect_word> {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    st.effect = make_name(st, in.begin(), in.end());
  }
};

template <>
struct Action<g::switch_word> {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    st.operation = make_name(st, in.begin(), in.end());
  }
};

template <>
struct Action<g::operation_word> {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    st.operation = make_name(st, in.begin(), in.end());
  }
};

template <>
struct Action<g::version_stmt> {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    st.statement = ast::Statement{ast::VersionStmt{*st.version, st.version_span}, st.span(in.begin(), in.end())};
  }
};

template <>
struct Action<g::use_stmt> {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    const std::size_t split = st.except_mark.value_or(st.values.size());
    if (!st.use) {
      // The target was a string literal: the first value.
      ast::UseStmt use;
      use.path = std::get<ast::StringLit>(std::move(st.values.front().node));
      use.target_span = use.path.span;
      st.use = std::move(use);
    }
    for (std::size_t i = split; i < st.values.size(); ++i) st.use->excepts.push_back(std::move(st.values[i]));
    st.use->except_keyword = st.except_keyword;
    st.statement = ast::Statement{std::move(*st.use), st.span(in.begin(), in.end())};
  }
};

template <>
struct Action<g::let_stmt> {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    st.statement = ast::Statement{ast::LetStmt{std::move(*st.let_name), std::move(st.values.back()),
                                               st.export_keyword.valid(), st.export_keyword},
                                  st.span(in.begin(), in.end())};
  }
};

template <>
struct Action<g::rule_stmt> {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    ast::RuleStmt rule{std::move(*st.effect), std::move(*st.operation), {}, {}, st.except_keyword};
    const std::size_t split = st.except_mark.value_or(st.values.size());
    for (std::size_t i = 0; i < st.values.size(); ++i) {
      (i < split ? rule.targets : rule.excepts).push_back(std::move(st.values[i]));
    }
    st.statement = ast::Statement{std::move(rule), st.span(in.begin(), in.end())};
  }
};

template <> struct Action<g::semi> : TokenAction<g::semi> {};
template <> struct Action<g::kw_test> : TokenAction<g::kw_test> {};
template <> struct Action<g::kw_expect> : TokenAction<g::kw_expect> {};
template <> struct Action<g::kw_by> : TokenAction<g::kw_by> {};
template <> struct Action<g::block_open> : TokenAction<g::block_open> {};
template <> struct Action<g::expect_end> : TokenAction<g::expect_end> {};

template <>
struct Action<g::test_name> {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    st.test_name = decode_string(st, in.begin(), in.end());
    st.last_token_end = st.offset(in.end());
  }
};

// The subject and the place: string literals, kept on `values`.
template <>
struct Action<g::expect_subject> : Action<g::string_lit> {};
template <>
struct Action<g::expect_by> : Action<g::string_lit> {};

template <>
struct Action<g::expect_stmt> {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    ast::Expectation e;
    e.effect = std::move(*st.effect);
    e.operation = std::move(*st.operation);
    e.subject = std::get<ast::StringLit>(std::move(st.values.front().node));
    if (st.values.size() > 1) e.by = std::get<ast::StringLit>(std::move(st.values[1].node));
    e.span = st.span(in.begin(), in.end());
    st.values.clear();
    st.effect.reset();
    st.operation.reset();
    st.expects.push_back(std::move(e));
  }
};

template <>
struct Action<g::test_stmt> {
  template <typename Input>
  static void apply(const Input& in, ParserState& st) {
    st.last_token_end = st.offset(in.end());
    st.statement = ast::Statement{ast::TestStmt{std::move(*st.test_name), std::move(st.expects)},
                                  st.span(in.begin(), in.end())};
  }
};

constexpr std::array<std::string_view, 18> kReservedWords = {
    "allow", "deny", "ask", "read", "write", "net", "unix", "env", "exec", "listen", "git", "ptrace", "let", "use",
    "version", "except", "limit", "export"};

// Where to resume after an error at `failure` in a statement that began at
// `start`: after the next `;` outside strings and comments, or at the start
// of a later line that begins with a statement keyword, whichever is first.
std::size_t recovery_point(std::string_view text, std::size_t start, std::size_t failure) {
  auto line_starts_statement = [&](std::size_t at) {
    std::size_t k = at;
    while (k < text.size() && (text[k] == ' ' || text[k] == '\t')) ++k;
    std::size_t e = k;
    while (e < text.size() && (std::isalnum(static_cast<unsigned char>(text[e])) || text[e] == '_')) ++e;
    const std::string_view word = text.substr(k, e - k);
    return word == "allow" || word == "deny" || word == "ask" || word == "let" || word == "use" || word == "version" ||
           word == "limit" || word == "export" || word == "test";
  };
  // An error in a test block: resume after the block's `}`, not inside it
  // at the next expectation's `;`.
  const bool in_test = text.substr(start, 4) == "test" &&
                       (start + 4 >= text.size() || !(std::isalnum(static_cast<unsigned char>(text[start + 4])) ||
                                                     text[start + 4] == '_'));
  std::size_t i = std::max(failure, start + 1);
  // If the failure is inside a string on this line, step out of the string by
  // rescanning this statement from its start.
  bool in_string = false;
  for (std::size_t k = start; k < i && k < text.size(); ++k) {
    const char c = text[k];
    if (in_string) {
      if (c == '\\') ++k;
      else if (c == '"' || c == '\n') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '#') {
      while (k < text.size() && text[k] != '\n') ++k;
    }
  }
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
        continue;
      }
      if (c == '"') in_string = false;
      if (c != '\n') continue;
      // A string never spans lines: the newline ends it, and may start a statement.
      in_string = false;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
      if (i < text.size() && i + 1 > failure && line_starts_statement(i + 1)) return i + 1;
    } else if (c == ';' && !in_test) {
      return i + 1;
    } else if (c == '}' && in_test) {
      return i + 1;
    } else if (c == '\n' && line_starts_statement(i + 1)) {
      return i + 1;
    }
  }
  return text.size();
}

}  // namespace

bool is_reserved_word(std::string_view word) {
  return std::find(kReservedWords.begin(), kReservedWords.end(), word) != kReservedWords.end();
}

ast::Module parse_module(const SourceFile& file, Diagnostics& diags, const ParseLimits& limits) {
  ast::Module module;
  module.file = file.id();
  if (!check_source_text(file, diags, limits.max_file_bytes, limits.max_errors)) return module;

  const std::string_view text = file.text();
  std::size_t pos = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  std::size_t errors = 0;
  while (pos < text.size()) {
    ParserState st;
    st.base = text.data();
    st.file = file.id();
    st.limits = &limits;
    st.last_token_end = static_cast<std::uint32_t>(pos);
    pegtl::memory_input<pegtl::tracking_mode::lazy> in(text.data() + pos, text.data() + text.size(), file.name());
    pegtl::parse<g::sep>(in);
    const std::size_t start = static_cast<std::size_t>(in.current() - text.data());
    if (in.empty()) break;
    try {
      pegtl::parse<pegtl::must<g::statement>, Action, Control>(in, st);
      if (st.statement) module.statements.push_back(std::move(*st.statement));
      pos = static_cast<std::size_t>(in.current() - text.data());
    } catch (const SyntaxFailure& f) {
      if (st.let_name) module.unparsed_lets.push_back(st.let_name->text);
      auto d = diags.report(f.code, Span{file.id(), f.begin, std::max(f.end, f.begin)}, f.message);
      if (!f.label.empty()) d.label(f.label);
      if (!f.help.empty()) d.help(f.help);
      if (f.insert_semicolon_at) d.fixit(Span{file.id(), *f.insert_semicolon_at, *f.insert_semicolon_at}, ";");
      pos = recovery_point(text, start, f.begin);
      if (++errors >= limits.max_errors) {
        diags.report(Code::E0105, Span{file.id(), f.begin, f.begin}, "too many syntax errors in this file; stopping");
        break;
      }
    }
  }
  return module;
}

}  // namespace sbpolicy::syntax
