// Container databases through the public DatabaseBroker API, on real files.
// Expected hashes and rows come from Swift 2.30.1 running the same steps.
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/db/broker.h"
#include "common/db/pending.h"
#include "common/db/testing/db_test_util.h"
#include "common/testing/status_matchers.h"
#include "common/timestamp.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::ExpectedHash;
using ::dbrepl::testing::IsOkAndHolds;
using ::dbrepl::testing::NewDbPath;
using ::dbrepl::testing::Query;
using ::dbrepl::testing::RawConnection;
using ::dbrepl::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string T(double seconds) { return Timestamp::FromSeconds(seconds)->Internal(); }

ObjectRecord Obj(std::string name, std::string ts, int64_t size = 0, std::string ctype = "text/plain",
                 std::string etag = "e", bool deleted = false, int64_t spi = 0, int64_t rowid = 1) {
  ObjectRecord o;
  o.rowid = rowid;
  o.name = std::move(name);
  o.created_at = std::move(ts);
  o.size = size;
  o.content_type = std::move(ctype);
  o.etag = std::move(etag);
  o.deleted = deleted;
  o.storage_policy_index = spi;
  return o;
}

ItemBatch Batch(std::vector<ObjectRecord> objects) {
  ItemBatch b;
  b.objects = std::move(objects);
  return b;
}

class ContainerBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = NewDbPath(DbType::kContainer);
    auto broker = DatabaseBroker::Create(DbType::kContainer, path_, "a", "c", "0000000001.00000", 0, options_);
    ASSERT_OK(broker);
    broker_ = *std::move(broker);
  }

  ItemBatch Rows() {
    auto rows = broker_->GetItemsSince(-1, 100000);
    EXPECT_OK(rows);
    return rows.ok() ? *rows : ItemBatch();
  }

  ReplicationInfo Info() {
    auto info = broker_->GetReplicationInfo();
    EXPECT_OK(info);
    return info.ok() ? *info : ReplicationInfo();
  }

  int64_t Merge(std::vector<ObjectRecord> objects, const std::string& source = "") {
    auto result = broker_->MergeItems(Batch(std::move(objects)), source);
    EXPECT_OK(result);
    return result.ok() ? result->rows_applied : -1;
  }

  int64_t Sync(const std::string& id, bool incoming = true) {
    auto s = broker_->GetSync(id, incoming);
    EXPECT_OK(s);
    return s.ok() ? *s : -999;
  }

  BrokerOptions options_;
  std::string path_;
  std::unique_ptr<DatabaseBroker> broker_;
};

TEST_F(ContainerBrokerTest, CountsComeFromSwiftsViewOrWhateverViewTheFileHas) {
  std::string path = NewDbPath(DbType::kContainer);
  {
    ASSERT_OK_AND_ASSIGN(auto b, DatabaseBroker::Create(DbType::kContainer, path, "a", "c", "0000000001.00000"));
    ObjectRecord o;
    o.name = "o";
    o.created_at = "0000000002.00000";
    o.size = 7;
    ASSERT_OK(b->PutObject(o));
    ASSERT_OK_AND_ASSIGN(ReplicationInfo info, b->GetReplicationInfo());
    EXPECT_EQ(info.count, 1);  // From container_info and policy_stat, as Swift's view joins them.
    EXPECT_EQ(info.bytes_used, 7);
    EXPECT_EQ(info.account, "a");
    EXPECT_EQ(info.container, "c");
  }
  {
    auto conn = RawConnection(path);
    ASSERT_OK(conn->Execute("DROP VIEW container_stat"));
    ASSERT_OK(conn->Execute("CREATE VIEW container_stat AS SELECT ci.*, 42 AS object_count, 0 AS bytes_used "
                            "FROM container_info ci"));
  }
  ASSERT_OK_AND_ASSIGN(auto b, DatabaseBroker::Open(DbType::kContainer, path, BrokerOptions()));
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, b->GetReplicationInfo());
  EXPECT_EQ(info.count, 42) << "not Swift's view: read through it, as Swift reads it";
  EXPECT_EQ(info.bytes_used, 0);
}

