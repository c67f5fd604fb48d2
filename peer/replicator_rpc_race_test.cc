// Races on the receiving side, with real SQLite files and threads: row merges
// (a MergeItems stream's batches, Swift-style .pending writes) while rsynced
// copies are swapped in over the same database by RsyncThenMerge. Whatever
// was acknowledged must be in the file at the path at the end: a batch
// committed into a file that was just replaced, or a .pending flush into it,
// would be acknowledged and lost.
#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/db/broker.h"
#include "common/errors.h"
#include "common/fs_util.h"
#include "common/paths.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "peer/replicator_rpc.h"

namespace dbrepl::peer {
namespace {

constexpr char kHash[] = "e8fbcd486a77117e2cd3398aa1f9485f";

ObjectRecord Obj(const std::string& name, int64_t ts) {
  ObjectRecord o;
  o.name = name;
  o.created_at = absl::StrCat(1700000000 + ts, ".00000");
  o.content_type = "text/plain";
  o.etag = "e";
  return o;
}

std::set<std::string> Names(const std::string& file) {
  std::set<std::string> names;
  auto broker = DatabaseBroker::Open(DbType::kContainer, file);
  EXPECT_OK(broker);
  if (!broker.ok()) return names;
  auto rows = (*broker)->GetItemsSince(-1, 1000000);  // Flushes .pending first.
  EXPECT_OK(rows);
  if (!rows.ok()) return names;
  for (const ObjectRecord& o : rows->objects) names.insert(o.name);
  return names;
}

LocatedDb Locate(const std::string& devices) {
  LocatedDb db;
  db.type = DbType::kContainer;
  db.device = "sda";
  db.partition = 3;
  db.hash = kHash;
  db.device_path = devices + "/sda";
  db.db_file = DbFilePath(devices, "sda", DbType::kContainer, 3, kHash);
  db.tmp_dir = devices + "/sda/tmp";
  return db;
}

TEST(ReplicatorRpcRaceTest, NothingAcknowledgedIsLostWhileCopiesAreSwappedIn) {
  const std::string devices = absl::StrCat(getenv("TEST_TMPDIR"), "/race");
  ASSERT_OK(MakeDirs(devices + "/sda/tmp"));
  const LocatedDb db = Locate(devices);
  {
    auto b = DatabaseBroker::Create(DbType::kContainer, db.db_file, "a", "c", "0000000001.00000");
    ASSERT_OK(b);
    for (int i = 0; i < 20; ++i) ASSERT_OK((*b)->PutObject(Obj(absl::StrCat("base", i), i)));
  }
  ReplicatorRpc rpc;
  const absl::Time deadline = absl::Now() + absl::Minutes(5);
  absl::Mutex mu;
  std::set<std::string> acked;
  std::atomic<bool> stop{false};
  // Writers do at most kPerRound writes per swap, so the database stays small
  // and every swap races with writes.
  constexpr int kPerRound = 15;
  std::atomic<int> round_started{0};
  auto may_write = [&](int done) {
    absl::MutexLock lock(&mu);
    auto ready = [&] { return stop.load() || done < (round_started.load() + 1) * kPerRound; };
    mu.Await(absl::Condition(&ready));
    return !stop.load();
  };

  // A sender's MergeItems stream: one broker for many batches, reopened when
  // the peer says the file was replaced (the sender's retry).
  std::thread merger([&] {
    std::unique_ptr<DatabaseBroker> broker;
    for (int batch = 0; may_write(batch); ++batch) {
      if (broker == nullptr) {
        auto b = rpc.OpenForMerge(db, deadline);
        ASSERT_OK(b);
        broker = std::move(*b);
      }
      ItemBatch rows;
      for (int i = 0; i < 5; ++i) {
        ObjectRecord o = Obj(absl::StrCat("m", batch, "_", i), 1000 + batch);
        o.rowid = batch * 5 + i + 1;
        rows.objects.push_back(o);
      }
      absl::StatusOr<MergeResult> r = broker->MergeItems(rows, "sender-a");
      if (r.ok()) {
        absl::MutexLock lock(&mu);
        for (const ObjectRecord& o : rows.objects) acked.insert(o.name);
      } else {
        broker.reset();
      }
    }
  });
  // Swift's object updates: through .pending, a fresh broker each time, as a
  // container server's request would.
  std::thread pending_writer([&] {
    for (int i = 0; may_write(i); ++i) {
      auto b = DatabaseBroker::Open(DbType::kContainer, db.db_file);
      if (!b.ok()) continue;
      std::string name = absl::StrCat("p", i);
      if ((*b)->PutObject(Obj(name, 5000 + i), /*use_pending=*/true).ok()) {
        absl::MutexLock lock(&mu);
        acked.insert(name);
      }
    }
  });
  // Another node keeps shipping its copy for rsync_then_merge.
  int swaps = 0;
  for (int round = 0; round < 12; ++round) {
    {
      absl::MutexLock lock(&mu);
      round_started = round;
    }
    std::string src = absl::StrCat(devices, "/src", round, "/containers/3/85f/", kHash, "/", kHash, ".db");
    {
      auto b = DatabaseBroker::Create(DbType::kContainer, src, "a", "c", "0000000001.00000");
      ASSERT_OK(b);
      ASSERT_OK((*b)->PutObject(Obj(absl::StrCat("u", round), 9000 + round)));
    }
    ASSERT_OK(RenameDurably(src, db.tmp_dir + "/sender-b"));
    absl::StatusOr<RsyncThenMergeResult> r = rpc.RsyncThenMerge(db, "sender-b", deadline);
    if (r.ok()) {
      ++swaps;
      absl::MutexLock lock(&mu);
      acked.insert(absl::StrCat("u", round));
    } else {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
    }
  }
  {
    absl::MutexLock lock(&mu);
    stop = true;
  }
  merger.join();
  pending_writer.join();
  EXPECT_GT(swaps, 6);

  std::set<std::string> present = Names(db.db_file);
  std::vector<std::string> lost;
  for (const std::string& name : acked) {
    if (present.count(name) == 0) lost.push_back(name);
  }
  EXPECT_TRUE(lost.empty()) << lost.size() << " of " << acked.size() << " acknowledged rows lost, e.g. "
                            << lost.front();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(present.count(absl::StrCat("base", i)), 1u);
}

TEST(ReplicatorRpcRaceTest, RsyncThenMergeRecordsOnlyTheUploadsRowsForTheSender) {
  const std::string devices = absl::StrCat(getenv("TEST_TMPDIR"), "/point");
  ASSERT_OK(MakeDirs(devices + "/sda/tmp"));
  const LocatedDb db = Locate(devices);
  {
    auto b = DatabaseBroker::Create(DbType::kContainer, db.db_file, "a", "c", "0000000001.00000");
    ASSERT_OK(b);
    for (int i = 0; i < 30; ++i) ASSERT_OK((*b)->PutObject(Obj(absl::StrCat("local", i), i)));
  }
  std::string src = absl::StrCat(devices, "/src/containers/3/85f/", kHash, "/", kHash, ".db");
  {
    auto b = DatabaseBroker::Create(DbType::kContainer, src, "a", "c", "0000000001.00000");
    ASSERT_OK(b);
    for (int i = 0; i < 10; ++i) ASSERT_OK((*b)->PutObject(Obj(absl::StrCat("remote", i), 100 + i)));
  }
  ASSERT_OK(RenameDurably(src, db.tmp_dir + "/sender"));
  ReplicatorRpc rpc;
  ASSERT_OK(rpc.RsyncThenMerge(db, "sender", absl::Now() + absl::Seconds(30)));
  auto b = DatabaseBroker::Open(DbType::kContainer, db.db_file);
  ASSERT_OK(b);
  // The sender's rows 1..10 arrived; the 30 folded local rows got ROWIDs
  // 11..40, which say nothing about the sender's rows 11..40.
  EXPECT_THAT((*b)->GetSync("sender", /*incoming=*/true), dbrepl::testing::IsOk());
  EXPECT_EQ(*(*b)->GetSync("sender", /*incoming=*/true), 10);
  EXPECT_EQ((*b)->GetReplicationInfo()->count, 40);
}

}  // namespace
}  // namespace dbrepl::peer
