#include "common/db/object_merge.h"

#include "common/testing/status_matchers.h"
#include "common/timestamp.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::StatusIs;

ObjectRecord Row(std::string created_at, int64_t size, std::string ctype, std::string etag, bool deleted = false) {
  ObjectRecord r;
  r.name = "o";
  r.created_at = std::move(created_at);
  r.size = size;
  r.content_type = std::move(ctype);
  r.etag = std::move(etag);
  r.deleted = deleted;
  return r;
}

// encode_timestamps(Timestamp(a), Timestamp(b), Timestamp(c)) for whole seconds.
std::string Enc(int a, int b, int c) {
  return EncodeTimestamps(*Timestamp::FromSeconds(a), *Timestamp::FromSeconds(b), *Timestamp::FromSeconds(c));
}

struct Case {
  const char* label;
  ObjectRecord existing;
  ObjectRecord incoming;
  bool newer;
  ObjectRecord want;  // size, content_type, etag, deleted, created_at
};

// Each expectation was produced by Swift 2.30.1's merge_items on a real
// ContainerBroker.
TEST(ObjectMergeTest, ConflictTable) {
  const Case cases[] = {
      {"older data is ignored", Row(Enc(5, 5, 5), 5, "text/plain", "e"), Row(Enc(4, 4, 4), 4, "text/plain", "e"),
       false, Row("0000000005.00000", 5, "text/plain", "e")},
      {"newer tombstone replaces", Row(Enc(5, 5, 5), 5, "text/plain", "e"),
       Row("0000000006.00000", 0, "text/plain", "e", true), true,
       Row("0000000006.00000", 0, "text/plain", "e", true)},
      {"equal: existing wins", Row(Enc(5, 5, 5), 5, "text/plain", "a"), Row(Enc(5, 5, 5), 7, "text/plain", "b"),
       false, Row("0000000005.00000", 5, "text/plain", "a")},
      {"newer content type only", Row(Enc(1, 1, 1), 10, "text/plain", "x"), Row(Enc(1, 2, 2), 99, "image/png", "y"),
       true, Row("0000000001.00000+186a0+0", 10, "image/png", "x")},
      {"newer data, existing newer meta", Row(Enc(1, 1, 3), 10, "text/plain", "x"),
       Row(Enc(2, 2, 2), 20, "image/png", "y"), true, Row("0000000002.00000+0+186a0", 20, "image/png", "y")},
      {"swift_bytes follows the data", Row(Enc(1, 1, 1), 10, "text/plain;swift_bytes=100", "x"),
       Row(Enc(1, 2, 2), 0, "image/png", "y"), true,
       Row("0000000001.00000+186a0+0", 10, "image/png;swift_bytes=100", "x")},
      {"parameters are normalised", Row(Enc(1, 1, 1), 1, "text/plain; charset=utf-8", "e"),
       Row(Enc(2, 2, 2), 2, "text/html; charset=utf-8", "e"), true,
       Row("0000000002.00000", 2, "text/html;charset=utf-8", "e")},
      {"newer meta only", Row(Enc(1, 1, 1), 1, "text/plain", "e"), Row(Enc(1, 1, 2), 5, "x/y", "z"), true,
       Row("0000000001.00000+0+186a0", 1, "text/plain", "e")},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    MergingObject item(c.incoming);
    ASSERT_OK_AND_ASSIGN(bool newer, UpdateNewItemFromExisting(&item, &c.existing));
    EXPECT_EQ(newer, c.newer);
    if (!newer) continue;
    EXPECT_EQ(item.record.created_at, c.want.created_at);
    EXPECT_EQ(item.record.size, c.want.size);
    EXPECT_EQ(item.record.content_type, c.want.content_type);
    EXPECT_EQ(item.record.etag, c.want.etag);
    EXPECT_EQ(item.record.deleted, c.want.deleted);
  }
}