TEST_F(ContainerBrokerTest, OlderRowIsIgnoredTombstoneReplaces) {
  EXPECT_EQ(Merge({Obj("o", T(5), 5)}), 1);
  EXPECT_EQ(Merge({Obj("o", T(4), 4)}), 0);
  ItemBatch rows = Rows();
  ASSERT_EQ(rows.objects.size(), 1u);
  EXPECT_EQ(rows.objects[0].rowid, 1);
  EXPECT_EQ(rows.objects[0].size, 5);
  ReplicationInfo info = Info();
  EXPECT_EQ(info.count, 1);
  EXPECT_EQ(info.bytes_used, 5);
  EXPECT_EQ(info.max_row, 1);
  EXPECT_EQ(info.hash, "c32e2acf79d592c22899821a69ceb9f7");

  EXPECT_EQ(Merge({Obj("o", T(6), 0, "text/plain", "e", /*deleted=*/true)}), 1);
  rows = Rows();
  ASSERT_EQ(rows.objects.size(), 1u);
  EXPECT_EQ(rows.objects[0].rowid, 2);  // Delete + insert: a new ROWID.
  EXPECT_TRUE(rows.objects[0].deleted);
  info = Info();
  EXPECT_EQ(info.count, 0);
  EXPECT_EQ(info.max_row, 2);
  EXPECT_EQ(info.hash, "68df40a2e7ae3a69010849059e6ce147");
}

TEST_F(ContainerBrokerTest, EqualRowIsNoWrite) {
  Merge({Obj("o", T(5), 5, "text/plain", "a")});
  EXPECT_EQ(Merge({Obj("o", T(5), 7, "text/plain", "b")}), 0);
  ItemBatch rows = Rows();
  ASSERT_EQ(rows.objects.size(), 1u);
  EXPECT_EQ(rows.objects[0].etag, "a");
  EXPECT_EQ(Info().max_row, 1);
}

TEST_F(ContainerBrokerTest, PerComponentMergesMatchSwift) {
  std::string t1 = T(1), t2 = T(2), t3 = T(3);
  auto enc = [](const std::string& a, const std::string& b, const std::string& c) {
    return EncodeTimestamps(*Timestamp::Parse(a), *Timestamp::Parse(b), *Timestamp::Parse(c));
  };
  Merge({Obj("ctype", t1, 10, "text/plain", "x"), Obj("meta", enc(t1, t1, t3), 10, "text/plain", "x"),
         Obj("sb", t1, 10, "text/plain;swift_bytes=100", "x")});
  Merge({Obj("ctype", enc(t1, t2, t2), 99, "image/png", "y"), Obj("meta", t2, 20, "image/png", "y"),
         Obj("sb", enc(t1, t2, t2), 0, "image/png", "y")});
  ItemBatch rows = Rows();
  ASSERT_EQ(rows.objects.size(), 3u);
  std::map<std::string, ObjectRecord> by_name;
  for (const ObjectRecord& o : rows.objects) by_name[o.name] = o;
  EXPECT_EQ(by_name["ctype"].created_at, "0000000001.00000+186a0+0");
  EXPECT_EQ(by_name["ctype"].content_type, "image/png");
  EXPECT_EQ(by_name["ctype"].size, 10);
  EXPECT_EQ(by_name["ctype"].etag, "x");
  EXPECT_EQ(by_name["meta"].created_at, "0000000002.00000+0+186a0");
  EXPECT_EQ(by_name["meta"].size, 20);
  EXPECT_EQ(by_name["sb"].content_type, "image/png;swift_bytes=100");
  EXPECT_EQ(Info().hash, ExpectedHash(rows));
}

