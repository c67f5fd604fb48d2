// End to end, with real processes only: three nodes, each with a dbrepl-peer
// (and its rsync daemon) and a dbrepl-agent, converge diverged replicas in
// both directions, for container and account databases; an agent daemon
// answers its admin API (status, run a pass now) and stops cleanly.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/db/broker.h"
#include "common/fs_util.h"
#include "common/testing/status_matchers.h"
#include "dbrepl/v1/agent.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "integration_tests/process_util.h"
#include "integration_tests/test_cluster.h"

namespace dbrepl::testing {
namespace {

std::string g_peer;
std::string g_agent;

class ConvergenceTest : public ::testing::TestWithParam<DbType> {
 protected:
  void SetUp() override {
    TestCluster::Options o;
    o.root = absl::StrCat(getenv("TEST_TMPDIR"), "/", ServerType(GetParam()),
                          ::testing::UnitTest::GetInstance()->current_test_info()->name());
    // Test names contain '/': keep the root a plain directory name.
    std::replace(o.root.begin() + std::string(getenv("TEST_TMPDIR")).size() + 1, o.root.end(), '/', '_');
    o.peer_binary = g_peer;
    o.type = GetParam();
    for (int i = 0; i < 3; ++i) o.nodes.push_back(TestNodeSpec{1, i + 1, {"sda"}});
    o.part_power = 3;
    o.replicas = 3;
    auto c = TestCluster::Start(o);
    ASSERT_OK(c.status());
    cluster_ = std::move(*c);
    root_ = o.root;
  }

  std::vector<std::string> AgentArgs(int node) {
    return {g_agent,
            absl::StrCat("--server_type=", ServerType(GetParam())),
            absl::StrCat("--devices=", cluster_->devices(node)),
            "--mount_check=false",
            absl::StrCat("--bind_ip=", cluster_->ip(node)),
            absl::StrCat("--bind_port=", cluster_->peer_port(node)),
            absl::StrCat("--swift_dir=", cluster_->swift_dir()),
            absl::StrCat("--rsync_module=", cluster_->rsync_module()),
            absl::StrCat("--recon_cache_path=", root_, "/recon", node),
            "--databases_per_second=0",
            "--interval=3600"};
  }

  // Runs `dbrepl-agent --once` for `node`; returns its exit code.
  int RunOnce(int node) {
    std::vector<std::string> argv = AgentArgs(node);
    argv.push_back("--once");
    auto p = Subprocess::Start(argv, absl::StrCat(root_, "/agent", node, ".log"));
    EXPECT_OK(p.status());
    if (!p.ok()) return -1;
    absl::StatusOr<int> st = (*p)->Wait(absl::Seconds(120));
    EXPECT_OK(st.status()) << (*p)->Log();
    return st.ok() && WIFEXITED(*st) ? WEXITSTATUS(*st) : -1;
  }

  std::string Path(int node, const std::string& container) {
    return cluster_->DbPath(node, "sda", "acct", GetParam() == DbType::kContainer ? container : "");
  }

  // Creates the database on `node` with rows [first, first+count).
  void Make(int node, int first, int count) {
    auto b = DatabaseBroker::Create(GetParam(), Path(node, "shared"), "acct",
                                    GetParam() == DbType::kContainer ? "shared" : "", "0000000001.00000");
    ASSERT_OK(b.status());
    for (int i = first; i < first + count; ++i) {
      if (GetParam() == DbType::kContainer) {
        ObjectRecord o;
        o.name = absl::StrCat("obj", i);
        o.created_at = absl::StrCat(1700000000 + i, ".00000");
        o.size = i;
        o.content_type = "text/plain";
        o.etag = "e";
        ASSERT_OK((*b)->PutObject(o));
      } else {
        ContainerRecord c;
        c.name = absl::StrCat("cont", i);
        c.put_timestamp = absl::StrCat(1700000000 + i, ".00000");
        c.object_count = i;
        c.bytes_used = 10 * i;
        ASSERT_OK((*b)->PutContainer(c));
      }
    }
  }

  ReplicationInfo Info(int node) {
    auto b = DatabaseBroker::Open(GetParam(), Path(node, "shared"));
    EXPECT_OK(b.status());
    if (!b.ok()) return {};
    auto i = (*b)->GetReplicationInfo();
    EXPECT_OK(i.status());
    return i.ok() ? *i : ReplicationInfo();
  }

