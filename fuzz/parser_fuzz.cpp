// Fuzz target: the whole front end on arbitrary bytes.
//
// Any input must produce diagnostics or an IR, never a crash, a hang, a
// leak or undefined behaviour; an IR must lower to a macOS profile that the
// SBPL evaluator reads. Imports resolve against a small in-memory set
// of files (one good, one broken, one that imports back), so the loader's
// cycle and error paths are reached too. Every rendering is exercised, and
// when the policy compiles the evaluator runs on a few subjects. `sbc fmt`
// on the same bytes either refuses them or gives a text it formats to
// itself again (its own check keeps the syntax tree and the comments).
#include <cstddef>
#include <cstdint>
#include <string>

#include "driver/pipeline.hpp"
#include "format/format.hpp"
#include "ir/evaluator.hpp"
#include "ir/ir_json.hpp"
#include "lower/sbpl/profile.hpp"
#include "sbpl/profile.hpp"
#include "support/render.hpp"
#include "syntax/ast_json.hpp"

using namespace sbpolicy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sema::MemoryReader reader;
  reader.files = {
      {"/fuzz/a.sbpolicy", "allow read \"/a\";\nlimit memory 2G;\n"},
      {"/fuzz/bad.sbpolicy", "alow reed \"x\"\n"},
      {"/fuzz/loop.sbpolicy", "use \"fuzz.sbpolicy\";\n"},
  };
  sema::LoadOptions options;
  options.reader = &reader;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto formatted = format::format_policy("fuzz.sbpolicy", text);
  if (const auto* out = std::get_if<std::string>(&formatted)) {
    const auto again = format::format_policy("fuzz.sbpolicy", *out);
    if (!std::holds_alternative<std::string>(again) || std::get<std::string>(again) != *out) __builtin_trap();
  } else if (std::get<format::Refused>(formatted).message.find("syntax errors") == std::string::npos) {
    __builtin_trap();  // a policy that parses is always formatted
  }
  driver::Compilation c;
  driver::compile_text(c, "fuzz.sbpolicy", "/fuzz", text, options);
  (void)render_diagnostics(c.diags, c.sources, {RenderFormat::Human, true});
  (void)render_diagnostics(c.diags, c.sources, {RenderFormat::Json, false});
  for (const auto& f : c.program.files) (void)syntax::module_to_json(f.module, c.sources).dump();
  if (c.policy) {
    (void)ir::policy_to_json(*c.policy).dump();
    sema::PathBindings b;
    b.home = "/home/u";
    b.workspace = "/home/u/w";
    for (const char* p : {"/", "/home/u/.ssh/id_rsa", "/home/u/w/src/.env", "/etc/passwd"}) {
      (void)ir::decide(*c.policy, sema::Operation::Read, std::string(p), b);
      (void)ir::decide(*c.policy, sema::Operation::Write, std::string(p), b);
    }
    auto h = sema::parse_host_subject("api.example.com:443", 443);
    (void)ir::decide(*c.policy, sema::Operation::Net, std::get<sema::HostSubject>(h), b);
    (void)ir::decide(*c.policy, sema::Operation::Env, std::string("PATH"), b);
    // Every policy that compiles lowers to a macOS profile the SBPL
    // evaluator reads: the emitter never writes what SBPL would refuse.
    lower::sbpl::SbplOptions so;
    so.bindings = b;
    so.proxy_port = 3128;
    const auto profile = lower::sbpl::lower_to_sbpl(*c.policy, so);
    if (!profile.error.empty()) return 0;  // refused whole, never written in part
    auto loaded = sbpl::Profile::load(profile.text, {profile.params.begin(), profile.params.end()});
    if (!std::holds_alternative<sbpl::Profile>(loaded)) __builtin_trap();
  }
  return 0;
}
