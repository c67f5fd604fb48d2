#include "agent/recon_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/env/testing/fault_injection_env.h"
#include "common/fs_util.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl::agent {
namespace {

using ::dbrepl::testing::StatusIs;

// The reference's verified Swift 2.30.1 output (§1.8).
constexpr char kVerified[] =
    R"({"container_updater_sweep": 1.5, "replication_last": 1700000001.75, "replication_stats": {"attempted": 2, )"
    R"("deferred": 0, "diff": 0, "diff_capped": 0, "empty": 0, "failure": 1, "failure_nodes": {"10.0.0.2": )"
    R"({"sdb": 1}}, "hashmatch": 0, "no_change": 2, "remote_merge": 0, "remove": 0, "rsync": 0, "start": )"
    R"(1700000000.5, "success": 4, "ts_repl": 0}, "replication_time": 1.25})"
    "\n";

class ReconCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = absl::StrCat(getenv("TEST_TMPDIR"), "/", info->name());
    ASSERT_OK(MakeDirs(dir_));
  }

  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  static void Write(const std::string& path, const std::string& contents) { std::ofstream(path) << contents; }

  static PassStats VerifiedStats() {
    PassStats s;
    s.attempted = 2;
    s.failure = 1;
    s.failure_nodes["10.0.0.2"]["sdb"] = 1;
    s.no_change = 2;
    s.success = 4;
    s.start = 1700000000.5;
    return s;
  }

  // Runs `script` with /usr/bin/python3 (Swift's own code) and returns stdout.
  static std::string RunPython(const std::string& script) {
    std::string cmd = absl::StrCat("/usr/bin/python3 -c '", script, "' 2>/dev/null");
    FILE* p = popen(cmd.c_str(), "r");
    EXPECT_NE(p, nullptr);
    if (p == nullptr) return "";
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    EXPECT_EQ(pclose(p), 0) << "python failed: " << script;
    return out;
  }

  std::string dir_;
};

