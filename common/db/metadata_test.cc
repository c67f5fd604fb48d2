#include "common/db/metadata.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::StatusIs;
using ::testing::Eq;
using ::testing::Optional;

constexpr char kStored[] =
    R"({"X-Container-Meta-Color": ["blue", "0000000002.00000"], "X-Container-Meta-Size": ["big", "0000000002.00000"]})";

TEST(MetadataTest, NewerTimestampWins) {
  ASSERT_OK_AND_ASSIGN(auto merged,
                       MergeMetadata(kStored, R"({"X-Container-Meta-Color": ["red", "0000000003.00000"]})"));
  EXPECT_THAT(merged, Optional(Eq(R"({"X-Container-Meta-Color": ["red", "0000000003.00000"], )"
                                  R"("X-Container-Meta-Size": ["big", "0000000002.00000"]})")));
}

TEST(MetadataTest, OlderOrEqualTimestampIsNoWrite) {
  ASSERT_OK_AND_ASSIGN(auto older,
                       MergeMetadata(kStored, R"({"X-Container-Meta-Color": ["red", "0000000001.00000"]})"));
  EXPECT_EQ(older, absl::nullopt);
  ASSERT_OK_AND_ASSIGN(auto equal,
                       MergeMetadata(kStored, R"({"X-Container-Meta-Color": ["red", "0000000002.00000"]})"));
  EXPECT_EQ(equal, absl::nullopt);
  ASSERT_OK_AND_ASSIGN(auto empty, MergeMetadata(kStored, "{}"));
  EXPECT_EQ(empty, absl::nullopt);
}

TEST(MetadataTest, NewKeysAreAppendedInOrder) {
  ASSERT_OK_AND_ASSIGN(auto merged, MergeMetadata("", R"({"B": ["2", "0000000001.00000"], "A": ["1", "0000000001.00000"]})"));
  EXPECT_THAT(merged, Optional(Eq(R"({"B": ["2", "0000000001.00000"], "A": ["1", "0000000001.00000"]})")));
  // A new key is written even when it is older than everything stored.
  ASSERT_OK_AND_ASSIGN(auto added, MergeMetadata(kStored, R"({"Z": ["z", "0000000000.00001"]})"));
  ASSERT_TRUE(added.has_value());
  EXPECT_THAT(*added, ::testing::EndsWith(R"("Z": ["z", "0000000000.00001"]})"));
}

TEST(MetadataTest, ComparesTimestampsAsStrings) {
  // Swift compares the strings: a stored "9" (from some old writer) counts
  // as newer than 0000000010.00000 ...
  ASSERT_OK_AND_ASSIGN(auto merged,
                       MergeMetadata(R"({"K": ["a", "9"]})", R"({"K": ["b", "0000000010.00000"]})"));
  EXPECT_EQ(merged, absl::nullopt);
}

TEST(MetadataTest, AnUpdateMustCarrySwiftsTimestamps) {
  // ... which is why an update may only bring canonical ones, which compare
  // as text the way they compare as times.
  for (const char* bad : {R"({"K": ["b", "9"]})", R"({"K": ["b", "zzzz"]})", R"({"K": ["b", ""]})",
                          R"({"K": ["b", "99999999999999999999999999999999999999999999999999"]})"}) {
    EXPECT_THAT(MergeMetadata("", bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(MetadataTest, SerialisesAsPythonJsonDumps) {
  // json.dumps({'X': ['blüe "x"\n😀\x7f', ts], 'b': [1.5, 'x'], 'c': [None, True]})
  ASSERT_OK_AND_ASSIGN(
      std::string out,
      NormalizeMetadataJson("{\"X-Container-Meta-Color\":[\"bl\xc3\xbc" "e \\\"x\\\"\\n\xf0\x9f\x98\x80\x7f\","
                            "\"0000000001.00000\"],\"b\":[1.5,\"x\"],\"c\":[null,true]}"));
  EXPECT_EQ(out,
            R"({"X-Container-Meta-Color": ["bl\u00fce \"x\"\n\ud83d\ude00\u007f", "0000000001.00000"], )"
            R"("b": [1.5, "x"], "c": [null, true]})");
}

TEST(MetadataTest, DeletedKeysAreReclaimedAfterAge) {
  constexpr char kWithDeletes[] =
      R"({"A": ["", "0000000001.00000"], "B": ["keep", "0000000001.00000"], "C": ["", "0000000005.00000"]})";
  ASSERT_OK_AND_ASSIGN(Timestamp age, Timestamp::Parse("0000000005.00000"));
  ASSERT_OK_AND_ASSIGN(auto kept, ReclaimMetadata(kWithDeletes, age));
  // A (deleted, older) goes; B (not deleted) and C (deleted at the age, not before) stay.
  EXPECT_THAT(kept, Optional(Eq(R"({"B": ["keep", "0000000001.00000"], "C": ["", "0000000005.00000"]})")));
  ASSERT_OK_AND_ASSIGN(Timestamp early, Timestamp::Parse("0000000001.00000"));
  ASSERT_OK_AND_ASSIGN(auto none, ReclaimMetadata(kWithDeletes, early));
  EXPECT_EQ(none, absl::nullopt);
  ASSERT_OK_AND_ASSIGN(auto blank, ReclaimMetadata("", age));
  EXPECT_EQ(blank, absl::nullopt);
}

TEST(MetadataTest, DeleteAllKeepsWhitelistedKeys) {
  ASSERT_OK_AND_ASSIGN(
      std::string updates,
      DeleteAllMetadataUpdates(R"({"X-Container-Meta-A": ["1", "1"], "X-Container-Sysmeta-Shard-Root": ["a/c", "1"]})",
                               "0000000009.00000", {"x-container-sysmeta-shard-root"}));
  EXPECT_EQ(updates, R"({"X-Container-Meta-A": ["", "0000000009.00000"]})");
}

TEST(MetadataTest, ReadsValues) {
  ASSERT_OK_AND_ASSIGN(std::string color, GetMetadataValue(kStored, "X-Container-Meta-Color"));
  EXPECT_EQ(color, "blue");
  ASSERT_OK_AND_ASSIGN(std::string missing, GetMetadataValue(kStored, "X-Nope"));
  EXPECT_EQ(missing, "");
}

TEST(MetadataTest, RejectsMalformedInput) {
  EXPECT_THAT(MergeMetadata(kStored, "{not json"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MergeMetadata(kStored, "[1, 2]"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MergeMetadata(kStored, R"({"A": "no pair"})"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MergeMetadata(kStored, R"({"A": ["v", 5]})"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MergeMetadata("garbage", "{}"), StatusIs(absl::StatusCode::kInvalidArgument));
  // Bytes that are not UTF-8 never become metadata (Swift answers 400 to such
  // a header, and writing them would need an escape Python would not write).
  EXPECT_THAT(MergeMetadata(kStored, "{\"A\": [\"\xff\", \"1700000000.00000\"]}"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace dbrepl
