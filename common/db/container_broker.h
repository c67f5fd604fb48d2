// ContainerBroker: a container database (Swift's swift.container.backend
// ContainerBroker, minus sharding): object rows merged per timestamp
// component, per-policy stats, reported_* for the container updater.
// Internal to common/db; created by DatabaseBroker::Open/Create.
//
// Reads the 2013 schema (container_stat table, no storage_policy_index) as it
// is and migrates it, as Swift does, on the first row merge.
//
// Not thread-safe (one broker per thread).
#ifndef DBREPL_COMMON_DB_CONTAINER_BROKER_H_
#define DBREPL_COMMON_DB_CONTAINER_BROKER_H_

#include <string>
#include <vector>

#include "common/db/sqlite_broker.h"

namespace dbrepl {

class ContainerBroker : public SqliteBroker {
 public:
  ContainerBroker(std::string db_file, const BrokerOptions& options)
      : SqliteBroker(DbType::kContainer, std::move(db_file), options) {}

  absl::StatusOr<bool> IsReclaimable(double now, double reclaim_age) override;
  // Reconciler support (container_reconciler.cc).
  absl::StatusOr<int64_t> GetReconcilerSync() override;
  absl::Status UpdateReconcilerSync(int64_t point) override;
  absl::StatusOr<bool> HasMultiplePolicies() override;
  absl::StatusOr<std::vector<ObjectRecord>> GetMisplacedSince(int64_t start, int count) override;
  absl::StatusOr<bool> ReportUpToDate(const ReplicationInfo& info) override;

 protected:
  absl::Status MergeRows(const ItemBatch& rows, const std::string& source, const std::vector<SyncRecord>& also_syncs,
                         int64_t* applied) override;
  absl::StatusOr<ReplicationInfo> ReadInfoLocked() override;
  absl::StatusOr<bool> IsDeletedLocked() override;
  absl::Status OnNewIdLocked() override;
  absl::Status ReclaimOtherLocked(double sync_timestamp) override;
  absl::Status SetStoragePolicyIndexUnguarded(int64_t policy_index, const std::string& timestamp) override;
  std::vector<std::string> DeleteMetaWhitelist() const override;

 private:
  absl::StatusOr<ReplicationInfo> ReadInfo();
  absl::StatusOr<bool> DoIsReclaimable(double now, double reclaim_age);
};

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_CONTAINER_BROKER_H_
