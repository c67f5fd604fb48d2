#include "common/config/replicator_config.h"

#include "common/config/testing/config_fixtures.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::kContainerServerConf;
using ::dbrepl::testing::StatusIs;
using ::dbrepl::testing::WriteTempConfig;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

absl::StatusOr<ReplicatorConfig> FromText(const std::string& text, DbType type = DbType::kContainer) {
  absl::StatusOr<IniFile> ini = IniFile::Parse(text, "test.conf");
  if (!ini.ok()) return ini.status();
  absl::StatusOr<ConfigSection> section = ini->Section(ReplicatorSectionName(type));
  if (!section.ok()) return section.status();
  return ReplicatorConfig::FromSection(*section, type);
}

std::string ErrorOf(const std::string& options) {
  absl::StatusOr<ReplicatorConfig> c = FromText("[container-replicator]\n" + options + "\n");
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument)) << options;
  return std::string(c.status().message());
}

TEST(ReplicatorConfigTest, RealContainerServerConf) {
  const std::string path = WriteTempConfig("container-server.conf", kContainerServerConf);
  ASSERT_OK_AND_ASSIGN(ReplicatorConfig c, LoadReplicatorConfig(path, DbType::kContainer));
  // From [DEFAULT]:
  EXPECT_EQ(c.bind_ip, "10.0.0.5");
  EXPECT_EQ(c.bind_port, 6201);
  EXPECT_EQ(c.swift_dir, "/srv/swift");
  EXPECT_EQ(c.devices, "/srv/node");
  EXPECT_FALSE(c.mount_check);
  // From [container-replicator]:
  EXPECT_EQ(c.per_diff, 2000);
  EXPECT_EQ(c.max_diffs, 50);
  EXPECT_EQ(c.concurrency, 4);
  EXPECT_EQ(c.interval, 45.5);
  EXPECT_EQ(c.databases_per_second, 25);
  EXPECT_EQ(c.node_timeout, 15);
  EXPECT_EQ(c.conn_timeout, 1);
  EXPECT_EQ(c.reclaim_age, 86400);
  EXPECT_TRUE(c.rsync_compress);
  EXPECT_EQ(c.rsync_module, "{replication_ip}::container{replication_port}");  // trailing '/' stripped
  EXPECT_EQ(c.recon_cache_path, "/var/cache/swift/recon");
  EXPECT_FALSE(c.handoffs_only);
  EXPECT_EQ(c.handoff_delete, 2);
  EXPECT_EQ(c.RingPath(), "/srv/swift/container.ring.gz");
  EXPECT_EQ(c.ReconCachePath(), "/var/cache/swift/recon/container.recon");
  EXPECT_THAT(c.warnings, IsEmpty());
}

TEST(ReplicatorConfigTest, SwiftDefaultsPerType) {
  ASSERT_OK_AND_ASSIGN(ReplicatorConfig c, FromText("[container-replicator]\n"));
  EXPECT_EQ(c.type, DbType::kContainer);
  EXPECT_EQ(c.devices, "/srv/node");
  EXPECT_TRUE(c.mount_check);
  EXPECT_EQ(c.bind_ip, "0.0.0.0");
  EXPECT_EQ(c.bind_port, 6201);
  EXPECT_EQ(c.concurrency, 8);
  EXPECT_EQ(c.swift_dir, "/etc/swift");
  EXPECT_EQ(c.per_diff, 1000);
  EXPECT_EQ(c.max_diffs, 100);
  EXPECT_EQ(c.interval, 30);
  EXPECT_EQ(c.databases_per_second, 50);
  EXPECT_EQ(c.node_timeout, 10);
  EXPECT_EQ(c.conn_timeout, 0.5);
  EXPECT_FALSE(c.rsync_compress);
  EXPECT_EQ(c.rsync_module, "{replication_ip}::container");
  EXPECT_EQ(c.reclaim_age, 604800);
  EXPECT_FALSE(c.db_preallocation);
  EXPECT_FALSE(c.db_query_logging);
  EXPECT_EQ(c.recon_cache_path, "/var/cache/swift");
  EXPECT_FALSE(c.handoffs_only);
  EXPECT_EQ(c.handoff_delete, 0);
  EXPECT_EQ(c.ring_check_interval, 15);
  EXPECT_EQ(c.batch_databases, 64);
  EXPECT_TRUE(c.states_from_peer);
  EXPECT_FALSE(FromText("[container-replicator]\nstates_from_peer = no\n")->states_from_peer);

  ASSERT_OK_AND_ASSIGN(ReplicatorConfig a, FromText("[account-replicator]\n", DbType::kAccount));
  EXPECT_EQ(a.bind_port, 6202);
  EXPECT_EQ(a.rsync_module, "{replication_ip}::account");
  EXPECT_EQ(a.RingPath(), "/etc/swift/account.ring.gz");
  EXPECT_EQ(a.ReconCachePath(), "/var/cache/swift/account.recon");
}

