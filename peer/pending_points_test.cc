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

TEST(PendingPointsTest, SwiftsIdsAndLayoutAndAnythingElseComeBackAsTheyWere) {
  // Ids and paths in Swift's forms are held compactly; others whole. Either
  // way Flush writes exactly what was raised, to exactly the file.
  const std::string root = absl::StrCat(getenv("TEST_TMPDIR"), "/forms");
  const std::string hash = "0123456789abcdef0123456789abcdef";
  const std::vector<std::string> files = {
      absl::StrCat(root, "/sda/containers/17/def/", hash, "/", hash, ".db"),    // Swift's layout.
      absl::StrCat(root, "/sda/containers/017/def/", hash, "/", hash, ".db"),   // A partition that is not.
      absl::StrCat(root, "/sdb/containers/17/abc/", hash, "/", hash, ".db"),    // Suffix is not the hash's.
      absl::StrCat(root, "/sdc/containers/0/def/", hash, "/", hash, ".db"),
  };
  const std::vector<std::string> remotes = {"e65dc47b-04b1-48fd-a907-9ea7771811fc",
                                            "e65dc47b-04b1-48fd-a907-9ea7771811fc-sdb1", "plain-sender"};
  PendingPoints points;
  std::vector<std::string> ids;
  for (const std::string& f : files) {
    auto b = DatabaseBroker::Create(DbType::kContainer, f, "a", "c", "0000000001.00000");
    ASSERT_OK(b);
    ids.push_back((*b)->GetReplicationInfo()->id);
    for (size_t r = 0; r < remotes.size(); ++r) {
      ASSERT_TRUE(points.Raise(f, DbType::kContainer, ids.back(), remotes[r], 10 + static_cast<int64_t>(r)));
    }
  }
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(points.GetAll(files[i], ids[i]),
              (std::map<std::string, int64_t>{{remotes[0], 10}, {remotes[1], 11}, {remotes[2], 12}}));
    EXPECT_EQ(points.Get(files[i], ids[i], remotes[1]), 11);
    EXPECT_EQ(points.Get(files[i], ids[i], "e65dc47b-04b1-48fd-a907-9ea7771811fc-sdb2"), -1);
  }
  EXPECT_EQ(points.Flush(absl::ZeroDuration(), 100, Opener()), static_cast<int>(files.size()));
  for (const std::string& f : files) {
    auto b = DatabaseBroker::Open(DbType::kContainer, f);
    ASSERT_OK(b);
    for (size_t r = 0; r < remotes.size(); ++r) {
      EXPECT_EQ(*(*b)->GetSync(remotes[r], /*incoming=*/true), 10 + static_cast<int64_t>(r)) << f << " " << remotes[r];
    }
  }
}

TEST(PendingPointsTest, AFailedWriteKeepsItsPointsForTheNextFlush) {
  std::string db = NewDb("failed");
  std::string id = IdOf(db);
  PendingPoints points;
  ASSERT_TRUE(points.Raise(db, DbType::kContainer, id, "sender", 10));
  auto failing = [](const std::string&, DbType) -> absl::StatusOr<std::unique_ptr<DatabaseBroker>> {
    return absl::UnavailableError("locked");
  };
  EXPECT_EQ(points.Flush(absl::ZeroDuration(), 100, failing), 0);
  EXPECT_EQ(points.Get(db, id, "sender"), 10);
  EXPECT_EQ(points.Flush(absl::Seconds(1), 100, Opener()), 0) << "held a second ago";
  EXPECT_EQ(points.Flush(absl::ZeroDuration(), 100, Opener()), 1);
  auto b = DatabaseBroker::Open(DbType::kContainer, db);
  EXPECT_EQ(*(*b)->GetSync("sender", /*incoming=*/true), 10);
}

}  // namespace
}  // namespace dbrepl::peer