TEST_F(ContainerBrokerTest, DuplicatesInOneBatchMerge) {
  EXPECT_EQ(Merge({Obj("o", T(2), 2, "text/plain", "e", false, 0, 1), Obj("o", T(3), 3, "text/plain", "e", false, 0, 2),
                   Obj("o", T(1), 1, "text/plain", "e", false, 0, 3), Obj("p", T(1), 1, "text/plain", "e", false, 0, 4)}),
            2);
  ItemBatch rows = Rows();
  ASSERT_EQ(rows.objects.size(), 2u);
  EXPECT_EQ(rows.objects[0].rowid, 1);  // "o" keeps its first slot.
  EXPECT_EQ(rows.objects[0].name, "o");
  EXPECT_EQ(rows.objects[0].size, 3);
  EXPECT_EQ(rows.objects[1].name, "p");
  ReplicationInfo info = Info();
  EXPECT_EQ(info.count, 2);
  EXPECT_EQ(info.bytes_used, 4);
  EXPECT_EQ(info.hash, "86490b4fff5ae3276c2f4fd4d974e917");
}

TEST_F(ContainerBrokerTest, DuplicateTieKeepsTheFirst) {
  Merge({Obj("o", T(3), 3, "text/plain", "a"), Obj("o", T(3), 4, "text/plain", "b")});
  ItemBatch rows = Rows();
  ASSERT_EQ(rows.objects.size(), 1u);
  EXPECT_EQ(rows.objects[0].etag, "a");
  EXPECT_EQ(Info().hash, "4bc64f952d71937a60fdf389fe935d9b");
}

TEST_F(ContainerBrokerTest, PolicyIndexIsPartOfTheKey) {
  Merge({Obj("o", T(3), 3, "text/plain", "e", false, 0), Obj("o", T(3), 4, "text/plain", "e", false, 1)});
  ItemBatch rows = Rows();
  ASSERT_EQ(rows.objects.size(), 2u);
  EXPECT_EQ(rows.objects[1].storage_policy_index, 1);
  ReplicationInfo info = Info();
  EXPECT_EQ(info.count, 1);  // Only the container's policy (0) counts.
  EXPECT_EQ(info.bytes_used, 3);
  EXPECT_EQ(info.hash, "00000000000000000000000000000000");  // Same name and time twice.
}

TEST_F(ContainerBrokerTest, HashIsTheXorOfTheRows) {
  for (int round = 0; round < 5; ++round) {
    std::vector<ObjectRecord> batch;
    for (int i = 0; i < 40; ++i) {
      int version = (i * 7 + round * 3) % 11;
      batch.push_back(Obj(absl::StrCat("obj-", i % 17, "-\xc3\xa9"), T(100 + version + round * 0.5), version,
                          "a/b", "e", version % 4 == 0, i % 2));
    }
    Merge(batch);
    ItemBatch rows = Rows();
    EXPECT_EQ(Info().hash, ExpectedHash(rows)) << "round " << round;
  }
}

TEST_F(ContainerBrokerTest, SourceRaisesTheIncomingSyncPointToTheLastRowid) {
  auto result = broker_->MergeItems(
      Batch({Obj("o", T(1), 1, "text/plain", "e", false, 0, 7), Obj("p", T(1), 1, "text/plain", "e", false, 0, 9)}),
      "remote");
  ASSERT_OK(result);
  EXPECT_EQ(result->sync_point, 9);
  // A later batch ending lower never lowers it.
  ASSERT_OK(broker_->MergeItems(Batch({Obj("q", T(1), 1, "text/plain", "e", false, 0, 3)}), "remote"));
  EXPECT_EQ(Sync("remote"), 9);
}

