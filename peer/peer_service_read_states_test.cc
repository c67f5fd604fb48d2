// ReadStates: the peer gives the agent on its node the states it reads for
// itself, so that the node reads each database once.
#include <unistd.h>

#include "common/hash_path.h"
#include "common/db/state_cache.h"
#include "common/rpc/proto_convert.h"
#include "peer/testing/peer_service_fixture.h"

namespace dbrepl::peer {
namespace {

using ::dbrepl::peer::testing::kHash;
using ::dbrepl::peer::testing::NewTmpDir;
using ::dbrepl::peer::testing::PeerServiceTest;

class ReadStatesTest : public PeerServiceTest {
 protected:
  v1::ReadStatesRequest Request(const std::vector<std::string>& hashes, const HashPathConfig& cfg = {"p", "s"}) {
    v1::ReadStatesRequest req;
    req.set_type(v1::CONTAINER);
    req.set_device("sda");
    req.set_hash_path_check(HashPathCheck(cfg));
    for (const std::string& h : hashes) {
      v1::ReadStatesRequest::Db* db = req.add_dbs();
      db->set_partition(7);
      db->set_hash(h);
    }
    return req;
  }
  absl::Status ReadStates(const v1::ReadStatesRequest& req, v1::ReadStatesResponse* resp) {
    return Call(&v1::ReplicationPeer::Stub::ReadStates, req, resp);
  }
};

TEST_F(ReadStatesTest, AnswersWhatTheDatabaseSaysWithItsIdentityAndPartitionKey) {
  auto broker = CreateContainer(DbFile(), 3);
  ASSERT_OK(broker->MergeSyncs({SyncRecord{"other", 2, 0}}, /*incoming=*/true));
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, broker->GetReplicationInfo());
  broker.reset();
  // Settle the coarse clock past the file's last write, so the read is
  // cacheable (and so answered).
  ASSERT_OK_AND_ASSIGN(DbFileIdentity identity, StatDbFile(DbFile()));
  while (StateCache::CoarseNowNs() <= std::max(identity.mtime_ns, identity.ctime_ns)) usleep(1000);
  const std::string missing(32, 'a');

  v1::ReadStatesResponse resp;
  ASSERT_OK(ReadStates(Request({kHash, missing}), &resp));
  ASSERT_EQ(resp.dbs_size(), 2);
  const v1::LocalDbState& s = resp.dbs(0);
  ASSERT_EQ(s.code(), 0) << s.message();
  EXPECT_EQ(s.rows_hash(), info.hash);
  EXPECT_EQ(s.id(), info.id);
  EXPECT_EQ(s.max_row(), 3);
  EXPECT_EQ(s.partition_key(), PartitionKey(HashPathConfig{"p", "s"}, "a", "c"));
  EXPECT_TRUE(FromProto(s.identity()) == identity);
  ASSERT_OK_AND_ASSIGN(CachedState state, FromProto(s));
  EXPECT_EQ(state.state_digest, StateDigest(info));
  EXPECT_EQ(state.Point("other", /*incoming=*/true), 2);
  EXPECT_EQ(state.Point("other", /*incoming=*/false), -1);
  EXPECT_EQ(resp.dbs(1).code(), static_cast<int>(absl::StatusCode::kNotFound));

