#include "agent/progress.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace dbrepl::agent {

double ProgressRate(int64_t done, double elapsed_seconds) {
  if (!(elapsed_seconds > 0)) return 0;
  return static_cast<double>(done) / elapsed_seconds;
}

absl::optional<double> EtaSeconds(int64_t done, int64_t total, double elapsed_seconds) {
  if (total < 0) return absl::nullopt;
  if (done >= total) return 0.0;
  double rate = ProgressRate(done, elapsed_seconds);
  if (!(rate > 0)) return absl::nullopt;
  return static_cast<double>(total - done) / rate;
}

absl::optional<double> PercentDone(int64_t done, int64_t total) {
  if (total < 0) return absl::nullopt;
  if (total == 0) return 100.0;
  return std::min(100.0, 100.0 * static_cast<double>(done) / static_cast<double>(total));
}

std::string FormatEta(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = std::llround(seconds);
  if (s < 60) return absl::StrFormat("%ds", s);
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  if (s < 86400) return absl::StrFormat("%dh%02dm", s / 3600, s % 3600 / 60);
  return absl::StrFormat("%dd%02dh", s / 86400, s % 86400 / 3600);
}

std::string FormatProgressLine(absl::string_view server_type, int64_t done, int64_t total, bool total_final,
                               double elapsed_seconds) {
  const double rate = ProgressRate(done, elapsed_seconds);
  if (total < 0) {
    return absl::StrFormat("%s replication: %d dbs, %.1f dbs/s", server_type, done, rate);
  }
  const char* approx = total_final ? "" : "~";
  std::string eta = "?";
  absl::optional<double> eta_seconds = EtaSeconds(done, total, elapsed_seconds);
  // An estimate that has been reached says nothing about what is left.
  if (eta_seconds && (total_final || done < total)) eta = absl::StrCat(approx, FormatEta(*eta_seconds));
  return absl::StrFormat("%s replication: %d/%s%d dbs (%.1f%%), %.1f dbs/s, ETA %s", server_type, done, approx,
                         total, *PercentDone(done, total), rate, eta);
}

ProgressReporter::ProgressReporter(DbType type, Clock clock)
    : type_(type), clock_(clock ? std::move(clock) : Clock([] { return absl::Now(); })), start_(clock_()) {}

void ProgressReporter::Start(int64_t total, bool total_final) {
  absl::Time now = clock_();
  absl::MutexLock lock(&mu_);
  start_ = now;
  done_ = 0;
  total_ = total;
  total_final_ = total_final;
}

void ProgressReporter::SetTotal(int64_t total, bool total_final) {
  absl::MutexLock lock(&mu_);
  total_ = total;
  total_final_ = total_final;
}

void ProgressReporter::AddDone(int64_t n) {
  absl::MutexLock lock(&mu_);
  done_ += n;
}

ProgressSnapshot ProgressReporter::Snapshot() const {
  absl::Time now = clock_();
  ProgressSnapshot s;
  {
    absl::MutexLock lock(&mu_);
    s.done = done_;
    s.total = total_;
    s.total_final = total_final_;
    s.elapsed_seconds = absl::ToDoubleSeconds(now - start_);
  }
  s.rate = ProgressRate(s.done, s.elapsed_seconds);
  s.percent = PercentDone(s.done, s.total);
  s.eta_seconds = EtaSeconds(s.done, s.total, s.elapsed_seconds);
  return s;
}

std::string ProgressReporter::Line() const {
  ProgressSnapshot s = Snapshot();
  return FormatProgressLine(ServerType(type_), s.done, s.total, s.total_final, s.elapsed_seconds);
}

}  // namespace dbrepl::agent
