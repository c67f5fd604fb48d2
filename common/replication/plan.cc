#include "common/replication/plan.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace dbrepl {

std::vector<RingNode> PushTargets(const std::vector<RingNode>& primaries, int local_id) {
  if (primaries.size() <= 1) return primaries;
  size_t me = primaries.size();
  for (size_t k = 0; k < primaries.size(); ++k) {
    if (primaries[k].id == local_id) me = k;
  }
  if (me == primaries.size()) return primaries;  // A handoff: every primary, in order.
  std::vector<RingNode> out;
  for (size_t k = me + 1; k < primaries.size(); ++k) out.push_back(primaries[k]);
  for (size_t k = 0; k < me; ++k) out.push_back(primaries[k]);
  return out;
}

bool UsableHandoff(const RingNode& candidate, int local_id, bool same_partition) {
  return !(same_partition && candidate.id == local_id);
}

ModeChoice ChooseMode(const SyncFacts& f, int per_diff) {
  if (std::max(f.remote_point, f.local_point) >= f.local_max_row) return {Mode::kNoChange};
  if (f.remote_hash == f.local_hash) return {Mode::kHashmatch};
  if (f.local_max_row > 0 &&
      static_cast<double>(f.remote_max_row) / static_cast<double>(f.local_max_row) < 0.5 &&
      f.local_max_row - f.remote_max_row > per_diff) {
    return {Mode::kRsyncThenMerge};
  }
  return {Mode::kUsync, std::max(f.remote_point, f.local_point)};
}

absl::Duration RsyncThenMergeTimeout(int64_t row_count, absl::Duration node_timeout) {
  return std::max(absl::Seconds(static_cast<double>(row_count) / 2000.0), node_timeout);
}

RemovalChoice ChooseRemoval(int64_t max_row_before, int64_t max_row_now, bool pending_rows,
                            const std::vector<bool>& push_succeeded, int handoff_delete) {
  int64_t delta = max_row_now - max_row_before;
  if (delta < 0) return {false, absl::StrCat("negative max_row_delta: ", delta)};
  if (delta > 0) return {false, absl::StrCat(delta, " new rows")};
  if (pending_rows) return {false, "rows pending in the .pending file"};
  int64_t ok = std::count(push_succeeded.begin(), push_succeeded.end(), true);
  int64_t n = static_cast<int64_t>(push_succeeded.size());
  bool remove = handoff_delete > 0 ? ok >= handoff_delete : (n > 0 && ok == n);
  if (!remove) return {false, absl::StrCat(ok, "/", n, " success")};
  return {true, absl::StrCat(ok, "/", n, " successful pushes")};
}

}  // namespace dbrepl
