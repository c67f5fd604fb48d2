// Swift's replication decisions, one test each, against real dbrepl-peer
// processes (with their rsync daemons) on loopback, with the ReplicationPass run
// in-process so its outcome and Swift's counters can be asserted.
#include "agent/replication_pass.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "agent/agent_metrics.h"
#include "agent/grpc_peer_client.h"
#include "agent/rsync_runner.h"
#include "common/db/broker.h"
#include "common/db/state_cache.h"
#include "common/fs_util.h"
#include "common/ring/reloading_ring.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "integration_tests/test_cluster.h"
#include "nlohmann/json.hpp"
#include "sqlite3.h"

namespace dbrepl::agent {
namespace {

using ::dbrepl::testing::TestCluster;
using ::testing::Contains;
using ::testing::Each;
using ::testing::Field;

std::string g_peer_binary;

std::vector<std::string> Actions(const DbOutcome& o) {
  std::vector<std::string> a;
  for (const NodeOutcome& n : o.peers) a.push_back(std::string(PeerResultName(n.result)));
  return a;
}

class ReplicatorTest : public ::testing::Test {
 protected:
  void StartCluster(int nodes, double replicas, int part_power = 4, std::vector<std::string> missing = {}) {
    TestCluster::Options o;
    static int generation = 0;
    o.root = absl::StrCat(getenv("TEST_TMPDIR"), "/", ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                          "_", ++generation);
    o.peer_binary = g_peer_binary;
    for (int i = 0; i < nodes; ++i) o.nodes.push_back(dbrepl::testing::TestNodeSpec{1, i + 1, {"sda"}});
    o.part_power = part_power;
    o.replicas = replicas;
    o.missing_devices = missing;
    auto c = TestCluster::Start(o);
    ASSERT_OK(c.status());
    cluster_ = std::move(*c);
    auto ring = ReloadingRing::Open(cluster_->ring_file());
    ASSERT_OK(ring.status());
    ring_ = std::move(*ring);
  }

  // A ReplicationPass acting as node `node`'s agent.
  std::unique_ptr<ReplicationPass> MakeReplicator(int node, std::function<void(ReplicatorOptions&)> tweak = nullptr,
                                             std::string rsync_module = "") {
    ReplicatorOptions o;
    o.type = DbType::kContainer;
    o.devices = cluster_->devices(node);
    o.mount_check = false;
    o.bind_ip = cluster_->ip(node);
    o.bind_port = cluster_->peer_port(node);
    o.concurrency = 2;
    o.databases_per_second = 0;
    o.recon_cache_path = absl::StrCat(getenv("TEST_TMPDIR"), "/recon", node);
    o.hash_config = cluster_->hash_config();
    if (tweak) tweak(o);
    peers_ = *GrpcPeerClient::Create(PeerClientOptions());
    RsyncOptions ro;
    ro.module_template = rsync_module.empty() ? cluster_->rsync_module() : rsync_module;
    rsync_ = std::make_unique<ProcessRsyncRunner>(ro);
    metrics_ = std::make_unique<AgentMetrics>(DbType::kContainer);
    return std::make_unique<ReplicationPass>(o, ring_.get(), peers_.get(), rsync_.get(), metrics_.get());
  }

  // Creates a container db on `node`/sda with rows [first, first+count).
  std::string MakeDb(int node, const std::string& container, int first, int count, int64_t partition = -1,
                     const std::string& device = "sda") {
    std::string path = cluster_->DbPath(node, device, "a", container, partition);
    auto broker = DatabaseBroker::Create(DbType::kContainer, path, "a", container, "0000000001.00000");
    EXPECT_OK(broker.status());
    AddRows(**broker, first, count);
    return path;
  }

  static void AddRows(DatabaseBroker& b, int first, int count) {
    for (int i = first; i < first + count; ++i) {
      ObjectRecord o;
      o.name = absl::StrCat("obj", i);
      o.created_at = absl::StrCat(1700000000 + i, ".00000");
      o.size = 10;
      o.content_type = "text/plain";
      o.etag = "e";
      EXPECT_OK(b.PutObject(o));
    }
  }

