// Crash safety of CompleteRsync and RsyncThenMerge, two ways:
//  * a child process runs the operation and is killed (SIGKILL, no cleanup)
//    at each named step;
//  * the operation runs on a fault-injecting Env that "loses power" after
//    each of its filesystem calls in turn, dropping every rename, file and
//    directory that was not yet fsynced (common/env/testing).
// Afterwards the database at the path is whole: for CompleteRsync absent or
// the upload, for RsyncThenMerge the existing database with part or all of
// the upload merged in; an upload not finished is left whole under its
// private name (removed at the next start-up, the sender ships it again); and
// a retry completes.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/db/broker.h"
#include "common/fs_util.h"
#include "common/paths.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "common/env/testing/fault_injection_env.h"
#include "common/errors.h"
#include "peer/replicator_rpc.h"
#include "peer/upload.h"

namespace dbrepl::peer {
namespace {

constexpr char kHash[] = "e8fbcd486a77117e2cd3398aa1f9485f";

using ::dbrepl::testing::FaultInjectionEnv;

// Files in `dir`, without the lock file.
std::vector<std::string> Files(const std::string& dir) {
  std::vector<std::string> out;
  absl::StatusOr<std::vector<std::string>> names = Env::Default()->ListDir(dir);
  if (!names.ok()) return out;
  for (const std::string& n : *names) {
    if (n != ".lock") out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}


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

// Where the upload is now: tmp/sender, or claimed under a private name.
std::string UploadFile(const CrashSetup& s) {
  if (PathExists(s.tmp)) return s.tmp;
  for (const std::string& n : Files(s.db.tmp_dir)) {
    if (absl::StartsWith(n, ".sender.") && absl::EndsWith(n, ".installing")) return s.db.tmp_dir + "/" + n;
  }
  return "";
}

// A fresh copy of the sender's database at tmp/sender, as its next rsync.
void Resend(const CrashSetup& s, const std::string& name) {
  std::string src = absl::StrCat(getenv("TEST_TMPDIR"), "/resend_", name, "/src/containers/3/85f/", kHash, "/", kHash,
                                 ".db");
  Fill(src, 100, 50);
  ASSERT_OK(RenameDurably(src, s.tmp));
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
  // The database is merged into in place: whole, with all its own rows and
  // the upload's as far as the merge got.
  EXPECT_TRUE(installed.count("o0") && installed.count("o49"));
  if (step == "after_finish") {
    EXPECT_EQ(installed.size(), 100u);
    EXPECT_EQ(UploadFile(s), "");
  } else {
    EXPECT_GE(installed.size(), 50u);
    // The upload is whole under its private name: nothing of the sender's
    // is lost.
    std::string upload_file = UploadFile(s);
    ASSERT_NE(upload_file, "");
    std::set<std::string> upload = Names(upload_file);
    EXPECT_TRUE(upload.count("o100") && upload.count("o149"));
    // Start-up removes it; the sender's next rsync and a retry complete.
    EXPECT_EQ(RemoveAbandonedUploads(Env::Default(), s.devices), 1);
    EXPECT_EQ(Files(s.db.tmp_dir), std::vector<std::string>{});
    Resend(s, "rtm_" + step);
    ReplicatorRpc rpc;
    ASSERT_OK(rpc.RsyncThenMerge(s.db, "sender", absl::Now() + absl::Seconds(30)).status());
    EXPECT_EQ(Names(s.db.db_file).size(), 100u);
  }
  EXPECT_FALSE(PathExists(s.db.db_file + "-journal"));
  EXPECT_EQ(Files(s.db.tmp_dir), std::vector<std::string>{});
}

INSTANTIATE_TEST_SUITE_P(Steps, RsyncThenMergeCrashTest,
                         ::testing::Values("after_first_batch", "before_finish", "after_finish"));

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
    std::string upload_file = UploadFile(s);
    ASSERT_NE(upload_file, "");
    EXPECT_EQ(Names(upload_file).size(), 50u);
    EXPECT_EQ(RemoveAbandonedUploads(Env::Default(), s.devices), 1);
    Resend(s, "cr_" + step);
    ReplicatorRpc rpc;
    ASSERT_OK(rpc.CompleteRsync(s.db, "sender", "", absl::Now() + absl::Seconds(30)).status());
    EXPECT_EQ(Names(s.db.db_file).size(), 50u);
  }
  EXPECT_EQ(Files(s.db.tmp_dir), std::vector<std::string>{});
}

INSTANTIATE_TEST_SUITE_P(Steps, CompleteRsyncCrashTest, ::testing::Values("before_rename", "after_rename"));

// Power loss after each filesystem call of the operation in turn.
class PowerLossTest : public ::testing::TestWithParam<bool> {};

TEST_P(PowerLossTest, DatabaseIsOldOrNewAndWholeAfterPowerLossAtEveryStep) {
  const bool then_merge = GetParam();
  int crash_at = 0;
  for (;; ++crash_at) {
    const std::string name = absl::StrCat(then_merge ? "pl_rtm_" : "pl_cr_", crash_at);
    CrashSetup s = Prepare(name, /*with_existing=*/then_merge);
    std::string backups = absl::StrCat(getenv("TEST_TMPDIR"), "/", name, "_backups");
    ASSERT_OK(MakeDirs(backups));
    FaultInjectionEnv env(Env::Default(), backups);
    ReplicatorRpcOptions options;
    options.env = &env;
    ReplicatorRpc rpc(options);
    env.CrashAfter(crash_at);
    absl::Status status = then_merge ? rpc.RsyncThenMerge(s.db, "sender", absl::Now() + absl::Seconds(30)).status()
                                     : rpc.CompleteRsync(s.db, "sender", "", absl::Now() + absl::Seconds(30)).status();
    const bool crashed = env.crashed();
    ASSERT_OK(env.DropUnsyncedChanges());
    SCOPED_TRACE(absl::StrCat("power lost after ", crash_at, " filesystem calls"));
    if (!crashed) {
      ASSERT_OK(status);
      EXPECT_EQ(Names(s.db.db_file).size(), then_merge ? 100u : 50u);
      break;
    }
    // Whole: the upload (CompleteRsync) or the database with part of the
    // upload merged (RsyncThenMerge).
    if (PathExists(s.db.db_file)) {
      size_t n = Names(s.db.db_file).size();
      EXPECT_TRUE(then_merge ? n >= 50u && n <= 100u : n == 50u) << n;
    } else {
      EXPECT_FALSE(then_merge) << "the existing database vanished";
    }
    // Whatever was not installed is whole where it was left, and a retry
    // (after start-up cleanup and the sender's next rsync) completes.
    std::string upload_file = UploadFile(s);
    if (!upload_file.empty()) EXPECT_EQ(Names(upload_file).count("o149"), 1u);
    RemoveAbandonedUploads(Env::Default(), s.devices);
    if (!PathExists(s.tmp)) Resend(s, name);
    ReplicatorRpc retry;
    absl::Status again = then_merge ? retry.RsyncThenMerge(s.db, "sender", absl::Now() + absl::Seconds(30)).status()
                                    : retry.CompleteRsync(s.db, "sender", "", absl::Now() + absl::Seconds(30)).status();
    if (!then_merge && !again.ok()) {
      EXPECT_EQ(GetReason(again), ErrorReason::kRsyncPrecondition);  // Installed before the power went.
      EXPECT_EQ(Names(s.db.db_file).size(), 50u);
    } else {
      ASSERT_OK(again);
    }
    EXPECT_EQ(Names(s.db.db_file).size(), then_merge ? 100u : 50u);
  }
  EXPECT_GE(crash_at, then_merge ? 2 : 4);  // Claim and remove; claim, mkdirs, rename, syncs.
}

INSTANTIATE_TEST_SUITE_P(Ops, PowerLossTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "RsyncThenMerge" : "CompleteRsync";
                         });

}  // namespace
}  // namespace dbrepl::peer
