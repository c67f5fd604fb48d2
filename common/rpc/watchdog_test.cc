#include "common/rpc/watchdog.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

TEST(WatchdogTest, CancelsWhatIsNotDisarmedInTime) {
  Watchdog w;
  absl::Notification fired;
  int key = 0;
  w.Arm(&key, absl::Now() + absl::Milliseconds(20), [&] { fired.Notify(); });
  EXPECT_TRUE(fired.WaitForNotificationWithTimeout(absl::Seconds(30)));
  w.Disarm(&key);  // Harmless after firing.
}

TEST(WatchdogTest, ADisarmedEntryNeverFires) {
  Watchdog w;
  std::atomic<int> fired{0};
  int early = 0, late = 0;
  w.Arm(&early, absl::Now() + absl::Hours(1), [&] { ++fired; });
  w.Disarm(&early);
  absl::Notification later;
  // A later entry that fires proves the watchdog looked past the removed one.
  w.Arm(&late, absl::Now() + absl::Milliseconds(10), [&] { later.Notify(); });
  EXPECT_TRUE(later.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(fired.load(), 0);
}

TEST(WatchdogTest, AnEarlierDeadlineArmedLaterStillFiresFirst) {
  Watchdog w;
  int far = 0, near = 0;
  absl::Notification fired_near;
  w.Arm(&far, absl::Now() + absl::Hours(1), [] {});
  w.Arm(&near, absl::Now() + absl::Milliseconds(10), [&] { fired_near.Notify(); });
  EXPECT_TRUE(fired_near.WaitForNotificationWithTimeout(absl::Seconds(30)));
  w.Disarm(&far);
}

}  // namespace
}  // namespace dbrepl
