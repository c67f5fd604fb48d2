#include "agent/db_walker.h"

#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/fs_util.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

class DbWalkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = absl::StrCat(getenv("TEST_TMPDIR"), "/", info->name());
    ASSERT_OK(MakeDirs(root_));
  }

  std::string Datadir(const std::string& device) { return absl::StrCat(root_, "/", device, "/containers"); }

  DatadirSpec Spec(const std::string& device, int node_id) {
    return DatadirSpec{Datadir(device), node_id, device, nullptr};
  }

  // A 32-character hash ending in `n` (so its suffix is the last 3 digits).
  static std::string Hash(int n) { return absl::StrFormat("%032x", n); }

  static std::string Suffix(const std::string& hash) { return hash.substr(hash.size() - 3); }

  static void Touch(const std::string& path) {
    ASSERT_OK(MakeDirs(Dirname(path)));
    std::ofstream(path) << "x";
  }

  // <device>/containers/<part>/<suffix>/<hash>/<file_name or hash.db>.
  std::string DbPath(const std::string& device, const std::string& part, int n, const std::string& file_name = "") {
    std::string hash = Hash(n);
    return absl::StrCat(Datadir(device), "/", part, "/", Suffix(hash), "/", hash, "/",
                        file_name.empty() ? hash + ".db" : file_name);
  }

  // Creates DbPath(...) and returns it.
  std::string MakeDb(const std::string& device, const std::string& part, int n, const std::string& file_name = "") {
    std::string path = DbPath(device, part, n, file_name);
    Touch(path);
    return path;
  }

  static std::vector<WalkItem> Drain(DbWalker& walker) {
    std::vector<WalkItem> items;
    while (absl::optional<WalkItem> item = walker.Next()) items.push_back(*item);
    return items;
  }

  std::string root_;
};

// Swift's test_roundrobin_datadirs layout, two devices.
TEST_F(DbWalkerTest, InterleavesDevicesAndSkipsNonPartitions) {
  std::set<std::string> expected_files;
  for (const std::string device : {"sda", "sdb"}) {
    expected_files.insert(MakeDb(device, "123", 1));
    expected_files.insert(MakeDb(device, "789", 2));
    Touch(absl::StrCat(Datadir(device), "/456"));  // a file, not a partition dir
    ASSERT_OK(MakeDirs(absl::StrCat(Datadir(device), "/9999")));
    MakeDb(device, "-5", 3);
    MakeDb(device, "not-a-partition", 4);
  }
  DbWalker walker({Spec("sda", 1), Spec("sdb", 2)}, /*seed=*/42);
  std::vector<WalkItem> items = Drain(walker);
  ASSERT_EQ(items.size(), 4u);

  // Each round takes one DB from each device, in device order.
  EXPECT_EQ(items[0].device, "sda");
  EXPECT_EQ(items[1].device, "sdb");
  EXPECT_EQ(items[2].device, "sda");
  EXPECT_EQ(items[3].device, "sdb");
  std::set<std::string> files;
  for (const WalkItem& item : items) {
    files.insert(item.db_file);
    EXPECT_EQ(item.node_id, item.device == "sda" ? 1 : 2);
    EXPECT_EQ(item.db_file, DbPath(item.device, std::to_string(item.partition), item.partition == 123 ? 1 : 2));
  }
  EXPECT_EQ(files, expected_files);
  std::set<int64_t> sda_parts = {items[0].partition, items[2].partition};
  std::set<int64_t> sdb_parts = {items[1].partition, items[3].partition};
  EXPECT_THAT(sda_parts, UnorderedElementsAre(123, 789));
  EXPECT_THAT(sdb_parts, UnorderedElementsAre(123, 789));

  for (const std::string device : {"sda", "sdb"}) {
    EXPECT_FALSE(PathExists(absl::StrCat(Datadir(device), "/9999"))) << device;
    EXPECT_TRUE(PathExists(absl::StrCat(Datadir(device), "/456"))) << device;
    EXPECT_TRUE(IsDirectory(absl::StrCat(Datadir(device), "/-5"))) << device;
    EXPECT_TRUE(IsDirectory(absl::StrCat(Datadir(device), "/not-a-partition"))) << device;
  }
  // 123, 456, 789, 9999 on each device.
  EXPECT_EQ(walker.partitions_listed(), 8);
  EXPECT_EQ(walker.partitions_walked(), 8);
  EXPECT_EQ(walker.databases_yielded(), 4);
  EXPECT_EQ(walker.dirs_removed(), 2);
  EXPECT_TRUE(walker.done());
  EXPECT_EQ(walker.EstimatedTotal(), 4);
  EXPECT_FALSE(walker.Next().has_value());
}

