#include "common/errors.h"

#include "gtest/gtest.h"

namespace dbrepl {
namespace {

TEST(ErrorsTest, ReasonsRoundTripThroughAbslStatus) {
  absl::Status s = DeviceUnavailableError("sdb1 is not mounted");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "sdb1 is not mounted");
  EXPECT_EQ(GetReason(s), ErrorReason::kDeviceUnavailable);
  EXPECT_TRUE(IsDeviceUnavailable(s));
  EXPECT_FALSE(IsDbMissing(s));
  EXPECT_TRUE(IsDbMissing(DbNotFoundError("x")));
  EXPECT_TRUE(IsDbMissing(DbQuarantinedError("x")));
  EXPECT_TRUE(IsDbMissing(absl::NotFoundError("an older peer, no reason")));
  EXPECT_FALSE(IsDbMissing(RsyncPreconditionError("x")));
  EXPECT_EQ(GetReason(absl::InternalError("x")), ErrorReason::kUnspecified);
}

TEST(ErrorsTest, ConstructorsUseTheDocumentedCodes) {
  EXPECT_EQ(DbNotFoundError("x").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(DbQuarantinedError("x").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(RsyncPreconditionError("x").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(InvalidDbRefError("x").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InvalidRequestError("x").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BatchTooLargeError("x").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(PeerAtCapacityError("x").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(DbCorruptError("x").code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(GetReason(BatchTooLargeError("x")), ErrorReason::kBatchTooLarge);
}

TEST(ErrorsTest, WithReasonReplacesAndLeavesOkAlone) {
  absl::Status s = WithReason(DbNotFoundError("x"), ErrorReason::kDbCorrupt);
  EXPECT_EQ(GetReason(s), ErrorReason::kDbCorrupt);
  EXPECT_EQ(GetReason(WithReason(s, ErrorReason::kUnspecified)), ErrorReason::kUnspecified);
  EXPECT_TRUE(WithReason(absl::OkStatus(), ErrorReason::kDbCorrupt).ok());
  EXPECT_EQ(GetReason(WithReason(absl::OkStatus(), ErrorReason::kDbCorrupt)), ErrorReason::kUnspecified);
}

TEST(ErrorsTest, TokensParseBack) {
  for (ErrorReason reason : kAllErrorReasons) {
    EXPECT_EQ(ParseErrorReason(ErrorReasonName(reason)), reason) << ErrorReasonName(reason);
  }
  EXPECT_EQ(ErrorReasonName(ErrorReason::kDbNotFound), "DB_NOT_FOUND");
  EXPECT_FALSE(ParseErrorReason("NO_SUCH_REASON").has_value());
  EXPECT_FALSE(ParseErrorReason("db_not_found").has_value());
}

}  // namespace
}  // namespace dbrepl