TEST(ObjectMergeTest, NewRowKeepsContentTypeAndNormalisesTimestamps) {
  MergingObject item(Row("1.5", 1, "text/plain; charset=utf-8", "e"));
  item.record.meta_timestamp = "3";
  ASSERT_OK_AND_ASSIGN(bool newer, UpdateNewItemFromExisting(&item, nullptr));
  EXPECT_TRUE(newer);
  EXPECT_EQ(item.record.created_at, "0000000001.50000+0+249f0");
  EXPECT_EQ(item.record.content_type, "text/plain; charset=utf-8");
}

TEST(ObjectMergeTest, ExplicitContentTypeTimestampOverridesEncoded) {
  // put_object(..., ctype_timestamp=T(2)) over an existing row at T(1).
  ObjectRecord existing = Row("0000000001.00000", 1, "text/plain", "e");
  MergingObject item(Row("0000000001.00000", 0, "image/gif", "e2"));
  item.record.ctype_timestamp = "0000000002.00000";
  item.record.meta_timestamp = "0000000002.00000";
  ASSERT_OK_AND_ASSIGN(bool newer, UpdateNewItemFromExisting(&item, &existing));
  EXPECT_TRUE(newer);
  EXPECT_EQ(item.record.created_at, "0000000001.00000+186a0+0");
  EXPECT_EQ(item.record.content_type, "image/gif");
  EXPECT_EQ(item.record.size, 1);
  EXPECT_EQ(item.record.etag, "e");
}

TEST(ObjectMergeTest, SecondMergeStartsFromTheOriginalTimestamp) {
  // Swift merges a duplicate of the same batch against the earlier one using
  // the item's original created_at ('data_timestamp').
  ObjectRecord existing = Row(Enc(1, 1, 1), 1, "a/a", "e1");
  MergingObject item(Row(Enc(2, 2, 2), 2, "b/b", "e2"));
  ASSERT_OK_AND_ASSIGN(bool newer, UpdateNewItemFromExisting(&item, &existing));
  EXPECT_TRUE(newer);
  ASSERT_TRUE(item.data_timestamp.has_value());
  EXPECT_EQ(*item.data_timestamp, "0000000002.00000");
  ObjectRecord earlier = Row(Enc(3, 3, 3), 3, "c/c", "e3");
  ASSERT_OK_AND_ASSIGN(bool newer_than_earlier, UpdateNewItemFromExisting(&item, &earlier));
  EXPECT_FALSE(newer_than_earlier);
  EXPECT_EQ(item.record.size, 3);
  EXPECT_EQ(item.record.created_at, "0000000003.00000");
}

TEST(ObjectMergeTest, BadTimestampsAreInvalid) {
  MergingObject item(Row("yesterday", 1, "a", "b"));
  EXPECT_THAT(UpdateNewItemFromExisting(&item, nullptr), StatusIs(absl::StatusCode::kInvalidArgument));
  ObjectRecord existing = Row("bad", 1, "a", "b");
  MergingObject ok(Row("1", 1, "a", "b"));
  EXPECT_THAT(UpdateNewItemFromExisting(&ok, &existing), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ExtractSwiftBytesTest, MatchesSwift) {
  using Result = std::pair<std::string, absl::optional<std::string>>;
  EXPECT_EQ(ExtractSwiftBytes("text/plain"), Result("text/plain", absl::nullopt));
  EXPECT_EQ(ExtractSwiftBytes("text/plain;swift_bytes=100"), Result("text/plain", "100"));
  EXPECT_EQ(ExtractSwiftBytes("text/plain; charset=utf-8; swift_bytes=5"), Result("text/plain;charset=utf-8", "5"));
  EXPECT_EQ(ExtractSwiftBytes("text/plain;swift_bytes=1;swift_bytes=2"), Result("text/plain", "2"));
  EXPECT_EQ(ExtractSwiftBytes("a/b; flag; q=\"x y\""), Result("a/b;flag=;q=\"x y\"", absl::nullopt));
  EXPECT_EQ(ExtractSwiftBytes("a/b;;k=v"), Result("a/b;k=v", absl::nullopt));
  EXPECT_EQ(ExtractSwiftBytes("a/b; k = v"), Result("a/b;k=v", absl::nullopt));
  EXPECT_EQ(ExtractSwiftBytes("a/b;swift_bytes="), Result("a/b", ""));
}

}  // namespace
}  // namespace dbrepl
