// The durable operations, crashed at every step with the fault-injecting Env:
// what survives is always the state before the call or after it.
#include "common/env/file_ops.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/env/testing/fault_injection_env.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

namespace fs = std::filesystem;
using ::dbrepl::testing::FaultInjectionEnv;

std::string NewDir(const std::string& name) {
  static int n = 0;
  std::string dir = absl::StrCat(getenv("TEST_TMPDIR"), "/", name, "_", ++n);
  fs::create_directories(dir);
  return dir;
}

std::string Contents(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Write(const std::string& path, const std::string& data) { std::ofstream(path) << data; }

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(FileOpsTest, WriteFileAtomicallyReplacesContents) {
  std::string dir = NewDir("write");
  ASSERT_OK(WriteFileAtomically(Env::Default(), dir + "/f", "one"));
  ASSERT_OK(WriteFileAtomically(Env::Default(), dir + "/f", "two"));
  EXPECT_EQ(Contents(dir + "/f"), "two");
  EXPECT_EQ(Names(dir), std::vector<std::string>{"f"});
}

TEST(FileOpsTest, WriteFileAtomicallySurvivesACrashAtEveryStepAsOldOrNew) {
  int steps = 0;
  for (int crash_at = 0;; ++crash_at) {
    std::string dir = NewDir("crash_write");
    std::string backups = NewDir("backups");
    Write(dir + "/f", "old");
    FaultInjectionEnv env(Env::Default(), backups);
    env.CrashAfter(crash_at);
    absl::Status s = WriteFileAtomically(&env, dir + "/f", "new");
    bool crashed = env.crashed();
    ASSERT_OK(env.DropUnsyncedChanges());
    std::string after = Contents(dir + "/f");
    EXPECT_TRUE(after == "old" || after == "new") << "crash after " << crash_at << " steps: '" << after << "'";
    if (!crashed) {
      ASSERT_OK(s);
      EXPECT_EQ(after, "new");
      // Stray temporary files may only remain after a crash.
      EXPECT_EQ(Names(dir), std::vector<std::string>{"f"});
      steps = crash_at;
      break;
    }
    EXPECT_FALSE(s.ok());
  }
  EXPECT_GE(steps, 4);  // write, sync, rename, sync dir.
}

TEST(FileOpsTest, WithoutTheDirectorySyncARenameIsLostInACrash) {
  // The model itself: what a crash takes away.
  std::string dir = NewDir("model");
  std::string backups = NewDir("backups");
  Write(dir + "/a", "a");
  Write(dir + "/b", "b");
  FaultInjectionEnv env(Env::Default(), backups);
  ASSERT_OK(env.RenameFile(dir + "/a", dir + "/b"));
  ASSERT_OK(env.DropUnsyncedChanges());
  EXPECT_EQ(Contents(dir + "/a"), "a");
  EXPECT_EQ(Contents(dir + "/b"), "b");
  ASSERT_OK(env.RenameFile(dir + "/a", dir + "/b"));
  ASSERT_OK(env.SyncDir(dir));
  ASSERT_OK(env.DropUnsyncedChanges());
  EXPECT_FALSE(fs::exists(dir + "/a"));
  EXPECT_EQ(Contents(dir + "/b"), "a");
}

TEST(FileOpsTest, RenameDurablyCreatesAndSyncsMissingDirectories) {
  int crash_at = 0;
  for (;; ++crash_at) {
    std::string dir = NewDir("rename");
    std::string backups = NewDir("backups");
    Write(dir + "/src", "data");
    FaultInjectionEnv env(Env::Default(), backups);
    env.CrashAfter(crash_at);
    absl::Status s = RenameDurably(&env, dir + "/src", dir + "/p/q/dst");
    bool crashed = env.crashed();
    ASSERT_OK(env.DropUnsyncedChanges());
    bool at_src = fs::exists(dir + "/src");
    bool at_dst = fs::exists(dir + "/p/q/dst");
    EXPECT_NE(at_src, at_dst) << "crash after " << crash_at << " steps";
    if (!crashed) {
      ASSERT_OK(s);
      EXPECT_TRUE(at_dst);
      EXPECT_EQ(Contents(dir + "/p/q/dst"), "data");
      break;
    }
  }
  EXPECT_GE(crash_at, 5);
}

TEST(FileOpsTest, DeferredDirectorySyncsAreOwedUntilFlushAndDoneOnce) {
  std::string root = NewDir("deferred");
  std::string backups = NewDir("backups");
  FaultInjectionEnv env(Env::Default(), backups);
  int dir_syncs = 0;
  env.SetFaultHook([&](const FaultInjectionEnv::Call& c) {
    if (c.op == "SyncDir") ++dir_syncs;
    return absl::OkStatus();
  });
  DeferredDirSyncs deferred;
  ASSERT_OK(MakeDirsBelow(&env, root, root + "/p/a/x", &deferred));
  ASSERT_OK(MakeDirsBelow(&env, root, root + "/p/a/y", &deferred));
  ASSERT_OK(MakeDirsBelow(&env, root, root + "/p/b/z", &deferred));
  EXPECT_EQ(dir_syncs, 0) << "all owed, none done";
  EXPECT_FALSE(deferred.empty());
  // A crash now may lose them: they were never promised.
  {
    std::string other = NewDir("deferred_lost");
    FaultInjectionEnv lossy(Env::Default(), NewDir("backups"));
    DeferredDirSyncs owed;
    ASSERT_OK(MakeDirsBelow(&lossy, other, other + "/p/q", &owed));
    ASSERT_OK(lossy.DropUnsyncedChanges());
    EXPECT_FALSE(fs::exists(other + "/p"));
  }
  ASSERT_OK(deferred.Flush(&env));
  // root (for p), p (for a and b), a (for x and y), b (for z): four, once each.
  EXPECT_EQ(dir_syncs, 4);
  EXPECT_TRUE(deferred.empty());
  ASSERT_OK(env.DropUnsyncedChanges());
  for (const char* d : {"/p/a/x", "/p/a/y", "/p/b/z"}) EXPECT_TRUE(fs::is_directory(root + d)) << d;
}

TEST(FileOpsTest, FaultHookFailsTheChosenCall) {
  std::string dir = NewDir("hook");
  FaultInjectionEnv env(Env::Default(), NewDir("backups"));
  env.SetFaultHook([](const FaultInjectionEnv::Call& c) {
    return c.op == "SyncFile" ? absl::InternalError("EIO") : absl::OkStatus();
  });
  EXPECT_FALSE(WriteFileAtomically(&env, dir + "/f", "x").ok());
  EXPECT_FALSE(fs::exists(dir + "/f"));
  EXPECT_TRUE(Names(dir).empty()) << "the temporary file is removed";
}

}  // namespace
}  // namespace dbrepl
