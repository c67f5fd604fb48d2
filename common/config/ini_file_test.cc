#include "common/config/ini_file.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// Expected values in this file were checked against Python 3.11's
// ConfigParser with Swift's NicerInterpolation.

absl::StatusOr<ConfigSection> SectionOf(absl::string_view text, absl::string_view name) {
  absl::StatusOr<IniFile> ini = IniFile::Parse(text, "f.conf");
  if (!ini.ok()) return ini.status();
  return ini->Section(name);
}

std::string ErrorOf(absl::string_view text) {
  absl::StatusOr<IniFile> ini = IniFile::Parse(text, "f.conf");
  EXPECT_THAT(ini, StatusIs(absl::StatusCode::kInvalidArgument)) << text;
  return std::string(ini.status().message());
}

TEST(IniFileTest, DefaultMergedKeysLowercasedBothDelimiters) {
  ASSERT_OK_AND_ASSIGN(ConfigSection s, SectionOf("[DEFAULT]\nA = 1 ; not a comment\n  # comment\nb: two\n"
                                                  "[s]\nKey=v\nb = own\n",
                                                  "s"));
  EXPECT_THAT(s.values, UnorderedElementsAre(Pair("a", "1 ; not a comment"), Pair("b", "own"), Pair("key", "v")));
  EXPECT_EQ(s.name, "s");
  EXPECT_EQ(s.source, "f.conf");
  EXPECT_EQ(s.Where(), "[s] of f.conf");
  ASSERT_OK_AND_ASSIGN(ConfigSection d, SectionOf("[DEFAULT]\nA = 1\n[s]\nb=2\n", "DEFAULT"));
  EXPECT_THAT(d.values, UnorderedElementsAre(Pair("a", "1")));
}

TEST(IniFileTest, ContinuationLinesAsConfigParser) {
  ASSERT_OK_AND_ASSIGN(ConfigSection s, SectionOf("[s]\nb: two\n  cont\n\n  cont2\n\n", "s"));
  EXPECT_EQ(s.Get("b"), "two\ncont\n\ncont2");
  ASSERT_OK_AND_ASSIGN(ConfigSection t, SectionOf("[s]\nk = a\n\n\n  b\n\n", "s"));
  EXPECT_EQ(t.Get("k"), "a\n\n\nb");
  ASSERT_OK_AND_ASSIGN(ConfigSection c, SectionOf("[s]\nk = a\n# comment\n  b\n", "s"));
  EXPECT_EQ(c.Get("k"), "a\nb");
  // Only a line indented deeper than its key continues it.
  ASSERT_OK_AND_ASSIGN(ConfigSection i, SectionOf("[s]\n  k = 1\n  j = 2\n    more\n", "s"));
  EXPECT_THAT(i.values, UnorderedElementsAre(Pair("k", "1"), Pair("j", "2\nmore")));
  ASSERT_OK_AND_ASSIGN(ConfigSection deeper, SectionOf("[s]\nk = 1\n  [t]\nj = 2\n", "s"));
  EXPECT_THAT(deeper.values, UnorderedElementsAre(Pair("k", "1\n[t]"), Pair("j", "2")));
  ASSERT_OK_AND_ASSIGN(IniFile same, IniFile::Parse("[s]\n  k = 1\n  [t]\nj = 2\n"));
  EXPECT_THAT(same.SectionNames(), ElementsAre("s", "t"));
  EXPECT_EQ(same.Section("t")->Get("j"), "2");
}

TEST(IniFileTest, LongLinesCrlfAndBom) {
  const std::string big(5000, 'x');
  ASSERT_OK_AND_ASSIGN(ConfigSection s, SectionOf(absl::StrCat("\xEF\xBB\xBF[s]\r\nlong = ", big, "\r\nk = v\r\n"), "s"));
  EXPECT_EQ(s.Get("long"), big);
  EXPECT_EQ(s.Get("k"), "v");
}

