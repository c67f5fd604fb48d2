// Row merges with Swift's object triggers batched (ObjectTriggerEffects)
// against the same merges with the triggers run per row, on copies of one
// database: every table must come out the same.
#include "common/db/object_trigger_effects.h"

#include <cstdint>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/db/broker.h"
#include "common/db/schema_info.h"
#include "common/db/testing/db_test_util.h"
#include "common/testing/status_matchers.h"
#include "common/timestamp.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::ExpectedHash;
using ::dbrepl::testing::NewDbPath;
using ::dbrepl::testing::Query;
using ::dbrepl::testing::RawConnection;

using Rows = std::vector<std::vector<std::string>>;

std::string T(int64_t seconds) { return Timestamp::FromSeconds(static_cast<double>(seconds))->Internal(); }

// Everything a merge may write, sync points' updated_at aside (a clock).
Rows Dump(const std::string& db_file) {
  auto conn = RawConnection(db_file);
  Rows out;
  for (const char* sql : {"SELECT * FROM container_info", "SELECT * FROM policy_stat ORDER BY storage_policy_index",
                          "SELECT ROWID, * FROM object ORDER BY ROWID", "SELECT * FROM sqlite_sequence",
                          "SELECT remote_id, sync_point, updated_at <> '0' FROM incoming_sync",
                          "SELECT typeof(object_count), typeof(bytes_used) FROM policy_stat"}) {
    out.push_back({sql});
    for (auto& row : Query(conn.get(), sql)) out.push_back(std::move(row));
  }
  return out;
}

class ObjectTriggerEffectsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    per_row_path_ = NewDbPath(DbType::kContainer);
    auto created = DatabaseBroker::Create(DbType::kContainer, per_row_path_, "a", "c", T(1), 0);
    ASSERT_OK(created);
    created->reset();
    batched_path_ = NewDbPath(DbType::kContainer);
    std::filesystem::create_directories(std::filesystem::path(batched_path_).parent_path());
    std::filesystem::copy_file(per_row_path_, batched_path_);
  }

  // Runs `sql` on both copies, with the triggers.
  void OnBoth(const std::string& sql) {
    for (const std::string& path : {per_row_path_, batched_path_}) ASSERT_OK(RawConnection(path)->Execute(sql));
  }

  // Merges `batch` into both copies, one with the triggers per row.
  void Merge(const ItemBatch& batch, const std::string& source) {
    BrokerOptions per_row;
    per_row.batch_object_triggers = false;
    for (const auto& [path, options] : {std::pair{per_row_path_, per_row}, std::pair{batched_path_, BrokerOptions{}}}) {
      auto broker = DatabaseBroker::Open(DbType::kContainer, path, options);
      ASSERT_OK(broker);
      ASSERT_OK((*broker)->MergeItems(batch, source));
    }
  }

  std::string per_row_path_;
  std::string batched_path_;
};

ObjectRecord Obj(std::string name, int64_t ts, int64_t size, bool deleted, int64_t spi, int64_t rowid) {
  ObjectRecord o;
  o.rowid = rowid;
  o.name = std::move(name);
  o.created_at = T(ts);
  o.size = size;
  o.content_type = "text/plain";
  o.etag = absl::StrCat("etag-", rowid);
  o.deleted = deleted;
  o.storage_policy_index = spi;
  return o;
}

ItemBatch Batch(std::vector<ObjectRecord> objects) {
  ItemBatch batch;
  batch.objects = std::move(objects);
  return batch;
}

TEST(SchemaInfoTest, SwiftsTriggersAreRecognised) {
  const std::string path = NewDbPath(DbType::kContainer);
  ASSERT_OK(DatabaseBroker::Create(DbType::kContainer, path, "a", "c", T(1), 0));
  auto conn = RawConnection(path);
  auto info = InspectSchema(conn.get());
  ASSERT_OK(info);
  EXPECT_TRUE(info->swift_object_triggers);

  // Another trigger on a table the triggers write, or an object trigger
  // that is not Swift's, and the batched arithmetic would miss it.
  ASSERT_OK(conn->Execute("CREATE TRIGGER audit AFTER UPDATE ON policy_stat BEGIN SELECT 1; END"));
  info = InspectSchema(conn.get());
  ASSERT_OK(info);
  EXPECT_FALSE(info->swift_object_triggers);
  ASSERT_OK(conn->Execute("DROP TRIGGER audit"));
  ASSERT_OK(conn->Execute("DROP TRIGGER object_insert_policy_stat"));
  info = InspectSchema(conn.get());
  ASSERT_OK(info);
  EXPECT_FALSE(info->swift_object_triggers);

  const std::string legacy = NewDbPath(DbType::kContainer);
  ASSERT_OK(testing::CreateLegacyContainerDb(legacy, "a", "c", T(1), {}));
  auto legacy_conn = RawConnection(legacy);
  info = InspectSchema(legacy_conn.get());
  ASSERT_OK(info);
  EXPECT_FALSE(info->swift_object_triggers);
}

