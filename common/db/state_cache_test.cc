#include "common/db/state_cache.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/db/testing/db_test_util.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::NewDbPath;
using ::dbrepl::testing::WaitPastLastWrite;
constexpr auto Obj = ::dbrepl::testing::TestObject;

class StateCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = NewDbPath(DbType::kContainer);
    auto b = DatabaseBroker::Create(DbType::kContainer, path_, "a", "c", "0000000001.00000");
    ASSERT_OK(b);
    ASSERT_OK((*b)->PutObject(Obj("o1", 1)));
    ASSERT_OK((*b)->MergeSyncs({SyncRecord{"peer-a", 1, 0}}, /*incoming=*/true));
  }
  // A read made once the file's last write is in an earlier clock tick
  // than the read's first stat: waits on the coarse clock itself, which is
  // what the rule is about.
  StateCache::Result ReadSettled() {
    WaitPastLastWrite(path_);
    auto r = cache_.Read(DbType::kContainer, path_, BrokerOptions());
    EXPECT_OK(r);
    return r.ok() ? *std::move(r) : StateCache::Result();
  }
  std::string path_;
  StateCache cache_;
};

TEST_F(StateCacheTest, AnUnchangedDatabaseIsServedWithoutSqlite) {
  StateCache::Result first = ReadSettled();
  EXPECT_FALSE(first.from_cache);
  EXPECT_NE(first.broker, nullptr);
  StateCache::Result second = ReadSettled();
  EXPECT_TRUE(second.from_cache);
  EXPECT_EQ(second.broker, nullptr);
  EXPECT_EQ(second.state.hash, first.state.hash);
  EXPECT_EQ(second.state.id, first.state.id);
  EXPECT_EQ(second.state.max_row, 1);
  EXPECT_EQ(second.state.Point("peer-a", /*incoming=*/true), 1);
  EXPECT_EQ(second.state.Point("peer-a", /*incoming=*/false), -1);
  EXPECT_EQ(second.state.state_digest, first.state.state_digest);
}

TEST_F(StateCacheTest, AnyWriteInvalidatesIt) {
  ReadSettled();
  ASSERT_TRUE(ReadSettled().from_cache);
  {  // A direct merge.
    auto b = DatabaseBroker::Open(DbType::kContainer, path_);
    ASSERT_OK((*b)->PutObject(Obj("o2", 2)));
  }
  StateCache::Result r = ReadSettled();
  EXPECT_FALSE(r.from_cache);
  EXPECT_EQ(r.state.max_row, 2);
  ASSERT_TRUE(ReadSettled().from_cache);
  {  // Swift's way: an entry appended to .pending.
    auto b = DatabaseBroker::Open(DbType::kContainer, path_);
    ASSERT_OK((*b)->PutObject(Obj("o3", 3), /*use_pending=*/true));
  }
  r = ReadSettled();
  EXPECT_FALSE(r.from_cache);
  EXPECT_EQ(r.state.max_row, 3);  // Flushed by the read.
}

TEST_F(StateCacheTest, AReplacedFileIsNotTheCachedOne) {
  ReadSettled();
  ASSERT_TRUE(ReadSettled().from_cache);
  std::string other = NewDbPath(DbType::kContainer);
  {
    auto b = DatabaseBroker::Create(DbType::kContainer, other, "a", "c", "0000000001.00000");
    ASSERT_OK(b);
  }
  ASSERT_EQ(rename(other.c_str(), path_.c_str()), 0);
  StateCache::Result r = ReadSettled();
  EXPECT_FALSE(r.from_cache);
  EXPECT_EQ(r.state.max_row, -1);
}

TEST_F(StateCacheTest, AFileModifiedInTheCurrentClockTickIsNotStored) {
  ASSERT_OK_AND_ASSIGN(DbFileIdentity id, StatDbFile(path_));
  ReplicationState state;
  state.info.hash = "00000000000000000000000000000000";
  EXPECT_FALSE(cache_.Put(path_, id, /*coarse_before_ns=*/id.mtime_ns, state, 0));
  EXPECT_TRUE(cache_.Put(path_, id, std::max(id.mtime_ns, id.ctime_ns) + 1, state, 0));
  EXPECT_TRUE(cache_.Get(path_, id).has_value());
}

TEST_F(StateCacheTest, StaysWithinItsBound) {
  StateCache small(2);
  ASSERT_OK_AND_ASSIGN(DbFileIdentity id, StatDbFile(path_));
  ReplicationState state;
  state.info.hash = "00000000000000000000000000000000";
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(small.Put(absl::StrCat(path_, i), id, std::max(id.mtime_ns, id.ctime_ns) + 1, state, 0));
  }
  EXPECT_LE(small.size(), 2u);
}

