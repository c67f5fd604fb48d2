#include "agent/rsync_runner.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl::agent {
namespace {

using ::dbrepl::testing::StatusIs;

RingNode Node(const std::string& ip) {
  RingNode n;
  n.ip = n.replication_ip = ip;
  n.port = 6201;
  n.replication_port = 6301;
  n.region = 2;
  n.zone = 3;
  n.device = "sdb1";
  n.meta = "m";
  return n;
}

TEST(RsyncModuleTest, InterpolatesSwiftFields) {
  EXPECT_EQ(*InterpolateRsyncModule("{replication_ip}::container", Node("10.0.0.2")), "10.0.0.2::container");
  EXPECT_EQ(*InterpolateRsyncModule("{replication_ip}::container_{device}", Node("10.0.0.2")),
            "10.0.0.2::container_sdb1");
  EXPECT_EQ(*InterpolateRsyncModule("{ip}::c{replication_port}/r{region}z{zone}{meta}/", Node("fd00::2")),
            "[fd00::2]::c6301/r2z3m");
}

TEST(RsyncModuleTest, UnknownFieldsAndBracesAreClearErrors) {
  EXPECT_THAT(InterpolateRsyncModule("{nope}::x", Node("1.2.3.4")), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(InterpolateRsyncModule("{ip::x", Node("1.2.3.4")), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(InterpolateRsyncModule("ip}::x", Node("1.2.3.4")), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(RsyncRunnerTest, CommandMatchesSwiftAndCompressesOnlyAcrossRegions) {
  RsyncOptions o;
  o.module_template = "{replication_ip}::container";
  o.node_timeout = absl::Seconds(10);
  o.conn_timeout = absl::Milliseconds(500);
  o.compress = true;
  ProcessRsyncRunner r(o);
  EXPECT_EQ(*r.Destination(Node("10.0.0.2"), "abc-sda"), "10.0.0.2::container/sdb1/tmp/abc-sda");
  EXPECT_THAT(r.Command("/a.db", "dest", true, false),
              ::testing::ElementsAre("rsync", "--quiet", "--no-motd", "--timeout=10", "--contimeout=1",
                                     "--sockopts=TCP_NODELAY", "--whole-file", "/a.db", "dest"));
  EXPECT_THAT(r.Command("/a.db", "dest", false, true), ::testing::Contains("--compress"));
  EXPECT_THAT(r.Command("/a.db", "dest", false, true), ::testing::Not(::testing::Contains("--whole-file")));
}

TEST(RsyncRunnerTest, FailureReportsExitCode) {
  RsyncOptions o;
  o.module_template = "x";
  o.conn_timeout = absl::Seconds(1);
  ProcessRsyncRunner r(o);
  absl::Status s = r.Push("/nonexistent/file.db", "rsync://127.0.0.1:1/container/sda/tmp/x", true, false);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("rsync failed with"));
}

}  // namespace
}  // namespace dbrepl::agent