TEST(ReplicatorConfigTest, SwiftsParsingQuirks) {
  // int(conf.get('max_diffs') or 100): empty is the default, "0" is 0.
  EXPECT_EQ(FromText("[container-replicator]\nmax_diffs =\n")->max_diffs, 100);
  EXPECT_EQ(FromText("[container-replicator]\nmax_diffs = 0\n")->max_diffs, 0);
  // interval falls back to run_pause, with Swift's deprecation warnings.
  ASSERT_OK_AND_ASSIGN(ReplicatorConfig rp, FromText("[container-replicator]\nrun_pause = 12\n"));
  EXPECT_EQ(rp.interval, 12);
  ASSERT_EQ(rp.warnings.size(), 1u);
  EXPECT_THAT(rp.warnings[0], HasSubstr("container-replicator/run_pause is deprecated and will be removed"));
  ASSERT_OK_AND_ASSIGN(ReplicatorConfig both, FromText("[container-replicator]\ninterval = 5\nrun_pause = 12\n"));
  EXPECT_EQ(both.interval, 5);
  EXPECT_THAT(both.warnings[0], HasSubstr("it is now ignored"));
  EXPECT_EQ(FromText("[container-replicator]\ninterval =\nrun_pause = 12\n")->interval, 12);
  EXPECT_EQ(FromText("[container-replicator]\ninterval =\n")->interval, 30);
  // handoff_delete: auto is 0.
  EXPECT_EQ(FromText("[container-replicator]\nhandoff_delete = Auto\n")->handoff_delete, 0);
  // rsync_module: only slashes -> the default.
  EXPECT_EQ(FromText("[container-replicator]\nrsync_module = //\n")->rsync_module, "{replication_ip}::container");
  // Booleans: config_true_value; typos are false, with a warning.
  ASSERT_OK_AND_ASSIGN(ReplicatorConfig b, FromText("[container-replicator]\nmount_check = flase\n"
                                                    "handoffs_only = ON\ndb_preallocation = t\n"));
  EXPECT_FALSE(b.mount_check);
  EXPECT_TRUE(b.handoffs_only);
  EXPECT_TRUE(b.db_preallocation);
  ASSERT_EQ(b.warnings.size(), 1u);
  EXPECT_THAT(b.warnings[0], HasSubstr("mount_check = 'flase'"));
  // Python numbers.
  EXPECT_EQ(FromText("[container-replicator]\nconcurrency = +1_6\nreclaim_age = 1e3\n")->concurrency, 16);
  EXPECT_EQ(FromText("[container-replicator]\nreclaim_age = 1e3\n")->reclaim_age, 1000);
  EXPECT_EQ(FromText("[container-replicator]\ndatabases_per_second = -1\n")->databases_per_second, -1);
  // The section overrides [DEFAULT]; unknown options are ignored.
  ASSERT_OK_AND_ASSIGN(ReplicatorConfig d, FromText("[DEFAULT]\nconcurrency = 3\nper_diff = 9\n"
                                                    "[container-replicator]\nper_diff = 10\nno_such = 1\n"));
  EXPECT_EQ(d.concurrency, 3);
  EXPECT_EQ(d.per_diff, 10);
}

TEST(ReplicatorConfigTest, BadValuesAreRejectedByName) {
  EXPECT_THAT(ErrorOf("concurrency = lots"),
              HasSubstr("invalid concurrency = 'lots' in [container-replicator] of test.conf"));
  EXPECT_THAT(ErrorOf("concurrency ="), HasSubstr("invalid concurrency = ''"));
  EXPECT_THAT(ErrorOf("concurrency = 0"), HasSubstr("concurrency"));
  EXPECT_THAT(ErrorOf("bind_port = 65536"), HasSubstr("bind_port"));
  EXPECT_THAT(ErrorOf("per_diff = 1.5"), HasSubstr("per_diff"));
  EXPECT_THAT(ErrorOf("max_diffs = -1"), HasSubstr("max_diffs"));
  EXPECT_THAT(ErrorOf("interval = soon"), HasSubstr("interval"));
  EXPECT_THAT(ErrorOf("run_pause = x"), HasSubstr("run_pause"));
  EXPECT_THAT(ErrorOf("node_timeout = 0"), HasSubstr("node_timeout"));
  EXPECT_THAT(ErrorOf("conn_timeout = -1"), HasSubstr("conn_timeout"));
  EXPECT_THAT(ErrorOf("reclaim_age = inf"), HasSubstr("reclaim_age"));
  EXPECT_THAT(ErrorOf("databases_per_second = nan"), HasSubstr("databases_per_second"));
  EXPECT_THAT(ErrorOf("handoff_delete = some"), HasSubstr("handoff_delete"));
  EXPECT_THAT(ErrorOf("handoff_delete = -1"), HasSubstr("handoff_delete"));
  EXPECT_THAT(ErrorOf("ring_check_interval = -5"), HasSubstr("ring_check_interval"));
  EXPECT_THAT(ErrorOf("batch_databases = 0"), HasSubstr("batch_databases"));
  EXPECT_THAT(ErrorOf("batch_databases = 1001"), HasSubstr("between 1 and 1000"));
}

TEST(ReplicatorConfigTest, MissingFileOrSection) {
  EXPECT_THAT(LoadReplicatorConfig("/nonexistent/container-server.conf", DbType::kContainer),
              StatusIs(absl::StatusCode::kNotFound));
  const std::string path = WriteTempConfig("container-server.conf", kContainerServerConf);
  absl::StatusOr<ReplicatorConfig> account = LoadReplicatorConfig(path, DbType::kAccount);
  EXPECT_THAT(account, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(std::string(account.status().message()), HasSubstr("Unable to find account-replicator config section"));
}

TEST(ReplicatorConfigTest, HandoffDeleteClampedByReplicaCount) {
  std::string warning;
  EXPECT_EQ(EffectiveHandoffDelete(2, 3, &warning), 2);
  EXPECT_EQ(warning, "");
  EXPECT_EQ(EffectiveHandoffDelete(0, 3, &warning), 0);
  EXPECT_EQ(EffectiveHandoffDelete(3, 3, &warning), 0);
  EXPECT_EQ(warning, "handoff_delete=3 is too high to have an effect on a ring with replica count 3. Disabling.");
  EXPECT_EQ(EffectiveHandoffDelete(3, 2.5, nullptr), 0);
  EXPECT_EQ(EffectiveHandoffDelete(2, 2.5, nullptr), 2);
}

}  // namespace
}  // namespace dbrepl
