// Account databases through the public DatabaseBroker API, on real files.
// Expected rows and hashes come from Swift 2.30.1 running the same steps.
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
using ::dbrepl::testing::StatusIs;

std::string T(double seconds) { return Timestamp::FromSeconds(seconds)->Internal(); }

ContainerRecord Cont(std::string name, std::string put, std::string del = "0", int64_t objects = 0,
                     int64_t bytes = 0, bool deleted = false, int64_t rowid = 1) {
  ContainerRecord c;
  c.rowid = rowid;
  c.name = std::move(name);
  c.put_timestamp = std::move(put);
  c.delete_timestamp = std::move(del);
  c.object_count = objects;
  c.bytes_used = bytes;
  c.deleted = deleted;
  return c;
}

ItemBatch Batch(std::vector<ContainerRecord> containers) {
  ItemBatch b;
  b.containers = std::move(containers);
  return b;
}

class AccountBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = NewDbPath(DbType::kAccount);
    auto broker = DatabaseBroker::Create(DbType::kAccount, path_, "a", "", "0000000001.00000");
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

  std::string path_;
  std::unique_ptr<DatabaseBroker> broker_;
};

TEST_F(AccountBrokerTest, TimestampsMaxStatsAlwaysReplace) {
  ASSERT_OK(broker_->MergeItems(Batch({Cont("c1", T(2), "0", 5, 50)}), ""));
  // Older put, fewer objects: the put stays at 2, the counts become 3/30.
  ASSERT_OK(broker_->MergeItems(Batch({Cont("c1", T(1), "0", 3, 30)}), ""));
  ItemBatch rows = Rows();
  ASSERT_EQ(rows.containers.size(), 1u);
  const ContainerRecord& r = rows.containers[0];
  EXPECT_EQ(r.rowid, 2);  // Always delete + insert.
  EXPECT_EQ(r.put_timestamp, T(2));
  EXPECT_EQ(r.object_count, 3);
  EXPECT_EQ(r.bytes_used, 30);
  ReplicationInfo info = Info();
  EXPECT_EQ(info.count, 1);
  EXPECT_EQ(info.object_count, 3);
  EXPECT_EQ(info.bytes_used, 30);
  EXPECT_EQ(info.max_row, 2);
  EXPECT_EQ(info.hash, "2850e61c457fcd1988201e36d270bfc1");

  // A newer delete of an empty container marks the row deleted.
  ASSERT_OK(broker_->MergeItems(Batch({Cont("c1", "0", T(3), 0, 0, true)}), ""));
  rows = Rows();
  ASSERT_EQ(rows.containers.size(), 1u);
  EXPECT_EQ(rows.containers[0].put_timestamp, T(2));
  EXPECT_EQ(rows.containers[0].delete_timestamp, T(3));
  EXPECT_TRUE(rows.containers[0].deleted);
  info = Info();
  EXPECT_EQ(info.count, 0);
  EXPECT_EQ(info.hash, "11c708b7f925a659ba094982f34f8aa4");

  // A newer put revives it.
  ASSERT_OK(broker_->MergeItems(Batch({Cont("c1", T(4), "0", 1, 1)}), ""));
  rows = Rows();
  EXPECT_EQ(rows.containers[0].rowid, 4);
  EXPECT_EQ(rows.containers[0].delete_timestamp, T(3));
  EXPECT_FALSE(rows.containers[0].deleted);
  info = Info();
  EXPECT_EQ(info.count, 1);
  EXPECT_EQ(info.hash, "d7f5d76ef745b877f90bd00d90ae6eb4");
  EXPECT_EQ(info.hash, ExpectedHash(rows));
}

TEST_F(AccountBrokerTest, SourceRaisesTheSyncPointToTheMaxRowid) {
  ASSERT_OK_AND_ASSIGN(MergeResult result,
                       broker_->MergeItems(Batch({Cont("c1", T(1), "0", 0, 0, false, 1),
                                                  Cont("c2", T(1), "0", 0, 0, false, 5),
                                                  Cont("c3", T(1), "0", 0, 0, false, 2)}),
                                           "r"));
  EXPECT_EQ(result.sync_point, 5);
  EXPECT_EQ(result.rows_applied, 3);
  ASSERT_OK(broker_->MergeItems(Batch({Cont("c4", T(1), "0", 0, 0, false, 4)}), "r"));
  EXPECT_THAT(broker_->GetSync("r"), IsOkAndHolds(5));
}

TEST_F(AccountBrokerTest, PutContainerDecidesDeleted) {
  ASSERT_OK(broker_->PutContainer(Cont("c1", T(1))));
  ASSERT_OK(broker_->PutContainer(Cont("c2", T(1), T(2))));
  ASSERT_OK(broker_->PutContainer(Cont("c3", T(1), T(2), 3)));
  ItemBatch rows = Rows();
  ASSERT_EQ(rows.containers.size(), 3u);
  EXPECT_FALSE(rows.containers[0].deleted);
  EXPECT_TRUE(rows.containers[1].deleted);
  EXPECT_FALSE(rows.containers[2].deleted);  // Deleted but not empty.
  EXPECT_EQ(Info().count, 2);
  // Swift's hash of a one-row account holding each row as "c1" (from
  // put_container runs on Swift 2.30.1).
  auto as_c1 = [](ContainerRecord c) {
    c.name = "c1";
    return ExpectedHash(Batch({c}));
  };
  EXPECT_EQ(as_c1(rows.containers[0]), "bd62d034af88897b23b1e4c135b8ecd5");
  EXPECT_EQ(as_c1(rows.containers[1]), "3137afa16e2dac023e9a9b2435e4efae");
  EXPECT_EQ(as_c1(rows.containers[2]), "882b691dd0aa738ca926bfe83c3ce43d");
  EXPECT_EQ(Info().hash, ExpectedHash(rows));
}

