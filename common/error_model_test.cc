#include "common/error_model.h"

#include "gtest/gtest.h"

namespace dbrepl {
namespace {

TEST(ErrorModelTest, ReasonsRoundTripThroughAbslStatus) {
  absl::Status s = DeviceUnavailableError("sdb1 is not mounted");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(GetReason(s), v1::DEVICE_UNAVAILABLE);
  EXPECT_TRUE(IsDeviceUnavailable(s));
  EXPECT_FALSE(IsDbMissing(s));
  EXPECT_TRUE(IsDbMissing(DbNotFoundError("x")));
  EXPECT_TRUE(IsDbMissing(DbQuarantinedError("x")));
  EXPECT_FALSE(IsDbMissing(RsyncPreconditionError("x")));
  EXPECT_EQ(GetReason(absl::InternalError("x")), v1::ERROR_REASON_UNSPECIFIED);
}

TEST(ErrorModelTest, CodesMapOneToOne) {
  EXPECT_EQ(ToGrpcStatus(DbNotFoundError("gone"), nullptr).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ToGrpcStatus(PeerAtCapacityError("busy"), nullptr).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(ToGrpcStatus(DbCorruptError("bad"), nullptr).error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_EQ(ToGrpcStatus(InvalidDbRefError("bad"), nullptr).error_message(), "bad");
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus(), nullptr).ok());
}

}  // namespace
}  // namespace dbrepl