TEST_F(DbWalkerTest, ExhaustedDevicePassesItsTurn) {
  MakeDb("sda", "1", 1);
  MakeDb("sda", "2", 2);
  MakeDb("sda", "3", 3);
  MakeDb("sdb", "1", 4);
  MakeDb("sdc", "5", 5);
  MakeDb("sdc", "6", 6);
  DbWalker walker({Spec("sda", 1), Spec("sdb", 2), Spec("sdc", 3)}, 7);
  std::vector<std::string> devices;
  for (const WalkItem& item : Drain(walker)) devices.push_back(item.device);
  EXPECT_THAT(devices, ElementsAre("sda", "sdb", "sdc", "sda", "sdc", "sda"));
}

TEST_F(DbWalkerTest, ShuffleIsSeededAndCoversEveryPartition) {
  std::set<int64_t> all;
  for (int p = 0; p < 20; ++p) {
    MakeDb("sda", std::to_string(p), p);
    all.insert(p);
  }
  auto order = [&](uint64_t seed) {
    DbWalker walker({Spec("sda", 1)}, seed);
    std::vector<int64_t> parts;
    for (const WalkItem& item : Drain(walker)) parts.push_back(item.partition);
    return parts;
  };
  std::vector<int64_t> first = order(1);
  EXPECT_EQ(std::set<int64_t>(first.begin(), first.end()), all);
  EXPECT_EQ(first.size(), all.size());
  EXPECT_EQ(order(1), first);
  EXPECT_NE(order(2), first);
  std::vector<int64_t> sorted(all.begin(), all.end());
  EXPECT_NE(first, sorted);
}

TEST_F(DbWalkerTest, PrunesEmptyDirectories) {
  const std::string dd = Datadir("sda");
  std::string db = MakeDb("sda", "10", 1);
  ASSERT_OK(MakeDirs(dd + "/10/aaa"));                        // empty suffix
  ASSERT_OK(MakeDirs(absl::StrCat(dd, "/10/bbb/", Hash(2))));  // empty hash dir
  Touch(absl::StrCat(dd, "/10/ccc/", Hash(3), "/.lock"));     // hash dir with a lock file
  Touch(absl::StrCat(dd, "/10/ddd"));                         // a file among suffixes
  ASSERT_OK(MakeDirs(dd + "/11"));                            // empty partition
  DbWalker walker({Spec("sda", 1)}, 0);
  std::vector<WalkItem> items = Drain(walker);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].db_file, db);
  EXPECT_EQ(items[0].partition, 10);
  EXPECT_FALSE(PathExists(dd + "/10/aaa"));
  EXPECT_FALSE(PathExists(absl::StrCat(dd, "/10/bbb/", Hash(2))));
  EXPECT_TRUE(IsDirectory(dd + "/10/bbb"));  // was not empty when listed
  EXPECT_TRUE(PathExists(absl::StrCat(dd, "/10/ccc/", Hash(3), "/.lock")));
  EXPECT_TRUE(PathExists(dd + "/10/ddd"));
  EXPECT_FALSE(PathExists(dd + "/11"));
  EXPECT_EQ(walker.dirs_removed(), 3);

  // The next pass finds the now-empty suffix dir and removes it.
  DbWalker second({Spec("sda", 1)}, 0);
  EXPECT_EQ(Drain(second).size(), 1u);
  EXPECT_FALSE(PathExists(dd + "/10/bbb"));
}

