#include "sbpl/reader.hpp"

#include <fmt/format.h>

#include <cctype>
#include <optional>

namespace sbpolicy::sbpl {

std::string ReadError::text() const { return fmt::format("{}:{}: {}", line, column, message); }

namespace {

constexpr std::size_t kMaxDepth = 256;

class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  std::variant<std::vector<Datum>, ReadError> all() {
    std::vector<Datum> forms;
    for (;;) {
      skip_space();
      if (error_) return *error_;
      if (at_end()) return forms;
      if (peek() == ')') return fail("unexpected `)`");
      Datum d = datum(0);
      if (error_) return *error_;
      forms.push_back(std::move(d));
    }
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek(std::size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }
  char take() {
    const char c = text_[pos_++];
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else {
      ++column_;
    }
    return c;
  }
  ReadError fail(std::string message) {
    error_ = ReadError{line_, column_, std::move(message)};
    return *error_;
  }
  void fail_at(std::uint32_t line, std::uint32_t column, std::string message) {
    if (!error_) error_ = ReadError{line, column, std::move(message)};
  }

  void skip_space() {
    while (!at_end()) {
      const char c = peek();
      if (c == ';') {
        while (!at_end() && peek() != '\n') take();
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        take();
      } else {
        return;
      }
    }
  }

  static bool delimiter(char c) {
    return c == '\0' || c == '(' || c == ')' || c == '"' || c == ';' || c == ' ' || c == '\t' || c == '\n' ||
           c == '\r' || c == '\f';
  }

  Datum datum(std::size_t depth) {
    Datum d;
    d.line = line_;
    d.column = column_;
    if (depth > kMaxDepth) {
      fail("lists nested too deeply");
      return d;
    }
    const char c = peek();
    if (c == '(') {
      take();
      d.kind = Datum::Kind::List;
      for (;;) {
        skip_space();
        if (error_) return d;
        if (at_end()) {
          fail_at(d.line, d.column, "this `(` is not closed");
          return d;
        }
        if (peek() == ')') {
          take();
          return d;
        }
        d.items.push_back(datum(depth + 1));
        if (error_) return d;
      }
    }
    if (c == '"') {
      take();
      d.kind = Datum::Kind::String;
      d.text = cooked(d);
      return d;
    }
    if (c == '#' && peek(1) == '"') {
      take();
      take();
      d.kind = Datum::Kind::String;
      d.raw = true;
      while (!at_end() && peek() != '"') d.text += take();
      if (at_end()) {
        fail_at(d.line, d.column, "this raw string `#\"` is not closed");
        return d;
      }
      take();
      return d;
    }
    if (c == '\'' || c == '`' || c == ',') {
      fail("quotation is not part of the SBPL this evaluator reads");
      return d;
    }
    // An atom: up to a delimiter.
    std::string atom;
    while (!at_end() && !delimiter(peek())) atom += take();
    if (atom.empty()) {
      fail(fmt::format("unexpected character `{}`", c));
      return d;
    }
    if (atom == "#t" || atom == "#f") {
      d.kind = Datum::Kind::Boolean;
      d.number = atom == "#t" ? 1 : 0;
      return d;
    }
    if (atom.size() > 2 && atom[0] == '#' && (atom[1] == 'o' || atom[1] == 'x' || atom[1] == 'd')) {
      const int base = atom[1] == 'o' ? 8 : atom[1] == 'x' ? 16 : 10;
      if (auto n = number(atom.substr(2), base)) {
        d.kind = Datum::Kind::Integer;
        d.number = *n;
        return d;
      }
      fail_at(d.line, d.column, fmt::format("`{}` is not a number", atom));
      return d;
    }
    if (atom[0] == '#') {
      fail_at(d.line, d.column, fmt::format("`{}` is not a datum this evaluator reads", atom));
      return d;
    }
    const bool digits = std::isdigit(static_cast<unsigned char>(atom[0])) ||
                        ((atom[0] == '-' || atom[0] == '+') && atom.size() > 1 &&
                         std::isdigit(static_cast<unsigned char>(atom[1])));
    if (digits) {
      const bool negative = atom[0] == '-';
      const std::string body = atom[0] == '-' || atom[0] == '+' ? atom.substr(1) : atom;
      if (auto n = number(body, 10)) {
        d.kind = Datum::Kind::Integer;
        d.number = negative ? -*n : *n;
        return d;
      }
      fail_at(d.line, d.column, fmt::format("`{}` is not a number", atom));
      return d;
    }
    d.kind = Datum::Kind::Symbol;
    d.text = std::move(atom);
    return d;
  }

  static std::optional<std::int64_t> number(std::string_view digits, int base) {
    if (digits.empty() || digits.size() > 18) return std::nullopt;
    std::int64_t n = 0;
    for (char ch : digits) {
      int v = -1;
      if (ch >= '0' && ch <= '9') v = ch - '0';
      else if (ch >= 'a' && ch <= 'f') v = ch - 'a' + 10;
      else if (ch >= 'A' && ch <= 'F') v = ch - 'A' + 10;
      if (v < 0 || v >= base) return std::nullopt;
      n = n * base + v;
    }
    return n;
  }

  // A cooked string after its opening quote, TinyScheme's way.
  std::string cooked(const Datum& d) {
    std::string out;
    for (;;) {
      if (at_end()) {
        fail_at(d.line, d.column, "this string is not closed");
        return out;
      }
      const char c = take();
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_end()) continue;
      const char e = take();
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'x': {
          int v = 0, n = 0;
          while (n < 2 && std::isxdigit(static_cast<unsigned char>(peek()))) {
            const char h = take();
            v = v * 16 + (std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (h | 0x20) - 'a' + 10);
            ++n;
          }
          if (n == 0) {
            fail("`\\x` without hexadecimal digits");
            return out;
          }
          out += static_cast<char>(v);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            int v = e - '0', n = 1;
            while (n < 3 && peek() >= '0' && peek() <= '7') {
              v = v * 8 + (take() - '0');
              ++n;
            }
            out += static_cast<char>(v & 0xFF);
          } else {
            out += e;  // `\"`, `\\`, and any other `\c`: c
          }
      }
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::uint32_t line_ = 1, column_ = 1;
  std::optional<ReadError> error_;
};

}  // namespace

std::variant<std::vector<Datum>, ReadError> read(std::string_view text) { return Reader(text).all(); }

}  // namespace sbpolicy::sbpl
