#include "common/db/pending.h"

#include "absl/strings/str_cat.h"
#include "common/db/testing/db_test_util.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::NewTestDir;
using ::dbrepl::testing::StatusIs;

// Reference §2.13 (verified against Swift 2.30.1).
constexpr char kReferenceEntry[] =
    ":gAIoWAEAAABvcQBYEAAAADAwMDAwMDAwMDEuMDAwMDBxAUsKWAoAAAB0ZXh0L3BsYWlucQJYBAAAAGV0YWdxA0sASwBOTnRxBC4=";
// Python: put_container('c1', '0000000001.00000', '0', 5, 300, 1) -> make_tuple_for_pickle.
constexpr char kAccountEntry[] =
    ":gAIoWAIAAABjMXEAWBAAAAAwMDAwMDAwMDAxLjAwMDAwcQFYAQAAADBxAksFTSwBSwBLAXRxAy4=";
// The account server passes header strings: ('c1', ts, '0', '5', '300', 0, '1').
constexpr char kAccountServerEntry[] =
    ":gAIoWAIAAABjMXEAWBAAAAAwMDAwMDAwMDAxLjAwMDAwcQFYAQAAADBxAlgBAAAANXEDWAMAAAAzMDBxBEsAWAEAAAAxcQV0cQYu";
// ('été', ts, 70000, 'text/plain', 'etag', 1, 2, ctype ts, meta ts).
constexpr char kFullEntry[] =
    ":gAIoWAUAAADDqXTDqXEAWBAAAAAwMDAwMDAwMDAxLjAwMDAwcQFKcBEBAFgKAAAAdGV4dC9wbGFpbnECWAQAAABldGFncQNLAUsCWBAAAAAwMDAw"
    "MDAwMDAyLjAwMDAwcQRYEAAAADAwMDAwMDAwMDMuMDAwMDBxBXRxBi4=";

ObjectRecord Object(std::string name, std::string ts, int64_t size, std::string ctype, std::string etag) {
  ObjectRecord o;
  o.name = std::move(name);
  o.created_at = std::move(ts);
  o.size = size;
  o.content_type = std::move(ctype);
  o.etag = std::move(etag);
  return o;
}

TEST(PendingTest, EncodesExactlyAsSwift) {
  EXPECT_EQ(EncodePendingObject(Object("o", "0000000001.00000", 10, "text/plain", "etag")), kReferenceEntry);
  ObjectRecord full = Object("\xc3\xa9t\xc3\xa9", "0000000001.00000", 70000, "text/plain", "etag");
  full.deleted = true;
  full.storage_policy_index = 2;
  full.ctype_timestamp = "0000000002.00000";
  full.meta_timestamp = "0000000003.00000";
  EXPECT_EQ(EncodePendingObject(full), kFullEntry);
  ContainerRecord c;
  c.name = "c1";
  c.put_timestamp = "0000000001.00000";
  c.delete_timestamp = "0";
  c.object_count = 5;
  c.bytes_used = 300;
  c.storage_policy_index = 1;
  EXPECT_EQ(EncodePendingContainer(c), kAccountEntry);
}

TEST(PendingTest, DecodesTheReferenceEntry) {
  PendingRows rows = DecodePending(DbType::kContainer, kReferenceEntry, "x.pending");
  EXPECT_EQ(rows.invalid_entries, 0);
  ASSERT_EQ(rows.objects.size(), 1u);
  const ObjectRecord& o = rows.objects[0];
  EXPECT_EQ(o.name, "o");
  EXPECT_EQ(o.created_at, "0000000001.00000");
  EXPECT_EQ(o.size, 10);
  EXPECT_EQ(o.content_type, "text/plain");
  EXPECT_EQ(o.etag, "etag");
  EXPECT_FALSE(o.deleted);
  EXPECT_EQ(o.storage_policy_index, 0);
  EXPECT_EQ(o.ctype_timestamp, "");
  EXPECT_EQ(o.meta_timestamp, "");
}