TEST(IniFileTest, UniversalNewlinesAndSectionHeadersAsConfigParser) {
  // A lone "\r" ends a line in Python's text mode, as "\r\n" and "\n" do.
  ASSERT_OK_AND_ASSIGN(ConfigSection s, SectionOf("[s]\rk = 1\r\nj = 2\n", "s"));
  EXPECT_THAT(s.values, UnorderedElementsAre(Pair("k", "1"), Pair("j", "2")));
  // The header runs to the last ']'; text after it is ignored.
  ASSERT_OK_AND_ASSIGN(IniFile ini, IniFile::Parse("[a]b] trailing\nk = v\n[c] ; note\n"));
  EXPECT_THAT(ini.SectionNames(), ElementsAre("a]b", "c"));
  EXPECT_THAT(ErrorOf("[s]\n[]\n"), HasSubstr("f.conf:2: cannot parse '[]'"));
  // Continuations keep blank lines inside a value; comments are skipped.
  ASSERT_OK_AND_ASSIGN(ConfigSection c, SectionOf("[s]\nk = a\n\n# note\n  b\n", "s"));
  EXPECT_EQ(c.Get("k"), "a\n\nb");
  ASSERT_OK_AND_ASSIGN(ConfigSection e, SectionOf("[s]\nk =\n  b\n", "s"));
  EXPECT_EQ(e.Get("k"), "\nb");
}

TEST(IniFileTest, SectionsAreCaseSensitiveAndEmptyOnesExist) {
  ASSERT_OK_AND_ASSIGN(IniFile ini, IniFile::Parse("[s]\nk=v\n[ Spaced ]\n[t]\n", "f.conf"));
  EXPECT_THAT(ini.SectionNames(), ElementsAre("s", " Spaced ", "t"));
  EXPECT_TRUE(ini.HasSection("t"));
  EXPECT_FALSE(ini.HasSection("S"));
  EXPECT_FALSE(ini.HasSection("DEFAULT"));
  ASSERT_OK_AND_ASSIGN(ConfigSection t, ini.Section("t"));
  EXPECT_TRUE(t.values.empty());
  absl::StatusOr<ConfigSection> missing = ini.Section("container-replicator");
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(missing.status().message(), "Unable to find container-replicator config section in f.conf");
}

TEST(IniFileTest, ErrorsNameFileAndLine) {
  EXPECT_THAT(ErrorOf("[s]\nk = 1\nk = 2\n"), HasSubstr("f.conf:3: option 'k' in section [s] already exists"));
  EXPECT_THAT(ErrorOf("[s]\nk = 1\nK = 2\n"), HasSubstr("f.conf:3:"));
  EXPECT_THAT(ErrorOf("[s]\nk = 1\n[s]\nj = 2\n"), HasSubstr("f.conf:3: section [s] already exists"));
  EXPECT_THAT(ErrorOf("k = 1\n[s]\n"), HasSubstr("f.conf:1: option before any [section]"));
  EXPECT_THAT(ErrorOf("[s]\nk = 1\nnovalue\n"), HasSubstr("f.conf:3: cannot parse 'novalue'"));
  EXPECT_THAT(ErrorOf("[s]\n= v\n"), HasSubstr("f.conf:2:"));
  EXPECT_THAT(ErrorOf("[s\nk=v\n"), HasSubstr("f.conf:1:"));
  EXPECT_THAT(ErrorOf(std::string("[s]\nk=\0v\n", 9)), HasSubstr("NUL"));
  // [DEFAULT] may appear twice; its keys still may not.
  ASSERT_OK_AND_ASSIGN(ConfigSection s, SectionOf("[DEFAULT]\nk = 1\n[DEFAULT]\nj = 2\n[s]\n", "s"));
  EXPECT_THAT(s.values, UnorderedElementsAre(Pair("k", "1"), Pair("j", "2")));
  EXPECT_THAT(ErrorOf("[DEFAULT]\nk = 1\n[DEFAULT]\nk = 2\n"), HasSubstr("f.conf:4:"));
}