  ReplicationInfo InfoOf(const std::string& path) {
    auto b = DatabaseBroker::Open(DbType::kContainer, path);
    EXPECT_OK(b.status());
    if (!b.ok()) return {};
    auto info = (*b)->GetReplicationInfo();
    EXPECT_OK(info.status());
    return info.ok() ? *info : ReplicationInfo();
  }

  // Node index of a primary holding `container`, and the others.
  int PrimaryNode(const std::string& container, int which = 0) {
    int64_t part = cluster_->PartitionOf("a", container);
    return cluster_->NodeOfDevice(cluster_->PrimaryIds(part)[which]);
  }

  std::unique_ptr<TestCluster> cluster_;
  std::unique_ptr<ReloadingRing> ring_;
  std::unique_ptr<GrpcPeerClient> peers_;
  std::unique_ptr<ProcessRsyncRunner> rsync_;
  std::unique_ptr<AgentMetrics> metrics_;
};

TEST_F(ReplicatorTest, NewReplicaGoesByRsyncAndCompleteRsync) {
  StartCluster(3, 3);
  int me = PrimaryNode("c1");
  std::string db = MakeDb(me, "c1", 0, 20);
  auto r = MakeReplicator(me);
  DbOutcome out = r->ReplicateDb(cluster_->PartitionOf("a", "c1"), db, cluster_->PrimaryIds(cluster_->PartitionOf("a", "c1"))[0]);
  EXPECT_TRUE(out.success);
  EXPECT_THAT(Actions(out), ::testing::ElementsAre("rsync", "rsync"));
  PassStats s = r->stats().Snapshot();
  EXPECT_EQ(s.rsync, 2);
  EXPECT_EQ(s.success, 2);
  EXPECT_EQ(s.failure, 0);
  ReplicationInfo mine = InfoOf(db);
  for (int n = 0; n < 3; ++n) {
    if (n == me) continue;
    ReplicationInfo theirs = InfoOf(cluster_->DbPath(n, "sda", "a", "c1"));
    EXPECT_EQ(theirs.hash, mine.hash);
    EXPECT_EQ(theirs.count, 20);
    EXPECT_NE(theirs.id, mine.id);  // Vested with a new id.
  }
  // A second pass finds everything in sync.
  DbOutcome again = r->ReplicateDb(cluster_->PartitionOf("a", "c1"), db, cluster_->PrimaryIds(cluster_->PartitionOf("a", "c1"))[0]);
  EXPECT_THAT(Actions(again), Each(::testing::AnyOf("no_change", "hashmatch")));
  EXPECT_EQ(peers_->channel_count(), 2);  // One channel per peer, reused.
}

TEST_F(ReplicatorTest, SmallDivergenceGoesByUsyncBatches) {
  StartCluster(3, 3);
  int64_t part = cluster_->PartitionOf("a", "c2");
  int me = PrimaryNode("c2");
  int my_id = cluster_->PrimaryIds(part)[0];
  std::string db = MakeDb(me, "c2", 0, 10);
  auto r = MakeReplicator(me);
  ASSERT_TRUE(r->ReplicateDb(part, db, my_id).success);
  {
    auto b = DatabaseBroker::Open(DbType::kContainer, db);
    ASSERT_OK(b.status());
    AddRows(**b, 10, 5);
    // What this replica knows of a third one travels with the rows.
    ASSERT_OK((*b)->MergeSyncs({SyncRecord{"third-party", 99, 0}}, /*incoming=*/true));
  }
  auto r2 = MakeReplicator(me);
  DbOutcome out = r2->ReplicateDb(part, db, my_id);
  EXPECT_TRUE(out.success);
  EXPECT_THAT(Actions(out), ::testing::ElementsAre("diff", "diff"));
  for (int n = 0; n < 3; ++n) {
    if (n == me) continue;
    auto peer_db = DatabaseBroker::Open(DbType::kContainer, cluster_->DbPath(n, "sda", "a", "c2"));
    ASSERT_OK(peer_db.status());
    absl::StatusOr<int64_t> third = (*peer_db)->GetSync("third-party", /*incoming=*/true);
    ASSERT_OK(third.status());
    EXPECT_EQ(*third, 99) << "node " << n;
  }
  EXPECT_EQ(r2->stats().Snapshot().diff, 2);
  for (const NodeOutcome& n : out.peers) EXPECT_EQ(n.rows_sent, 5);
  ReplicationInfo mine = InfoOf(db);
  for (int n = 0; n < 3; ++n) {
    if (n != me) {
      EXPECT_EQ(InfoOf(cluster_->DbPath(n, "sda", "a", "c2")).hash, mine.hash);
    }
  }
  // Each peer recorded its point for us with the rows: the next pass is no_change.
  DbOutcome again = r2->ReplicateDb(part, db, my_id);
  EXPECT_THAT(Actions(again), ::testing::ElementsAre("no_change", "no_change"));
}

TEST_F(ReplicatorTest, FarBehindPeerGetsRsyncThenMerge) {
  StartCluster(2, 2);
  int64_t part = cluster_->PartitionOf("a", "c3");
  int me = PrimaryNode("c3", 0);
  int other = PrimaryNode("c3", 1);
  std::string db = MakeDb(me, "c3", 0, 100);
  std::string theirs = MakeDb(other, "c3", 1000, 5);  // Rows only the peer has.
  auto r = MakeReplicator(me, [](ReplicatorOptions& o) { o.per_diff = 10; });
  DbOutcome out = r->ReplicateDb(part, db, cluster_->PrimaryIds(part)[0]);
  EXPECT_TRUE(out.success);
  EXPECT_THAT(Actions(out), ::testing::ElementsAre("remote_merge"));
  EXPECT_EQ(r->stats().Snapshot().remote_merge, 1);
  ReplicationInfo merged = InfoOf(theirs);
  EXPECT_EQ(merged.count, 105);  // Nothing the peer had is lost.
}

TEST_F(ReplicatorTest, DiffCapIsResumedOverPasses) {
  StartCluster(2, 2);
  int64_t part = cluster_->PartitionOf("a", "c4");
  int me = PrimaryNode("c4", 0);
  int other = PrimaryNode("c4", 1);
  int my_id = cluster_->PrimaryIds(part)[0];
  std::string db = MakeDb(me, "c4", 0, 60);
  auto seed = MakeReplicator(me);
  ASSERT_TRUE(seed->ReplicateDb(part, db, my_id).success);
  {
    auto b = DatabaseBroker::Open(DbType::kContainer, db);
    ASSERT_OK(b.status());
    AddRows(**b, 60, 50);
  }
  std::string theirs = cluster_->DbPath(other, "sda", "a", "c4");
  std::vector<int64_t> counts;
  std::vector<std::string> actions;
  for (int pass = 0; pass < 3; ++pass) {
    auto r = MakeReplicator(me, [](ReplicatorOptions& o) {
      o.per_diff = 10;
      o.max_diffs = 2;
    });
    DbOutcome out = r->ReplicateDb(part, db, my_id);
    actions.push_back(std::string(PeerResultName(out.peers.at(0).result)));
    counts.push_back(InfoOf(theirs).count);
    if (pass < 2) {
      EXPECT_EQ(r->stats().Snapshot().diff_capped, 1);
    }
  }
  EXPECT_THAT(actions, ::testing::ElementsAre("diff_capped", "diff_capped", "diff"));
  EXPECT_THAT(counts, ::testing::ElementsAre(80, 100, 110));
}

TEST_F(ReplicatorTest, UnavailableDeviceMovesToAHandoff) {
  StartCluster(4, 3);
  // Find a container whose second primary we can make unavailable.
  int64_t part = cluster_->PartitionOf("a", "c5");
  std::vector<int> ids = cluster_->PrimaryIds(part);
  int me = cluster_->NodeOfDevice(ids[0]);
  int gone = cluster_->NodeOfDevice(ids[1]);
  cluster_.reset();
  StartCluster(4, 3, 4, {absl::StrCat(gone, "/sda")});
  std::string db = MakeDb(me, "c5", 0, 5);
  auto r = MakeReplicator(me);
  DbOutcome out = r->ReplicateDb(part, db, ids[0]);
  std::vector<std::string> actions = Actions(out);
  EXPECT_THAT(actions, Contains("device_unavailable"));
  ASSERT_EQ(out.peers.size(), 3u);  // Two primaries plus the handoff.
  EXPECT_TRUE(out.peers.back().node.is_handoff());
  EXPECT_EQ(out.peers.back().result, PeerResult::kRsync);
  int handoff_node = cluster_->NodeOfDevice(out.peers.back().node.id);
  EXPECT_TRUE(PathExists(cluster_->DbPath(handoff_node, "sda", "a", "c5", part)));
}

TEST_F(ReplicatorTest, MisplacedDatabaseIsMovedAndRemovedOnlyWhenEveryPushSucceeded) {
  StartCluster(3, 3);
  int64_t right = cluster_->PartitionOf("a", "c6");
  int64_t wrong = (right + 1) % 16;
  int me = 0;
  std::string db = MakeDb(me, "c6", 0, 7, wrong);
  // One of the right partition's nodes is down: the push fails, keep the db.
  int down = -1;
  for (int id : cluster_->PrimaryIds(right)) {
    if (cluster_->NodeOfDevice(id) != me) down = cluster_->NodeOfDevice(id);
  }
  ASSERT_OK(cluster_->StopPeer(down));
  auto r = MakeReplicator(me, [](ReplicatorOptions& o) { o.node_timeout = absl::Seconds(2); });
  DbOutcome out = r->ReplicateDb(wrong, db, 0);
  EXPECT_FALSE(out.success);
  EXPECT_EQ(out.ring_partition, right);
  EXPECT_TRUE(PathExists(db)) << "deleted although a push failed";
  ASSERT_OK(cluster_->StartPeer(down));
  auto r2 = MakeReplicator(me);
  DbOutcome out2 = r2->ReplicateDb(wrong, db, 0);
  EXPECT_TRUE(out2.success);
  EXPECT_EQ(LocalActionName(out2.local_action), "removed");
  EXPECT_FALSE(PathExists(db));
  EXPECT_EQ(r2->stats().Snapshot().remove, 1);
  for (int id : cluster_->PrimaryIds(right)) {
    int n = cluster_->NodeOfDevice(id);
    if (n != me) {
      EXPECT_TRUE(PathExists(cluster_->DbPath(n, "sda", "a", "c6", right)));
    }
  }
}

TEST_F(ReplicatorTest, SingleReplicaRingNeverDeletesAnUnreplicatedMisplacedDb) {
  StartCluster(2, 1);
  int64_t right = cluster_->PartitionOf("a", "c7");
  int64_t wrong = (right + 1) % 16;
  int target = cluster_->NodeOfDevice(cluster_->PrimaryIds(right)[0]);
  int me = 1 - target;
  std::string db = MakeDb(me, "c7", 0, 3, wrong);
  ASSERT_OK(cluster_->StopPeer(target));
  auto r = MakeReplicator(me, [](ReplicatorOptions& o) { o.node_timeout = absl::Seconds(2); });
  DbOutcome out = r->ReplicateDb(wrong, db, me);
  EXPECT_FALSE(out.success);
  EXPECT_TRUE(PathExists(db));
  ASSERT_OK(cluster_->StartPeer(target));
  auto r2 = MakeReplicator(me);
  DbOutcome out2 = r2->ReplicateDb(wrong, db, me);
  EXPECT_TRUE(out2.success);
  EXPECT_FALSE(PathExists(db));
  EXPECT_TRUE(PathExists(cluster_->DbPath(target, "sda", "a", "c7", right)));
}

TEST_F(ReplicatorTest, ReclaimableDeletedDatabaseIsRemovedWithoutContactingPeers) {
  StartCluster(3, 3);
  int64_t part = cluster_->PartitionOf("a", "c8");
  int me = PrimaryNode("c8");
  std::string db = MakeDb(me, "c8", 0, 0);
  {
    auto b = DatabaseBroker::Open(DbType::kContainer, db);
    ASSERT_OK(b.status());
    ASSERT_OK((*b)->MarkDeleted("0000000002.00000"));
  }
  {
    // The container updater has reported the deletion to the account (Swift
    // keeps a deleted container until then).
    sqlite3* db3 = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &db3), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db3,
                           "UPDATE container_info SET reported_put_timestamp = put_timestamp, "
                           "reported_delete_timestamp = delete_timestamp, reported_object_count = 0, "
                           "reported_bytes_used = 0",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db3);
  }
  auto r = MakeReplicator(me, [](ReplicatorOptions& o) { o.reclaim_age = 1000; });
  DbOutcome out = r->ReplicateDb(part, db, cluster_->PrimaryIds(part)[0]);
  EXPECT_TRUE(out.success);
  EXPECT_TRUE(out.peers.empty());
  EXPECT_EQ(LocalActionName(out.local_action), "reclaimed");
  EXPECT_FALSE(PathExists(db));
  EXPECT_EQ(r->stats().Snapshot().remove, 1);
}

