// Conversions between the dbrepl.v1 wire messages and the broker's records,
// and the validation every receiver applies to a DbRef before it names a path.
// Used on both sides of the wire (peer and agent), so they live here once; the
// broker layer itself knows nothing of the wire format.
//
//   ASSIGN_OR_RETURN(DbType type, ValidateDbRef(request->db()));
//   ToProto(broker.GetReplicationInfo(), response->mutable_info());
//
// Pure functions; thread-safe.
#ifndef DBREPL_COMMON_RPC_PROTO_CONVERT_H_
#define DBREPL_COMMON_RPC_PROTO_CONVERT_H_

#include <vector>

#include "absl/status/statusor.h"
#include "common/db/records.h"
#include "common/db/state_cache.h"
#include "common/db_type.h"
#include "dbrepl/v1/db.pb.h"
#include "dbrepl/v1/peer.pb.h"

namespace dbrepl {

v1::DbType ToProto(DbType type);
// INVALID_ARGUMENT for DB_TYPE_UNSPECIFIED or an unknown value.
absl::StatusOr<DbType> FromProto(v1::DbType type);

// The type of `ref` once every field is checked: the type is ACCOUNT or
// CONTAINER, and device, partition and hash are valid path components
// (common/paths.h), so nothing outside the devices root can be named.
// INVALID_ARGUMENT with reason INVALID_DB_REF otherwise.
absl::StatusOr<DbType> ValidateDbRef(const v1::DbRef& ref);

void ToProto(const ReplicationInfo& info, v1::ReplicationInfo* out);
ReplicationInfo FromProto(const v1::ReplicationInfo& info);

void ToProto(const SyncRecord& sync, v1::SyncPoint* out);
SyncRecord FromProto(const v1::SyncPoint& sync);

// A database's file identity and cached state (ReadStates); the status
// fields of `out` are left alone.
void ToProto(const DbFileIdentity& identity, v1::FileIdentity* out);
DbFileIdentity FromProto(const v1::FileIdentity& identity);
void ToProto(const CachedState& state, v1::LocalDbState* out);
// INVALID_ARGUMENT for a state digest that is not 16 bytes.
absl::StatusOr<CachedState> FromProto(const v1::LocalDbState& state);

// Appends the batch's rows to `out` (objects or containers).
void AppendRows(const ItemBatch& batch, v1::MergeItemsRequest* out);
// The request's rows as a batch. INVALID_ARGUMENT if rows of the wrong type
// for `type` are present, or ROWIDs are not strictly ascending.
absl::StatusOr<ItemBatch> RowsFromRequest(const v1::MergeItemsRequest& request, DbType type);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_RPC_PROTO_CONVERT_H_
