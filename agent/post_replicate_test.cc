// PostReplicate on real files: the reconciler's names and rows as Swift
// makes them, and the container-sync store following the metadata.
#include "agent/post_replicate.h"

#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/db/broker.h"
#include "common/fs_util.h"
#include "common/paths.h"
#include "common/ring/ring_builder.h"
#include "common/ring/ring_format.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace dbrepl::agent {
namespace {

TEST(PostReplicateTest, ReconcilerNamesAndRowsAreSwifts) {
  // The hour of the row's meta timestamp: encode_timestamps' deltas are in
  // units of 1e-5 s, so "+0+15752a00" puts meta 3600 s after the data time.
  EXPECT_EQ(ReconcilerContainerName("1700000123.45678"), "1699999200");
  EXPECT_EQ(ReconcilerContainerName("1700000123.45678+0+15752a00"), "1700002800");
  EXPECT_EQ(ReconcilerContainerName("junk"), "");
  ObjectRecord o;
  o.name = "photo.jpg";
  o.created_at = "1700000123.45678";
  o.size = 99;
  o.storage_policy_index = 2;
  o.deleted = true;
  ObjectRecord q = ReconcilerQueueRow(o, "AUTH_a", "c");
  EXPECT_EQ(q.name, "2:/AUTH_a/c/photo.jpg");
  EXPECT_EQ(q.created_at, o.created_at);
  EXPECT_EQ(q.etag, o.created_at);
  EXPECT_EQ(q.content_type, "application/x-delete");
  EXPECT_EQ(q.size, 0);
  EXPECT_FALSE(q.deleted);
  o.deleted = false;
  EXPECT_EQ(ReconcilerQueueRow(o, "AUTH_a", "c").content_type, "application/x-put");
}

TEST(PostReplicateTest, TheSyncStoreFollowsTheMetadata) {
  const std::string root = absl::StrCat(getenv("TEST_TMPDIR"), "/sync");
  const std::string devices = root + "/srv/node";
  ASSERT_OK(MakeDirs(devices + "/d0"));
  std::vector<RingDevice> devs(1);
  devs[0].ip = devs[0].replication_ip = "127.0.0.1";
  devs[0].port = devs[0].replication_port = 6201;
  devs[0].device = "d0";
  devs[0].weight = 1;
  ASSERT_OK_AND_ASSIGN(RingData data, BuildRing(devs, 2, 1));
  ASSERT_OK(WriteRingFile(root + "/container.ring.gz", data));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ReloadingRing> ring, ReloadingRing::Open(root + "/container.ring.gz"));
  PostReplicate post(PostReplicate::Options{devices, 1000, HashPathConfig{"p", "s"}}, ring.get());
  const std::string hash = std::string(29, '0') + "abc";
  const std::string db_file = DbFilePath(devices, "d0", DbType::kContainer, 3, hash);
  ASSERT_OK_AND_ASSIGN(auto broker, DatabaseBroker::Create(DbType::kContainer, db_file, "a", "c", "0000000001.00000"));
  const std::string link = absl::StrCat(devices, "/d0/sync_containers/3/abc/", hash, "/", hash, ".db");
  auto linked = [&]() {
    struct stat st;
    return lstat(link.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
  };
  auto after = [&](const std::string& metadata) {
    if (!metadata.empty()) ASSERT_OK(broker->UpdateMetadata(metadata));
    ASSERT_OK_AND_ASSIGN(ReplicationInfo info, broker->GetReplicationInfo());
    post.AfterReplicate(*broker, info, db_file, 1, 1);
  };
  after("");
  EXPECT_FALSE(linked()) << "never configured: nothing";
  after(R"({"X-Container-Sync-To": ["//r/c/a/c2", "0000000002.00000"], "X-Container-Sync-Key": ["k", "0000000002.00000"]})");
  ASSERT_TRUE(linked());
  char target[4096];
  ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(target, n), db_file);
  after(R"({"X-Container-Sync-Key": ["", "0000000003.00000"]})");
  EXPECT_FALSE(linked()) << "an emptied key unlinks";
  EXPECT_FALSE(PathExists(absl::StrCat(devices, "/d0/sync_containers/3"))) << "and prunes the empty dirs";
  EXPECT_TRUE(post.TakeReconcilers().empty()) << "one policy: nothing queued";
}

}  // namespace
}  // namespace dbrepl::agent