TEST_F(ReplicatorTest, CorruptDatabaseIsQuarantinedAndCountedAsFailure) {
  StartCluster(3, 3);
  int64_t part = cluster_->PartitionOf("a", "c9");
  int me = PrimaryNode("c9");
  std::string db = MakeDb(me, "c9", 0, 3);
  {
    std::ofstream out(db, std::ios::trunc | std::ios::binary);
    out << std::string(4096, 'x');
  }
  auto r = MakeReplicator(me);
  DbOutcome out = r->ReplicateDb(part, db, cluster_->PrimaryIds(part)[0]);
  EXPECT_FALSE(out.success);
  EXPECT_EQ(LocalActionName(out.local_action), "quarantined");
  EXPECT_FALSE(PathExists(db));
  PassStats s = r->stats().Snapshot();
  EXPECT_EQ(s.quarantined, 1);
  EXPECT_EQ(s.failure, 3);  // Every primary of the partition.
}

TEST_F(ReplicatorTest, RsyncFailureIsCountedAndRetriedNextPass) {
  StartCluster(2, 2);
  int64_t part = cluster_->PartitionOf("a", "c10");
  int me = PrimaryNode("c10", 0);
  int other = PrimaryNode("c10", 1);
  std::string db = MakeDb(me, "c10", 0, 4);
  // Nothing listens on port 1: rsync fails for real.
  auto broken = MakeReplicator(me, nullptr, "rsync://{replication_ip}:1/container");
  DbOutcome out = broken->ReplicateDb(part, db, cluster_->PrimaryIds(part)[0]);
  EXPECT_FALSE(out.success);
  PassStats s = broken->stats().Snapshot();
  EXPECT_EQ(s.rsync, 1);
  EXPECT_EQ(s.failure, 1);
  EXPECT_EQ(s.failure_nodes[cluster_->ip(other)]["sda"], 1);
  EXPECT_FALSE(PathExists(cluster_->DbPath(other, "sda", "a", "c10")));
  auto fixed = MakeReplicator(me);
  EXPECT_TRUE(fixed->ReplicateDb(part, db, cluster_->PrimaryIds(part)[0]).success);
  EXPECT_TRUE(PathExists(cluster_->DbPath(other, "sda", "a", "c10")));
}

