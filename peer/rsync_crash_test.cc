// Crash safety of CompleteRsync and RsyncThenMerge: a child process runs the
// operation and is killed (SIGKILL, no cleanup) at each step; the parent then
// reopens everything and checks that the installed database is whole (either
// the old or the new one, never a mix) and that no row is lost: whatever was
// not yet installed is still intact in tmp/ for the sender's retry.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/db/broker.h"
#include "common/fs_util.h"
#include "common/paths.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "peer/replicator_rpc.h"

namespace dbrepl::peer {
namespace {

constexpr char kHash[] = "e8fbcd486a77117e2cd3398aa1f9485f";

std::set<std::string> Names(const std::string& file) {
  std::set<std::string> names;
  auto broker = DatabaseBroker::Open(DbType::kContainer, file);
  EXPECT_OK(broker);
  if (!broker.ok()) return names;
  auto rows = (*broker)->GetItemsSince(-1, 100000);
  EXPECT_OK(rows);
  if (!rows.ok()) return names;
  for (const ObjectRecord& o : rows->objects) names.insert(o.name);
  return names;
}

void Fill(const std::string& file, int first, int count) {
  auto broker = DatabaseBroker::Create(DbType::kContainer, file, "a", "c", "0000000001.00000");
  ASSERT_OK(broker);
  for (int i = first; i < first + count; ++i) {
    ObjectRecord o;
    o.name = absl::StrCat("o", i);
    o.created_at = absl::StrCat(1700000000 + i, ".00000");
    o.content_type = "text/plain";
    o.etag = "e";
    ASSERT_OK((*broker)->PutObject(o));
  }
}

struct CrashSetup {
  std::string devices;
  LocatedDb db;
  std::string tmp;
};

CrashSetup Prepare(const std::string& name, bool with_existing) {
  CrashSetup s;
  s.devices = absl::StrCat(getenv("TEST_TMPDIR"), "/", name);
  EXPECT_OK(MakeDirs(s.devices + "/sda/tmp"));
  s.db.type = DbType::kContainer;
  s.db.device = "sda";
  s.db.partition = 3;
  s.db.hash = kHash;
  s.db.device_path = s.devices + "/sda";
  s.db.db_file = DbFilePath(s.devices, "sda", DbType::kContainer, 3, kHash);
  s.db.tmp_dir = s.devices + "/sda/tmp";
  s.tmp = s.db.tmp_dir + "/sender";
  if (with_existing) Fill(s.db.db_file, 0, 50);
  std::string src = s.devices + "/src/containers/3/85f/" + kHash + "/" + kHash + ".db";
  Fill(src, 100, 50);
  EXPECT_OK(RenameDurably(src, s.tmp));
  return s;
}

// Runs `op` in a child that SIGKILLs itself at `crash_step`. Returns true if
// the child died there.
bool RunAndCrash(const std::function<void(ReplicatorRpc&)>& op, const std::string& crash_step) {
  pid_t pid = fork();
  if (pid == 0) {
    ReplicatorRpc rpc;
    rpc.set_step_hook_for_testing([&](const std::string& step) {
      if (step == crash_step) raise(SIGKILL);
    });
    op(rpc);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

class RsyncThenMergeCrashTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RsyncThenMergeCrashTest, OldOrNewDatabaseIsWholeAfterACrash) {
  const std::string step = GetParam();
  CrashSetup s = Prepare("rtm_" + step, /*with_existing=*/true);
  ASSERT_TRUE(RunAndCrash(
      [&](ReplicatorRpc& rpc) { (void)rpc.RsyncThenMerge(s.db, "sender", absl::Now() + absl::Seconds(30)); },
      step));
  std::set<std::string> installed = Names(s.db.db_file);
  if (step == "after_rename") {
    EXPECT_EQ(installed.size(), 100u);  // The merged database.
    EXPECT_FALSE(PathExists(s.tmp));
  } else {
    EXPECT_EQ(installed.size(), 50u);  // The old database, untouched.
    EXPECT_TRUE(installed.count("o0") && installed.count("o49"));
    // The upload is still whole in tmp/ (possibly with local rows already
    // folded in): a retry loses nothing.
    std::set<std::string> upload = Names(s.tmp);
    EXPECT_TRUE(upload.count("o100") && upload.count("o149"));
    // A retry after the crash completes the merge.
    ReplicatorRpc rpc;
    ASSERT_OK(rpc.RsyncThenMerge(s.db, "sender", absl::Now() + absl::Seconds(30)).status());
    EXPECT_EQ(Names(s.db.db_file).size(), 100u);
  }
  EXPECT_FALSE(PathExists(s.db.db_file + "-journal"));
}

INSTANTIATE_TEST_SUITE_P(Steps, RsyncThenMergeCrashTest,
                         ::testing::Values("after_fold", "before_rename", "after_rename"));

class CompleteRsyncCrashTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CompleteRsyncCrashTest, DatabaseIsAbsentOrWholeAfterACrash) {
  const std::string step = GetParam();
  CrashSetup s = Prepare("cr_" + step, /*with_existing=*/false);
  ASSERT_TRUE(RunAndCrash(
      [&](ReplicatorRpc& rpc) {
        (void)rpc.CompleteRsync(s.db, "sender", "", absl::Now() + absl::Seconds(30));
      },
      step));
  if (step == "after_rename") {
    EXPECT_EQ(Names(s.db.db_file).size(), 50u);
  } else {
    EXPECT_FALSE(PathExists(s.db.db_file));
    EXPECT_EQ(Names(s.tmp).size(), 50u);
    ReplicatorRpc rpc;
    ASSERT_OK(rpc.CompleteRsync(s.db, "sender", "", absl::Now() + absl::Seconds(30)).status());
    EXPECT_EQ(Names(s.db.db_file).size(), 50u);
  }
}

INSTANTIATE_TEST_SUITE_P(Steps, CompleteRsyncCrashTest, ::testing::Values("before_rename", "after_rename"));

}  // namespace
}  // namespace dbrepl::peer
