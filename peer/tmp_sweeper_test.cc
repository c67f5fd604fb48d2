#include "peer/tmp_sweeper.h"

#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/db/lock_file.h"
#include "common/env/testing/fault_injection_env.h"
#include "common/fs_util.h"
#include "common/paths.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "peer/upload.h"

namespace dbrepl::peer {
namespace {

TEST(TmpSweeperTest, RemovesOnlyUploadsLeftAloneLongerThanMaxAge) {
  std::string devices = absl::StrCat(getenv("TEST_TMPDIR"), "/devices");
  ASSERT_OK(MakeDirs(devices + "/sda/tmp"));
  ASSERT_OK(MakeDirs(devices + "/sdb"));  // No tmp/ at all: fine.
  const std::string id = "4f1c5a2e-9b7d-4c3e-8a1f-0123456789ab-sdb";
  for (const std::string& name :
       {id, "." + id + ".Ab12Cd", std::string(".other.0123abcd.installing"),
        // Other daemons' files in the shared tmp/: an object server's
        // mkstemp, the sharder's fresh database, anything else.
        std::string("tmpx8a7Kq2"), std::string("fresh4f1c5a2e-9b7d-4c3e-8a1f-0123456789ab.db"),
        std::string("notes.txt")}) {
    std::ofstream(devices + "/sda/tmp/" + name) << "x";
  }
  testing::FaultInjectionEnv env(Env::Default(), devices);
  TmpSweeper sweeper(&env, devices, absl::Minutes(2));
  // A private install name nobody in this process holds was abandoned.
  EXPECT_EQ(sweeper.SweepOnce(), 1);
  EXPECT_FALSE(PathExists(devices + "/sda/tmp/.other.0123abcd.installing"));
  EXPECT_TRUE(PathExists(devices + "/sda/tmp/" + id)) << "fresh uploads stay";
  env.AdvanceClock(absl::Minutes(3));  // Later, without waiting.
  EXPECT_EQ(sweeper.SweepOnce(), 2);
  EXPECT_FALSE(PathExists(devices + "/sda/tmp/" + id));
  EXPECT_FALSE(PathExists(devices + "/sda/tmp/." + id + ".Ab12Cd"));
  for (const char* other : {"tmpx8a7Kq2", "fresh4f1c5a2e-9b7d-4c3e-8a1f-0123456789ab.db", "notes.txt"}) {
    EXPECT_TRUE(PathExists(devices + "/sda/tmp/" + other)) << other << " is not ours to sweep";
  }
}

TEST(TmpSweeperTest, UploadNamesAreDatabaseIds) {
  EXPECT_TRUE(LooksLikeUpload("4f1c5a2e-9b7d-4c3e-8a1f-0123456789ab-sdb1"));
  EXPECT_TRUE(LooksLikeUpload(".4f1c5a2e-9b7d-4c3e-8a1f-0123456789ab-sdb1.Zx81Qa"));
  EXPECT_FALSE(LooksLikeUpload("4f1c5a2e-9b7d-4c3e-8a1f-0123456789ab-"));
  EXPECT_FALSE(LooksLikeUpload("4f1c5a2e_9b7d-4c3e-8a1f-0123456789ab-sdb1"));
  EXPECT_FALSE(LooksLikeUpload(".4f1c5a2e-9b7d-4c3e-8a1f-0123456789ab-sdb1"));
  EXPECT_FALSE(LooksLikeUpload("tmpab12cd"));
  EXPECT_FALSE(LooksLikeUpload(""));
}

TEST(TmpSweeperTest, AnAbandonedOutboxLosesItsLinksButNeverTheDatabase) {
  std::string devices = absl::StrCat(getenv("TEST_TMPDIR"), "/devices3");
  const std::string db = devices + "/sda/containers/1/abc/hash/hash.db";
  const std::string outbox = devices + "/sda/tmp/" + kOutboxPrefix + "42";
  ASSERT_OK(MakeDirs(Dirname(db)));
  ASSERT_OK(MakeDirs(outbox));
  std::ofstream(db) << "the database";
  ASSERT_EQ(link(db.c_str(), (outbox + "/db-id").c_str()), 0);
  testing::FaultInjectionEnv env(Env::Default(), devices);
  TmpSweeper sweeper(&env, devices, absl::Minutes(2));
  {
    // Its agent still pushing (a long batch): held, so it stays however old.
    absl::StatusOr<DirectoryLock> in_use = TryLockDirectoryItself(outbox);
    ASSERT_OK(in_use.status());
    env.AdvanceClock(absl::Hours(3));
    EXPECT_EQ(sweeper.SweepOnce(), 0);
    EXPECT_TRUE(PathExists(outbox + "/db-id"));
  }
  // Its agent died (the lock went with it).
  EXPECT_EQ(sweeper.SweepOnce(), 1);
  EXPECT_FALSE(PathExists(outbox));
  absl::StatusOr<std::string> content = Env::Default()->ReadFile(db);
  ASSERT_OK(content.status());
  EXPECT_EQ(*content, "the database");
}

TEST(TmpSweeperTest, AFreshOutboxStaysEvenUnlocked) {
  // Between its agent's mkdir and its lock.
  std::string devices = absl::StrCat(getenv("TEST_TMPDIR"), "/devices4");
  const std::string outbox = devices + "/sda/tmp/" + kOutboxPrefix + "7";
  ASSERT_OK(MakeDirs(outbox));
  TmpSweeper sweeper(Env::Default(), devices, absl::Minutes(2));
  EXPECT_EQ(sweeper.SweepOnce(), 0);
  EXPECT_TRUE(PathExists(outbox));
}

TEST(TmpSweeperTest, AnInstallInProgressKeepsItsPrivateFile) {
  std::string devices = absl::StrCat(getenv("TEST_TMPDIR"), "/devices2");
  ASSERT_OK(MakeDirs(devices + "/sda/tmp"));
  std::ofstream(devices + "/sda/tmp/sender") << "x";
  LocatedDb db;
  db.type = DbType::kContainer;
  db.device = "sda";
  db.device_path = devices + "/sda";
  db.tmp_dir = devices + "/sda/tmp";
  absl::StatusOr<Upload> upload = Upload::Claim(Env::Default(), db, "sender");
  ASSERT_OK(upload);
  TmpSweeper sweeper(Env::Default(), devices, absl::Minutes(2));
  EXPECT_EQ(sweeper.SweepOnce(), 0);
  EXPECT_TRUE(PathExists(upload->path()));
}

}  // namespace
}  // namespace dbrepl::peer
