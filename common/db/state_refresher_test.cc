#include "common/db/state_refresher.h"

#include <stdio.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/db/state_cache.h"
#include "common/db/testing/db_test_util.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::NewDbPath;
using ::dbrepl::testing::WaitPastLastWrite;
constexpr auto Obj = ::dbrepl::testing::TestObject;

class StateRefresherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = NewDbPath(DbType::kContainer);
    auto b = DatabaseBroker::Create(DbType::kContainer, path_, "a", "c", "0000000001.00000");
    ASSERT_OK(b);
    ASSERT_OK((*b)->PutObject(Obj("o1", 1)));
  }
  // A broker that has just written the database (a merge, say).
  std::unique_ptr<DatabaseBroker> Written(const std::string& name, int i) {
    auto b = DatabaseBroker::Open(DbType::kContainer, path_);
    EXPECT_OK(b);
    if (!b.ok()) return nullptr;
    EXPECT_OK((*b)->PutObject(Obj(name, i)));
    return *std::move(b);
  }
  // The cache's answer once the file's last write is in an earlier tick of
  // the coarse clock (the rule the cache stores under).
  StateCache::Result ReadSettled() {
    WaitPastLastWrite(path_);
    auto r = cache_.Read(DbType::kContainer, path_, BrokerOptions());
    EXPECT_OK(r);
    return r.ok() ? *std::move(r) : StateCache::Result();
  }
  std::string path_;
  StateCache cache_;
};

TEST_F(StateRefresherTest, AWrittenDatabaseIsCachedThroughItsWritersConnection) {
  StateRefresher refresher(&cache_, 4);
  ASSERT_TRUE(refresher.Offer(path_, Written("o2", 2), [](const ReplicationInfo&) { return 7u; }));
  refresher.WaitIdleForTesting();
  EXPECT_EQ(refresher.stored(), 1u);
  StateCache::Result r = ReadSettled();
  EXPECT_TRUE(r.from_cache);
  EXPECT_EQ(cache_.sqlite_reads(), 0u);
  EXPECT_EQ(r.state.max_row, 2);
  EXPECT_EQ(r.state.tag, 7u);
}

TEST_F(StateRefresherTest, AWriteAfterTheOfferIsNeverHiddenByTheRefresh) {
  // Whether the other write lands before or after the refresh reads, the
  // cache must not answer with the state before it.
  StateRefresher refresher(&cache_, 4);
  for (int i = 2; i < 12; i += 2) {
    ASSERT_TRUE(refresher.Offer(path_, Written(absl::StrCat("o", i), i), nullptr));
    Written(absl::StrCat("o", i + 1), i + 1).reset();  // Another writer, at once.
    refresher.WaitIdleForTesting();
    StateCache::Result r = ReadSettled();
    EXPECT_EQ(r.state.max_row, i + 1) << "after write " << i + 1;
  }
}

TEST_F(StateRefresherTest, AReplacedOrRemovedFileIsNotCached) {
  StateRefresher refresher(&cache_, 4);
  std::unique_ptr<DatabaseBroker> old = Written("o2", 2);
  // Replaced: another database renamed over the path.
  std::string other = NewDbPath(DbType::kContainer, "sdb");
  ASSERT_OK(DatabaseBroker::Create(DbType::kContainer, other, "a", "c", "0000000001.00000").status());
  ASSERT_EQ(rename(other.c_str(), path_.c_str()), 0);
  ASSERT_TRUE(refresher.Offer(path_, std::move(old), nullptr));
  refresher.WaitIdleForTesting();
  EXPECT_EQ(refresher.stored(), 0u);
  EXPECT_EQ(ReadSettled().state.max_row, -1);  // The new file's, read from SQLite.
  EXPECT_EQ(cache_.sqlite_reads(), 1u);

  // Removed.
  std::unique_ptr<DatabaseBroker> gone = Written("o3", 3);
  ASSERT_EQ(unlink(path_.c_str()), 0);
  ASSERT_TRUE(refresher.Offer(path_, std::move(gone), nullptr));
  refresher.WaitIdleForTesting();
  EXPECT_EQ(refresher.stored(), 0u);
  EXPECT_FALSE(cache_.Lookup(path_).ok());
}

TEST_F(StateRefresherTest, WithoutRoomAnOfferIsRefused) {
  StateRefresher refresher(&cache_, 0);
  EXPECT_FALSE(refresher.Offer(path_, Written("o2", 2), nullptr));
  EXPECT_FALSE(refresher.Offer(path_, nullptr, nullptr));
  refresher.WaitIdleForTesting();
  EXPECT_EQ(refresher.stored(), 0u);
}

TEST_F(StateRefresherTest, RefreshReadsOnlyOnceTheWritesTickHasPassed) {
  std::unique_ptr<DatabaseBroker> b = Written("o2", 2);
  absl::StatusOr<DbFileIdentity> id = StatDbFile(path_);
  ASSERT_OK(id);
  absl::StatusOr<StateCache::Refreshed> r;
  do {
    const bool same_tick = StateCache::CoarseNowNs() <= std::max(id->mtime_ns, id->ctime_ns);
    r = cache_.Refresh(path_, *b, nullptr);
    ASSERT_OK(r);
    if (!same_tick) break;  // The tick passed: it may read now.
    if (*r == StateCache::Refreshed::kTooEarly) usleep(1000);
  } while (*r == StateCache::Refreshed::kTooEarly);
  EXPECT_EQ(*r, StateCache::Refreshed::kStored);
  EXPECT_TRUE(cache_.Lookup(path_)->from_cache);
  EXPECT_EQ(cache_.Lookup(path_)->state.max_row, 2);
}

}  // namespace
}  // namespace dbrepl
