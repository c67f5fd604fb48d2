// Progress of a replication pass, for the log and the admin service:
//
//   container replication: 1234/5000 dbs (24.7%), 41.2 dbs/s, ETA 1m31s
//
// Swift only reports at the end of a pass; a pass over millions of DBs can
// take hours, so dbrepl reports done/total, the rate and an ETA while it runs.
// The total is DbWalker::EstimatedTotal(): an estimate while the walk runs
// (shown with "~"), exact once it has finished:
//
//   container replication: 1234/~5000 dbs (24.7%), 41.2 dbs/s, ETA ~1m31s
//   container replication: 1234 dbs, 41.2 dbs/s        (total unknown: < 0)
//
//   ProgressReporter progress(DbType::kContainer);
//   progress.Start();
//   progress.SetTotal(walker.EstimatedTotal(), walker.done());  // after each Next()
//   ... progress.AddDone();        // from any worker thread
//   LOG(INFO) << progress.Line();  // from a timer
//
// The free functions are pure; ProgressReporter is thread-safe.
#ifndef DBREPL_AGENT_PROGRESS_H_
#define DBREPL_AGENT_PROGRESS_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "common/db_type.h"

namespace dbrepl::agent {

// DBs per second; 0 when no time has passed.
double ProgressRate(int64_t done, double elapsed_seconds);

// Seconds until `total` at the current rate: 0 once done >= total; nullopt if
// the total is unknown (< 0) or the rate is still 0.
absl::optional<double> EtaSeconds(int64_t done, int64_t total, double elapsed_seconds);

// 100 * done / total, capped at 100 (an estimate can be low); nullopt if the
// total is unknown. A total of 0 is 100%.
absl::optional<double> PercentDone(int64_t done, int64_t total);

// A duration rounded to whole seconds, two units at most: "0s", "45s",
// "1m31s", "2h03m", "3d04h". "?" for a negative or non-finite value.
std::string FormatEta(double seconds);

// The progress line shown above. `server_type` is "account" or "container".
// With an estimated total whose estimate is already reached, the ETA is "?".
std::string FormatProgressLine(absl::string_view server_type, int64_t done, int64_t total, bool total_final,
                               double elapsed_seconds);

struct ProgressSnapshot {
  int64_t done = 0;
  int64_t total = -1;  // < 0: unknown
  bool total_final = false;
  double elapsed_seconds = 0;
  double rate = 0;                      // DBs per second
  absl::optional<double> percent;       // PercentDone()
  absl::optional<double> eta_seconds;   // EtaSeconds()
};

class ProgressReporter {
 public:
  using Clock = std::function<absl::Time()>;

  // `clock` defaults to absl::Now.
  explicit ProgressReporter(DbType type, Clock clock = nullptr);
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

  // Begins a pass now: done = 0 and the given total (< 0: unknown).
  void Start(int64_t total = -1, bool total_final = false);
  // Updates the total (e.g. a refined estimate, or the exact count once the
  // walk ends).
  void SetTotal(int64_t total, bool total_final);
  void AddDone(int64_t n = 1);

  ProgressSnapshot Snapshot() const;
  // FormatProgressLine() of the current state.
  std::string Line() const;

 private:
  const DbType type_;
  const Clock clock_;
  mutable absl::Mutex mu_;
  absl::Time start_ ABSL_GUARDED_BY(mu_);
  int64_t done_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t total_ ABSL_GUARDED_BY(mu_) = -1;
  bool total_final_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace dbrepl::agent

#endif  // DBREPL_AGENT_PROGRESS_H_
