// AccountBroker: an account database (Swift's swift.account.backend
// AccountBroker): one row per container, whose put/delete timestamps merge
// newest-wins while the incoming stats always replace the stored ones.
// Internal to common/db; created by DatabaseBroker::Open/Create.
//
// Reads pre-policy account schemas as they are and migrates them, as Swift
// does, on the first row merge.
//
// Not thread-safe (one broker per thread).
#ifndef DBREPL_COMMON_DB_ACCOUNT_BROKER_H_
#define DBREPL_COMMON_DB_ACCOUNT_BROKER_H_

#include <string>

#include "common/db/sqlite_broker.h"

namespace dbrepl {

class AccountBroker : public SqliteBroker {
 public:
  AccountBroker(std::string db_file, const BrokerOptions& options)
      : SqliteBroker(DbType::kAccount, std::move(db_file), options) {}

  absl::StatusOr<bool> IsReclaimable(double now, double reclaim_age) override;
  // Accounts have no reported_* stats: always true.
  absl::StatusOr<bool> ReportUpToDate(const ReplicationInfo& info) override { return true; }

 protected:
  absl::Status MergeRows(const ItemBatch& rows, const std::string& source, const std::vector<SyncRecord>& also_syncs,
                         int64_t* applied) override;
  absl::StatusOr<ReplicationInfo> ReadInfoLocked() override { return ReadInfo(); }
  absl::StatusOr<bool> IsDeletedLocked() override;

 private:
  absl::StatusOr<ReplicationInfo> ReadInfo();
};

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_ACCOUNT_BROKER_H_
