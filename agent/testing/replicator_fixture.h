// Test fixtures for the agent's replicators: a scripted peer, a scripted
// rsync, a real ring of four devices on one node and real databases
// (db_replicator_test, partition_replicator_test). Only the network side is
// scripted, because a peer that fails in a chosen way at a chosen moment
// cannot be had on demand from a real one.
#ifndef DBREPL_AGENT_TESTING_REPLICATOR_FIXTURE_H_
#define DBREPL_AGENT_TESTING_REPLICATOR_FIXTURE_H_

#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/db_replicator.h"
#include "agent/outcome.h"
#include "agent/partition_replicator.h"
#include "common/db/broker.h"
#include "common/db/state_cache.h"
#include "common/errors.h"
#include "common/fs_util.h"
#include "common/hash_path.h"
#include "common/paths.h"
#include "common/ring/reloading_ring.h"
#include "common/ring/ring_builder.h"
#include "common/ring/ring_format.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sqlite3.h"

namespace dbrepl::agent::testing {

// A scripted peer: each call is answered by the handler for the node's
// device ("d0", "d1", ...), or by the default.
class FakePeers : public PeerClient {
 public:
  absl::StatusOr<std::vector<v1::InspectedReplica>> InspectReplicas(const PeerAddress&,
                                                                    const v1::InspectReplicasRequest&,
                                                                    absl::Duration) override {
    return absl::UnimplementedError("not scripted");
  }
  struct Calls {
    int sync = 0, merge_items = 0, merge_syncs = 0, complete_rsync = 0, rsync_then_merge = 0;
    int64_t merge_items_acked_point = -1;  // The last stream's final point.
  };
  std::function<absl::StatusOr<v1::SyncResponse>(const v1::DbRef&, const ReplicationInfo&)> on_sync;
  std::map<std::string, Calls> calls;  // device -> calls
  bool merge_syncs_in_stream = true;   // false: a peer that predates it.
  int64_t rows_streamed = 0;

