// Path patterns: every spelling of one set of paths must normalise to one
// canonical text, every spelling that cannot be normalised must be an error
// with a code and a span, and the reference matcher must follow the "covers"
// semantics of PRODUCT.md §3. The tables are the specification; add a row
// for every bug.
#include "sema/path_pattern.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace sbpolicy::sema {
namespace {

std::string canonical(std::string_view text) {
  auto parsed = parse_path_pattern(text);
  if (auto* p = std::get_if<PathPattern>(&parsed)) return p->text();
  const auto& e = std::get<PatternErrors>(parsed).front();
  return "error: " + e.message;
}

struct SpellingCase {
  std::string_view input;
  std::string_view canonical;
};

class Spelling : public ::testing::TestWithParam<SpellingCase> {};

TEST_P(Spelling, NormalisesToCanonicalText) {
  const auto& c = GetParam();
  EXPECT_EQ(canonical(c.input), c.canonical) << "input: " << c.input;
  // The canonical text is a fixed point.
  EXPECT_EQ(canonical(c.canonical), c.canonical) << "input: " << c.input;
}

INSTANTIATE_TEST_SUITE_P(
    Table, Spelling,
    ::testing::Values(
        // One set, many spellings.
        SpellingCase{"~/.ssh", "~/.ssh"}, SpellingCase{"~/.ssh/", "~/.ssh"}, SpellingCase{"~//.ssh", "~/.ssh"},
        SpellingCase{"~/./.ssh", "~/.ssh"}, SpellingCase{"~/.ssh/**", "~/.ssh"},
        SpellingCase{"~/.ssh/**/**/", "~/.ssh"}, SpellingCase{"$HOME/.ssh", "~/.ssh"},
        SpellingCase{"${HOME}/.ssh/", "~/.ssh"}, SpellingCase{"~/x/../.ssh", "~/.ssh"},
        SpellingCase{"~/x/y/../../.ssh", "~/.ssh"}, SpellingCase{"~/\\.ssh", "~/.ssh"}, SpellingCase{"~", "~"},
        SpellingCase{"~/", "~"}, SpellingCase{"~/**", "~"}, SpellingCase{"$HOME", "~"},
        // Workspace.
        SpellingCase{".", "."}, SpellingCase{"./", "."}, SpellingCase{"./**", "."}, SpellingCase{"$WORKSPACE", "."},
        SpellingCase{"${WORKSPACE}/src", "./src"}, SpellingCase{"./a/./b//c/", "./a/b/c"},
        SpellingCase{"./**/.env", "./**/.env"}, SpellingCase{"./src/**/*.rs", "./src/**/*.rs"},
        SpellingCase{"./a/..", "."}, SpellingCase{"..", "./.."}, SpellingCase{"../x", "./../x"},
        SpellingCase{"./../x", "./../x"}, SpellingCase{"../../x/../y", "./../../y"},
        SpellingCase{"$WORKSPACE/../x", "./../x"}, SpellingCase{"./\\.\\./x", "./../x"},
        // Root.
        SpellingCase{"/", "/"}, SpellingCase{"//", "/"}, SpellingCase{"/.", "/"}, SpellingCase{"/**", "/"},
        SpellingCase{"/etc/", "/etc"}, SpellingCase{"/a/b/..", "/a"}, SpellingCase{"/a/b/../..", "/"},
        SpellingCase{"/a/**/**/b", "/a/**/b"}, SpellingCase{"/a/**/b/**", "/a/**/b"}, SpellingCase{"/a/\\.\\./b", "/b"},
        // Other anchors keep their leading `..` for bind time.
        SpellingCase{"~/..", "~/.."}, SpellingCase{"$TMPDIR/x", "$TMPDIR/x"},
        SpellingCase{"${TMPDIR}//x/", "$TMPDIR/x"}, SpellingCase{"$XDG_CONFIG_HOME/git", "$XDG_CONFIG_HOME/git"},
        SpellingCase{"$XDG_RUNTIME_DIR/ssh.sock", "$XDG_RUNTIME_DIR/ssh.sock"},
        SpellingCase{"$XDG_STATE_HOME/../x", "$XDG_STATE_HOME/../x"},
        // Glob text is kept as written; needless escapes outside `[...]`/`{...}` go.
        SpellingCase{"/a/*.txt", "/a/*.txt"}, SpellingCase{"/a/{b,c}", "/a/{b,c}"},
        SpellingCase{"/a/[!x]y", "/a/[!x]y"}, SpellingCase{"/a/[]]", "/a/[]]"}, SpellingCase{"/a/\\*", "/a/\\*"},
        SpellingCase{"/a/\\a", "/a/a"}, SpellingCase{"/a/\\$HOME", "/a/\\$HOME"},
        SpellingCase{"/a/{\\a,b}", "/a/{\\a,b}"}, SpellingCase{"/a/{.x,..y}", "/a/{.x,..y}"},
        SpellingCase{"/a/b}", "/a/b}"}, SpellingCase{"/a/b,c", "/a/b,c"}, SpellingCase{"/a/*/b", "/a/*/b"},
        SpellingCase{"/a/.*", "/a/.*"}, SpellingCase{"/ü/?", "/ü/?"}));

struct ErrorCase {
  std::string_view input;
  Code code;
  std::uint32_t begin, end;
  std::string_view help = {};  // a substring of the help, when it matters
};

class Rejected : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(Rejected, ReportsCodeAndSpan) {
  const auto& c = GetParam();
  auto parsed = parse_path_pattern(c.input);
  ASSERT_TRUE(std::holds_alternative<PatternErrors>(parsed))
      << "input: " << c.input << " gave " << std::get<PathPattern>(parsed).text();
  const auto& errors = std::get<PatternErrors>(parsed);
  ASSERT_FALSE(errors.empty());
  const PatternError& e = errors.front();
  EXPECT_EQ(e.code, c.code) << "input: " << c.input << ": " << e.message;
  EXPECT_EQ(e.begin, c.begin) << "input: " << c.input << ": " << e.message;
  EXPECT_EQ(e.end, c.end) << "input: " << c.input << ": " << e.message;
  EXPECT_NE(e.help.find(c.help), std::string::npos) << "input: " << c.input << ": help " << e.help;
  EXPECT_FALSE(e.message.empty());
  EXPECT_TRUE(e.message[0] < 'A' || e.message[0] > 'Z' || e.message.starts_with("NUL") ||
              e.message.starts_with("POSIX"))
      << e.message;
}

using namespace std::string_view_literals;
const std::string kLong = "/" + std::string(5000, 'a');
const std::string kLongName = "/" + std::string(256, 'a');

INSTANTIATE_TEST_SUITE_P(
    Table, Rejected,
    ::testing::Values(
        ErrorCase{"", Code::E0310, 0, 0},
        // `..` above the root.
        ErrorCase{"/..", Code::E0303, 1, 3}, ErrorCase{"/a/../../b", Code::E0303, 6, 8},
        ErrorCase{"/a/b/../../..", Code::E0303, 11, 13},
        // `..` after a wildcard cannot be normalised.
        ErrorCase{"./*/..", Code::E0302, 4, 6}, ErrorCase{"/a/**/..", Code::E0302, 6, 8},
        ErrorCase{"/a/{b,c}/..", Code::E0302, 9, 11},
        // Variables.
        ErrorCase{"$FOO/x", Code::E0304, 0, 4, "`$HOME`, `$WORKSPACE`"},
        ErrorCase{"$HOM/x", Code::E0304, 0, 4, "did you mean `$HOME`?"},
        ErrorCase{"${HOM}/x", Code::E0304, 0, 6, "did you mean `$HOME`?"},
        ErrorCase{"$home/x", Code::E0304, 0, 5, "did you mean `$HOME`?"},
        ErrorCase{"$TMPDR", Code::E0304, 0, 6, "did you mean `$TMPDIR`?"}, ErrorCase{"$", Code::E0304, 0, 1},
        ErrorCase{"$/x", Code::E0304, 0, 1}, ErrorCase{"${HOME/x", Code::E0304, 0, 6},
        ErrorCase{"${}/x", Code::E0304, 0, 3}, ErrorCase{"$HOME.bak", Code::E0304, 5, 6},
        ErrorCase{"${HOME}x", Code::E0304, 7, 8}, ErrorCase{"/a/$HOME", Code::E0304, 3, 8, "`\\$`"},
        ErrorCase{"/a/${HOME}/b", Code::E0304, 3, 10}, ErrorCase{"~/a$", Code::E0304, 3, 4},
        // Not anchored.
        ErrorCase{"github.com", Code::E0300, 0, 10, "did you mean a `net` rule?"},
        ErrorCase{"*.github.com:22", Code::E0300, 0, 15, "`net`"},
        ErrorCase{"https://github.com/x", Code::E0300, 0, 20, "`net`"},
        ErrorCase{"src/x", Code::E0300, 0, 5, "did you mean `./src/x`?"}, ErrorCase{"**", Code::E0300, 0, 2},
        ErrorCase{"a/{b,c/d}", Code::E0300, 0, 9}, ErrorCase{".foo", Code::E0300, 0, 4},
        ErrorCase{"...", Code::E0300, 0, 3}, ErrorCase{"~root/x", Code::E0300, 0, 5, "absolute path"},
        ErrorCase{"~.ssh", Code::E0300, 0, 5},
        // Bad globs.
        ErrorCase{"/[a", Code::E0302, 1, 3}, ErrorCase{"/x/[a/b]", Code::E0302, 3, 5},
        ErrorCase{"/[]", Code::E0302, 1, 3}, ErrorCase{"/[!]", Code::E0302, 1, 4},
        ErrorCase{"/[z-a]", Code::E0302, 2, 5}, ErrorCase{"/x/[[:alpha:]]", Code::E0302, 3, 13},
        ErrorCase{"/{a,b", Code::E0302, 1, 5}, ErrorCase{"/a/{b,c/d}", Code::E0302, 7, 8},
        ErrorCase{"/a/{b/c,d}/e", Code::E0302, 5, 6}, ErrorCase{"/a**", Code::E0302, 1, 4, "whole path component"},
        ErrorCase{"/**b", Code::E0302, 1, 4}, ErrorCase{"/x/***", Code::E0302, 3, 6},
        ErrorCase{"/x/{**,a}", Code::E0302, 3, 9}, ErrorCase{"/a\\", Code::E0302, 2, 3},
        ErrorCase{"/a\\/b", Code::E0302, 2, 3}, ErrorCase{"/{a,{b,{c,{d,{e,{f,{g,{h,{i}}}}}}}}}", Code::E0302, 25, 26},
        ErrorCase{"/{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}", Code::E0302, 1, 46},
        ErrorCase{"/x/{.,a}", Code::E0302, 3, 8}, ErrorCase{"/x/{..}", Code::E0302, 3, 7},
        ErrorCase{"/x/{,a}", Code::E0302, 3, 7}, ErrorCase{kLong, Code::E0302, 4096, 5001},
        ErrorCase{kLongName, Code::E0302, 1, 257},
        // Control characters and NUL.
        ErrorCase{"/a\x01", Code::E0311, 2, 3}, ErrorCase{"/a\0b"sv, Code::E0311, 2, 3},
        ErrorCase{"/a\x7f", Code::E0311, 2, 3}, ErrorCase{"/a\n\tb", Code::E0311, 2, 4}));

// A trailing `/` or `/**` says "a directory" (sbrun makes a missing granted
// one for the run) and changes nothing the pattern matches or equals.
TEST(PathPattern, ASpellingAsADirectoryIsKeptButDoesNotChangeThePattern) {
  const auto flag = [](std::string_view text) { return std::get<PathPattern>(parse_path_pattern(text)).spelled_as_directory; };
  for (std::string_view dir : {"~/.npm/_cacache/", "~/.npm/_cacache/**", "~/.npm/_cacache//", "./**", "/", "~/a/**/"}) {
    EXPECT_TRUE(flag(dir)) << dir;
  }
  for (std::string_view plain : {"~/.npm/_cacache", "~/.npmrc", "~/a/*", "~/a/.", "."}) EXPECT_FALSE(flag(plain)) << plain;
  EXPECT_EQ(std::get<PathPattern>(parse_path_pattern("~/.npm/x/")), std::get<PathPattern>(parse_path_pattern("~/.npm/x")));
  EXPECT_EQ(canonical("~/.npm/x/**"), "~/.npm/x");
}

TEST(PathPattern, ReportsEveryBadComponent) {
  auto parsed = parse_path_pattern("/[a/{b/x*");
  ASSERT_TRUE(std::holds_alternative<PatternErrors>(parsed));
  EXPECT_EQ(std::get<PatternErrors>(parsed).size(), 2u);
}

TEST(PathPattern, GlobQueries) {
  auto p = std::get<PathPattern>(parse_path_pattern("~/a/b\\*c/*.txt/d"));
  EXPECT_EQ(p.anchor, PathAnchor::Home);
  EXPECT_TRUE(p.has_glob());
  EXPECT_EQ(p.literal_prefix_length(), 2u);
  auto q = std::get<PathPattern>(parse_path_pattern("/etc/passwd"));
  EXPECT_FALSE(q.has_glob());
  EXPECT_EQ(q.literal_prefix_length(), 2u);
  EXPECT_EQ(anchor_spelling(PathAnchor::XdgCacheHome), "$XDG_CACHE_HOME");
  EXPECT_EQ(std::get<PathPattern>(parse_path_pattern("$HOME/x")), std::get<PathPattern>(parse_path_pattern("~/x")));
}

PathBindings test_bindings() {
  PathBindings b;
  b.home = "/home/u";
  b.workspace = "/home/u/proj";
  b.tmpdir = "/tmp";
  return b;
}

bool matches(std::string_view pattern, std::string_view subject, const PathBindings& b = test_bindings()) {
  auto parsed = parse_path_pattern(pattern);
  EXPECT_TRUE(std::holds_alternative<PathPattern>(parsed)) << pattern;
  if (!std::holds_alternative<PathPattern>(parsed)) return false;
  return path_matches(std::get<PathPattern>(parsed), b, subject);
}

struct MatchCase {
  std::string_view pattern, subject;
  bool expected;
};

class Matches : public ::testing::TestWithParam<MatchCase> {};

TEST_P(Matches, FollowsCoversSemantics) {
  const auto& c = GetParam();
  EXPECT_EQ(matches(c.pattern, c.subject), c.expected) << c.pattern << " vs " << c.subject;
}

INSTANTIATE_TEST_SUITE_P(
    Table, Matches,
    ::testing::Values(
        // Covers: the path and everything below it.
        MatchCase{"~/.ssh", "/home/u/.ssh", true}, MatchCase{"~/.ssh", "/home/u/.ssh/id_rsa", true},
        MatchCase{"~/.ssh", "/home/u/.sshx", false}, MatchCase{"~/.ssh", "/home/u", false},
        MatchCase{"~", "/home/u", true}, MatchCase{"~", "/home", false}, MatchCase{"/", "/anything/at/all", true},
        MatchCase{".", "/home/u/proj/src/a.c", true}, MatchCase{"./src", "/home/u/src", false},
        // `*` and `?` never cross `/`; both match a leading dot.
        MatchCase{"/a/*/c", "/a/b/c", true}, MatchCase{"/a/*/c", "/a/b/x/c", false},
        MatchCase{"/a/*.txt", "/a/x.txt", true}, MatchCase{"/a/*.txt", "/a/x.txt/inner", true},
        MatchCase{"/a/*.txt", "/a/b/x.txt", false}, MatchCase{"~/*", "/home/u/.bashrc", true},
        MatchCase{"/a/?", "/a/.", false}, MatchCase{"/a/?b", "/a/.b", true}, MatchCase{"/a/?", "/a/ü", true},
        MatchCase{"/a/??", "/a/ü", false}, MatchCase{"/a/*", "/a", false},
        // `**` spans zero or more components.
        MatchCase{"./**/.env", "/home/u/proj/.env", true}, MatchCase{"./**/.env", "/home/u/proj/a/b/.env", true},
        MatchCase{"./**/.env", "/home/u/proj/a/b/.envrc", false}, MatchCase{"/a/**/b/**/c", "/a/b/c", true},
        MatchCase{"/a/**/b/**/c", "/a/x/b/y/z/c/d", true}, MatchCase{"/a/**/b/**/c", "/a/x/c/b", false},
        // Classes, alternatives, escapes.
        MatchCase{"/a/[bc]", "/a/c", true}, MatchCase{"/a/[!bc]", "/a/c", false}, MatchCase{"/a/[^bc]", "/a/d", true},
        MatchCase{"/a/[a-f]x", "/a/ex", true}, MatchCase{"/a/[a-f]x", "/a/gx", false},
        MatchCase{"/a/[]]", "/a/]", true}, MatchCase{"/a/[ä-ü]", "/a/ö", true}, MatchCase{"/a/{b,c}d", "/a/cd", true},
        MatchCase{"/a/{b,c}d", "/a/ed", false}, MatchCase{"/a/{x,{y,z}1}", "/a/z1", true},
        MatchCase{"/a/{,x}y", "/a/y", true}, MatchCase{"/a/\\*", "/a/*", true}, MatchCase{"/a/\\*", "/a/b", false},
        MatchCase{"/a/\\[x]", "/a/[x]", true}, MatchCase{"/a/\\$HOME", "/a/$HOME", true},
        // Leading `..` of a non-root anchor binds against its directory.
        MatchCase{"../other", "/home/u/other/f", true}, MatchCase{"../other", "/home/u/proj/other", false},
        MatchCase{"~/../v", "/home/v", true}, MatchCase{"$TMPDIR/x", "/tmp/x/y", true},
        MatchCase{"$XDG_CONFIG_HOME/git", "/home/u/.config/git/config", true},
        MatchCase{"$XDG_DATA_HOME", "/home/u/.local/share/x", true}));

TEST(PathMatches, AnchorDirectoryIsLiteral) {
  PathBindings b = test_bindings();
  b.home = "/home/a[1]";
  EXPECT_TRUE(matches("~/.ssh", "/home/a[1]/.ssh/id_rsa", b));
  EXPECT_FALSE(matches("~/.ssh", "/home/a1/.ssh/id_rsa", b));
  EXPECT_EQ(bind_path_pattern(std::get<PathPattern>(parse_path_pattern("~/*.txt")), b), "/home/a\\[1\\]/*.txt");
  b.home = "/home/*";
  EXPECT_FALSE(matches("~", "/home/v", b));
  EXPECT_TRUE(matches("~", "/home/*/x", b));
}

TEST(PathMatches, LeadingDotDotCannotClimbAboveRoot) {
  PathBindings b = test_bindings();
  b.workspace = "/w";
  EXPECT_TRUE(matches("../x", "/x", b));
  EXPECT_FALSE(matches("../../x", "/x", b));
  EXPECT_EQ(bind_path_pattern(std::get<PathPattern>(parse_path_pattern("../../x")), b), std::nullopt);
  EXPECT_EQ(bind_path_pattern(std::get<PathPattern>(parse_path_pattern("..")), b), "/");
}

TEST(PathMatches, UnknownDirectoryMatchesNothing) {
  PathBindings b;
  EXPECT_FALSE(matches("~", "/home/u", b));
  EXPECT_TRUE(matches("/x", "/x", b));
}

TEST(PathMatches, RuntimeDirDefault) {
  PathBindings b = test_bindings();
  EXPECT_TRUE(b.directory(PathAnchor::XdgRuntimeDir).starts_with("/run/user/"));
  b.xdg_runtime_dir = "relative";
  EXPECT_TRUE(b.directory(PathAnchor::XdgRuntimeDir).starts_with("/run/user/"));
  b.xdg_runtime_dir = "/run/x/";
  EXPECT_EQ(b.directory(PathAnchor::XdgRuntimeDir), "/run/x");
  EXPECT_EQ(b.directory(PathAnchor::XdgStateHome), "/home/u/.local/state");
  EXPECT_EQ(b.directory(PathAnchor::Root), "/");
}

TEST(PathMatches, BindProducesAbsoluteGlobs) {
  const PathBindings b = test_bindings();
  auto bind = [&](std::string_view p) { return bind_path_pattern(std::get<PathPattern>(parse_path_pattern(p)), b); };
  EXPECT_EQ(bind("~/.ssh"), "/home/u/.ssh");
  EXPECT_EQ(bind("./**/.env"), "/home/u/proj/**/.env");
  EXPECT_EQ(bind("../x"), "/home/u/x");
  EXPECT_EQ(bind("/"), "/");
  EXPECT_EQ(bind("$TMPDIR"), "/tmp");
}

TEST(GlobComponent, Matches) {
  EXPECT_TRUE(glob_component_matches("*", ".hidden"));
  EXPECT_TRUE(glob_component_matches("a*b*c", "aXbYbc"));
  EXPECT_FALSE(glob_component_matches("a*b", "a/b"));
  EXPECT_FALSE(glob_component_matches("[a", "[a"));  // invalid globs match nothing
  EXPECT_FALSE(glob_component_matches("a**", "ab"));
  EXPECT_TRUE(glob_component_matches("\\\xc3\xa9", "\xc3\xa9"));
  EXPECT_TRUE(glob_component_matches("?", "\xc3"));      // an invalid byte is one character
  EXPECT_TRUE(glob_component_matches("?", "\xc3\xa9"));  // one code point
  EXPECT_TRUE(glob_component_matches("??", "\xc3\xa9x"));
  EXPECT_FALSE(glob_component_matches("\xc3?", "\xc3\xa9"));
  // Polynomial on the classic exponential case.
  EXPECT_FALSE(glob_component_matches(std::string(100, '*').insert(0, "a") + "b" + std::string(100, '*') + "c",
                                      std::string(200, 'a')));
  EXPECT_FALSE(glob_component_matches("{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}", "aaaaaaaaa"));
}

TEST(PathMatches, DeepDoubleStarIsPolynomial) {
  std::string pattern = "/";
  for (int i = 0; i < 200; ++i) pattern += "**/a/";
  pattern += "b";
  std::string subject;
  for (int i = 0; i < 400; ++i) subject += "/a";
  EXPECT_FALSE(matches(pattern, subject));
  EXPECT_TRUE(matches(pattern, subject + "/b"));
}

TEST(NormalizeSubjectPath, ResolvesAgainstAnchors) {
  const PathBindings b = test_bindings();
  std::string error;
  EXPECT_EQ(normalize_subject_path("~", b, &error), "/home/u");
  EXPECT_EQ(normalize_subject_path("~/.ssh//id_rsa", b, &error), "/home/u/.ssh/id_rsa");
  EXPECT_EQ(normalize_subject_path("/etc/./passwd/", b, &error), "/etc/passwd");
  EXPECT_EQ(normalize_subject_path("./src/../x", b, &error), "/home/u/proj/x");
  EXPECT_EQ(normalize_subject_path("x", b, &error), "/home/u/proj/x");
  EXPECT_EQ(normalize_subject_path("../..", b, &error), "/home");
  EXPECT_EQ(normalize_subject_path("/", b, &error), "/");
  EXPECT_EQ(normalize_subject_path("/..", b, &error), std::nullopt);
  EXPECT_NE(error.find("above"), std::string::npos);
  EXPECT_EQ(normalize_subject_path("/a\0b"sv, b, &error), std::nullopt);
  EXPECT_NE(error.find("NUL"), std::string::npos);
  EXPECT_EQ(normalize_subject_path("/x/../../..", b, nullptr), std::nullopt);
}

TEST(PathPattern, NeverCrashesOnOddInput) {
  const char* inputs[] = {"/\\",          "/[",    "/[!",      "/[\\",        "/{",     "/}",
                          "/{}",          "/{,}",  "${",       "$}",          "/[\\/]", "/\xff\xfe",
                          "/[\xff-\x80]", "/{[}]", "/{a,[,]}", "/\\\xe2\x82", "~/"};
  for (const char* in : inputs) {
    auto parsed = parse_path_pattern(in);
    if (auto* p = std::get_if<PathPattern>(&parsed)) {
      (void)path_matches(*p, test_bindings(), "/x/y");
      EXPECT_EQ(canonical(p->text()), p->text()) << in;
    }
  }
  PathPattern odd{PathAnchor::Root, {"..", "a/b", "", "[", "**"}};
  EXPECT_FALSE(path_matches(odd, test_bindings(), "/a"));
  (void)odd.text();
  (void)odd.literal_prefix_length();
}

// Bound directories come out normal whatever their spelling; the ones that
// already are normal are returned as they are (the fast path), the others
// go through the full normalisation.
TEST(PathMatches, BoundDirectoriesAreNormalised) {
  PathBindings b;
  const std::pair<const char*, const char*> cases[] = {
      {"/home/u", "/home/u"},     {"/home/u/", "/home/u"},    {"/home//u", "/home/u"},
      {"/home/./u", "/home/u"},   {"/home/u/..", "/home"},    {"/home/u/.", "/home/u"},
      {"/", "/"},                 {"//", "/"},                {"/..", ""},
      {"relative/dir", ""},       {"", ""},                   {"/a/.../b", "/a/.../b"},
      {"/a/..b/c", "/a/..b/c"},   {"/a/b./c", "/a/b./c"},     {"/.hidden", "/.hidden"},
  };
  for (const auto& [in, out] : cases) {
    b.home = in;
    EXPECT_EQ(b.directory(PathAnchor::Home), out) << "home `" << in << "`";
  }
  b.home = std::string("/home/u\0x", 9);
  EXPECT_EQ(b.directory(PathAnchor::Home), "") << "a NUL byte is never a directory";
}

}  // namespace
}  // namespace sbpolicy::sema
