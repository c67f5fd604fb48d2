#include "peer/peer_metrics.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace dbrepl::peer {
namespace {

using ::testing::HasSubstr;

std::string Scrape(PeerMetrics& m) { return prometheus::TextSerializer().Serialize(m.registry()->Collect()); }

TEST(PeerMetricsTest, TheStateCacheIsSampledAsGaugesAndCounters) {
  PeerMetrics m;
  m.SetStateCache({/*entries=*/10, /*held_points=*/4, /*sqlite_reads=*/12, /*refreshed=*/3});
  std::string text = Scrape(m);
  EXPECT_THAT(text, HasSubstr("dbrepl_peer_state_cache_entries 10\n"));
  EXPECT_THAT(text, HasSubstr("dbrepl_peer_held_sync_points 4\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE dbrepl_peer_state_cache_sqlite_reads_total counter"));
  EXPECT_THAT(text, HasSubstr("dbrepl_peer_state_cache_sqlite_reads_total 12\n"));
  EXPECT_THAT(text, HasSubstr("dbrepl_peer_states_refreshed_total 3\n"));
  // Counters advance by the difference; gauges follow the sample.
  m.SetStateCache({/*entries=*/7, /*held_points=*/0, /*sqlite_reads=*/20, /*refreshed=*/3});
  text = Scrape(m);
  EXPECT_THAT(text, HasSubstr("dbrepl_peer_state_cache_entries 7\n"));
  EXPECT_THAT(text, HasSubstr("dbrepl_peer_held_sync_points 0\n"));
  EXPECT_THAT(text, HasSubstr("dbrepl_peer_state_cache_sqlite_reads_total 20\n"));
  EXPECT_THAT(text, HasSubstr("dbrepl_peer_states_refreshed_total 3\n"));
}

}  // namespace
}  // namespace dbrepl::peer