TEST_F(StateCacheTest, ReadSaysWhetherItsStateIsCacheable) {
  StateCache::Result settled = ReadSettled();
  EXPECT_TRUE(settled.cacheable);
  EXPECT_EQ(cache_.sqlite_reads(), 1u);
  EXPECT_TRUE(ReadSettled().cacheable);  // From the cache.
  EXPECT_EQ(cache_.sqlite_reads(), 1u);
  StateCache fresh;
  ASSERT_OK((*DatabaseBroker::Open(DbType::kContainer, path_, BrokerOptions()))->PutObject(Obj("o2", 2)));
  auto racy = fresh.Read(DbType::kContainer, path_, BrokerOptions());  // Written in this very tick, most likely.
  ASSERT_OK(racy);
  EXPECT_EQ(racy->cacheable, fresh.size() == 1);
}

TEST_F(StateCacheTest, AStateAnotherCacheReadIsStoredAsItWas) {
  StateCache::Result read = ReadSettled();
  CachedState s = read.state;
  s.id = "not-a-uuid-form id";  // Kept whole.
  s.tag = 0x12345678;
  s.reclaim.oldest = 1700000000.5;
  s.reclaim.now = true;
  for (int i = 0; i < 6; ++i) s.points.emplace_back(SyncPointKey(absl::StrCat("peer-", i), i % 2 == 0), 100 + i);
  s.multiple_policies = true;
  StateCache other;
  ASSERT_TRUE(other.Store(path_, read.identity, s));
  absl::optional<CachedState> got = other.Get(path_, read.identity);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->hash, s.hash);
  EXPECT_EQ(got->id, s.id);
  EXPECT_EQ(got->max_row, s.max_row);
  EXPECT_EQ(got->state_digest, s.state_digest);
  EXPECT_EQ(got->tag, s.tag);
  EXPECT_EQ(got->reclaim.oldest, s.reclaim.oldest);
  EXPECT_TRUE(got->reclaim.now);
  EXPECT_TRUE(got->multiple_policies);
  EXPECT_EQ(got->points, s.points);
  EXPECT_EQ(got->Point("peer-4", /*incoming=*/true), 104);
  // Another identity is another file.
  DbFileIdentity changed = read.identity;
  ++changed.size;
  EXPECT_FALSE(other.Get(path_, changed).has_value());
  // Never cached: a sharding state, a hash that is not 32 hex digits.
  CachedState sharding = read.state;
  sharding.sharding = true;
  EXPECT_FALSE(other.Store(path_ + "x", read.identity, sharding));
  CachedState odd = read.state;
  odd.hash = "xyz";
  EXPECT_FALSE(other.Store(path_ + "y", read.identity, odd));
  EXPECT_EQ(other.size(), 1u);
}

TEST_F(StateCacheTest, EachOfSwiftsIdFormsComesBackAsItWas) {
  StateCache::Result read = ReadSettled();
  StateCache other;
  int n = 0;
  for (const std::string id : {"e65dc47b-04b1-48fd-a907-9ea7771811fc", "e65dc47b-04b1-48fd-a907-9ea7771811fc-sdb1",
                               "e65dc47b-04b1-48fd-a907-9ea7771811fc-", "E65DC47B-04B1-48FD-A907-9EA7771811FC-sdb1"}) {
    CachedState s = read.state;
    s.id = id;
    const std::string file = absl::StrCat(path_, ".", n++);
    ASSERT_TRUE(other.Store(file, read.identity, s));
    absl::optional<CachedState> got = other.Get(file, read.identity);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->id, id);
  }
}

TEST_F(StateCacheTest, EveryPartOfTheIdentityCounts) {
  StateCache::Result read = ReadSettled();
  const DbFileIdentity id = read.identity;
  std::vector<DbFileIdentity> others(8, id);
  ++others[0].dev;
  ++others[1].ino;
  ++others[2].size;
  ++others[3].mtime_ns;
  ++others[4].ctime_ns;
  ++others[5].pending_ino;
  ++others[6].pending_size;
  ++others[7].pending_mtime_ns;
  ASSERT_TRUE(cache_.Get(path_, id).has_value());
  for (size_t i = 0; i < others.size(); ++i) EXPECT_FALSE(cache_.Get(path_, others[i]).has_value()) << i;
}

TEST(ReclaimClockTest, DueAtTheFirstCutOffAndAtOnceWhenSaid) {
  ReclaimClock none;
  EXPECT_EQ(none.Due(100), std::numeric_limits<double>::infinity());
  ReclaimClock c;
  c.oldest = 1000;
  c.oldest_sync = 1050;
  EXPECT_EQ(c.Due(100), 1099);   // The tombstone at 1000 + 100, a second early.
  EXPECT_EQ(c.Due(10), 1009);
  c.oldest_sync = 900;
  EXPECT_EQ(c.Due(100), 1099);   // The sync row at 900 + 2 * 100 = 1100 is later.
  EXPECT_EQ(c.Due(10), 919);     // 900 + 20 is sooner than 1000 + 10.
  c.now = true;
  EXPECT_EQ(c.Due(100), 0);
}

}  // namespace
}  // namespace dbrepl