TEST_F(ReconCacheTest, MatchesSwiftsVerifiedOutput) {
  const std::string file = ReconCacheFile(dir_, DbType::kContainer);
  EXPECT_EQ(file, dir_ + "/container.recon");
  Write(file, "{\"container_updater_sweep\": 1.5}\n");
  ASSERT_OK(WriteReplicationRecon(dir_, DbType::kContainer, VerifiedStats(), 1700000001.75));
  EXPECT_EQ(Read(file), kVerified);
  struct stat st;
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_F(ReconCacheTest, EmptyFailureNodesDisappearAndOtherKeysStay) {
  const std::string file = ReconCacheFile(dir_, DbType::kContainer);
  Write(file, kVerified);
  PassStats s;
  s.attempted = 5;
  s.success = 10;
  s.start = 1700000100.0;
  ASSERT_OK(WriteReplicationRecon(dir_, DbType::kContainer, s, 1700000102.0));
  EXPECT_EQ(Read(file),
            R"({"container_updater_sweep": 1.5, "replication_last": 1700000102.0, "replication_stats": {"attempted": 5, )"
            R"("deferred": 0, "diff": 0, "diff_capped": 0, "empty": 0, "failure": 0, "hashmatch": 0, "no_change": 0, )"
            R"("remote_merge": 0, "remove": 0, "rsync": 0, "start": 1700000100.0, "success": 10, "ts_repl": 0}, )"
            R"("replication_time": 2.0})"
            "\n");
}

TEST_F(ReconCacheTest, AccountFileName) {
  ASSERT_OK(WriteReplicationRecon(dir_, DbType::kAccount, VerifiedStats(), 1700000001.75));
  EXPECT_TRUE(PathExists(dir_ + "/account.recon"));
  EXPECT_FALSE(PathExists(dir_ + "/container.recon"));
}

TEST_F(ReconCacheTest, PutReconCacheEntryMergeRules) {
  nlohmann::json cache = nlohmann::json::parse(R"({"a": 1, "d": {"x": 1, "y": 2}, "s": "str", "gone": {"k": 1}})");
  PutReconCacheEntry(cache, "a", 2);                                            // scalar overwrites
  PutReconCacheEntry(cache, "d", nlohmann::json::parse(R"({"y": {}, "z": 3})"));  // merged, y removed
  PutReconCacheEntry(cache, "s", nlohmann::json::parse(R"({"k": 1})"));         // non-dict replaced by dict
  PutReconCacheEntry(cache, "gone", nlohmann::json::object());                  // empty dict deletes key
  PutReconCacheEntry(cache, "missing", nlohmann::json::object());               // no-op
  PutReconCacheEntry(cache, "new", nlohmann::json::parse(R"({"only": {}})"));   // creates {} then removes
  EXPECT_EQ(cache, nlohmann::json::parse(R"({"a": 2, "d": {"x": 1, "z": 3}, "s": {"k": 1}, "new": {}})"));
}

TEST_F(ReconCacheTest, MissingOrGarbageFileStartsFresh) {
  const std::string file = dir_ + "/x.recon";
  ASSERT_OK(DumpReconCache(file, {{"k", 1}}));
  EXPECT_EQ(Read(file), "{\"k\": 1}\n");
  Write(file, "not json at all\n{\"old\": 1}\n");
  ASSERT_OK(DumpReconCache(file, {{"k", 2}}));
  EXPECT_EQ(Read(file), "{\"k\": 2}\n");
  Write(file, "[1, 2]\n");
  ASSERT_OK(DumpReconCache(file, {{"k", 3}}));
  EXPECT_EQ(Read(file), "{\"k\": 3}\n");
  Write(file, "");
  ASSERT_OK(DumpReconCache(file, {{"k", 4}}));
  EXPECT_EQ(Read(file), "{\"k\": 4}\n");
  // Only the first line is read, as Swift's readline().
  Write(file, "{\"first\": 1}\n{\"second\": 2}\n");
  ASSERT_OK(DumpReconCache(file, {{"k", 5}}));
  EXPECT_EQ(Read(file), "{\"first\": 1, \"k\": 5}\n");
}

TEST_F(ReconCacheTest, Errors) {
  EXPECT_THAT(DumpReconCache(dir_ + "/nodir/x.recon", {{"k", 1}}), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(DumpReconCache(dir_ + "/x.recon", nlohmann::json::array()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  Write(dir_ + "/y.recon", "{\"keep\": 1}\n");
  EXPECT_THAT(DumpReconCache(dir_ + "/y.recon", {{"bad", "\xc3"}}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(Read(dir_ + "/y.recon"), "{\"keep\": 1}\n");
  EXPECT_FALSE(PathExists(dir_ + "/nodir"));
  // No temp file left behind by the failed write.
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, ListDirectory(dir_));
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("y.recon"));
}

TEST_F(ReconCacheTest, LockTimeoutLeavesFileUnchanged) {
  const std::string file = dir_ + "/locked.recon";
  Write(file, "{\"keep\": 1}\n");
  int fd = open(file.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_EX), 0);  // flock locks belong to the open file: conflicts in-process
  EXPECT_THAT(DumpReconCache(file, {{"k", 1}}, absl::Milliseconds(30)), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(Read(file), "{\"keep\": 1}\n");
  close(fd);
  ASSERT_OK(DumpReconCache(file, {{"k", 1}}, absl::Milliseconds(30)));
  EXPECT_EQ(Read(file), "{\"k\": 1, \"keep\": 1}\n");
}

TEST_F(ReconCacheTest, ConcurrentWritersLoseNoKeys) {
  const std::string file = dir_ + "/c.recon";
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25 && results[t].ok(); ++i) {
        results[t] = DumpReconCache(file, {{absl::StrCat("t", t, "_", i), i}}, absl::Seconds(30));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const absl::Status& s : results) EXPECT_OK(s);
  nlohmann::json got = nlohmann::json::parse(Read(file));
  EXPECT_EQ(got.size(), 100u);
}

// Swift's own dump_recon_cache, given the same entries and the same starting
// file, writes the same bytes; and the recon middleware reads our file.
TEST_F(ReconCacheTest, SwiftWritesTheSameBytesAndReconReadsOurs) {
  PassStats s = VerifiedStats();
  s.failure_nodes["10.0.0.3"]["sd\xc3\xa9"] = 7;  // non-ASCII device name
  s.start = 1700000000.123;
  const double now = 1700000003.456;  // now - start is not a short decimal
  const std::string ours_dir = dir_ + "/ours";
  const std::string swift_dir = dir_ + "/swift";
  ASSERT_OK(MakeDirs(ours_dir));
  ASSERT_OK(MakeDirs(swift_dir));
  const std::string seed = "{\"container_updater_sweep\": 0.30000000000000004, \"replication_stats\": "
                           "{\"failure_nodes\": {\"1.2.3.4\": {\"sdz\": 9}}, \"legacy\": 1}}\n";
  Write(ours_dir + "/container.recon", seed);
  Write(swift_dir + "/container.recon", seed);
  ASSERT_OK(WriteReplicationRecon(ours_dir, DbType::kContainer, s, now));

  nlohmann::json entries = {
      {"replication_stats", ReplicationStatsJson(s)},
      {"replication_time", now - s.start},
      {"replication_last", now},
  };
  Write(dir_ + "/entries.json", entries.dump());
  RunPython(absl::StrCat("import json, logging; from swift.common.utils import dump_recon_cache; "
                         "dump_recon_cache(json.load(open(\"",
                         dir_, "/entries.json\")), \"", swift_dir, "/container.recon\", logging.getLogger())"));
  const std::string ours = Read(ours_dir + "/container.recon");
  EXPECT_EQ(ours, Read(swift_dir + "/container.recon"));
  EXPECT_THAT(ours, ::testing::HasSubstr("\"sd\\u00e9\": 7"));
  EXPECT_THAT(ours, ::testing::HasSubstr("\"legacy\": 1"));

  std::string served = RunPython(absl::StrCat(
      "import json; from swift.common.middleware.recon import ReconMiddleware; "
      "r = ReconMiddleware(None, {\"recon_cache_path\": \"",
      ours_dir, "\"}); print(json.dumps(r.get_replication_info(\"container\"), sort_keys=True))"));
  nlohmann::json info = nlohmann::json::parse(served, nullptr, false);
  ASSERT_TRUE(info.is_object()) << served;
  EXPECT_EQ(info["replication_last"].get<double>(), now);
  EXPECT_EQ(info["replication_time"].get<double>(), now - s.start);
  EXPECT_EQ(info["replication_stats"]["attempted"], 2);
  EXPECT_EQ(info["replication_stats"]["failure_nodes"]["10.0.0.3"]["sd\xc3\xa9"], 7);
}

TEST_F(ReconCacheTest, APowerLossAtAnyStepLeavesTheLastPassOrThisOne) {
  int crash_at = 0;
  for (;; ++crash_at) {
    std::string dir = absl::StrCat(dir_, "/crash", crash_at);
    ASSERT_OK(MakeDirs(dir));
    ASSERT_OK(DumpReconCache(dir + "/container.recon", {{"pass", 1}}));
    std::string backups = dir + ".backups";
    ASSERT_OK(MakeDirs(backups));
    testing::FaultInjectionEnv env(Env::Default(), backups);
    env.CrashAfter(crash_at);
    absl::Status written = DumpReconCache(dir + "/container.recon", {{"pass", 2}}, absl::Seconds(2), &env);
    bool crashed = env.crashed();
    ASSERT_OK(env.DropUnsyncedChanges());
    std::ifstream in(dir + "/container.recon");
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
    ASSERT_TRUE(j.is_object()) << "step " << crash_at << ": '" << text.str() << "'";
    EXPECT_TRUE(j["pass"] == 1 || j["pass"] == 2);
    if (!crashed) {
      ASSERT_OK(written);
      EXPECT_EQ(j["pass"], 2);
      break;
    }
  }
  EXPECT_GE(crash_at, 4);
}

}  // namespace
}  // namespace dbrepl::agent