// A partition for which `node` is not a primary, and its primaries' nodes.
int64_t HandoffPartitionFor(TestCluster& c, int node, std::vector<int>* primary_nodes) {
  for (int64_t p = 0; p < 16; ++p) {
    std::vector<int> nodes;
    for (int id : c.PrimaryIds(p)) nodes.push_back(c.NodeOfDevice(id));
    if (std::find(nodes.begin(), nodes.end(), node) == nodes.end()) {
      *primary_nodes = nodes;
      return p;
    }
  }
  return -1;
}

TEST_F(ReplicatorTest, HandoffIsPushedToEveryPrimaryThenRemoved) {
  StartCluster(4, 3);
  std::vector<int> primaries;
  int64_t part = HandoffPartitionFor(*cluster_, 0, &primaries);
  ASSERT_GE(part, 0);
  // A container that the ring places in `part`.
  std::string name;
  for (int i = 0; name.empty(); ++i) {
    if (cluster_->PartitionOf("a", absl::StrCat("h", i)) == part) name = absl::StrCat("h", i);
  }
  std::string db = MakeDb(0, name, 0, 6, part);
  auto r = MakeReplicator(0);
  DbOutcome out = r->ReplicateDb(part, db, 0);
  EXPECT_TRUE(out.success);
  EXPECT_THAT(Actions(out), ::testing::ElementsAre("rsync", "rsync", "rsync"));
  EXPECT_EQ(LocalActionName(out.local_action), "removed");
  EXPECT_FALSE(PathExists(db));
  for (int n : primaries) EXPECT_EQ(InfoOf(cluster_->DbPath(n, "sda", "a", name, part)).count, 6);
}