TEST_F(ContainerBrokerTest, SyncPointsNeverGoBackwards) {
  ASSERT_OK(broker_->MergeSyncs({{"r1", 5}, {"r2", 1}}));
  ASSERT_OK(broker_->MergeSyncs({{"r1", 3}}));
  EXPECT_EQ(Sync("r1"), 5);
  ASSERT_OK(broker_->MergeSyncs({{"r1", 7}}));
  EXPECT_EQ(Sync("r1"), 7);
  EXPECT_EQ(Sync("r1", false), -1);
  ASSERT_OK(broker_->MergeSyncs({{"out", 4}}, /*incoming=*/false));
  ASSERT_OK_AND_ASSIGN(std::vector<SyncRecord> outgoing, broker_->GetSyncs(/*incoming=*/false));
  ASSERT_EQ(outgoing.size(), 1u);
  EXPECT_EQ(outgoing[0].remote_id, "out");
  EXPECT_EQ(outgoing[0].sync_point, 4);
  ASSERT_OK_AND_ASSIGN(std::vector<SyncRecord> incoming, broker_->GetSyncs());
  ASSERT_EQ(incoming.size(), 2u);
  EXPECT_GT(incoming[0].updated_at, 1600000000);  // Set by the trigger.
}

TEST_F(ContainerBrokerTest, MetadataNewestWins) {
  ASSERT_OK(broker_->UpdateMetadata(R"({"X-Container-Meta-Color": ["blue", "0000000002.00000"]})"));
  ASSERT_OK(broker_->UpdateMetadata(R"({"X-Container-Meta-Color": ["red", "0000000001.00000"]})"));
  ASSERT_OK(broker_->UpdateMetadata(R"({"X-Container-Meta-Size": ["big", "0000000001.00000"]})"));
  ASSERT_OK_AND_ASSIGN(std::string md, broker_->GetRawMetadata());
  EXPECT_EQ(md, R"({"X-Container-Meta-Color": ["blue", "0000000002.00000"], )"
                R"("X-Container-Meta-Size": ["big", "0000000001.00000"]})");
  EXPECT_EQ(Info().metadata, md);
  EXPECT_THAT(broker_->UpdateMetadata("not json"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(ContainerBrokerTest, MergeTimestampsAndStatusChangedAt) {
  ReplicationInfo before = Info();
  EXPECT_EQ(before.status_changed_at, "0000000001.00000");
  // Not a deletion: put moves forward, created_at backward, status unchanged.
  ASSERT_OK(broker_->MergeTimestamps("0000000000.50000", T(2), "0"));
  ReplicationInfo info = Info();
  EXPECT_EQ(info.created_at, "0000000000.50000");
  EXPECT_EQ(info.put_timestamp, T(2));
  EXPECT_EQ(info.delete_timestamp, "0");
  EXPECT_EQ(info.status_changed_at, "0000000001.00000");
  // Older values never win.
  ASSERT_OK(broker_->MergeTimestamps(T(9), T(1), "0"));
  EXPECT_EQ(Info().put_timestamp, T(2));
  EXPECT_EQ(Info().created_at, "0000000000.50000");
  // A newer delete on an empty container flips it to deleted: status_changed_at = now.
  Timestamp start = Timestamp::Now();
  ASSERT_OK(broker_->MergeTimestamps(T(9), T(2), T(3)));
  info = Info();
  EXPECT_EQ(info.delete_timestamp, T(3));
  ASSERT_OK_AND_ASSIGN(Timestamp changed, Timestamp::Parse(info.status_changed_at));
  EXPECT_GE(changed, start);
  // Same state again: unchanged.
  ASSERT_OK(broker_->MergeTimestamps(T(9), T(2), T(3)));
  EXPECT_EQ(Info().status_changed_at, info.status_changed_at);
}

TEST_F(ContainerBrokerTest, NewIdRecordsTheRemoteAndResetsReported) {
  Merge({Obj("a", T(1)), Obj("b", T(1))});
  {
    auto raw = RawConnection(path_);
    ASSERT_OK(raw->Execute("UPDATE container_stat SET reported_put_timestamp = '5', reported_object_count = 2"));
  }
  std::string old_id = Info().id;
  ASSERT_OK_AND_ASSIGN(std::string id, broker_->NewId("sender-id"));
  EXPECT_NE(id, old_id);
  EXPECT_THAT(id, ::testing::EndsWith("-sda"));
  ReplicationInfo info = Info();
  EXPECT_EQ(info.id, id);
  EXPECT_EQ(info.reported_put_timestamp, "0");
  EXPECT_EQ(info.reported_object_count, 0);
  EXPECT_EQ(Sync("sender-id"), 2);
}

TEST_F(ContainerBrokerTest, ReclaimDeletesOnlyOldTombstones) {
  // Reclaim compares the text of created_at with the text of the age, as
  // Swift does, which is chronological for real (10-digit) times.
  const double kBase = 1700000000;
  Merge({Obj("live", T(kBase + 50)), Obj("old", T(kBase + 100), 0, "text/plain", "e", true),
         Obj("edge", T(kBase + 200), 0, "text/plain", "e", true),
         Obj("new", T(kBase + 300), 0, "text/plain", "e", true)});
  ASSERT_OK(broker_->UpdateMetadata(absl::StrCat(R"({"X-Container-Meta-Old": ["", ")", T(kBase + 100),
                                                 R"("], "X-Container-Meta-New": ["", ")", T(kBase + 300),
                                                 R"("], "X-Container-Meta-Live": ["v", ")", T(kBase + 100), R"("]})")));
  ASSERT_OK(broker_->MergeSyncs({{"peer", 3}}));
  // Tombstones strictly older than the age go; sync rows updated "now" stay.
  ASSERT_OK(broker_->Reclaim(kBase + 200, kBase));
  std::vector<std::string> names;
  for (const ObjectRecord& o : Rows().objects) names.push_back(o.name);
  EXPECT_THAT(names, ElementsAre("live", "edge", "new"));
  ASSERT_OK_AND_ASSIGN(std::string md, broker_->GetRawMetadata());
  EXPECT_EQ(md, absl::StrCat(R"({"X-Container-Meta-New": ["", ")", T(kBase + 300), R"("], "X-Container-Meta-Live": ["v", ")",
                             T(kBase + 100), R"("]})"));
  EXPECT_EQ(Sync("peer"), 3);
  EXPECT_EQ(Info().hash, ExpectedHash(Rows()));
  EXPECT_EQ(Info().max_row, 4);  // Reclaim never lowers max_row.
  // A sync timestamp in the future drops the sync rows.
  ASSERT_OK(broker_->Reclaim(kBase, static_cast<double>(absl::ToUnixSeconds(absl::Now()) + 100)));
  EXPECT_EQ(Sync("peer"), -1);
  EXPECT_EQ(Rows().objects.size(), 3u);
}