TEST(IniFileTest, NicerInterpolation) {
  ASSERT_OK_AND_ASSIGN(ConfigSection s,
                       SectionOf("[DEFAULT]\nroot = /srv\n[s]\nx = %(y)s/z\ny = a%%b\nw = 50%\n"
                                 "dev = %(ROOT)s/node\n",
                                 "s"));
  EXPECT_EQ(s.Get("x"), "a%b/z");  // y is interpolated where referenced...
  EXPECT_EQ(s.Get("y"), "a%%b");   // ...but has no "%(" itself, so stays raw
  EXPECT_EQ(s.Get("w"), "50%");
  EXPECT_EQ(s.Get("dev"), "/srv/node");
  EXPECT_THAT(SectionOf("[s]\nx = %(nope)s\n", "s"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SectionOf("[s]\nx = %(y)s %\ny=1\n", "s"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SectionOf("[s]\nx = %(x)s\n", "s"), StatusIs(absl::StatusCode::kInvalidArgument));  // too deep
  ASSERT_OK_AND_ASSIGN(IniFile ini, IniFile::Parse("[s]\nk = 50%%\nj = 5%\n"));
  ASSERT_OK_AND_ASSIGN(absl::optional<std::string> k, ini.Get("s", "K", Interpolation::kAlways));
  EXPECT_EQ(k, "50%");
  EXPECT_THAT(ini.Get("s", "j", Interpolation::kAlways), StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(absl::optional<std::string> absent, ini.Get("s", "absent"));
  EXPECT_FALSE(absent.has_value());
  EXPECT_THAT(ini.Get("t", "k"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(IniFileTest, PasteDeployRulesForAppSections) {
  ASSERT_OK_AND_ASSIGN(IniFile ini, IniFile::Parse("[DEFAULT]\nbind_port = 6201\nlog_name = d\nroot = /srv\n"
                                                   "[app:container-server]\nuse = egg:swift#container\n"
                                                   "bind_port = 9999\nset log_name = app\nget home = root\n"
                                                   "devices = %(root)s/node\n"));
  ASSERT_OK_AND_ASSIGN(ConfigSection app, ini.PasteSection("app:container-server"));
  EXPECT_EQ(app.Get("bind_port"), "6201");  // [DEFAULT] wins without "set"
  EXPECT_EQ(app.Get("log_name"), "app");
  EXPECT_EQ(app.Get("home"), "/srv");
  EXPECT_EQ(app.Get("devices"), "/srv/node");
  EXPECT_EQ(app.Get("use"), "egg:swift#container");
  // ConfigParser's view of the same section differs: the section wins.
  EXPECT_EQ(ini.Section("app:container-server")->Get("bind_port"), "9999");
  EXPECT_THAT(ini.PasteSection("app:account-server"), StatusIs(absl::StatusCode::kNotFound));
}

std::string TempDir() {
  const char* base = getenv("TEST_TMPDIR");
  std::string dir = absl::StrCat(base != nullptr ? base : "/tmp", "/ini.XXXXXX");
  EXPECT_NE(mkdtemp(dir.data()), nullptr);
  return dir;
}

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(IniFileTest, LoadsFilesAndConfDirectories) {
  const std::string dir = TempDir();
  Write(dir + "/one.conf", "[DEFAULT]\nswift_dir = /a\n[container-replicator]\nconcurrency = 2\n");
  ASSERT_OK_AND_ASSIGN(IniFile file, IniFile::Load(dir + "/one.conf"));
  EXPECT_EQ(file.Section("container-replicator")->Get("concurrency"), "2");
  EXPECT_EQ(file.source(), dir + "/one.conf");

  const std::string confd = dir + "/container-server.conf.d";
  ASSERT_EQ(mkdir(confd.c_str(), 0755), 0);
  Write(confd + "/20_replicator.conf", "[container-replicator]\nconcurrency = 3\nper_diff = 7\n");
  Write(confd + "/10_base.conf", "[DEFAULT]\nswift_dir = /b\n[container-replicator]\nconcurrency = 1\n");
  Write(confd + "/.hidden.conf", "[container-replicator]\nconcurrency = 99\n");
  Write(confd + "/notes.txt", "not ini at all");
  ASSERT_OK_AND_ASSIGN(IniFile dir_ini, IniFile::Load(confd));
  ASSERT_OK_AND_ASSIGN(ConfigSection s, dir_ini.Section("container-replicator"));
  // Later files override earlier ones; a section may recur across files.
  EXPECT_THAT(s.values, UnorderedElementsAre(Pair("swift_dir", "/b"), Pair("concurrency", "3"),
                                             Pair("per_diff", "7")));

  EXPECT_THAT(IniFile::Load(dir + "/absent.conf"), StatusIs(absl::StatusCode::kNotFound));
  const std::string empty = dir + "/empty.d";
  ASSERT_EQ(mkdir(empty.c_str(), 0755), 0);
  EXPECT_THAT(IniFile::Load(empty), StatusIs(absl::StatusCode::kNotFound));
  Write(dir + "/bad.conf", "[s]\nk = 1\ngarbage\n");
  absl::StatusOr<IniFile> bad = IniFile::Load(dir + "/bad.conf");
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr(dir + "/bad.conf:3:"));
}

}  // namespace
}  // namespace dbrepl
