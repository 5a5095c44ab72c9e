#include "syntax/ast.hpp"

namespace sbpolicy::ast {

Span StringLit::sub_span(std::uint32_t begin, std::uint32_t end) const {
  auto offset = [&](std::uint32_t i) -> std::uint32_t {
    if (source_offsets.empty()) return span.begin + 1 + i;
    return source_offsets[std::min<std::size_t>(i, source_offsets.size() - 1)];
  };
  const std::uint32_t b = offset(std::min<std::uint32_t>(begin, static_cast<std::uint32_t>(value.size())));
  std::uint32_t e = offset(std::min<std::uint32_t>(end, static_cast<std::uint32_t>(value.size())));
  if (e <= b) e = b + 1;
  return Span{span.file, b, e};
}

Span Value::span() const {
  return std::visit([](const auto& n) { return n.span; }, node);
}

}  // namespace sbpolicy::ast