TEST(ContainerReclaimPagingTest, ReclaimsAcrossPages) {
  BrokerOptions options;
  options.reclaim_page_size = 3;
  std::string path = NewDbPath(DbType::kContainer);
  ASSERT_OK_AND_ASSIGN(auto broker, DatabaseBroker::Create(DbType::kContainer, path, "a", "c", "", 0, options));
  std::vector<ObjectRecord> objects;
  for (int i = 0; i < 20; ++i) {
    objects.push_back(
        Obj(absl::StrCat("t", i / 10, i % 10), T(i % 2 == 0 ? 1700000010 : 1700001000), 0, "x", "e", true));
  }
  ASSERT_OK(broker->MergeItems(Batch(objects), ""));
  ASSERT_OK(broker->Reclaim(1700000500, 0.0));
  ASSERT_OK_AND_ASSIGN(ItemBatch rows, broker->GetItemsSince(-1, 100));
  EXPECT_EQ(rows.objects.size(), 10u);
  for (const ObjectRecord& o : rows.objects) EXPECT_EQ(o.created_at, T(1700001000));
}

TEST_F(ContainerBrokerTest, IsReclaimableWhenDeletedLongEnoughAndEmpty) {
  const double kReclaimAge = 604800;
  ASSERT_OK(broker_->MarkDeleted(T(2)));
  EXPECT_THAT(broker_->IsReclaimable(2 + kReclaimAge + 1, kReclaimAge), IsOkAndHolds(true));
  // Not old enough.
  EXPECT_THAT(broker_->IsReclaimable(2 + kReclaimAge - 1, kReclaimAge), IsOkAndHolds(false));
  // An object (in any policy) keeps it.
  Merge({Obj("o", T(1), 1, "x", "e", false, /*spi=*/3)});
  EXPECT_THAT(broker_->IsReclaimable(2 + kReclaimAge + 1, kReclaimAge), IsOkAndHolds(false));
}