TEST_F(AccountBrokerTest, PendingPutsAreFlushed) {
  ASSERT_OK(broker_->PutContainer(Cont("c1", T(1), "0", 2, 20), /*use_pending=*/true));
  ASSERT_OK(broker_->PutContainer(Cont("c2", T(1), "0", 3, 30), /*use_pending=*/true));
  ReplicationInfo info = Info();
  EXPECT_EQ(info.count, 2);
  EXPECT_EQ(info.object_count, 5);
  EXPECT_EQ(info.bytes_used, 50);
  EXPECT_EQ(info.max_row, 2);
}

TEST_F(AccountBrokerTest, DeletionAndReclaimability) {
  const double kAge = 604800;
  EXPECT_THAT(broker_->IsReclaimable(1e9, kAge), IsOkAndHolds(false));
  // merge_timestamps with a newer delete: deleted (no containers), so
  // status_changed_at moves to now.
  Timestamp start = Timestamp::Now();
  ASSERT_OK(broker_->MergeTimestamps(T(1), T(1), T(2)));
  ReplicationInfo info = Info();
  EXPECT_EQ(info.delete_timestamp, T(2));
  ASSERT_OK_AND_ASSIGN(Timestamp changed, Timestamp::Parse(info.status_changed_at));
  EXPECT_GE(changed, start);
  EXPECT_THAT(broker_->IsReclaimable(2 + kAge + 1, kAge), IsOkAndHolds(true));
  EXPECT_THAT(broker_->IsReclaimable(2 + kAge - 1, kAge), IsOkAndHolds(false));
  ASSERT_OK(broker_->PutContainer(Cont("c1", T(3))));
  EXPECT_THAT(broker_->IsReclaimable(2 + kAge + 1, kAge), IsOkAndHolds(false));
  EXPECT_THAT(broker_->ReportUpToDate(info), IsOkAndHolds(true));
}

TEST_F(AccountBrokerTest, MarkDeletedSetsStatus) {
  ASSERT_OK(broker_->UpdateMetadata(R"({"X-Account-Meta-A": ["1", "0000000001.00000"]})"));
  ASSERT_OK(broker_->MarkDeleted(T(5)));
  ReplicationInfo info = Info();
  EXPECT_EQ(info.delete_timestamp, T(5));
  EXPECT_EQ(info.status_changed_at, T(5));
  EXPECT_EQ(info.metadata, R"({"X-Account-Meta-A": ["", "0000000005.00000"]})");
}

TEST_F(AccountBrokerTest, NewIdKeepsTheMaxRowAsTheRemotesPoint) {
  ASSERT_OK(broker_->MergeItems(Batch({Cont("c1", T(1)), Cont("c2", T(1))}), ""));
  ASSERT_OK_AND_ASSIGN(std::string id, broker_->NewId("remote"));
  EXPECT_EQ(Info().id, id);
  EXPECT_THAT(broker_->GetSync("remote"), IsOkAndHolds(2));
}

TEST_F(AccountBrokerTest, ReclaimUsesTheDeleteTimestamp) {
  const double kBase = 1700000000;
  ASSERT_OK(broker_->MergeItems(Batch({Cont("gone", T(kBase), T(kBase + 10), 0, 0, true),
                                       Cont("recent", T(kBase), T(kBase + 500), 0, 0, true),
                                       Cont("live", T(kBase))}),
                                ""));
  ASSERT_OK(broker_->Reclaim(kBase + 100, 0));
  ItemBatch rows = Rows();
  ASSERT_EQ(rows.containers.size(), 2u);
  EXPECT_EQ(rows.containers[0].name, "recent");
  EXPECT_EQ(rows.containers[1].name, "live");
}

TEST_F(AccountBrokerTest, RejectsObjectRows) {
  ItemBatch batch;
  batch.objects.push_back(ObjectRecord());
  EXPECT_THAT(broker_->MergeItems(batch, ""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(broker_->PutObject(ObjectRecord()), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(broker_->PutContainer(Cont("c", "garbage")), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(AccountBrokerTest, ReplicationInfoOfAFreshDatabase) {
  ReplicationInfo info = Info();
  EXPECT_EQ(info.account, "a");
  EXPECT_EQ(info.container, "");
  EXPECT_EQ(info.put_timestamp, "0000000001.00000");
  EXPECT_EQ(info.status_changed_at, "0000000001.00000");
  EXPECT_EQ(info.hash, "00000000000000000000000000000000");
  EXPECT_EQ(info.max_row, -1);
  EXPECT_THAT(info.id, ::testing::EndsWith("-sda"));
}

}  // namespace
}  // namespace dbrepl