TEST_F(ReplicatorTest, HandoffDeleteRemovesAfterEnoughSuccesses) {
  StartCluster(4, 3);
  std::vector<int> primaries;
  int64_t part = HandoffPartitionFor(*cluster_, 0, &primaries);
  std::string name;
  for (int i = 0; name.empty(); ++i) {
    if (cluster_->PartitionOf("a", absl::StrCat("h", i)) == part) name = absl::StrCat("h", i);
  }
  ASSERT_OK(cluster_->StopPeer(primaries[2]));
  std::string db = MakeDb(0, name, 0, 4, part);
  // Default: every primary must succeed, so the handoff stays.
  auto strict = MakeReplicator(0, [](ReplicatorOptions& o) { o.node_timeout = absl::Seconds(2); });
  EXPECT_FALSE(strict->ReplicateDb(part, db, 0).success);
  EXPECT_TRUE(PathExists(db));
  // handoff_delete = 2: two successes are enough.
  auto lenient = MakeReplicator(0, [](ReplicatorOptions& o) {
    o.node_timeout = absl::Seconds(2);
    o.handoff_delete = 2;
  });
  DbOutcome out = lenient->ReplicateDb(part, db, 0);
  EXPECT_EQ(LocalActionName(out.local_action), "removed");
  EXPECT_FALSE(PathExists(db));
  EXPECT_EQ(lenient->stats().Snapshot().failure, 1);  // The stopped primary still counts.
}

