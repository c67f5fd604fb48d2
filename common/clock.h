// Wall-clock time as Swift reads it: time.time(), Unix seconds as a double.
// Swift's stats (`start`), recon entries (`replication_last`) and progress
// rates are all in this unit, so dbrepl keeps it rather than absl::Time where
// those values are computed.
//
//   const double start = NowSeconds();
//   ...
//   stats.elapsed = NowSeconds() - start;
//
// Thread-safe. Not monotonic: it follows the system clock, as Swift does;
// use absl::Now() and absl::Duration for deadlines and timeouts.
#ifndef DBREPL_COMMON_CLOCK_H_
#define DBREPL_COMMON_CLOCK_H_

namespace dbrepl {

// Seconds since the Unix epoch, with sub-second precision.
double NowSeconds();

}  // namespace dbrepl

#endif  // DBREPL_COMMON_CLOCK_H_
