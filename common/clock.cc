#include "common/clock.h"

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace dbrepl {

double NowSeconds() { return absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()); }

}  // namespace dbrepl