TEST_F(ReplicatorTest, HandoffsOnlySkipsPartitionsWhereThisNodeIsPrimary) {
  StartCluster(4, 3);
  std::vector<int> primaries;
  int64_t handoff_part = HandoffPartitionFor(*cluster_, 0, &primaries);
  int64_t primary_part = -1;
  for (int64_t p = 0; p < 16 && primary_part < 0; ++p) {
    for (int id : cluster_->PrimaryIds(p)) {
      if (cluster_->NodeOfDevice(id) == 0) primary_part = p;
    }
  }
  ASSERT_GE(handoff_part, 0);
  ASSERT_GE(primary_part, 0);
  MakeDb(0, "x1", 0, 2, handoff_part);
  MakeDb(0, "x2", 0, 2, primary_part);
  auto r = MakeReplicator(0, [](ReplicatorOptions& o) { o.handoffs_only = true; });
  ASSERT_OK(r->RunPass(PassOverrides()));
  EXPECT_EQ(r->Last().stats.attempted, 1);
  // And a partitions override limits a pass to what was asked for.
  auto only = MakeReplicator(0);
  PassOverrides o;
  o.partitions = {primary_part};
  ASSERT_OK(only->RunPass(o));
  EXPECT_EQ(only->Last().stats.attempted, 1);
}