TEST_F(ContainerBrokerTest, MarkDeletedBlanksMetadataButShardRoot) {
  ASSERT_OK(broker_->UpdateMetadata(R"({"X-Container-Meta-A": ["1", "0000000001.00000"], )"
                                    R"("X-Container-Sysmeta-Shard-Root": ["a/c", "0000000001.00000"]})"));
  ASSERT_OK(broker_->MarkDeleted(T(5)));
  ReplicationInfo info = Info();
  EXPECT_EQ(info.status, "DELETED");
  EXPECT_EQ(info.delete_timestamp, T(5));
  EXPECT_EQ(info.status_changed_at, T(5));
  EXPECT_EQ(info.metadata, R"({"X-Container-Meta-A": ["", "0000000005.00000"], )"
                           R"("X-Container-Sysmeta-Shard-Root": ["a/c", "0000000001.00000"]})");
  // An older delete changes nothing.
  ASSERT_OK(broker_->MarkDeleted(T(4)));
  EXPECT_EQ(Info().delete_timestamp, T(5));
}

TEST_F(ContainerBrokerTest, ReportUpToDateComparesReportedStats) {
  ReplicationInfo info = Info();
  EXPECT_THAT(broker_->ReportUpToDate(info), IsOkAndHolds(false));  // reported_put '0' != put
  info.reported_put_timestamp = info.put_timestamp;
  EXPECT_THAT(broker_->ReportUpToDate(info), IsOkAndHolds(true));
  info.reported_object_count = 1;
  EXPECT_THAT(broker_->ReportUpToDate(info), IsOkAndHolds(false));
}

TEST_F(ContainerBrokerTest, PendingWritesAreFlushedBeforeReads) {
  ObjectRecord o = Obj("o", "0000000001.00000", 10, "text/plain", "etag");
  ASSERT_OK(broker_->PutObject(o, /*use_pending=*/true));
  ASSERT_OK(broker_->PutObject(Obj("p", T(2), 5), /*use_pending=*/true));
  {
    auto raw = RawConnection(path_);
    EXPECT_THAT(Query(raw.get(), "SELECT COUNT(*) FROM object"), ElementsAre(ElementsAre("0")));
  }
  ASSERT_OK_AND_ASSIGN(std::string pending, ReadPendingFile(path_ + ".pending"));
  EXPECT_EQ(pending, EncodePendingObject(o) + EncodePendingObject(Obj("p", T(2), 5)));
  ReplicationInfo info = Info();
  EXPECT_EQ(info.count, 2);
  EXPECT_EQ(info.bytes_used, 15);
  ASSERT_OK_AND_ASSIGN(int64_t size, PendingFileSize(path_ + ".pending"));
  EXPECT_EQ(size, 0);
}

TEST_F(ContainerBrokerTest, MalformedPendingEntriesAreSkipped) {
  ASSERT_OK(AppendPendingFile(path_ + ".pending", EncodePendingObject(Obj("good1", T(1), 1))));
  ASSERT_OK(AppendPendingFile(path_ + ".pending", ":garbage!!:gAJLAS4="));
  ASSERT_OK(AppendPendingFile(path_ + ".pending", EncodePendingObject(Obj("good2", T(1), 1))));
  ItemBatch rows = Rows();
  ASSERT_EQ(rows.objects.size(), 2u);
  EXPECT_EQ(rows.objects[0].name, "good1");
  EXPECT_EQ(rows.objects[1].name, "good2");
}

