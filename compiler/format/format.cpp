#include "format/format.hpp"

#include <fmt/format.h>

#include <cctype>

#include <algorithm>
#include <optional>
#include <vector>

#include "syntax/ast_json.hpp"
#include "syntax/parser.hpp"

namespace sbpolicy::format {

namespace {

struct Comment {
  std::string text;         // from `#`, without the line end
  bool blank_before = false;  // a blank line came before it
};

struct Token {
  enum Kind { Word, String, Punct } kind;
  std::string text;               // as written (strings with their quotes and escapes)
  std::vector<Comment> leading;   // comments on their own lines before it
  std::string trailing;           // a comment after it on its line
  bool newline_before = false;    // a line break came before it (or its comments)
  bool blank_before = false;      // a blank line came before it (or its first comment)
  bool blank_after_comments = false;  // a blank line between its leading comments and it
};

struct Lexed {
  std::vector<Token> tokens;
  std::vector<Comment> tail;  // comments after the last token
  bool ok = true;
};

Lexed lex(std::string_view text) {
  Lexed out;
  std::vector<Comment> pending;
  std::size_t newlines = 0;
  bool blank_pending = false;
  std::size_t i = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  const auto word_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
  };
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n') {
      ++newlines;
      if (newlines >= 2) blank_pending = true;
      ++i;
    } else if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
    } else if (c == '#') {
      std::size_t end = text.find('\n', i);
      if (end == std::string_view::npos) end = text.size();
      std::string body(text.substr(i, end - i));
      while (!body.empty() && (body.back() == '\r' || body.back() == ' ' || body.back() == '\t')) body.pop_back();
      if (newlines == 0 && !out.tokens.empty() && pending.empty() && out.tokens.back().trailing.empty()) {
        out.tokens.back().trailing = body;
      } else {
        pending.push_back({body, blank_pending && !(out.tokens.empty() && pending.empty())});
        blank_pending = false;
      }
      newlines = 0;
      i = end;
    } else {
      Token t{Token::Punct, "", std::move(pending), "", false, false, false};
      t.newline_before = newlines > 0 || !t.leading.empty();
      t.blank_after_comments = !t.leading.empty() && blank_pending;
      t.blank_before = (t.leading.empty() ? blank_pending : t.leading.front().blank_before) && !out.tokens.empty();
      pending.clear();
      blank_pending = false;
      newlines = 0;
      if (c == '"') {
        std::size_t j = i + 1;
        while (j < text.size() && text[j] != '"' && text[j] != '\n') j += text[j] == '\\' ? 2 : 1;
        if (j >= text.size() || text[j] != '"') {
          out.ok = false;
          return out;
        }
        t.kind = Token::String;
        t.text = std::string(text.substr(i, j + 1 - i));
        i = j + 1;
      } else if (word_char(c)) {
        std::size_t j = i;
        while (j < text.size() && word_char(text[j])) ++j;
        t.kind = Token::Word;
        t.text = std::string(text.substr(i, j - i));
        i = j;
      } else if (std::string_view(";,=[]{}").find(c) != std::string_view::npos) {
        t.kind = Token::Punct;
        t.text = std::string(1, c);
        ++i;
      } else {
        out.ok = false;
        return out;
      }
      out.tokens.push_back(std::move(t));
    }
  }
  for (auto& c : pending) out.tail.push_back(std::move(c));
  return out;
}