TEST(PendingTest, RoundTripsManyEntries) {
  std::string contents;
  for (int i = 0; i < 50; ++i) {
    ObjectRecord o = Object(absl::StrCat("obj", i), absl::StrCat("00000000", 10 + i, ".00000"), i * 1000, "a/b",
                            absl::StrCat("etag", i));
    o.deleted = i % 3 == 0;
    o.storage_policy_index = i % 2;
    if (i % 5 == 0) o.meta_timestamp = "0000000099.00000";
    contents += EncodePendingObject(o);
  }
  PendingRows rows = DecodePending(DbType::kContainer, contents, "x.pending");
  ASSERT_EQ(rows.objects.size(), 50u);
  EXPECT_EQ(rows.objects[7].name, "obj7");
  EXPECT_EQ(rows.objects[7].created_at, "0000000017.00000");
  EXPECT_EQ(rows.objects[7].size, 7000);
  EXPECT_EQ(rows.objects[7].storage_policy_index, 1);
  EXPECT_TRUE(rows.objects[9].deleted);
  EXPECT_EQ(rows.objects[10].meta_timestamp, "0000000099.00000");
  EXPECT_EQ(rows.objects[11].meta_timestamp, "");
}

TEST(PendingTest, DecodesAccountEntriesIncludingHeaderStrings) {
  PendingRows rows = DecodePending(DbType::kAccount, absl::StrCat(kAccountEntry, kAccountServerEntry), "a.pending");
  EXPECT_EQ(rows.invalid_entries, 0);
  ASSERT_EQ(rows.containers.size(), 2u);
  for (const ContainerRecord& c : rows.containers) {
    EXPECT_EQ(c.name, "c1");
    EXPECT_EQ(c.put_timestamp, "0000000001.00000");
    EXPECT_EQ(c.delete_timestamp, "0");
    EXPECT_EQ(c.object_count, 5);
    EXPECT_EQ(c.bytes_used, 300);
    EXPECT_EQ(c.storage_policy_index, 1);
  }
}

TEST(PendingTest, SkipsMalformedEntries) {
  std::string contents = absl::StrCat(kReferenceEntry, ":not*base64!", ":", "gAJLAS4=",  // pickle of 1: not a tuple
                                      ":gAIpLg==",                                  // () : too short
                                      kReferenceEntry, "::");
  PendingRows rows = DecodePending(DbType::kContainer, contents, "x.pending");
  EXPECT_EQ(rows.objects.size(), 2u);
  EXPECT_EQ(rows.invalid_entries, 3);
  // An object entry in an account's pending file is malformed there.
  PendingRows wrong = DecodePending(DbType::kAccount, kReferenceEntry, "a.pending");
  EXPECT_EQ(wrong.invalid_entries, 1);
  EXPECT_TRUE(wrong.containers.empty());
}

TEST(PendingTest, AcceptsLegacyShortTuples) {
  // Python: (name, ts, size, ctype, etag, deleted): the 2013 layout.
  PendingRows rows = DecodePending(
      DbType::kContainer, ":gAIoWAEAAABvcQBYEAAAADAwMDAwMDAwMDEuMDAwMDBxAUsKWAEAAAB0cQJYAQAAAGVxA0sAdHEELg==", "p");
  ASSERT_EQ(rows.objects.size(), 1u);
  EXPECT_EQ(rows.objects[0].storage_policy_index, 0);
  EXPECT_EQ(rows.objects[0].content_type, "t");
}

TEST(PendingTest, FileHelpers) {
  std::string path = NewTestDir() + "/x.db.pending";
  ASSERT_OK_AND_ASSIGN(int64_t missing_size, PendingFileSize(path));
  EXPECT_EQ(missing_size, 0);
  EXPECT_THAT(ReadPendingFile(path), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(AppendPendingFile(path, ":abc"));
  ASSERT_OK(AppendPendingFile(path, ":def"));
  ASSERT_OK_AND_ASSIGN(std::string contents, ReadPendingFile(path));
  EXPECT_EQ(contents, ":abc:def");
  ASSERT_OK(TruncatePendingFile(path));
  ASSERT_OK_AND_ASSIGN(int64_t size, PendingFileSize(path));
  EXPECT_EQ(size, 0);
  EXPECT_OK(TruncatePendingFile(NewTestDir() + "/missing.pending"));
}

}  // namespace
}  // namespace dbrepl
