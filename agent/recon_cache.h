// The recon cache: the one-line JSON file per server type
// (<recon_cache_path>/container.recon) that Swift's daemons share and that the
// recon middleware serves to swift-recon (GET /recon/replication/container).
// dbrepl keeps writing it so that `swift-recon --replication` and existing
// dashboards keep working.
//
//   RETURN_IF_ERROR(WriteReplicationRecon("/var/cache/swift", DbType::kContainer,
//                                         stats.Snapshot(), NowSeconds()));
//
// DumpReconCache() is Swift's dump_recon_cache(), byte for byte:
//   1. flock(LOCK_EX) on the cache file itself (created if missing), retried
//      every 10 ms up to `lock_timeout` (2 s by default). If the file was
//      replaced while we waited (another writer renamed a new one in), the new
//      file is locked instead.
//   2. Its first line is parsed as JSON. A missing, empty or unparsable file,
//      or one that is not a JSON object, starts from {} (logged as a warning
//      unless empty; Swift gives up on a non-object, we start fresh).
//   3. Each entry is merged with PutReconCacheEntry(): other daemons' keys are
//      preserved.
//   4. The result is written as Python's json.dumps(sort_keys=True,
//      ensure_ascii=True) (common/python_json.h) plus "\n" to a temp file in
//      the same directory and renamed over the cache file (readers see the
//      old or the new file), then the lock is released. Like Swift, nothing
//      is fsynced (the file is a cache rewritten every pass). Unlike Swift's
//      0600 temp file, the file is mode 0644 so that a recon middleware
//      running as another user (a separate container) can read it.
//
// Errors: INVALID_ARGUMENT if `entries` is not an object or holds a string
// that is not UTF-8; UNAVAILABLE if the lock is not obtained in time;
// NOT_FOUND if the directory does not exist (it is not created); INTERNAL for
// other I/O errors. On error the cache file is unchanged.
//
// Thread-safety: all functions are thread-safe; concurrent writers (threads or
// processes, including Swift's) serialise on the flock.
#ifndef DBREPL_AGENT_RECON_CACHE_H_
#define DBREPL_AGENT_RECON_CACHE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/pass_stats.h"
#include "common/db_type.h"
#include "common/env/env.h"
#include "nlohmann/json.hpp"

namespace dbrepl::agent {

absl::Status DumpReconCache(const std::string& cache_file, const nlohmann::json& entries,
                            absl::Duration lock_timeout = absl::Seconds(2), Env* env = Env::Default());

// Writes Swift's replicator entries to "<recon_cache_path>/<type>.recon":
//   replication_stats = ReplicationStatsJson(stats)
//   replication_time  = now - stats.start   (seconds, float)
//   replication_last  = now                 (Unix seconds, float)
// Errors as DumpReconCache().
absl::Status WriteReplicationRecon(const std::string& recon_cache_path, DbType type, const PassStats& stats,
                                   double now, Env* env = Env::Default());

// "<recon_cache_path>/account.recon" or ".../container.recon".
std::string ReconCacheFile(const std::string& recon_cache_path, DbType type);

// Swift's put_recon_cache_entry(): merges `item` under `key` into the object
// `cache_entry`:
//   * an object `item` is merged key by key into the existing object (which
//     replaces a non-object value); a sub-value equal to {} removes that
//     sub-key, so an empty failure_nodes disappears from the file;
//   * an empty object `item` removes `key`;
//   * anything else overwrites.
// `cache_entry` must be an object.
void PutReconCacheEntry(nlohmann::json& cache_entry, const std::string& key, const nlohmann::json& item);

}  // namespace dbrepl::agent

#endif  // DBREPL_AGENT_RECON_CACHE_H_
