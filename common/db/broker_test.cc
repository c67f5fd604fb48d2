// DatabaseBroker's life cycle: Open/Create, corruption and quarantine,
// concurrent writers, Lock, and the file-level helpers.
#include "common/db/broker.h"

#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/db/db_files.h"
#include "common/db/testing/db_test_util.h"
#include "common/errors.h"
#include "common/fs_util.h"
#include "common/testing/status_matchers.h"
#include "common/timestamp.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::DeviceDirOf;
using ::dbrepl::testing::ExpectedHash;
using ::dbrepl::testing::IsOkAndHolds;
using ::dbrepl::testing::NewDbPath;
using ::dbrepl::testing::PathExists;
using ::dbrepl::testing::Query;
using ::dbrepl::testing::RawConnection;
using ::dbrepl::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// Sorted names in `dir`; none if it cannot be listed.
std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names = ListDirectory(dir).value_or(std::vector<std::string>());
  std::sort(names.begin(), names.end());
  return names;
}

ObjectRecord Obj(std::string name, int64_t size = 1) {
  ObjectRecord o;
  o.name = std::move(name);
  o.created_at = "1700000000.00000";
  o.size = size;
  o.content_type = "text/plain";
  o.etag = "d41d8cd98f00b204e9800998ecf8427e";
  return o;
}

