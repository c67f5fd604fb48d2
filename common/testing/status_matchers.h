// GoogleTest matchers for absl::Status and absl::StatusOr, which Debian's
// Abseil lacks:
//
//   EXPECT_THAT(broker.MergeSyncs(rows), IsOk());
//   EXPECT_THAT(Open(path), StatusIs(absl::StatusCode::kNotFound));
//   ASSERT_OK_AND_ASSIGN(auto info, broker.GetReplicationInfo());
#ifndef DBREPL_COMMON_TESTING_STATUS_MATCHERS_H_
#define DBREPL_COMMON_TESTING_STATUS_MATCHERS_H_

#include <ostream>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"

namespace dbrepl::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = ::dbrepl::testing::GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s;
  return s.ok();
}

MATCHER_P(StatusIs, code, "has status code " + ::testing::PrintToString(code)) {
  const absl::Status& s = ::dbrepl::testing::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code;
}

// StatusIs(code, message_matcher): the code and a matcher on the message.
MATCHER_P2(StatusIs, code, message_matcher,
           "has status code " + ::testing::PrintToString(code) + " and a message that " +
               ::testing::DescribeMatcher<std::string>(message_matcher)) {
  const absl::Status& s = ::dbrepl::testing::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code &&
         ::testing::Matches(message_matcher)(std::string(s.message()));
}

}  // namespace dbrepl::testing

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::dbrepl::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::dbrepl::testing::IsOk())

#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  DBREPL_ASSERT_OK_AND_ASSIGN_IMPL_(DBREPL_CONCAT_(dbrepl_statusor_, __LINE__), lhs, rexpr)
#define DBREPL_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                      \
  ASSERT_TRUE(statusor.ok()) << statusor.status();              \
  lhs = std::move(statusor).value()

#endif  // DBREPL_COMMON_TESTING_STATUS_MATCHERS_H_
