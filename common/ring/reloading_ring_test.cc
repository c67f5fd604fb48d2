#include "common/ring/reloading_ring.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "common/ring/ring_format.h"
#include "common/ring/testing/ring_fixtures.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::Dev;
using ::dbrepl::testing::IsOk;
using ::dbrepl::testing::MakeRing;
using ::dbrepl::testing::NewTempDir;
using ::dbrepl::testing::StatusIs;
using ::dbrepl::testing::WriteFileOrDie;

RingData OneDevice(const std::string& device) {
  return MakeRing(2, {Dev(0, 1, 1, "10.0.0.1", 6201, device)}, {{0, 0, 0, 0}});
}

// Sets the file's mtime to `seconds` since the epoch, so changes never
// depend on the filesystem's timestamp granularity.
void SetMtime(const std::string& path, int64_t seconds) {
  timespec times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

class ReloadingRingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = NewTempDir() + "/container.ring.gz";
    ASSERT_OK(WriteRingFile(path_, OneDevice("sda")));
    SetMtime(path_, 1000);
    options_.clock = [this] { return absl::FromUnixSeconds(0) + absl::Seconds(clock_seconds_.load()); };
    options_.check_interval = absl::Seconds(15);
    options_.on_error = [this](const absl::Status& s) { errors_.push_back(s); };
  }

  std::string DeviceName(const std::shared_ptr<const Ring>& ring) { return ring->device(0)->device; }

  std::string path_;
  std::atomic<int64_t> clock_seconds_{0};
  ReloadingRing::Options options_;
  std::vector<absl::Status> errors_;
};

TEST_F(ReloadingRingTest, ReloadsAChangedFileOnlyAfterTheCheckInterval) {
  ASSERT_OK_AND_ASSIGN(auto rings, ReloadingRing::Open(path_, options_));
  std::shared_ptr<const Ring> first = rings->Get();
  EXPECT_EQ(DeviceName(first), "sda");

  ASSERT_OK(WriteRingFile(path_, OneDevice("sdb")));
  SetMtime(path_, 2000);
  clock_seconds_ = 14;
  EXPECT_EQ(rings->Get(), first);  // not yet time to look
  clock_seconds_ = 15;
  std::shared_ptr<const Ring> second = rings->Get();
  EXPECT_EQ(DeviceName(second), "sdb");
  // The old snapshot stays valid for whoever holds it.
  EXPECT_EQ(DeviceName(first), "sda");
  EXPECT_EQ(first->GetPartNodes(1).size(), 1u);

  // Unchanged file: the same ring, however often we look.
  clock_seconds_ = 100;
  EXPECT_EQ(rings->Get(), second);
  EXPECT_THAT(rings->last_error(), IsOk());
  EXPECT_TRUE(errors_.empty());
}

TEST_F(ReloadingRingTest, ChecksAtMostOncePerInterval) {
  ASSERT_OK_AND_ASSIGN(auto rings, ReloadingRing::Open(path_, options_));
  clock_seconds_ = 20;
  EXPECT_EQ(DeviceName(rings->Get()), "sda");  // checks at t=20; next check at 35
  ASSERT_OK(WriteRingFile(path_, OneDevice("sdb")));
  SetMtime(path_, 2000);
  clock_seconds_ = 34;
  EXPECT_EQ(DeviceName(rings->Get()), "sda");
  clock_seconds_ = 35;
  EXPECT_EQ(DeviceName(rings->Get()), "sdb");
}

TEST_F(ReloadingRingTest, MtimeOnlyChangeReloads) {
  ASSERT_OK_AND_ASSIGN(auto rings, ReloadingRing::Open(path_, options_));
  std::shared_ptr<const Ring> first = rings->Get();
  SetMtime(path_, 1001);
  clock_seconds_ = 15;
  EXPECT_NE(rings->Get(), first);
}

TEST_F(ReloadingRingTest, CorruptFileKeepsTheOldRingAndIsReportedOnce) {
  ASSERT_OK_AND_ASSIGN(auto rings, ReloadingRing::Open(path_, options_));
  std::shared_ptr<const Ring> good = rings->Get();

  WriteFileOrDie(path_, "this is not a ring");
  SetMtime(path_, 3000);
  clock_seconds_ = 15;
  EXPECT_EQ(rings->Get(), good);
  EXPECT_THAT(rings->last_error(), StatusIs(absl::StatusCode::kDataLoss));
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_THAT(errors_[0], StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(std::string(errors_[0].message()), ::testing::HasSubstr("keeping the previous ring"));
  clock_seconds_ = 30;
  EXPECT_EQ(rings->Get(), good);
  EXPECT_EQ(errors_.size(), 1u);  // the same bad file is not reported again
}

TEST_F(ReloadingRingTest, TruncatedThenFixedThenRemoved) {
  ASSERT_OK_AND_ASSIGN(auto rings, ReloadingRing::Open(path_, options_));
  std::shared_ptr<const Ring> good = rings->Get();
  ASSERT_OK(WriteRingFile(path_ + ".new", OneDevice("sdc")));
  const std::string bytes = ::dbrepl::testing::ReadFileOrDie(path_ + ".new");

  WriteFileOrDie(path_, bytes.substr(0, bytes.size() / 2));
  SetMtime(path_, 4000);
  clock_seconds_ = 15;
  EXPECT_EQ(rings->Get(), good);
  EXPECT_THAT(rings->last_error(), StatusIs(absl::StatusCode::kDataLoss));

  WriteFileOrDie(path_, bytes);
  SetMtime(path_, 4001);
  clock_seconds_ = 30;
  std::shared_ptr<const Ring> fixed = rings->Get();
  EXPECT_EQ(DeviceName(fixed), "sdc");
  EXPECT_THAT(rings->last_error(), IsOk());

  ASSERT_EQ(unlink(path_.c_str()), 0);
  clock_seconds_ = 45;
  EXPECT_EQ(rings->Get(), fixed);
  EXPECT_THAT(rings->last_error(), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_EQ(errors_.size(), 2u);
  EXPECT_THAT(errors_[1], StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ReloadingRingTest, OpenFailsWithoutAUsableRing) {
  EXPECT_THAT(ReloadingRing::Open(path_ + ".absent", options_), StatusIs(absl::StatusCode::kNotFound));
  WriteFileOrDie(path_, "junk");
  EXPECT_THAT(ReloadingRing::Open(path_, options_), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(ReloadingRingTest, ConcurrentReadersAlwaysSeeAWholeRing) {
  ASSERT_OK_AND_ASSIGN(auto rings, ReloadingRing::Open(path_, options_));
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        std::shared_ptr<const Ring> ring = rings->Get();
        if (ring == nullptr || ring->GetPartNodes(3).size() != 1) ++bad;
      }
    });
  }
  for (int i = 0; i < 50; ++i) {
    ASSERT_OK(WriteRingFile(path_, OneDevice(i % 2 ? "sda" : "sdb")));
    SetMtime(path_, 5000 + i);
    clock_seconds_ += 15;
    // A reader may be the one loading it; this Get() may still see the
    // previous ring meanwhile, so only the end state is asserted.
    EXPECT_NE(rings->Get(), nullptr);
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(DeviceName(rings->Get()), "sda");  // the last file written (i = 49)
}

}  // namespace
}  // namespace dbrepl
