// The grammar of `.sbpolicy` files, as PEGTL rules.
//
// grammar/policy.ebnf is the readable form of the same grammar; keep the two
// in step. The parser (compiler/syntax/parser.cpp) drives `statement` once
// per statement so that it can recover from an error at the next `;` and
// report every syntax error of a file in one run; `file` is the whole
// language and is what the analyze test checks for cycles and loops that
// consume nothing.
//
// Effects and operations are parsed as identifiers, not keywords: the type
// checker then reports `alow` or `reed` with a "did you mean" suggestion
// instead of a bare syntax error.
#pragma once

#include <tao/pegtl.hpp>

namespace sbpolicy::grammar {

namespace pegtl = tao::pegtl;

// Whitespace and comments. Source text is validated as UTF-8 without control
// characters before parsing, so byte-level rules are enough here.
struct comment : pegtl::seq<pegtl::one<'#'>, pegtl::until<pegtl::eolf>> {};
struct space : pegtl::sor<pegtl::one<' ', '\t', '\r', '\n'>, comment> {};
struct sep : pegtl::star<space> {};

struct ident_first : pegtl::ranges<'a', 'z', 'A', 'Z', '_'> {};
struct ident_other : pegtl::ranges<'a', 'z', 'A', 'Z', '0', '9', '_'> {};
struct identifier : pegtl::seq<ident_first, pegtl::star<ident_other>> {};

template <typename Word>
struct keyword : pegtl::seq<Word, pegtl::not_at<ident_other>> {};
struct kw_version : keyword<TAO_PEGTL_STRING("version")> {};
struct kw_use : keyword<TAO_PEGTL_STRING("use")> {};
struct kw_let : keyword<TAO_PEGTL_STRING("let")> {};
struct kw_export : keyword<TAO_PEGTL_STRING("export")> {};
struct kw_except : keyword<TAO_PEGTL_STRING("except")> {};
struct kw_limit : keyword<TAO_PEGTL_STRING("limit")> {};
struct kw_test : keyword<TAO_PEGTL_STRING("test")> {};
struct kw_expect : keyword<TAO_PEGTL_STRING("expect")> {};
struct kw_by : keyword<TAO_PEGTL_STRING("by")> {};

// String literals: "…" on one line, with the escapes \" \\ \n \t \r and
// \u{1-6 hex digits}. The decoded value is checked (no NUL, no surrogates)
// by the parser's action.
struct quote_open : pegtl::one<'"'> {};
struct quote_close : pegtl::one<'"'> {};
struct hex_digits : pegtl::rep_min_max<1, 6, pegtl::xdigit> {};
struct brace_open : pegtl::one<'{'> {};
struct brace_close : pegtl::one<'}'> {};
struct unicode_escape : pegtl::seq<pegtl::one<'u'>, pegtl::must<brace_open>, pegtl::must<hex_digits>,
                                   pegtl::must<brace_close>> {};
struct escape_char : pegtl::sor<pegtl::one<'"', '\\', 'n', 't', 'r'>, unicode_escape> {};
struct escape : pegtl::seq<pegtl::one<'\\'>, pegtl::must<escape_char>> {};
struct plain_char : pegtl::not_one<'"', '\\', '\n', '\r'> {};
struct string_char : pegtl::sor<escape, plain_char> {};
struct string_lit : pegtl::seq<quote_open, pegtl::star<string_char>, pegtl::must<quote_close>> {};

// The last statement of a file may omit its `;`: the brief's one-line policy
// `allow read "./**"; ask net "*.pkgs.test"` is valid as written.
struct semi : pegtl::sor<pegtl::one<';'>, pegtl::seq<sep, pegtl::eof>> {};
struct comma : pegtl::one<','> {};
struct equals : pegtl::one<'='> {};
struct list_open : pegtl::one<'['> {};
struct list_close : pegtl::one<']'> {};

// A reference to a `let` name.
struct name_ref : pegtl::seq<pegtl::not_at<kw_except>, identifier> {};

// version 1;
struct version_number : pegtl::plus<pegtl::digit> {};
struct version_stmt : pegtl::seq<kw_version, sep, pegtl::must<version_number>, sep, pegtl::must<semi>> {};

// use std.base;   use "../org/baseline.sbpolicy";
// use std.secrets except "./test/fixtures/**";   (a carve-out of its denies)
struct module_path : pegtl::seq<identifier, pegtl::star<pegtl::one<'.'>, identifier>> {};
struct use_target : pegtl::sor<string_lit, module_path> {};
struct target_list;
struct use_except : pegtl::seq<kw_except, sep, pegtl::must<target_list>> {};
struct use_stmt : pegtl::seq<kw_use, sep, pegtl::must<use_target>, sep, pegtl::opt<use_except>, pegtl::must<semi>> {};

// let registries = ["registry.pkgs.test", "*.pkgs.test"];
// export let registries = [...];   (the files that import this one see it)
struct value;
struct list_items : pegtl::seq<value, sep, pegtl::star<comma, sep, value, sep>, pegtl::opt<comma, sep>> {};
struct list_value : pegtl::seq<list_open, sep, pegtl::opt<list_items>, pegtl::must<list_close>> {};
struct value : pegtl::sor<string_lit, list_value, name_ref> {};
struct let_name : identifier {};
struct let_keyword : pegtl::sor<pegtl::seq<kw_export, sep, pegtl::must<kw_let>>, kw_let> {};
struct let_stmt : pegtl::seq<let_keyword, sep, pegtl::must<let_name>, sep, pegtl::must<equals>, sep, pegtl::must<value>,
                             sep, pegtl::must<semi>> {};

// allow read "./**" except "./secret";
// allow ptrace;   (a switch of the whole sandbox: sema refuses targets on it)
struct target : pegtl::sor<string_lit, name_ref> {};
struct target_list : pegtl::seq<target, sep, pegtl::star<comma, sep, pegtl::must<target>, sep>> {};
struct effect_word : identifier {};
struct operation_word : identifier {};
struct except_clause : pegtl::seq<kw_except, sep, pegtl::must<target_list>> {};
struct switch_word : keyword<TAO_PEGTL_STRING("ptrace")> {};
struct switch_body : pegtl::seq<switch_word, sep, pegtl::opt<target_list>, pegtl::opt<except_clause>> {};
struct rule_body : pegtl::seq<pegtl::must<operation_word>, sep, pegtl::must<target_list>, pegtl::opt<except_clause>> {};
struct rule_stmt : pegtl::seq<effect_word, sep, pegtl::sor<switch_body, rule_body>, pegtl::must<semi>> {};

// limit memory 4G;   limit wall_time 30m;   limit processes 512;
// The kind is an identifier and the value a quantity (digits and a unit)
// or a string, both checked by sema (which suggests corrections).
struct limit_kind : identifier {};
struct quantity : pegtl::seq<pegtl::digit, pegtl::star<pegtl::sor<ident_other, pegtl::one<'.'>>>> {};
struct limit_value : pegtl::sor<quantity, string_lit> {};
struct limit_stmt : pegtl::seq<kw_limit, sep, pegtl::must<limit_kind>, sep, pegtl::must<limit_value>, sep,
                               pegtl::must<semi>> {};

// test "secrets stay hidden" {
//   expect deny read "~/.ssh/id_ed25519";
//   expect allow net "registry.pkgs.test:443" by "policy.sbpolicy:7";
// }
// Checked by `sbc test` against the policy the file defines; the words are
// checked by sema, the subjects and `by` places by the test runner.
struct test_name : string_lit {};
struct block_open : pegtl::one<'{'> {};
struct block_close : pegtl::one<'}'> {};
struct expect_subject : string_lit {};
struct expect_by : string_lit {};
struct expect_end : pegtl::one<';'> {};
struct expect_stmt : pegtl::seq<kw_expect, sep, pegtl::must<effect_word>, sep, pegtl::must<operation_word>, sep,
                                pegtl::must<expect_subject>, sep, pegtl::opt<kw_by, sep, pegtl::must<expect_by>, sep>,
                                pegtl::must<expect_end>> {};
struct test_stmt : pegtl::seq<kw_test, sep, pegtl::must<test_name>, sep, pegtl::must<block_open>, sep,
                              pegtl::star<expect_stmt, sep>, pegtl::must<block_close>> {};

struct statement : pegtl::sor<version_stmt, use_stmt, let_stmt, limit_stmt, test_stmt, rule_stmt> {};

// The whole language, for analysis; the parser drives `statement` itself.
struct file : pegtl::seq<sep, pegtl::star<statement, sep>, pegtl::eof> {};

}  // namespace sbpolicy::grammar