TEST_F(ContainerBrokerTest, FullPendingFileIsCommittedByTheNextPut) {
  std::string entries;
  int n = 0;
  while (static_cast<int64_t>(entries.size()) <= kPendingCap) {
    entries += EncodePendingObject(Obj(absl::StrCat("bulk", n++), T(1), 1));
  }
  ASSERT_OK(AppendPendingFile(path_ + ".pending", entries));
  ASSERT_OK(broker_->PutObject(Obj("last", T(1), 1), /*use_pending=*/true));
  ASSERT_OK_AND_ASSIGN(int64_t size, PendingFileSize(path_ + ".pending"));
  EXPECT_EQ(size, 0);
  auto raw = RawConnection(path_);
  EXPECT_THAT(Query(raw.get(), "SELECT COUNT(*) FROM object"), ElementsAre(ElementsAre(absl::StrCat(n + 1))));
  // Swift merges the new record first, then the pending entries.
  EXPECT_THAT(Query(raw.get(), "SELECT name FROM object WHERE ROWID = 1"), ElementsAre(ElementsAre("last")));
}

TEST(ContainerPendingOptionTest, NoFlushWhenDisabled) {
  BrokerOptions options;
  options.flush_pending = false;
  std::string path = NewDbPath(DbType::kContainer);
  ASSERT_OK_AND_ASSIGN(auto broker, DatabaseBroker::Create(DbType::kContainer, path, "a", "c", "", 0, options));
  ASSERT_OK(broker->PutObject(Obj("o", T(1), 1), /*use_pending=*/true));
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, broker->GetReplicationInfo());
  EXPECT_EQ(info.count, 0);
  EXPECT_EQ(info.max_row, -1);
}

TEST_F(ContainerBrokerTest, ReplicationInfoOfAFreshDatabase) {
  ReplicationInfo info = Info();
  EXPECT_EQ(info.account, "a");
  EXPECT_EQ(info.container, "c");
  EXPECT_EQ(info.put_timestamp, "0000000001.00000");
  EXPECT_EQ(info.delete_timestamp, "0");
  EXPECT_EQ(info.status, "");
  EXPECT_EQ(info.hash, "00000000000000000000000000000000");
  EXPECT_EQ(info.max_row, -1);
  EXPECT_EQ(info.shard_max_row, -1);
  EXPECT_EQ(info.db_state, "unsharded");
  EXPECT_EQ(info.x_container_sync_point1, -1);
  EXPECT_EQ(info.metadata, "");
  EXPECT_EQ(info.reported_put_timestamp, "0");
}