TEST_F(DbWalkerTest, RespectsPartitionFilter) {
  for (int p = 0; p < 6; ++p) MakeDb("sda", std::to_string(p), p);
  ASSERT_OK(MakeDirs(Datadir("sda") + "/7"));  // empty, rejected: not removed
  DatadirSpec spec = Spec("sda", 1);
  std::vector<int64_t> asked;
  spec.partition_filter = [&asked](int64_t p) {
    asked.push_back(p);
    return p % 2 == 0;
  };
  DbWalker walker({spec}, 3);
  std::set<int64_t> parts;
  for (const WalkItem& item : Drain(walker)) parts.insert(item.partition);
  EXPECT_EQ(parts, (std::set<int64_t>{0, 2, 4}));
  EXPECT_EQ(asked.size(), 7u);
  EXPECT_TRUE(IsDirectory(Datadir("sda") + "/7"));
  EXPECT_EQ(walker.partitions_listed(), 3);
}

TEST_F(DbWalkerTest, YieldsNewestEpochNamedDb) {
  std::string hash = Hash(9);
  MakeDb("sda", "3", 9, hash + "_0000001000.00000.db");
  std::string newest = MakeDb("sda", "3", 9, hash + "_0000002000.00000.db");
  MakeDb("sda", "3", 9, hash + "_0000003000.00000.db.pending");
  MakeDb("sda", "3", 9, Hash(8) + "_0000004000.00000.db");  // another hash's file
  DbWalker walker({Spec("sda", 1)}, 0);
  std::vector<WalkItem> items = Drain(walker);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].db_file, newest);

  // The plain name wins when it exists.
  std::string plain = MakeDb("sda", "3", 9);
  DbWalker again({Spec("sda", 1)}, 0);
  items = Drain(again);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].db_file, plain);
}

TEST_F(DbWalkerTest, ListsPartitionContentsOnlyWhenReached) {
  MakeDb("sda", "1", 1);
  MakeDb("sda", "2", 2);
  DbWalker walker({Spec("sda", 1)}, 5);
  absl::optional<WalkItem> first = walker.Next();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(walker.partitions_listed(), 2);
  EXPECT_EQ(walker.EstimatedTotal(), -1);  // no partition finished yet
  // A DB that appears in the partition not yet reached is still found.
  const std::string other = first->partition == 1 ? "2" : "1";
  std::string late = MakeDb("sda", other, 77);
  std::set<std::string> rest;
  for (const WalkItem& item : Drain(walker)) rest.insert(item.db_file);
  EXPECT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest.count(late), 1u);
}

TEST_F(DbWalkerTest, EstimatedTotalExtrapolatesByPartition) {
  for (int p = 0; p < 4; ++p) {
    MakeDb("sda", std::to_string(p), 10 * p);
    MakeDb("sda", std::to_string(p), 10 * p + 1);
  }
  DbWalker walker({Spec("sda", 1)}, 0);
  ASSERT_TRUE(walker.Next().has_value());
  ASSERT_TRUE(walker.Next().has_value());
  ASSERT_TRUE(walker.Next().has_value());  // finishes the first partition
  EXPECT_EQ(walker.partitions_walked(), 1);
  EXPECT_EQ(walker.EstimatedTotal(), 12);  // 3 yielded * 4 partitions / 1
}

TEST_F(DbWalkerTest, MissingDatadirIsEmptyAndNotAnError) {
  std::vector<absl::Status> errors;
  DbWalker walker({Spec("nosuchdev", 1)}, 0, [&errors](const absl::Status& s) { errors.push_back(s); });
  EXPECT_FALSE(walker.Next().has_value());
  EXPECT_TRUE(walker.done());
  EXPECT_TRUE(errors.empty());
}

TEST_F(DbWalkerTest, DatadirThatIsAFileIsReported) {
  Touch(root_ + "/sda/containers");
  std::vector<absl::Status> errors;
  DbWalker walker({Spec("sda", 1)}, 0, [&errors](const absl::Status& s) { errors.push_back(s); });
  EXPECT_FALSE(walker.Next().has_value());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], dbrepl::testing::StatusIs(absl::StatusCode::kFailedPrecondition));  // ENOTDIR
}

}  // namespace
}  // namespace dbrepl::agent