// Random batches over few names, so that rows replace rows, tombstones
// replace rows, older rows are ignored, names repeat within a batch and
// several policies (one of them without a policy_stat row) are involved.
TEST_F(ObjectTriggerEffectsTest, RandomBatchesGiveTheTriggersResult) {
  std::mt19937 rng(20261204);
  int64_t rowid = 0;
  for (int round = 0; round < 60; ++round) {
    if (round == 30) OnBoth("DELETE FROM policy_stat WHERE storage_policy_index = 2");
    ItemBatch batch;
    const int n = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      batch.objects.push_back(Obj(absl::StrCat("o", rng() % 25), 1700000000 + static_cast<int64_t>(rng() % 50),
                                  static_cast<int64_t>(rng() % 1000), rng() % 4 == 0,
                                  static_cast<int64_t>(rng() % 3), ++rowid));
    }
    Merge(batch, "remote");
    ASSERT_EQ(Dump(per_row_path_), Dump(batched_path_)) << "after round " << round;
  }
  // And the result is Swift's hash of the rows.
  auto broker = DatabaseBroker::Open(DbType::kContainer, batched_path_);
  ASSERT_OK(broker);
  auto rows = (*broker)->GetItemsSince(-1, 100000);
  ASSERT_OK(rows);
  auto info = (*broker)->GetReplicationInfo();
  ASSERT_OK(info);
  EXPECT_EQ(info->hash, ExpectedHash(*rows));
  EXPECT_GT(rows->objects.size(), 20u);
}

// Where the batched arithmetic would not be exact, the triggers run: a row
// whose size is TEXT, a count about to pass 2^63 (SQLite then goes to REAL
// on the way). (A row whose deleted flag is neither 0 nor 1 is not one a
// merge replaces: Swift's query_mod skips it.)
TEST_F(ObjectTriggerEffectsTest, FallsBackToTheTriggersWhereTheSumsAreNotExact) {
  OnBoth("INSERT INTO object (name, created_at, size, content_type, etag, deleted, storage_policy_index) "
         "VALUES ('text-size', '" + T(1700000000) + "', 'twelve', 'x', 'e', 0, 0), "
         "('odd-deleted', '" + T(1700000000) + "', 3, 'x', 'e', 2, 1)");
  Merge(Batch({Obj("text-size", 1700000001, 5, false, 0, 1), Obj("odd-deleted", 1700000001, 4, false, 1, 2)}),
        "remote");
  ASSERT_EQ(Dump(per_row_path_), Dump(batched_path_));

  OnBoth(absl::StrCat("UPDATE policy_stat SET bytes_used = ", std::numeric_limits<int64_t>::max() - 10,
                      " WHERE storage_policy_index = 0"));
  Merge(Batch({Obj("big1", 1700000002, 7, false, 0, 3), Obj("big2", 1700000002, 7, false, 0, 4)}), "remote");
  const Rows after = Dump(batched_path_);
  ASSERT_EQ(Dump(per_row_path_), after);
  EXPECT_THAT(after, ::testing::Contains(std::vector<std::string>{"integer", "real"}));
}

// A database with a trigger of its own on object keeps it firing.
TEST_F(ObjectTriggerEffectsTest, AnotherTriggerKeepsThemAllPerRow) {
  OnBoth("CREATE TRIGGER count_inserts AFTER INSERT ON object BEGIN "
         "UPDATE container_info SET x_container_sync_point1 = x_container_sync_point1 + 1; END");
  ItemBatch batch;
  for (int i = 0; i < 5; ++i) batch.objects.push_back(Obj(absl::StrCat("n", i), 1700000000, i, false, 0, i + 1));
  Merge(batch, "remote");
  ASSERT_EQ(Dump(per_row_path_), Dump(batched_path_));
  auto conn = RawConnection(batched_path_);
  // -1 (Swift's initial value) + 5 inserts.
  EXPECT_EQ(Query(conn.get(), "SELECT x_container_sync_point1 FROM container_info"), Rows{{"4"}});
}

// The connection's triggers are back on after a batched merge: the same
// broker's next write through SQL with triggers (the sync table's
// updated_at stamp) still runs them.
TEST_F(ObjectTriggerEffectsTest, TriggersAreBackOnAfterTheMerge) {
  auto broker = DatabaseBroker::Open(DbType::kContainer, batched_path_);
  ASSERT_OK(broker);
  ASSERT_OK((*broker)->MergeItems(Batch({Obj("x", 1700000000, 1, false, 0, 1)}), "remote"));
  ASSERT_OK((*broker)->MergeSyncs({SyncRecord{"other", 7, 0}}));
  auto conn = RawConnection(batched_path_);
  // Without its trigger, a new row's updated_at keeps the column's default, 0.
  EXPECT_EQ(Query(conn.get(), "SELECT remote_id, updated_at <> '0' FROM incoming_sync ORDER BY remote_id"),
            (Rows{{"other", "1"}, {"remote", "1"}}));
}

}  // namespace
}  // namespace dbrepl