  absl::StatusOr<v1::SyncResponse> Sync(const PeerAddress&, const v1::DbRef& ref,
                                        const ReplicationInfo& info) override {
    ++calls[ref.device()].sync;
    return on_sync(ref, info);
  }
  // The node's own peer (ReadStates); UNIMPLEMENTED when not scripted.
  std::function<absl::StatusOr<v1::ReadStatesResponse>(const PeerAddress&, const v1::ReadStatesRequest&)>
      on_read_states;
  int read_states_calls = 0;
  absl::StatusOr<v1::ReadStatesResponse> ReadStates(const PeerAddress& peer,
                                                   const v1::ReadStatesRequest& req) override {
    ++read_states_calls;
    if (!on_read_states) return PeerClient::ReadStates(peer, req);
    return on_read_states(peer, req);
  }
  std::function<absl::StatusOr<v1::SyncPartitionResponse>(const v1::SyncPartitionRequest&)> on_sync_partition;
  int sync_partition_calls = 0;
  absl::StatusOr<v1::SyncPartitionResponse> SyncPartition(const PeerAddress&,
                                                          const v1::SyncPartitionRequest& req) override {
    ++sync_partition_calls;
    if (!on_sync_partition) return absl::UnimplementedError("not scripted");
    return on_sync_partition(req);
  }
  std::mutex sync_partitions_mu_;
  // Per SyncPartitions call: the peer device asked, and how many partitions.
  std::vector<std::pair<std::string, size_t>> sync_partitions_calls;
  std::vector<absl::StatusOr<v1::SyncPartitionResponse>> SyncPartitions(
      const PeerAddress& peer, const std::vector<v1::SyncPartitionRequest>& partitions) override {
    // The replicator asks its peers at once; the scripts need not be
    // thread-safe.
    std::lock_guard<std::mutex> lock(sync_partitions_mu_);
    sync_partitions_calls.emplace_back(partitions.empty() ? "" : partitions.front().device(), partitions.size());
    for (const v1::SyncPartitionRequest& p : partitions) {
      EXPECT_EQ(p.device(), partitions.front().device()) << "one call per peer device";
    }
    return PeerClient::SyncPartitions(peer, partitions);  // The default: partition by partition.
  }
  absl::StatusOr<UsyncResult> MergeItems(const PeerAddress&, const v1::DbRef& ref, const RowSource& rows,
                                         int64_t point, const std::string&, int per_diff, int max_diffs,
                                         UsyncResult* acked, const std::vector<SyncRecord>* syncs) override {
    ++calls[ref.device()].merge_items;
    UsyncResult r;
    r.point = point;
    for (int i = 0; i < max_diffs; ++i) {
      absl::StatusOr<ItemBatch> b = rows(r.point, per_diff);
      if (!b.ok()) return b.status();
      if (b->empty()) break;
      r.point = b->last_rowid();
      r.rows_sent += static_cast<int64_t>(b->size());
      ++r.batches;
    }
    rows_streamed += r.rows_sent;
    calls[ref.device()].merge_items_acked_point = r.point;
    // A peer that merges the syncs in the stream, once every row is sent.
    if (syncs != nullptr && !syncs->empty() && r.batches < max_diffs && merge_syncs_in_stream) {
      ++calls[ref.device()].merge_syncs;
      r.syncs_merged = true;
    }
    if (acked != nullptr) *acked = r;
    return r;
  }
  absl::Status MergeSyncs(const PeerAddress&, const v1::DbRef& ref, const std::vector<SyncRecord>&) override {
    ++calls[ref.device()].merge_syncs;
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> CompleteRsync(const PeerAddress&, const v1::DbRef& ref, const std::string&,
                                            const std::string&, absl::Duration) override {
    ++calls[ref.device()].complete_rsync;
    return std::string("new-id");
  }
  absl::StatusOr<v1::CompleteRsyncBatchResponse> CompleteRsyncBatch(const PeerAddress&,
                                                                    const v1::CompleteRsyncBatchRequest& req,
                                                                    absl::Duration) override {
    v1::CompleteRsyncBatchResponse resp;
    for (const v1::CompleteRsyncRequest& r : req.installs()) {
      ++calls[r.db().device()].complete_rsync;
      resp.add_results()->set_new_id("new-id");
    }
    ++batch_installs;
    return resp;
  }
  int batch_installs = 0;
  absl::StatusOr<std::string> RsyncThenMerge(const PeerAddress&, const v1::DbRef& ref, const std::string&,
                                             const std::string&, absl::Duration) override {
    ++calls[ref.device()].rsync_then_merge;
    return std::string("new-id");
  }
};

class FakeRsync : public RsyncRunner {
 public:
  std::vector<bool> pushes;  // whole_file of each push
  std::function<void()> during_first_push;
  absl::StatusOr<std::string> Destination(const RingNode& node, const std::string& id) const override {
    return absl::StrCat(node.device, "/tmp/", id);
  }
  absl::Status PushBatch(const std::vector<std::pair<std::string, std::string>>& files, const RingNode&,
                         const std::string&, bool) const override {
    auto* self = const_cast<FakeRsync*>(this);
    self->batches.push_back(files.size());
    return absl::OkStatus();
  }
  std::vector<size_t> batches;
  absl::Status Push(const std::string&, const std::string&, bool whole_file, bool) const override {
    auto* self = const_cast<FakeRsync*>(this);
    self->pushes.push_back(whole_file);
    if (self->pushes.size() == 1 && during_first_push) during_first_push();
    return absl::OkStatus();
  }
};

inline v1::SyncResponse Answer(const ReplicationInfo& mine, int64_t point, int64_t max_row, const std::string& hash,
                        const std::string& id = "peer-id") {
  v1::SyncResponse r;
  r.mutable_info()->set_id(id);
  r.mutable_info()->set_max_row(max_row);
  r.mutable_info()->set_hash(hash);
  r.mutable_info()->set_created_at(mine.created_at);
  r.mutable_info()->set_put_timestamp(mine.put_timestamp);
  r.mutable_info()->set_delete_timestamp(mine.delete_timestamp);
  r.set_point(point);
  return r;
}

class DbReplicatorTest : public ::testing::Test {
 protected:
  // A ring of `devices` devices on one node, 3 replicas, part power 2; this
  // node is device `local`.
  void SetUp() override {
    root_ = absl::StrCat(getenv("TEST_TMPDIR"), "/", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::vector<RingDevice> devs;
    for (int i = 0; i < 4; ++i) {
      RingDevice d;
      d.region = 1;
      d.zone = i + 1;
      d.ip = d.replication_ip = absl::StrCat("127.0.0.", i + 1);
      d.port = d.replication_port = 6201;
      d.device = absl::StrCat("d", i);
      d.weight = 1;
      devs.push_back(d);
      ASSERT_OK(MakeDirs(absl::StrCat(root_, "/srv/node/d", i)));
    }
    auto data = BuildRing(devs, 2, 3);
    ASSERT_OK(data);
    ASSERT_OK(MakeDirs(root_ + "/etc"));
    ASSERT_OK(WriteRingFile(root_ + "/etc/container.ring.gz", *data));
    auto ring = ReloadingRing::Open(root_ + "/etc/container.ring.gz");
    ASSERT_OK(ring);
    ring_ = std::move(*ring);
    options_.devices = root_ + "/srv/node";
    options_.hash_config = HashPathConfig{"p", "s"};
    peers_.on_sync = [](const v1::DbRef&, const ReplicationInfo& info) {
      return Answer(info, info.max_row, info.max_row, info.hash);  // In sync.
    };
  }

  // Creates "a/<container>" with `rows` rows on device `dev` in `partition`
  // (the ring's when < 0). Returns its path.
  std::string MakeDb(int dev, const std::string& container, int rows, int64_t partition = -1) {
    int64_t part = partition >= 0 ? partition : Partition(container);
    std::string hash = HashPath(options_.hash_config, "a", container);
    std::string path = DbFilePath(options_.devices, absl::StrCat("d", dev), DbType::kContainer, part, hash);
    auto b = DatabaseBroker::Create(DbType::kContainer, path, "a", container, "0000000001.00000");
    EXPECT_OK(b);
    ItemBatch batch;
    for (int i = 0; i < rows; ++i) {
      ObjectRecord o;
      o.name = absl::StrCat("o", i);
      o.created_at = absl::StrCat(1700000000 + i, ".00000");
      batch.objects.push_back(o);
    }
    if (rows > 0) {
      EXPECT_OK((*b)->MergeItems(batch, ""));
    }
    return path;
  }
  int64_t Partition(const std::string& container) {
    return ring_->Get()->GetPart(options_.hash_config, "a", container);
  }
  std::vector<int> Primaries(int64_t part) {
    std::vector<int> ids;
    for (const RingNode& n : ring_->Get()->GetPartNodes(part)) ids.push_back(n.id);
    return ids;
  }
  // A device that is not a primary of `part`.
  int Handoff(int64_t part) {
    std::vector<int> p = Primaries(part);
    for (int i = 0; i < 4; ++i) {
      if (std::find(p.begin(), p.end(), i) == p.end()) return i;
    }
    return -1;
  }
  DbOutcome Replicate(const std::string& path, int64_t part, int dev) {
    DbReplicator r(options_, ring_.get(), &peers_, &rsync_, &recorder_, &locks_);
    return r.ReplicateDb(part, path, dev);
  }
  std::vector<PeerResult> Results(const DbOutcome& o) {
    std::vector<PeerResult> out;
    for (const NodeOutcome& n : o.peers) out.push_back(n.result);
    return out;
  }

  std::string root_;
  std::unique_ptr<ReloadingRing> ring_;
  ReplicatorOptions options_;
  FakePeers peers_;
  FakeRsync rsync_;
  StatsCollector stats_;
  OutcomeRecorder recorder_{&stats_, nullptr};
  ReplicationLocks locks_{DbType::kContainer};
};

// The partition path: what is in sync costs one SyncPartition per peer.
class PartitionReplicatorTest : public DbReplicatorTest {
 protected:
  // A peer whose replicas equal ours: answers from what the sender says.
  void PeersInSync() {
    peers_.on_sync_partition = [this](const v1::SyncPartitionRequest& req) {
      v1::SyncPartitionResponse resp;
      for (const v1::DbDigest& d : req.dbs()) {
        v1::PeerDbState* a = resp.add_dbs();
        a->set_presence(v1::PeerDbState::PRESENT);
        a->set_id("id-" + req.device());
        a->set_max_row(d.max_row());
        a->set_point(peer_points_ ? d.max_row() : -1);  // Raised on the hash match, or not there at all.
        a->set_rows_hash_equal(true);
        a->set_state_equal(true);
      }
      return resp;
    };
  }
  // A peer `behind` rows behind on every database (its point for us where
  // it stopped), its timestamps and metadata equal to ours; `behind_on`
  // overrides that per device.
  void PeersBehind(int64_t behind, std::map<std::string, int64_t> behind_on = {}) {
    peers_.on_sync_partition = [behind, behind_on](const v1::SyncPartitionRequest& req) {
      const auto it = behind_on.find(req.device());
      const int64_t lag = it == behind_on.end() ? behind : it->second;
      v1::SyncPartitionResponse resp;
      for (const v1::DbDigest& d : req.dbs()) {
        v1::PeerDbState* a = resp.add_dbs();
        a->set_presence(v1::PeerDbState::PRESENT);
        a->set_id("id-" + req.device());
        a->set_max_row(d.max_row() - lag);
        a->set_point(d.max_row() - lag);
        a->set_rows_hash_equal(false);
        a->set_state_equal(true);
      }
      return resp;
    };
  }
  // A container named "<prefix><k>" (the first k from `first` whose ring
  // partition is `part`) with `rows` rows on device `dev`.
  std::string MakeDbIn(int64_t part, int dev, int rows, const std::string& prefix = "x", int first = 0) {
    for (int k = first;; ++k) {
      const std::string name = absl::StrCat(prefix, k);
      if (Partition(name) == part) return MakeDb(dev, name, rows, part);
    }
  }
  std::vector<DbOutcome> Pass(const std::vector<std::string>& paths, int64_t part, int dev) {
    std::vector<WalkItem> items;
    for (const std::string& path : paths) items.push_back(WalkItem{part, path, dev, absl::StrCat("d", dev)});
    return Pass(items);
  }
  std::vector<DbOutcome> Pass(const std::vector<WalkItem>& items) {
    DbReplicator per_db(options_, ring_.get(), &peers_, &rsync_, &recorder_, &locks_);
    PartitionReplicator p(options_, ring_.get(), &peers_, &rsync_, &per_db, &recorder_, &locks_, &cache_);
    std::vector<std::string> paths;
    for (const WalkItem& item : items) paths.push_back(item.db_file);
    // Settle the coarse clock past the files' last writes, so the cache may
    // keep what it reads.
    int64_t newest = 0;
    for (const std::string& path : paths) {
      if (auto id = StatDbFile(path); id.ok()) newest = std::max({newest, id->mtime_ns, id->ctime_ns});
    }
    while (StateCache::CoarseNowNs() <= newest) usleep(1000);
    return p.Replicate(items);
  }
  int SyncCalls() {
    int n = 0;
    for (auto& [dev, c] : peers_.calls) n += c.sync;
    return n;
  }
  StateCache cache_;
  bool peer_points_ = true;
};

// Gives the container at `path` a shard range (its own, state SHARDING), as
// Swift's sharder does before it creates the epoch file.
inline void AddShardRange(const std::string& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db,
                         "INSERT INTO shard_range (name, timestamp, lower, upper, object_count, bytes_used, "
                         "meta_timestamp, deleted, state, state_timestamp, epoch, reported, tombstones) VALUES "
                         "('a/c', '0000001234.00000', '', '', 0, 0, '0000001234.00000', 0, 30, "
                         "'0000001234.00000', '0000001234.00000', 0, -1)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
}

inline std::string FileContents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace dbrepl::agent::testing

#endif  // DBREPL_AGENT_TESTING_REPLICATOR_FIXTURE_H_