TEST_F(ReplicatorTest, TheNodesPeerReadsItsDatabasesForTheAgent) {
  StartCluster(3, 3);
  std::vector<std::string> dbs;
  for (const std::string c : {"c1", "c2", "c3"}) {
    for (int n = 0; n < 3; ++n) dbs.push_back(MakeDb(n, c, 0, 5));  // The same rows everywhere.
  }
  // Past the files' last writes on the coarse clock, so the reads may be
  // kept (state_cache.h).
  int64_t newest = 0;
  for (const std::string& db : dbs) {
    ASSERT_OK_AND_ASSIGN(DbFileIdentity id, StatDbFile(db));
    newest = std::max({newest, id.mtime_ns, id.ctime_ns});
  }
  while (StateCache::CoarseNowNs() <= newest) usleep(1000);
  auto r = MakeReplicator(0);
  ASSERT_OK(r->RunPass(PassOverrides()));
  EXPECT_EQ(r->stats().Snapshot().failure, 0);
  EXPECT_EQ(r->stats().Snapshot().attempted, 3);
  EXPECT_EQ(r->cache().size(), 3u);
  EXPECT_EQ(r->cache().sqlite_reads(), 0u) << "node 0's peer read them; the agent opened none";
  for (const std::string c : {"c1", "c2", "c3"}) {
    const std::string hash = InfoOf(cluster_->DbPath(0, "sda", "a", c)).hash;
    for (int n = 1; n < 3; ++n) EXPECT_EQ(InfoOf(cluster_->DbPath(n, "sda", "a", c)).hash, hash);
  }
}

TEST_F(ReplicatorTest, PassWritesReconAndMetrics) {
  StartCluster(3, 3);
  for (int i = 0; i < 4; ++i) {
    std::string c = absl::StrCat("p", i);
    MakeDb(0, c, 0, 3, cluster_->PartitionOf("a", c));
  }
  auto r = MakeReplicator(0);
  ASSERT_OK(r->RunPass(PassOverrides()));
  PassProgress last = r->Last();
  EXPECT_FALSE(last.running);
  EXPECT_EQ(last.databases_done, 4);
  EXPECT_EQ(last.databases_total, 4);
  EXPECT_EQ(last.stats.attempted, 4);
  std::ifstream in(absl::StrCat(getenv("TEST_TMPDIR"), "/recon0/container.recon"));
  nlohmann::json recon = nlohmann::json::parse(in);
  EXPECT_EQ(recon["replication_stats"]["attempted"], 4);
  EXPECT_TRUE(recon.contains("replication_time"));
  EXPECT_TRUE(recon.contains("replication_last"));
  std::string scrape = metrics_->Scrape();
  EXPECT_THAT(scrape, ::testing::HasSubstr("dbrepl_attempts_total"));
  EXPECT_THAT(scrape, ::testing::HasSubstr("result=\"rsync\""));
  // Every database on node 0 now exists on its other primaries (or handoffs
  // when node 0 was not a primary).
  EXPECT_EQ(last.stats.failure, 0);
}

}  // namespace
}  // namespace dbrepl::agent

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 2) {
    fprintf(stderr, "usage: %s PEER_BINARY\n", argv[0]);
    return 2;
  }
  dbrepl::agent::g_peer_binary = argv[1];
  return RUN_ALL_TESTS();
}
