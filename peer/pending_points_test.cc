#include "peer/pending_points.h"

#include "absl/strings/str_cat.h"
#include "common/db/broker.h"
#include "common/fs_util.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace dbrepl::peer {
namespace {

std::string NewDb(const std::string& name) {
  std::string path = absl::StrCat(getenv("TEST_TMPDIR"), "/", name, "/d/containers/1/abc/h/h.db");
  auto b = DatabaseBroker::Create(DbType::kContainer, path, "a", name, "0000000001.00000");
  EXPECT_OK(b);
  return path;
}

std::string IdOf(const std::string& path) {
  auto b = DatabaseBroker::Open(DbType::kContainer, path);
  return (*b)->GetReplicationInfo()->id;
}

auto Opener() {
  return [](const std::string& f, DbType t) { return DatabaseBroker::Open(t, f); };
}

TEST(PendingPointsTest, HeldPointsAreAnsweredAndWrittenBehind) {
  std::string db = NewDb("written");
  std::string id = IdOf(db);
  PendingPoints points;
  ASSERT_TRUE(points.Raise(db, DbType::kContainer, id, "sender", 10));
  ASSERT_TRUE(points.Raise(db, DbType::kContainer, id, "sender", 7));  // Never lowered.
  EXPECT_EQ(points.Get(db, id, "sender"), 10);
  EXPECT_EQ(points.Get(db, "another-id", "sender"), -1) << "a point belongs to one database";
  EXPECT_EQ(points.Flush(absl::Hours(1), 100, Opener()), 0) << "not old enough";
  EXPECT_EQ(points.Flush(absl::ZeroDuration(), 100, Opener()), 1);
  EXPECT_EQ(points.size(), 0u);
  auto b = DatabaseBroker::Open(DbType::kContainer, db);
  EXPECT_EQ(*(*b)->GetSync("sender", /*incoming=*/true), 10);
}

TEST(PendingPointsTest, AReplacedDatabaseDoesNotInheritThem) {
  std::string db = NewDb("replaced");
  PendingPoints points;
  ASSERT_TRUE(points.Raise(db, DbType::kContainer, "the-old-id", "sender", 10));
  EXPECT_EQ(points.Flush(absl::ZeroDuration(), 100, Opener()), 1);
  auto b = DatabaseBroker::Open(DbType::kContainer, db);
  EXPECT_EQ(*(*b)->GetSync("sender", /*incoming=*/true), -1);
}

TEST(PendingPointsTest, ABoundedNumberIsHeld) {
  PendingPoints points(1);
  EXPECT_TRUE(points.Raise("/x/a.db", DbType::kContainer, "i", "s", 1));
  EXPECT_FALSE(points.Raise("/x/b.db", DbType::kContainer, "i", "s", 1));
  EXPECT_TRUE(points.Raise("/x/a.db", DbType::kContainer, "i", "t", 1));
}

}  // namespace
}  // namespace dbrepl::peer