  // A write changes the identity, and the answer with it.
  ASSERT_OK_AND_ASSIGN(auto again, DatabaseBroker::Open(DbType::kContainer, DbFile(), BrokerOptions()));
  ASSERT_OK(again->MergeSyncs({SyncRecord{"other", 3, 0}}, /*incoming=*/true));
  again.reset();
  ASSERT_OK_AND_ASSIGN(DbFileIdentity changed, StatDbFile(DbFile()));
  while (StateCache::CoarseNowNs() <= std::max(changed.mtime_ns, changed.ctime_ns)) usleep(1000);
  resp.Clear();
  ASSERT_OK(ReadStates(Request({kHash}), &resp));
  ASSERT_EQ(resp.dbs(0).code(), 0);
  EXPECT_TRUE(FromProto(resp.dbs(0).identity()) == changed);
  ASSERT_OK_AND_ASSIGN(state, FromProto(resp.dbs(0)));
  EXPECT_EQ(state.Point("other", /*incoming=*/true), 3);
}

TEST_F(ReadStatesTest, AMergedDatabaseIsAnsweredWithoutAColdRead) {
  // The merge's own connection reads the new state into the cache after the
  // stream ends, so the next question about the database opens no SQLite.
  CreateContainer(DbFile(), 3);
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> acks, Merge(Ref(), "sender", {Objects(3, 5)}));
  ASSERT_THAT(acks, ::testing::ElementsAre(8));
  const uint64_t reads = service_->rpc().SqliteReadsForTesting();  // The merge's open.
  v1::ReadStatesResponse resp;
  ASSERT_OK(ReadStates(Request({kHash}), &resp));
  ASSERT_EQ(resp.dbs_size(), 1);
  ASSERT_EQ(resp.dbs(0).code(), 0) << resp.dbs(0).message();
  EXPECT_EQ(resp.dbs(0).max_row(), 8);
  EXPECT_EQ(resp.dbs(0).partition_key(), PartitionKey(HashPathConfig{"p", "s"}, "a", "c"));
  ASSERT_OK_AND_ASSIGN(CachedState state, FromProto(resp.dbs(0)));
  EXPECT_EQ(state.Point("sender", /*incoming=*/true), 8);
  ASSERT_OK_AND_ASSIGN(DbFileIdentity identity, StatDbFile(DbFile()));
  EXPECT_TRUE(FromProto(resp.dbs(0).identity()) == identity);
  EXPECT_EQ(service_->rpc().SqliteReadsForTesting(), reads);
  const ReplicatorRpc::CacheStats stats = service_->rpc().GetCacheStats();
  EXPECT_EQ(stats.refreshed, 1u);
  EXPECT_EQ(stats.entries, 1u);
  EXPECT_EQ(stats.sqlite_reads, reads);
}

TEST_F(ReadStatesTest, ADatabaseBehindALinkedDirectoryIsNotRead) {
  // A partition directory that is a link to a database elsewhere (an rsync
  // daemon writable over the devices root could plant one).
  const std::string elsewhere = NewTmpDir();
  const std::string outside = DbFilePath(elsewhere, "sda", DbType::kContainer, 7, kHash);
  CreateContainer(outside, 2);
  ASSERT_OK(MakeDirs(devices_ + "/sda/containers"));
  ASSERT_EQ(symlink((elsewhere + "/sda/containers/7").c_str(), (devices_ + "/sda/containers/7").c_str()), 0);
  v1::ReadStatesResponse resp;
  ASSERT_OK(ReadStates(Request({kHash}), &resp));
  ASSERT_EQ(resp.dbs_size(), 1);
  EXPECT_EQ(resp.dbs(0).code(), static_cast<int>(absl::StatusCode::kInvalidArgument)) << resp.dbs(0).message();
  EXPECT_FALSE(resp.dbs(0).has_identity());
}

TEST_F(ReadStatesTest, OtherSecretsOrNoneRefuseTheWholeCall) {
  CreateContainer(DbFile(), 1);
  v1::ReadStatesResponse resp;
  absl::Status s = ReadStates(Request({kHash}, HashPathConfig{"p", "other"}), &resp);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("[swift-hash]"));

  hash_config_.reset();
  StartPeer(/*mount_check=*/false, /*max_calls=*/64);
  CreateContainer(DbFile(), 1);
  s = ReadStates(Request({kHash}), &resp);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("no [swift-hash]"));
}

TEST_F(ReadStatesTest, NamesThatAreNotPathComponentsAndTooManyAreRefused) {
  v1::ReadStatesResponse resp;
  for (const std::string& hash : {std::string("../../../../etc/passwd"), std::string("ABC"), std::string(32, 'g')}) {
    EXPECT_EQ(ReadStates(Request({kHash, hash}), &resp).code(), absl::StatusCode::kInvalidArgument) << hash;
  }
  v1::ReadStatesRequest bad_device = Request({kHash});
  bad_device.set_device("..");
  EXPECT_EQ(ReadStates(bad_device, &resp).code(), absl::StatusCode::kInvalidArgument);
  v1::ReadStatesRequest bad_partition = Request({kHash});
  bad_partition.mutable_dbs(0)->set_partition(-1);
  EXPECT_EQ(ReadStates(bad_partition, &resp).code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> many(10001, kHash);
  absl::Status s = ReadStates(Request(many), &resp);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("limit"));
}

}  // namespace
}  // namespace dbrepl::peer