TEST_F(ContainerBrokerTest, RejectsAccountRows) {
  ItemBatch batch;
  batch.containers.push_back(ContainerRecord());
  EXPECT_THAT(broker_->MergeItems(batch, ""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(broker_->PutContainer(ContainerRecord()), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(broker_->MergeItems(Batch({Obj("o", "yesterday")}), ""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(LegacyContainerTest, ReadsThe2013SchemaAndMigratesOnMerge) {
  std::string path = NewDbPath(DbType::kContainer);
  std::vector<ObjectRecord> objects = {Obj("x", T(1), 10), Obj("y", T(2), 0, "a/b", "e", true)};
  ASSERT_OK(testing::CreateLegacyContainerDb(path, "a", "c", T(1), objects));
  {
    auto raw = RawConnection(path);
    ASSERT_OK(raw->Execute("UPDATE container_stat SET reported_delete_timestamp = '7'"));
  }
  ASSERT_OK_AND_ASSIGN(auto broker, DatabaseBroker::Open(DbType::kContainer, path));
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, broker->GetReplicationInfo());
  EXPECT_EQ(info.count, 1);
  EXPECT_EQ(info.bytes_used, 10);
  EXPECT_EQ(info.max_row, 2);
  EXPECT_EQ(info.storage_policy_index, 0);
  EXPECT_EQ(info.shard_max_row, -1);
  ASSERT_OK_AND_ASSIGN(ItemBatch rows, broker->GetItemsSince(-1, 10));
  ASSERT_EQ(rows.objects.size(), 2u);
  EXPECT_TRUE(rows.objects[1].deleted);
  EXPECT_EQ(info.hash, ExpectedHash(rows));
  {  // Reads did not migrate.
    auto raw = RawConnection(path);
    EXPECT_THAT(Query(raw.get(), "SELECT type FROM sqlite_master WHERE name = 'container_stat'"),
                ElementsAre(ElementsAre("table")));
  }
  ASSERT_OK(broker->MergeItems(Batch({Obj("z", T(3), 30, "a/b", "e", false, 0, 1)}), "peer"));
  ASSERT_OK_AND_ASSIGN(ReplicationInfo after, broker->GetReplicationInfo());
  EXPECT_EQ(after.count, 2);
  EXPECT_EQ(after.bytes_used, 40);
  EXPECT_EQ(after.max_row, 3);
  EXPECT_EQ(after.id, info.id);
  EXPECT_EQ(after.reported_delete_timestamp, "0");  // Swift's migration drops it.
  ASSERT_OK_AND_ASSIGN(ItemBatch all, broker->GetItemsSince(-1, 10));
  EXPECT_EQ(after.hash, ExpectedHash(all));
  auto raw = RawConnection(path);
  EXPECT_THAT(Query(raw.get(), "SELECT type FROM sqlite_master WHERE name = 'container_stat'"),
              ElementsAre(ElementsAre("view")));
  EXPECT_THAT(Query(raw.get(), "SELECT storage_policy_index, object_count FROM policy_stat"),
              ElementsAre(ElementsAre("0", "2")));
}

TEST_F(ContainerBrokerTest, SetStoragePolicyIndexAsSwift) {
  Merge({Obj("x", T(5), 10)});
  const std::string before = Info().status_changed_at;
  ASSERT_OK(broker_->SetStoragePolicyIndex(2, T(1000)));
  ReplicationInfo info = Info();
  EXPECT_EQ(info.storage_policy_index, 2);
  EXPECT_EQ(info.status_changed_at, T(1000));
  // The stats are the new policy's (Swift's container_stat view): the row of
  // policy 0 waits for the reconciler.
  EXPECT_EQ(info.count, 0);
  auto raw = RawConnection(path_);
  EXPECT_THAT(Query(raw.get(), "SELECT storage_policy_index FROM policy_stat ORDER BY 1"),
              ElementsAre(ElementsAre("0"), ElementsAre("2")));
  // status_changed_at only rises; setting the same index changes nothing.
  ASSERT_OK(broker_->SetStoragePolicyIndex(1, T(10)));
  EXPECT_EQ(Info().storage_policy_index, 1);
  EXPECT_EQ(Info().status_changed_at, T(1000));
  ASSERT_OK(broker_->SetStoragePolicyIndex(1, T(2000)));
  EXPECT_EQ(Info().status_changed_at, T(1000));
  EXPECT_NE(before, T(1000));
}

TEST(LegacyContainerTest, SetStoragePolicyIndexMigratesThe2013Schema) {
  std::string path = NewDbPath(DbType::kContainer);
  ASSERT_OK(testing::CreateLegacyContainerDb(path, "a", "c", T(1), {Obj("x", T(1), 10)}));
  ASSERT_OK_AND_ASSIGN(auto broker, DatabaseBroker::Open(DbType::kContainer, path));
  ASSERT_OK(broker->SetStoragePolicyIndex(1, T(50)));
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, broker->GetReplicationInfo());
  EXPECT_EQ(info.storage_policy_index, 1);
  EXPECT_EQ(info.status_changed_at, T(50));
}

TEST(AccountBrokerPolicyTest, AnAccountHasNoPolicyIndex) {
  std::string path = NewDbPath(DbType::kAccount);
  ASSERT_OK_AND_ASSIGN(auto broker, DatabaseBroker::Create(DbType::kAccount, path, "a", "", T(1)));
  EXPECT_THAT(broker->SetStoragePolicyIndex(1, T(2)), StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace dbrepl
