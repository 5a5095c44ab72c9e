#include "sema/std_summary.hpp"

#include <cstring>

#include "support/render.hpp"
#include "syntax/parser.hpp"

namespace sbpolicy::sema {

namespace {

// Little-endian fixed-width integers and length-prefixed strings.
class Writer {
 public:
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  void span(const Span& s) {
    u8(s.valid() ? 1 : 0);
    u32(s.begin);
    u32(s.end);
  }
  void pattern(const Pattern& p) {
    u8(static_cast<std::uint8_t>(p.index()));
    if (const auto* path = std::get_if<PathPattern>(&p)) {
      u8(static_cast<std::uint8_t>(path->anchor));
      u32(static_cast<std::uint32_t>(path->components.size()));
      for (const auto& c : path->components) str(c);
      u8(path->spelled_as_directory ? 1 : 0);
    } else if (const auto* host = std::get_if<HostPattern>(&p)) {
      u8(static_cast<std::uint8_t>(host->kind));
      str(host->name);
      u8(host->net.family);
      for (std::uint8_t b : host->net.bytes) u8(b);
      u8(host->net.prefix);
      u8(host->port_given ? 1 : 0);
      u32(static_cast<std::uint32_t>(host->ports.size()));
      for (const PortRange& r : host->ports) {
        u32(r.lo);
        u32(r.hi);
      }
    } else {
      str(std::get<EnvPattern>(p).glob);
    }
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads what Writer wrote; any read past the end, or a value out of range,
// fails the whole decoding.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return ok_ && at_ == in_.size(); }
  std::uint8_t u8() {
    if (at_ >= in_.size()) return fail(), 0;
    return static_cast<std::uint8_t>(in_[at_++]);
  }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= std::uint32_t{u8()} << (8 * i);
    return v;
  }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t{u8()} << (8 * i);
    return v;
  }
  std::string str() {
    const std::uint32_t n = u32();
    if (!ok_ || n > in_.size() - at_) return fail(), std::string();
    std::string s(in_.substr(at_, n));
    at_ += n;
    return s;
  }
  // The file of a valid span is set by the loader.
  Span span() {
    Span s;
    const bool valid = u8() != 0;
    s.begin = u32();
    s.end = u32();
    s.file = valid ? FileId{0} : kNoFile;
    return s;
  }
  // A count of items that each take at least one byte.
  std::uint32_t count() {
    const std::uint32_t n = u32();
    if (n > in_.size() - std::min(at_, in_.size())) fail();
    return ok_ ? n : 0;
  }
  Pattern pattern() {
    switch (u8()) {
      case 0: {
        PathPattern p;
        const std::uint8_t anchor = u8();
        if (anchor >= kPathAnchorCount) fail();
        p.anchor = static_cast<PathAnchor>(anchor);
        for (std::uint32_t n = count(); n > 0 && ok_; --n) p.components.push_back(str());
        const std::uint8_t directory = u8();
        if (directory > 1) fail();
        p.spelled_as_directory = directory == 1;
        return p;
      }
      case 1: {
        HostPattern h;
        const std::uint8_t kind = u8();
        if (kind > static_cast<std::uint8_t>(HostPattern::Kind::Address)) fail();
        h.kind = static_cast<HostPattern::Kind>(kind);
        h.name = str();
        h.net.family = u8();
        for (std::uint8_t& b : h.net.bytes) b = u8();
        h.net.prefix = u8();
        const std::uint8_t given = u8();
        if (given > 1) fail();
        h.port_given = given == 1;
        for (std::uint32_t n = count(); n > 0 && ok_; --n) {
          const std::uint32_t lo = u32(), hi = u32();
          if (lo > 65535 || hi > 65535) fail();
          h.ports.push_back({static_cast<std::uint16_t>(lo), static_cast<std::uint16_t>(hi)});
        }
        return h;
      }
      case 2: return EnvPattern{str()};
      default: fail(); return EnvPattern{};
    }
  }

 private:
  void fail() { ok_ = false; }
  std::string_view in_;
  std::size_t at_ = 0;
  bool ok_ = true;
};

constexpr std::uint32_t kMagic = 0x53425332;  // "SBS2"

}  // namespace

