#include "common/rpc/grpc_status.h"

#include <set>
#include <string>

#include "dbrepl/v1/db.pb.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

// common/errors.h keeps its own copy of dbrepl.v1.ErrorReason so that the
// storage layer needs no protobuf; the two must name every value alike.
TEST(GrpcStatusTest, ErrorReasonMirrorsTheProtoEnumTokenForToken) {
  const google::protobuf::EnumDescriptor* proto = v1::ErrorReason_descriptor();
  std::set<int> seen;
  for (int i = 0; i < proto->value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* value = proto->value(i);
    absl::optional<ErrorReason> mirrored = ParseErrorReason(value->name());
    ASSERT_TRUE(mirrored.has_value()) << value->name() << " is missing from common/errors.h";
    EXPECT_EQ(static_cast<int>(*mirrored), value->number()) << value->name();
    seen.insert(value->number());
  }
  for (ErrorReason reason : kAllErrorReasons) {
    EXPECT_EQ(std::string(ErrorReasonName(reason)), v1::ErrorReason_Name(static_cast<v1::ErrorReason>(reason)));
    EXPECT_EQ(seen.count(static_cast<int>(reason)), 1u) << ErrorReasonName(reason) << " is not in the proto";
  }
  EXPECT_EQ(seen.size(), sizeof(kAllErrorReasons) / sizeof(kAllErrorReasons[0]));
}

TEST(GrpcStatusTest, CodesAndMessagesMapOneToOne) {
  EXPECT_EQ(ToGrpcStatus(DbNotFoundError("gone"), nullptr).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ToGrpcStatus(DeviceUnavailableError("sdb1"), nullptr).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ToGrpcStatus(PeerAtCapacityError("busy"), nullptr).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(ToGrpcStatus(DbCorruptError("bad"), nullptr).error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_EQ(ToGrpcStatus(absl::UnavailableError("later"), nullptr).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ToGrpcStatus(InvalidDbRefError("bad"), nullptr).error_message(), "bad");
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus(), nullptr).ok());
}

TEST(GrpcStatusTest, ClientSideWithoutTrailersKeepsCodeAndMessage) {
  grpc::ClientContext context;  // never used for a call: no trailing metadata
  absl::Status s = FromGrpcStatus(grpc::Status(grpc::StatusCode::NOT_FOUND, "no database"), context);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no database");
  EXPECT_EQ(GetReason(s), ErrorReason::kUnspecified);
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK, context).ok());
}

TEST(GrpcStatusTest, StatusFieldsCarryCodeReasonAndMessage) {
  StatusFields f = ToStatusFields(DeviceUnavailableError("sdb1 is not mounted"));
  EXPECT_EQ(f.code, static_cast<int32_t>(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(f.reason, "DEVICE_UNAVAILABLE");
  EXPECT_EQ(f.message, "sdb1 is not mounted");
  absl::Status back = FromStatusFields(f.code, f.reason, f.message);
  EXPECT_TRUE(IsDeviceUnavailable(back));
  EXPECT_EQ(back.message(), "sdb1 is not mounted");
  EXPECT_EQ(ToStatusFields(absl::OkStatus()).code, 0);
  EXPECT_TRUE(FromStatusFields(0, "", "").ok());
  // A newer peer's token: code and message kept, no reason.
  absl::Status unknown = FromStatusFields(static_cast<int32_t>(absl::StatusCode::kNotFound), "NEW_REASON", "x");
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(GetReason(unknown), ErrorReason::kUnspecified);
}

}  // namespace
}  // namespace dbrepl