  std::unique_ptr<TestCluster> cluster_;
  std::string root_;
};

TEST_P(ConvergenceTest, DivergedReplicasConvergeInBothDirections) {
  Make(0, 0, 40);    // Rows only node 0 has.
  Make(1, 100, 20);  // Rows only node 1 has (a separately created replica).
  // Node 2 has no replica at all.
  for (int node = 0; node < 3; ++node) EXPECT_EQ(RunOnce(node), 0) << "agent " << node;
  for (int node = 0; node < 3; ++node) {
    ReplicationInfo info = Info(node);
    EXPECT_EQ(info.count, 60) << "node " << node;
    EXPECT_EQ(info.hash, Info(0).hash) << "node " << node;
  }
  // A second round finds nothing to do and still succeeds.
  for (int node = 0; node < 3; ++node) EXPECT_EQ(RunOnce(node), 0);
  EXPECT_EQ(Info(2).count, 60);
}

TEST_P(ConvergenceTest, AgentDaemonAnswersItsAdminApiAndStopsOnSigterm) {
  Make(0, 0, 5);
  ASSERT_OK_AND_ASSIGN(int admin_port, PickFreePort());
  std::vector<std::string> argv = AgentArgs(0);
  argv.push_back(absl::StrCat("--admin_port=", admin_port));
  ASSERT_OK_AND_ASSIGN(auto agent, Subprocess::Start(argv, root_ + "/daemon.log"));
  auto channel = TestChannel(absl::StrCat("127.0.0.1:", admin_port));
  ASSERT_OK(WaitForServing(channel, "dbrepl.v1.ReplicationAgent", absl::Seconds(30))) << agent->Log();
  auto stub = v1::ReplicationAgent::NewStub(channel);

  // The random initial delay is up to an hour: ask for a pass now.
  {
    grpc::ClientContext ctx;
    v1::RunPassRequest req;
    v1::RunPassResponse resp;
    ASSERT_TRUE(stub->RunPass(&ctx, req, &resp).ok());
    EXPECT_TRUE(resp.started());
  }
  // Wait for it to finish: GetStatus until passes_completed moves, bounded.
  v1::GetStatusResponse status;
  absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (absl::Now() < deadline) {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->GetStatus(&ctx, v1::GetStatusRequest(), &status).ok());
    if (status.passes_completed() >= 1) break;
    absl::SleepFor(absl::Milliseconds(100));  // Poll interval, not synchronisation.
  }
  ASSERT_GE(status.passes_completed(), 1) << agent->Log();
  EXPECT_EQ(status.last().stats().attempted(), 1);
  EXPECT_EQ(status.last().databases_done(), 1);
  EXPECT_TRUE(status.last().succeeded());
  EXPECT_EQ(Info(1).count, 5);

  // ReplicateDb for one database, and a clear error for a bad one.
  {
    grpc::ClientContext ctx;
    v1::ReplicateDbRequest req;
    req.mutable_db()->set_type(GetParam() == DbType::kContainer ? v1::CONTAINER : v1::ACCOUNT);
    req.mutable_db()->set_device("sda");
    int64_t part = cluster_->PartitionOf("acct", GetParam() == DbType::kContainer ? "shared" : "");
    req.mutable_db()->set_partition(part);
    req.mutable_db()->set_hash(Basename(Path(0, "shared")).substr(0, 32));
    v1::ReplicateDbResponse resp;
    ASSERT_TRUE(stub->ReplicateDb(&ctx, req, &resp).ok());
    EXPECT_TRUE(resp.success());
    EXPECT_EQ(resp.peers_size(), 2);
    for (const auto& p : resp.peers()) EXPECT_EQ(p.action(), "no_change");
    grpc::ClientContext bad_ctx;
    req.mutable_db()->set_device("../etc");
    EXPECT_EQ(stub->ReplicateDb(&bad_ctx, req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  channel.reset();
  ASSERT_OK(agent->Signal(SIGTERM));
  ASSERT_OK_AND_ASSIGN(int st, agent->Wait(absl::Seconds(60)));
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << agent->Log();
}

INSTANTIATE_TEST_SUITE_P(Types, ConvergenceTest, ::testing::Values(DbType::kContainer, DbType::kAccount),
                         [](const auto& info) { return std::string(ServerType(info.param)); });

}  // namespace
}  // namespace dbrepl::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 3) {
    fprintf(stderr, "usage: %s PEER_BINARY AGENT_BINARY\n", argv[0]);
    return 2;
  }
  dbrepl::testing::g_peer = argv[1];
  dbrepl::testing::g_agent = argv[2];
  return RUN_ALL_TESTS();
}