std::uint64_t text_hash(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string encode_summary(const StdSummary& summary) {
  Writer w;
  w.u32(kMagic);
  w.u64(summary.text_hash);
  w.u32(static_cast<std::uint32_t>(summary.uses.size()));
  for (const auto& u : summary.uses) {
    w.str(u.module);
    w.u32(u.begin);
    w.u32(u.end);
  }
  w.u32(static_cast<std::uint32_t>(summary.rules.size()));
  for (const CheckedRule& r : summary.rules) {
    w.u8(static_cast<std::uint8_t>(r.effect));
    w.u8(static_cast<std::uint8_t>(r.operation));
    w.pattern(r.pattern);
    w.u32(static_cast<std::uint32_t>(r.excepts.size()));
    for (const Pattern& e : r.excepts) w.pattern(e);
    w.span(r.statement);
    w.span(r.target);
    w.span(r.reference);
  }
  w.u32(static_cast<std::uint32_t>(summary.limits.size()));
  for (const CheckedLimit& l : summary.limits) {
    w.u8(static_cast<std::uint8_t>(l.kind));
    w.u64(l.value);
    w.span(l.statement);
    w.span(l.value_span);
  }
  w.u32(static_cast<std::uint32_t>(summary.ptrace.size()));
  for (const CheckedSwitch& s : summary.ptrace) {
    w.u8(static_cast<std::uint8_t>(s.effect));
    w.span(s.statement);
  }
  return w.take();
}

bool decode_summary(std::string_view bytes, StdSummary& out) {
  Reader r(bytes);
  if (r.u32() != kMagic) return false;
  out.text_hash = r.u64();
  out.uses.clear();
  for (std::uint32_t n = r.count(); n > 0 && r.ok(); --n) {
    StdSummary::Use u;
    u.module = r.str();
    u.begin = r.u32();
    u.end = r.u32();
    out.uses.push_back(std::move(u));
  }
  out.rules.clear();
  const std::uint32_t rules = r.count();
  out.rules.reserve(rules);
  for (std::uint32_t n = rules; n > 0 && r.ok(); --n) {
    CheckedRule c;
    const std::uint8_t effect = r.u8(), operation = r.u8();
    if (effect > static_cast<std::uint8_t>(Effect::Ask) || operation > static_cast<std::uint8_t>(Operation::Env)) {
      return false;
    }
    c.effect = static_cast<Effect>(effect);
    c.operation = static_cast<Operation>(operation);
    c.pattern = r.pattern();
    for (std::uint32_t k = r.count(); k > 0 && r.ok(); --k) c.excepts.push_back(r.pattern());
    c.file = 0;
    c.statement = r.span();
    c.target = r.span();
    c.reference = r.span();
    out.rules.push_back(std::move(c));
  }
  out.limits.clear();
  for (std::uint32_t n = r.count(); n > 0 && r.ok(); --n) {
    CheckedLimit l;
    const std::uint8_t kind = r.u8();
    if (kind > static_cast<std::uint8_t>(LimitKind::OpenFiles)) return false;
    l.kind = static_cast<LimitKind>(kind);
    l.value = r.u64();
    l.file = 0;
    l.statement = r.span();
    l.value_span = r.span();
    out.limits.push_back(std::move(l));
  }
  out.ptrace.clear();
  for (std::uint32_t n = r.count(); n > 0 && r.ok(); --n) {
    CheckedSwitch s;
    const std::uint8_t effect = r.u8();
    if (effect > static_cast<std::uint8_t>(Effect::Ask)) return false;
    s.effect = static_cast<Effect>(effect);
    s.file = 0;
    s.statement = r.span();
    out.ptrace.push_back(std::move(s));
  }
  return r.done();
}

bool summarize_module(std::string_view module, std::string_view path, std::string_view text, StdSummary& out,
                      std::string& error) {
  SourceMap sources;
  Diagnostics diags;
  const SourceFile& file = sources.add(std::string(path), "std:" + std::string(module), std::string(text));
  Program program;
  LoadedFile loaded;
  loaded.file = file.id();
  loaded.is_stdlib = true;
  loaded.module = syntax::parse_module(file, diags, syntax::ParseLimits{});
  program.root = file.id();
  program.files.push_back(std::move(loaded));
  out = StdSummary{};
  out.text_hash = text_hash(text);
  for (const auto& s : program.files.front().module.statements) {
    if (const auto* l = std::get_if<ast::LetStmt>(&s.node); l != nullptr && l->exported) {
      // A summary carries rules, not names: its importers would not see it.
      error = std::string(path) + ": a standard library policy cannot `export let` (its summary has no names)";
      return false;
    }
    const auto* u = std::get_if<ast::UseStmt>(&s.node);
    if (u == nullptr) continue;
    if (!u->is_stdlib) {
      error = std::string(path) + ": a standard library policy can only use `std.` modules";
      return false;
    }
    out.uses.push_back({u->module, u->target_span.begin, u->target_span.end});
  }
  CheckedPolicy checked = resolve_program(program, sources, diags);
  out.rules = std::move(checked.rules);
  out.limits = std::move(checked.limits);
  out.ptrace = std::move(checked.ptrace);
  if (!diags.all().empty()) {
    error = render_diagnostics(diags, sources, RenderOptions{RenderFormat::Human, false});
    return false;
  }
  return true;
}

}  // namespace sbpolicy::sema