TEST(BrokerOpenTest, MissingFileIsNotFoundAndNotCreated) {
  std::string path = NewDbPath(DbType::kContainer);
  auto broker = DatabaseBroker::Open(DbType::kContainer, path);
  EXPECT_THAT(broker, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(GetReason(broker.status()), ErrorReason::kDbNotFound);
  EXPECT_FALSE(PathExists(path));
  EXPECT_FALSE(PathExists(PythonDirname(path)));
}

// Bytes 18 and 19 of the file header: 1 for a rollback journal, 2 for WAL.
std::pair<int, int> JournalFormat(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char header[20] = {};
  in.read(header, sizeof header);
  return {header[18], header[19]};
}

TEST(BrokerOpenTest, OpeningLeavesWalModeAsSwiftsConnectionDoes) {
  const std::string path = NewDbPath(DbType::kContainer);
  {
    auto b = DatabaseBroker::Create(DbType::kContainer, path, "a", "c", "0000000001.00000");
    ASSERT_OK(b.status());
  }
  {
    auto raw = RawConnection(path);
    ASSERT_OK(raw->Execute("PRAGMA journal_mode = WAL"));
  }
  ASSERT_EQ(JournalFormat(path), std::make_pair(2, 2)) << "the setup: a WAL database";
  {
    ASSERT_OK_AND_ASSIGN(auto b, DatabaseBroker::Open(DbType::kContainer, path));
    ASSERT_OK_AND_ASSIGN(ReplicationInfo info, b->GetReplicationInfo());
    EXPECT_EQ(info.container, "c");
  }
  EXPECT_EQ(JournalFormat(path), std::make_pair(1, 1)) << "back to a rollback journal";
  EXPECT_FALSE(PathExists(path + "-wal"));
}

TEST(BrokerCreateTest, CreatesLikeSwift) {
  std::string path = NewDbPath(DbType::kContainer, "sdb3");
  Timestamp before = Timestamp::Now();
  ASSERT_OK_AND_ASSIGN(auto broker, DatabaseBroker::Create(DbType::kContainer, path, "AUTH_test", "cont"));
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, broker->GetReplicationInfo());
  EXPECT_THAT(info.id, MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}-sdb3"));
  EXPECT_EQ(info.put_timestamp, "0000000000.00000");
  EXPECT_EQ(info.status_changed_at, "0000000000.00000");
  ASSERT_OK_AND_ASSIGN(Timestamp created, Timestamp::Parse(info.created_at));
  EXPECT_GE(created, before);
  // Only the database and the directory lock remain: the tmp file was renamed.
  EXPECT_THAT(ListDir(PythonDirname(path)), ::testing::ElementsAre(".lock", PythonBasename(path)));
  EXPECT_THAT(DatabaseBroker::Create(DbType::kContainer, path, "AUTH_test", "cont"),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(ListDir(PythonDirname(path)), ::testing::ElementsAre(".lock", PythonBasename(path)));
  EXPECT_THAT(DatabaseBroker::Create(DbType::kContainer, NewDbPath(DbType::kContainer), "a", ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(BrokerCreateTest, PolicyIndexAndDetectType) {
  std::string path = NewDbPath(DbType::kContainer);
  ASSERT_OK_AND_ASSIGN(auto broker,
                       DatabaseBroker::Create(DbType::kContainer, path, "a", "c", "0000000002.00000", 3));
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, broker->GetReplicationInfo());
  EXPECT_EQ(info.storage_policy_index, 3);
  EXPECT_THAT(DetectDbType(path), IsOkAndHolds(DbType::kContainer));
  std::string account = NewDbPath(DbType::kAccount);
  ASSERT_OK(DatabaseBroker::Create(DbType::kAccount, account, "a", ""));
  EXPECT_THAT(DetectDbType(account), IsOkAndHolds(DbType::kAccount));
  EXPECT_THAT(DetectDbType(account + ".missing"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(BrokerOpenTest, WrongTypeIsInvalidArgumentAndNotQuarantined) {
  std::string path = NewDbPath(DbType::kAccount);
  ASSERT_OK(DatabaseBroker::Create(DbType::kAccount, path, "a", ""));
  EXPECT_THAT(DatabaseBroker::Open(DbType::kContainer, path), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(PathExists(path));
}

// Corruption: the hash directory moves to <device>/quarantined/<type>s/.
void ExpectQuarantined(const absl::Status& status, const std::string& path, DbType type) {
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(GetReason(status), ErrorReason::kDbCorrupt);
  std::string hash_dir = PythonDirname(path);
  std::string target = absl::StrCat(DeviceDirOf(path), "/quarantined/", Datadir(type), "/", PythonBasename(hash_dir));
  EXPECT_THAT(std::string(status.message()), HasSubstr(target));
  EXPECT_FALSE(PathExists(hash_dir));
  EXPECT_TRUE(PathExists(absl::StrCat(target, "/", PythonBasename(path))));
}

TEST(BrokerQuarantineTest, TruncatedFile) {
  std::string path = NewDbPath(DbType::kContainer);
  {
    ASSERT_OK_AND_ASSIGN(auto broker, DatabaseBroker::Create(DbType::kContainer, path, "a", "c"));
    ItemBatch batch;
    for (int i = 0; i < 3000; ++i) batch.objects.push_back(Obj(absl::StrCat("object-with-a-long-name-", i)));
    ASSERT_OK(broker->MergeItems(batch, ""));
  }
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  ASSERT_EQ(truncate(path.c_str(), st.st_size / 2), 0);
  absl::Status status;
  auto broker = DatabaseBroker::Open(DbType::kContainer, path);
  if (!broker.ok()) {
    status = broker.status();
  } else {
    status = (*broker)->GetItemsSince(-1, 100000).status();
    // The broker is unusable afterwards, and says so.
    EXPECT_THAT((*broker)->GetReplicationInfo(), StatusIs(absl::StatusCode::kDataLoss));
  }
  ExpectQuarantined(status, path, DbType::kContainer);
  if (broker.ok()) {
    // A pending write must not recreate the quarantined directory.
    EXPECT_THAT((*broker)->PutObject(Obj("late"), /*use_pending=*/true), StatusIs(absl::StatusCode::kDataLoss));
    EXPECT_FALSE(PathExists(PythonDirname(path)));
  }
}

TEST(BrokerQuarantineTest, ADamagedPageIsFoundByAStateReadThatLoadsIt) {
  // Bytes overwritten in a small container's only object page (bit rot, a
  // bad write): the state read loads that page (the oldest tombstone's row)
  // and, with every page checked as it loads, finds the damage even where
  // the cells it reads happen to be intact. Fixed seeds: the outcome is
  // deterministic; without the check about one in ten is found.
  int damaged = 0, found = 0;
  for (uint32_t seed = 1; seed <= 30; ++seed) {
    std::string path = NewDbPath(DbType::kContainer);
    int root = 0;
    {
      ASSERT_OK_AND_ASSIGN(auto broker, DatabaseBroker::Create(DbType::kContainer, path, "a", "c"));
      ItemBatch batch;
      for (int i = 0; i < 66; ++i) {
        batch.objects.push_back(Obj(absl::StrCat("i0-", i)));
        batch.objects.back().etag = "etag";  // Short rows: one leaf page, the root is the only page.
      }
      ASSERT_OK(broker->MergeItems(batch, ""));
      ObjectRecord gone = Obj("i0-5");
      gone.etag = "etag";
      gone.created_at = "1900000000.00000";
      gone.deleted = true;
      ASSERT_OK(broker->PutObject(gone));
      auto raw = RawConnection(path);
      ASSERT_OK_AND_ASSIGN(SqliteStatement st, raw->Prepare("SELECT rootpage FROM sqlite_master WHERE name = 'object'"));
      ASSERT_OK_AND_ASSIGN(bool row, st.Step());
      ASSERT_TRUE(row);
      root = static_cast<int>(st.ColumnInt(0));
    }
    std::mt19937 rng(seed);
    std::string junk(512, '\0');
    for (char& c : junk) c = static_cast<char>(rng() & 0xff);
    {
      std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp((root - 1) * 4096 + static_cast<int>(rng() % (4096 - 512)));
      f.write(junk.data(), junk.size());
    }
    bool intact = false;
    {
      auto raw = RawConnection(path);
      absl::StatusOr<SqliteStatement> check = raw->Prepare("PRAGMA integrity_check");
      if (check.ok()) {
        absl::StatusOr<bool> row = check->Step();
        intact = row.ok() && *row && check->ColumnText(0) == "ok";
      }
    }
    if (intact) continue;  // Free space, say: nothing to find.
    ++damaged;
    absl::StatusOr<std::unique_ptr<DatabaseBroker>> broker = DatabaseBroker::Open(DbType::kContainer, path);
    absl::Status read = broker.ok() ? (*broker)->GetReplicationState().status() : broker.status();
    if (!read.ok()) {
      ExpectQuarantined(read, path, DbType::kContainer);
      ++found;
    }
  }
  ASSERT_GE(damaged, 10);
  EXPECT_GE(found * 10, damaged * 7) << found << " of " << damaged << " damaged pages found";
}

TEST(BrokerQuarantineTest, MissingTable) {
  std::string path = NewDbPath(DbType::kContainer);
  ASSERT_OK(DatabaseBroker::Create(DbType::kContainer, path, "a", "c"));
  {
    auto raw = RawConnection(path);
    ASSERT_OK(raw->Execute("DROP TABLE object"));
  }
  auto broker = DatabaseBroker::Open(DbType::kContainer, path);
  ExpectQuarantined(broker.status(), path, DbType::kContainer);
}

TEST(BrokerQuarantineTest, NotADatabaseTwiceGetsAUniqueName) {
  std::string first;
  for (int i = 0; i < 2; ++i) {
    // Same device and hash each time: the second lands at <hash>-<uuid hex>.
    std::string path = first.empty() ? NewDbPath(DbType::kAccount) : first;
    ASSERT_OK(MakeDirs(PythonDirname(path)));
    std::ofstream(path) << std::string(8192, 'z');
    auto broker = DatabaseBroker::Open(DbType::kAccount, path);
    EXPECT_THAT(broker, StatusIs(absl::StatusCode::kDataLoss));
    EXPECT_THAT(std::string(broker.status().message()), HasSubstr("corrupted database"));
    if (i == 1) {
      EXPECT_THAT(std::string(broker.status().message()),
                  MatchesRegex(".*/quarantined/accounts/[0-9a-f]{32}-[0-9a-f]{32} .*"));
    }
    first = path;
  }
}

TEST(BrokerQuarantineTest, DisabledLeavesTheFile) {
  std::string path = NewDbPath(DbType::kContainer);
  ASSERT_OK(MakeDirs(PythonDirname(path)));
  std::ofstream(path) << std::string(8192, 'z');
  BrokerOptions options;
  options.quarantine_on_corruption = false;
  EXPECT_THAT(DatabaseBroker::Open(DbType::kContainer, path, options), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_TRUE(PathExists(path));
}

TEST(BrokerQuarantineTest, MissingStatRow) {
  std::string path = NewDbPath(DbType::kContainer);
  ASSERT_OK_AND_ASSIGN(auto broker, DatabaseBroker::Create(DbType::kContainer, path, "a", "c"));
  {
    auto raw = RawConnection(path);
    ASSERT_OK(raw->Execute("DELETE FROM container_info"));
  }
  auto info = broker->GetReplicationInfo();
  ExpectQuarantined(info.status(), path, DbType::kContainer);
  EXPECT_THAT(std::string(info.status().message()), HasSubstr("missing row in container_stat table"));
  // Unusable afterwards; a pending write must not recreate the directory.
  EXPECT_THAT(broker->PutObject(Obj("late"), /*use_pending=*/true), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(broker->GetMaxRow(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_FALSE(PathExists(PythonDirname(path)));
}

TEST(QuarantineDbTest, MovesTheHashDir) {
  std::string path = NewDbPath(DbType::kContainer);
  ASSERT_OK(DatabaseBroker::Create(DbType::kContainer, path, "a", "c"));
  ASSERT_OK_AND_ASSIGN(std::string target, QuarantineDb(path, DbType::kContainer));
  EXPECT_TRUE(PathExists(target + "/" + PythonBasename(path)));
  EXPECT_THAT(QuarantineDb(path, DbType::kContainer), StatusIs(absl::StatusCode::kNotFound));
}

// Two writers, each with its own broker (connection) on the same file.
void ConcurrentWriters(bool use_pending) {
  std::string path = NewDbPath(DbType::kContainer);
  ASSERT_OK(DatabaseBroker::Create(DbType::kContainer, path, "a", "c"));
  constexpr int kPuts = 500;
  std::vector<absl::Status> failures[2];
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      auto broker = DatabaseBroker::Open(DbType::kContainer, path);
      if (!broker.ok()) {
        failures[t].push_back(broker.status());
        return;
      }
      for (int i = 0; i < kPuts; ++i) {
        absl::Status s = (*broker)->PutObject(Obj(absl::StrCat("w", t, "-", i), i), use_pending);
        if (!s.ok()) failures[t].push_back(s);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < 2; ++t) EXPECT_TRUE(failures[t].empty()) << failures[t].front();
  ASSERT_OK_AND_ASSIGN(auto broker, DatabaseBroker::Open(DbType::kContainer, path));
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, broker->GetReplicationInfo());
  EXPECT_EQ(info.count, 2 * kPuts);
  EXPECT_EQ(info.max_row, 2 * kPuts);
  EXPECT_EQ(info.bytes_used, 2 * (kPuts * (kPuts - 1) / 2));
  ASSERT_OK_AND_ASSIGN(ItemBatch rows, broker->GetItemsSince(-1, 10 * kPuts));
  EXPECT_EQ(rows.objects.size(), 2u * kPuts);
  EXPECT_EQ(info.hash, ExpectedHash(rows));
}

TEST(BrokerConcurrencyTest, DirectWritersLoseNothing) { ConcurrentWriters(/*use_pending=*/false); }
TEST(BrokerConcurrencyTest, PendingWritersLoseNothing) { ConcurrentWriters(/*use_pending=*/true); }

TEST(BrokerLockTest, LockBlocksOtherWritersNotReaders) {
  std::string path = NewDbPath(DbType::kContainer);
  ASSERT_OK_AND_ASSIGN(auto holder, DatabaseBroker::Create(DbType::kContainer, path, "a", "c"));
  BrokerOptions impatient;
  impatient.busy_timeout = absl::Milliseconds(100);
  ASSERT_OK_AND_ASSIGN(auto other, DatabaseBroker::Open(DbType::kContainer, path, impatient));
  ASSERT_OK(holder->Lock());
  EXPECT_THAT(holder->Lock(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(other->PutObject(Obj("o")), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_OK(other->GetReplicationInfo());
  // The holder itself may read, not write.
  EXPECT_OK(holder->GetMaxRow());
  EXPECT_THAT(holder->PutObject(Obj("o")), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK(holder->Unlock());
  EXPECT_THAT(holder->Unlock(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(other->PutObject(Obj("o")));
  EXPECT_THAT(holder->GetMaxRow(), IsOkAndHolds(1));
}

TEST(DeleteDbFilesTest, RemovesHashDirAndEmptyParents) {
  std::string path = NewDbPath(DbType::kContainer);
  ASSERT_OK(DatabaseBroker::Create(DbType::kContainer, path, "a", "c"));
  std::string hash_dir = PythonDirname(path);
  std::string suffix_dir = PythonDirname(hash_dir);
  std::string part_dir = PythonDirname(suffix_dir);
  // A second database in another suffix of the same partition.
  std::string sibling = part_dir + "/fff/hash2/hash2.db";
  ASSERT_OK(DatabaseBroker::Create(DbType::kContainer, sibling, "a", "c2"));
  ASSERT_OK(DeleteDbFiles(path));
  EXPECT_FALSE(PathExists(hash_dir));
  EXPECT_FALSE(PathExists(suffix_dir));
  EXPECT_TRUE(PathExists(part_dir));  // Not empty.
  ASSERT_OK(DeleteDbFiles(sibling));
  EXPECT_FALSE(PathExists(part_dir));
  EXPECT_TRUE(PathExists(PythonDirname(part_dir)));  // The datadir stays.
}

TEST(ReclaimTmpFilesTest, RemovesOldTmpOnly) {
  std::string path = NewDbPath(DbType::kContainer);
  ASSERT_OK(DatabaseBroker::Create(DbType::kContainer, path, "a", "c"));
  std::string dir = PythonDirname(path);
  std::ofstream(dir + "/tmpabc.tmp") << "x";
  std::ofstream(dir + "/tmpnew.tmp") << "x";
  struct utimbuf old_times = {1000, 1000};
  ASSERT_EQ(utime((dir + "/tmpabc.tmp").c_str(), &old_times), 0);
  ASSERT_EQ(utime(path.c_str(), &old_times), 0);
  EXPECT_THAT(ReclaimTmpFiles(dir, absl::Now() - absl::Hours(24 * 7)), IsOkAndHolds(1));
  EXPECT_FALSE(PathExists(dir + "/tmpabc.tmp"));
  EXPECT_TRUE(PathExists(dir + "/tmpnew.tmp"));
  EXPECT_TRUE(PathExists(path));
}

TEST(BrokerNewIdTest, FileInDeviceTmpGetsSwiftsDeviceName) {
  // complete_rsync renames after newid: while the file is in <dev>/tmp, the
  // "device" four levels up is the directory above <devices>, because Swift's
  // get_device_path() (swift/common/db.py) strips four components wherever
  // the file is.
  std::string path = NewDbPath(DbType::kContainer);
  ASSERT_OK(DatabaseBroker::Create(DbType::kContainer, path, "a", "c"));
  std::string devices = PythonDirname(DeviceDirOf(path));  // <root>/srv/node
  std::string tmp_file = devices + "/sda/tmp/sender-id";
  ASSERT_OK(MakeDirs(PythonDirname(tmp_file)));
  ASSERT_EQ(rename(path.c_str(), tmp_file.c_str()), 0);
  ASSERT_OK_AND_ASSIGN(auto broker, DatabaseBroker::Open(DbType::kContainer, tmp_file));
  ASSERT_OK_AND_ASSIGN(std::string id, broker->NewId("sender-id"));
  std::string root = PythonDirname(PythonDirname(devices));
  EXPECT_THAT(id, ::testing::EndsWith("-" + PythonBasename(root)));
}

TEST(LegacyAccountTest, PrePolicySchemaReadsAndMigratesOnMerge) {
  std::string path = NewDbPath(DbType::kAccount);
  {
    ASSERT_OK_AND_ASSIGN(auto broker, DatabaseBroker::Create(DbType::kAccount, path, "a", ""));
    ContainerRecord c;
    c.name = "c1";
    c.put_timestamp = "1700000000.00000";
    c.object_count = 2;
    c.bytes_used = 20;
    ASSERT_OK(broker->PutContainer(c));
  }
  {  // Back to the pre-storage-policy schema.
    auto raw = RawConnection(path);
    ASSERT_OK(raw->Execute("DROP TRIGGER container_insert_ps; DROP TRIGGER container_delete_ps; "
                           "DROP TABLE policy_stat; ALTER TABLE container DROP COLUMN storage_policy_index"));
  }
  ASSERT_OK_AND_ASSIGN(auto broker, DatabaseBroker::Open(DbType::kAccount, path));
  ASSERT_OK_AND_ASSIGN(ItemBatch rows, broker->GetItemsSince(-1, 10));
  ASSERT_EQ(rows.containers.size(), 1u);
  EXPECT_EQ(rows.containers[0].storage_policy_index, 0);
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, broker->GetReplicationInfo());
  EXPECT_EQ(info.count, 1);
  ContainerRecord c2;
  c2.name = "c2";
  c2.put_timestamp = "1700000001.00000";
  c2.object_count = 3;
  c2.storage_policy_index = 1;
  ASSERT_OK(broker->PutContainer(c2));
  auto raw = RawConnection(path);
  EXPECT_THAT(Query(raw.get(), "SELECT storage_policy_index, container_count, object_count FROM policy_stat "
                               "ORDER BY storage_policy_index"),
              ::testing::ElementsAre(::testing::ElementsAre("0", "1", "2"), ::testing::ElementsAre("1", "1", "3")));
  ASSERT_OK_AND_ASSIGN(ItemBatch after, broker->GetItemsSince(-1, 10));
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info2, broker->GetReplicationInfo());
  EXPECT_EQ(info2.hash, ExpectedHash(after));
  EXPECT_EQ(info2.count, 2);
}

TEST(BrokerMergeTest, EmptyBatchIsANoOp) {
  std::string path = NewDbPath(DbType::kContainer);
  ASSERT_OK_AND_ASSIGN(auto broker, DatabaseBroker::Create(DbType::kContainer, path, "a", "c"));
  ASSERT_OK_AND_ASSIGN(MergeResult result, broker->MergeItems(ItemBatch(), "peer"));
  EXPECT_EQ(result.rows_applied, 0);
  EXPECT_EQ(result.sync_point, -1);
}

}  // namespace
}  // namespace dbrepl