class Printer {
 public:
  explicit Printer(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  std::optional<std::string> run(const std::vector<Comment>& tail) {
    bool first = true;
    while (at_ < t_.size()) {
      const std::size_t begin = at_;
      const std::size_t end = statement_end(begin);
      if (end == 0) return std::nullopt;
      if (!first && t_[begin].blank_before) out_ += "\n";
      first = false;
      if (!statement(begin, end)) return std::nullopt;
      at_ = end;
    }
    for (std::size_t k = 0; k < tail.size(); ++k) {
      if (!out_.empty() && tail[k].blank_before) out_ += "\n";
      out_ += tail[k].text + "\n";
    }
    return out_;
  }

 private:
  // One past the statement that starts at `begin`: its `;`, or a test
  // block's `}`; 0 when the tokens do not close one.
  std::size_t statement_end(std::size_t begin) const {
    if (t_[begin].text == "test") {
      for (std::size_t k = begin; k < t_.size(); ++k) {
        if (t_[k].kind == Token::Punct && t_[k].text == "}") return k + 1;
      }
      return 0;
    }
    for (std::size_t k = begin; k < t_.size(); ++k) {
      if (t_[k].kind == Token::Punct && t_[k].text == ";") return k + 1;
    }
    return t_.size();  // the last statement, without its `;` (the parser allows it only there)
  }

  void comments(const std::vector<Comment>& list, const std::string& indent) {
    for (std::size_t k = 0; k < list.size(); ++k) {
      if (k > 0 && list[k].blank_before) out_ += "\n";
      out_ += indent + list[k].text + "\n";
    }
  }

  // The comments inside the tokens [b, e) (not the first's leading ones,
  // not the last's trailing one), on their own lines, in order: for a
  // statement that is printed on one line.
  void inner_comments(std::size_t b, std::size_t e) {
    for (std::size_t k = b; k < e; ++k) {
      if (k > b) comments(t_[k].leading, "");
      if (!t_[k].trailing.empty() && k + 1 < e) out_ += t_[k].trailing + "\n";
    }
  }

  static std::string with_comment(std::string line, const std::string& comment) {
    if (!comment.empty()) line += "  " + comment;
    return line + "\n";
  }

  // Any comment on the tokens [b, e) other than the first's leading ones.
  bool has_comments(std::size_t b, std::size_t e) const {
    for (std::size_t k = b; k < e; ++k) {
      if ((k > b && !t_[k].leading.empty()) || (!t_[k].trailing.empty() && k + 1 < e)) return true;
    }
    return false;
  }

  bool multiline(std::size_t b, std::size_t e) const {
    for (std::size_t k = b + 1; k < e; ++k) {
      if (t_[k].newline_before) return true;
    }
    return false;
  }

  // Tokens on one line: single spaces, none before `,` `;` `]` or after `[`.
  std::string flat(std::size_t b, std::size_t e) const {
    std::string s;
    for (std::size_t k = b; k < e; ++k) {
      const std::string& x = t_[k].text;
      const bool tight = x == "," || x == ";" || x == "]" || (k > b && t_[k - 1].text == "[");
      if (k > b && !tight) s += ' ';
      s += x;
    }
    return s;
  }

  bool statement(std::size_t b, std::size_t e) {
    comments(t_[b].leading, "");
    if (t_[b].blank_after_comments) out_ += "\n";
    const bool closed = t_[e - 1].text == ";" || t_[e - 1].text == "}";
    const std::string& w = t_[b].text;
    if (w == "test") return test(b, e);
    if (w == "let" || w == "export") return let(b, e, closed);
    if (w == "version" || w == "limit" || (e - b <= 3 && e > b + 1 && t_[b + 1].text == "ptrace")) {
      inner_comments(b, e);
      out_ += with_comment(flat(b, e) + (closed ? "" : ";"), t_[e - 1].trailing);
      return true;
    }
    return listed(b, e, closed);
  }

  // A statement whose words are followed by items: `EFFECT OP a, b except c;`
  // or `use X except a, b;`.
  bool listed(std::size_t b, std::size_t e, bool closed) {
    const std::size_t head_end = std::min(b + 2, e);
    const std::size_t body_end = closed ? e - 1 : e;
    std::vector<std::vector<std::size_t>> sections(1);
    std::size_t except_at = 0;
    for (std::size_t k = head_end; k < body_end; ++k) {
      if (t_[k].kind == Token::Word && t_[k].text == "except") {
        except_at = k;
        sections.emplace_back();
      } else if (t_[k].text != ",") {
        if (t_[k].kind == Token::Punct) return false;  // not a list of single items
        sections.back().push_back(k);
      }
    }
    std::string one = flat(b, body_end) + ";";
    const bool no_items = sections.size() == 1 && sections.front().empty();  // `use std.base;`, `allow ptrace;`
    if (no_items) {
      inner_comments(b, e);
      out_ += with_comment(one, t_[e - 1].trailing);
      return true;
    }
    if (!multiline(b, e) && !has_comments(b, e) && one.size() <= kWidth) {
      out_ += with_comment(one, t_[e - 1].trailing);
      return true;
    }
    // Broken: the words (comments among them go before), then one item per line.
    inner_comments(b, head_end);
    out_ += with_comment(flat(b, head_end), t_[head_end - 1].trailing);
    const std::size_t last_section = sections.size() - 1;
    for (std::size_t s = 0; s < sections.size(); ++s) {
      if (s > 0) {
        comments(t_[except_at].leading, "");
        out_ += with_comment("except", t_[except_at].trailing);
      }
      for (std::size_t i = 0; i < sections[s].size(); ++i) {
        const std::size_t k = sections[s][i];
        comments(t_[k].leading, "  ");
        const bool last = s == last_section && i + 1 == sections[s].size();
        // The item's comment, or the comma's (or the `;`'s), ends this line;
        // when both have one, the second follows on a line of its own, as
        // do comments on their own lines before the comma.
        const std::size_t after = k + 1;
        const bool punct = after < e && (t_[after].text == "," || t_[after].text == ";");
        std::string comment = t_[k].trailing, later;
        if (punct && !t_[after].trailing.empty()) {
          // On the item's line only when nothing came between.
          if (comment.empty() && t_[after].leading.empty()) comment = t_[after].trailing;
          else later = t_[after].trailing;
        }
        const bool next_is_except = after < e && t_[after].text == "except";
        out_ += with_comment("  " + t_[k].text + (last ? ";" : next_is_except ? "" : ","), comment);
        if (punct) {
          // Source order: the comma's own-line comments came before its
          // trailing one. After the `;` they are the next statement's, and
          // sit where it starts (so formatting again moves nothing).
          const std::string indent = t_[after].text == ";" ? "" : "  ";
          comments(t_[after].leading, indent);
          if (!later.empty()) out_ += indent + later + "\n";
        }
      }
    }
    // `use M except …` has no items before its `except`.
    return !sections.back().empty() && (!sections.front().empty() || t_[b].text == "use");
  }

  // `let NAME = VALUE;` with VALUE a string, a name or a list (nested).
  bool let(std::size_t b, std::size_t e, bool closed) {
    std::size_t eq = b;
    while (eq < e && t_[eq].text != "=") ++eq;
    if (eq + 1 >= e) return false;
    const std::size_t value_end = closed ? e - 1 : e;
    std::string line = flat(b, eq + 1) + " ";
    inner_comments(b, eq + 2);  // `let x =` and the value's first token hold no comment on the line
    std::size_t k = eq + 1;
    if (!value(k, value_end, line, "")) return false;
    if (k != value_end) return false;
    // The value's last token's comment, when the `;` is on a later line.
    // In source order: the value's last token's comment, comments on their
    // own lines before the `;`, the `;`'s comment. The first that exists
    // ends the statement's line; the others follow on lines of their own,
    // at the statement's indent (the next statement's, formatted again).
    std::vector<std::string> after;
    if (!t_[k - 1].trailing.empty()) after.push_back(t_[k - 1].trailing);
    if (k < e) {
      for (const Comment& c : t_[k].leading) after.push_back(c.text);
    }
    if (k < e && !t_[e - 1].trailing.empty()) after.push_back(t_[e - 1].trailing);
    out_ += with_comment(line + ";", after.empty() ? std::string() : after.front());
    for (std::size_t i = 1; i < after.size(); ++i) out_ += after[i] + "\n";
    return true;
  }

  // Appends the value at `k` to `line` (flushing whole lines to out_ when
  // it breaks); `k` moves past it.
  bool value(std::size_t& k, std::size_t end, std::string& line, const std::string& indent) {
    if (k >= end) return false;
    if (t_[k].text != "[") {
      if (t_[k].kind == Token::Punct) return false;
      line += t_[k].text;
      ++k;
      return true;
    }
    // A list: find its end.
    std::size_t depth = 0, close = k;
    for (; close < end; ++close) {
      if (t_[close].text == "[") ++depth;
      if (t_[close].text == "]" && --depth == 0) break;
    }
    if (close >= end) return false;
    const std::string one = flat(k, close + 1);
    if (!multiline(k, close + 1) && !has_comments(k, close + 1) && line.size() + one.size() + 1 <= kWidth) {
      line += one;
      k = close + 1;
      return true;
    }
    out_ += with_comment(line + "[", t_[k].trailing);
    line.clear();
    std::size_t i = k + 1;
    while (i < close) {
      if (t_[i].text == ",") return false;
      comments(t_[i].leading, indent + "  ");
      std::string item = indent + "  ";
      if (!value(i, close, item, indent + "  ")) return false;
      // As for a rule's items: the item's comment, then the comma's own
      // lines, then the comma's comment, in source order.
      std::string comment = t_[i - 1].trailing, later;
      const Token* comma = i < close && t_[i].text == "," ? &t_[i] : nullptr;
      if (comma != nullptr && !comma->trailing.empty()) {
        if (comment.empty() && comma->leading.empty()) comment = comma->trailing;
        else later = comma->trailing;
      }
      out_ += with_comment(item + ",", comment);
      if (comma != nullptr) {
        comments(comma->leading, indent + "  ");
        if (!later.empty()) out_ += indent + "  " + later + "\n";
        ++i;
      }
    }
    comments(t_[close].leading, indent + "  ");
    line = indent + "]";
    k = close + 1;
    return true;
  }

  // A test block: `test "NAME" {`, one expectation per line, `}`.
  bool test(std::size_t b, std::size_t e) {
    if (e - b < 3 || t_[b + 2].text != "{") return false;
    const std::size_t close = e - 1;
    // Comments among `test "name" {` go before it, in order.
    for (std::size_t k = b; k < b + 2; ++k) {
      if (k > b) comments(t_[k].leading, "");
      if (!t_[k].trailing.empty()) out_ += t_[k].trailing + "\n";
    }
    comments(t_[b + 2].leading, "");
    if (close == b + 3 && t_[close].leading.empty() && t_[b + 2].trailing.empty()) {
      out_ += with_comment(flat(b, b + 3) + "}", t_[close].trailing);
      return true;
    }
    out_ += with_comment(flat(b, b + 3), t_[b + 2].trailing);
    std::size_t k = b + 3;
    bool first = true;
    while (k < close) {
      std::size_t semi = k;
      while (semi < close && t_[semi].text != ";") ++semi;
      if (semi == close) return false;
      if (!first && t_[k].blank_before) out_ += "\n";
      first = false;
      comments(t_[k].leading, "  ");
      for (std::size_t j = k + 1; j <= semi; ++j) {
        if (!t_[j].leading.empty() || (!t_[j].trailing.empty() && j < semi)) return false;
      }
      out_ += with_comment("  " + flat(k, semi + 1), t_[semi].trailing);
      k = semi + 1;
    }
    comments(t_[close].leading, "  ");
    out_ += with_comment("}", t_[close].trailing);
    return true;
  }

  std::vector<Token> t_;
  std::size_t at_ = 0;
  std::string out_;
};

// The syntax tree without positions: what must not change.
nlohmann::json shape(const std::string& name, const std::string& text, bool& ok) {
  SourceMap sources;
  const SourceFile& f = sources.add(name, ".", text);
  Diagnostics diags;
  const ast::Module m = syntax::parse_module(f, diags);
  ok = !diags.has_errors();
  nlohmann::json j = syntax::module_to_json(m, sources);
  syntax::erase_keys(j, {"at"});  // positions
  return j;
}

// Every comment of `text`, in order: none may be lost.
std::vector<std::string> comments_of(const std::string& text) {
  std::vector<std::string> out;
  const Lexed l = lex(text);
  for (const Token& t : l.tokens) {
    for (const Comment& c : t.leading) out.push_back(c.text);
    if (!t.trailing.empty()) out.push_back(t.trailing);
  }
  for (const Comment& c : l.tail) out.push_back(c.text);
  return out;
}

}  // namespace

std::variant<std::string, Refused> format_policy(const std::string& name, const std::string& text) {
  bool ok = false;
  const nlohmann::json before = shape(name, text, ok);
  if (!ok) return Refused{fmt::format("{} has syntax errors (sbc check shows them); it was not formatted", name)};
  Lexed lexed = lex(text);
  if (!lexed.ok) return Refused{fmt::format("{}: internal error: the formatter cannot read it", name)};
  Printer p(std::move(lexed.tokens));
  auto out = p.run(lexed.tail);
  if (!out) return Refused{fmt::format("{}: the formatter does not know this layout; the file is left as it is", name)};
  bool out_ok = false;
  const nlohmann::json after = shape(name, *out, out_ok);
  if (!out_ok || after != before || comments_of(*out) != comments_of(text)) {
    return Refused{fmt::format("{}: internal error: the formatted text would differ in meaning or lose a comment; "
                               "the file is left as it is",
                               name)};
  }
  return std::move(*out);
}

}  // namespace sbpolicy::format
