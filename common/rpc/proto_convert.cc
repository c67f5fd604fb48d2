#include "common/rpc/proto_convert.h"

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/paths.h"

namespace dbrepl {

v1::DbType ToProto(DbType type) { return type == DbType::kAccount ? v1::ACCOUNT : v1::CONTAINER; }

absl::StatusOr<DbType> FromProto(v1::DbType type) {
  switch (type) {
    case v1::ACCOUNT:
      return DbType::kAccount;
    case v1::CONTAINER:
      return DbType::kContainer;
    default:
      return InvalidDbRefError(absl::StrCat("database type ", static_cast<int>(type),
                                            " is not ACCOUNT or CONTAINER"));
  }
}

absl::StatusOr<DbType> ValidateDbRef(const v1::DbRef& ref) {
  absl::StatusOr<DbType> type = FromProto(ref.type());
  if (!type.ok()) return type.status();
  for (absl::Status s : {ValidateDeviceName(ref.device()), ValidatePartition(ref.partition()),
                         ValidateHash(ref.hash())}) {
    if (!s.ok()) return InvalidDbRefError(s.message());
  }
  return type;
}

void ToProto(const ReplicationInfo& i, v1::ReplicationInfo* o) {
  o->set_account(i.account);
  o->set_container(i.container);
  o->set_created_at(i.created_at);
  o->set_put_timestamp(i.put_timestamp);
  o->set_delete_timestamp(i.delete_timestamp);
  o->set_status(i.status);
  o->set_status_changed_at(i.status_changed_at);
  o->set_count(i.count);
  o->set_object_count(i.object_count);
  o->set_bytes_used(i.bytes_used);
  o->set_reported_put_timestamp(i.reported_put_timestamp);
  o->set_reported_delete_timestamp(i.reported_delete_timestamp);
  o->set_reported_object_count(i.reported_object_count);
  o->set_reported_bytes_used(i.reported_bytes_used);
  o->set_hash(i.hash);
  o->set_id(i.id);
  o->set_x_container_sync_point1(i.x_container_sync_point1);
  o->set_x_container_sync_point2(i.x_container_sync_point2);
  o->set_storage_policy_index(i.storage_policy_index);
  o->set_db_state(i.db_state);
  o->set_metadata(i.metadata);
  o->set_max_row(i.max_row);
  o->set_shard_max_row(i.shard_max_row);
}

ReplicationInfo FromProto(const v1::ReplicationInfo& i) {
  ReplicationInfo o;
  o.account = i.account();
  o.container = i.container();
  o.created_at = i.created_at();
  o.put_timestamp = i.put_timestamp();
  o.delete_timestamp = i.delete_timestamp();
  o.status = i.status();
  o.status_changed_at = i.status_changed_at();
  o.count = i.count();
  o.object_count = i.object_count();
  o.bytes_used = i.bytes_used();
  o.reported_put_timestamp = i.reported_put_timestamp();
  o.reported_delete_timestamp = i.reported_delete_timestamp();
  o.reported_object_count = i.reported_object_count();
  o.reported_bytes_used = i.reported_bytes_used();
  o.hash = i.hash();
  o.id = i.id();
  o.x_container_sync_point1 = i.x_container_sync_point1();
  o.x_container_sync_point2 = i.x_container_sync_point2();
  o.storage_policy_index = i.storage_policy_index();
  o.db_state = i.db_state();
  o.metadata = i.metadata();
  o.max_row = i.max_row();
  o.shard_max_row = i.shard_max_row();
  return o;
}

void ToProto(const SyncRecord& s, v1::SyncPoint* o) {
  o->set_remote_id(s.remote_id);
  o->set_sync_point(s.sync_point);
  o->set_updated_at(s.updated_at);
}

SyncRecord FromProto(const v1::SyncPoint& s) {
  SyncRecord o;
  o.remote_id = s.remote_id();
  o.sync_point = s.sync_point();
  o.updated_at = s.updated_at();
  return o;
}

void AppendRows(const ItemBatch& batch, v1::MergeItemsRequest* out) {
  for (const ObjectRecord& r : batch.objects) {
    v1::ObjectRow* o = out->add_objects();
    o->set_rowid(r.rowid);
    o->set_name(r.name);
    o->set_created_at(r.created_at);
    o->set_size(r.size);
    o->set_content_type(r.content_type);
    o->set_etag(r.etag);
    o->set_deleted(r.deleted);
    o->set_storage_policy_index(r.storage_policy_index);
  }
  for (const ContainerRecord& r : batch.containers) {
    v1::ContainerRow* o = out->add_containers();
    o->set_rowid(r.rowid);
    o->set_name(r.name);
    o->set_put_timestamp(r.put_timestamp);
    o->set_delete_timestamp(r.delete_timestamp);
    o->set_object_count(r.object_count);
    o->set_bytes_used(r.bytes_used);
    o->set_deleted(r.deleted);
    o->set_storage_policy_index(r.storage_policy_index);
  }
}

absl::StatusOr<ItemBatch> RowsFromRequest(const v1::MergeItemsRequest& request, DbType type) {
  ItemBatch batch;
  if (type == DbType::kContainer && request.containers_size() > 0) {
    return InvalidRequestError("container rows sent to a container database (it holds objects)");
  }
  if (type == DbType::kAccount && request.objects_size() > 0) {
    return InvalidRequestError("object rows sent to an account database (it holds containers)");
  }
  int64_t last = -1;
  auto check_rowid = [&last](int64_t rowid, const std::string& name) -> absl::Status {
    if (rowid <= last) {
      return InvalidRequestError(absl::StrCat("ROWIDs must be strictly ascending: ", rowid, " (", name,
                                              ") after ", last));
    }
    if (name.empty()) return InvalidRequestError(absl::StrCat("row ", rowid, " has an empty name"));
    last = rowid;
    return absl::OkStatus();
  };
  for (const v1::ObjectRow& o : request.objects()) {
    if (absl::Status s = check_rowid(o.rowid(), o.name()); !s.ok()) return s;
    ObjectRecord r;
    r.rowid = o.rowid();
    r.name = o.name();
    r.created_at = o.created_at();
    r.size = o.size();
    r.content_type = o.content_type();
    r.etag = o.etag();
    r.deleted = o.deleted();
    r.storage_policy_index = o.storage_policy_index();
    batch.objects.push_back(std::move(r));
  }
  for (const v1::ContainerRow& c : request.containers()) {
    if (absl::Status s = check_rowid(c.rowid(), c.name()); !s.ok()) return s;
    ContainerRecord r;
    r.rowid = c.rowid();
    r.name = c.name();
    r.put_timestamp = c.put_timestamp();
    r.delete_timestamp = c.delete_timestamp();
    r.object_count = c.object_count();
    r.bytes_used = c.bytes_used();
    r.deleted = c.deleted();
    r.storage_policy_index = c.storage_policy_index();
    batch.containers.push_back(std::move(r));
  }
  return batch;
}

void ToProto(const DbFileIdentity& identity, v1::FileIdentity* out) {
  out->set_dev(identity.dev);
  out->set_ino(identity.ino);
  out->set_size(identity.size);
  out->set_mtime_ns(identity.mtime_ns);
  out->set_ctime_ns(identity.ctime_ns);
  out->set_pending_ino(identity.pending_ino);
  out->set_pending_size(identity.pending_size);
  out->set_pending_mtime_ns(identity.pending_mtime_ns);
}

DbFileIdentity FromProto(const v1::FileIdentity& identity) {
  DbFileIdentity out;
  out.dev = identity.dev();
  out.ino = identity.ino();
  out.size = identity.size();
  out.mtime_ns = identity.mtime_ns();
  out.ctime_ns = identity.ctime_ns();
  out.pending_ino = identity.pending_ino();
  out.pending_size = identity.pending_size();
  out.pending_mtime_ns = identity.pending_mtime_ns();
  return out;
}

void ToProto(const CachedState& state, v1::LocalDbState* out) {
  out->set_rows_hash(state.hash);
  out->set_id(state.id);
  out->set_max_row(state.max_row);
  out->set_state_digest(std::string(reinterpret_cast<const char*>(state.state_digest.data()), state.state_digest.size()));
  out->set_reclaim_oldest(state.reclaim.oldest);
  out->set_reclaim_oldest_sync(state.reclaim.oldest_sync);
  out->set_reclaim_now(state.reclaim.now);
  out->set_partition_key(state.tag);
  out->set_multiple_policies(state.multiple_policies);
  out->set_container_sync(state.container_sync);
  for (const auto& [key, point] : state.points) {
    v1::LocalDbState::Point* p = out->add_points();
    p->set_key(key);
    p->set_point(point);
  }
}

absl::StatusOr<CachedState> FromProto(const v1::LocalDbState& state) {
  CachedState out;
  if (state.state_digest().size() != out.state_digest.size()) {
    return absl::InvalidArgumentError(absl::StrCat("a state digest of ", state.state_digest().size(), " bytes"));
  }
  out.hash = state.rows_hash();
  out.id = state.id();
  out.max_row = state.max_row();
  std::copy(state.state_digest().begin(), state.state_digest().end(), out.state_digest.begin());
  out.reclaim.oldest = state.reclaim_oldest();
  out.reclaim.oldest_sync = state.reclaim_oldest_sync();
  out.reclaim.now = state.reclaim_now();
  out.tag = state.partition_key();
  out.multiple_policies = state.multiple_policies();
  out.container_sync = state.container_sync();
  for (const v1::LocalDbState::Point& p : state.points()) out.points.emplace_back(p.key(), p.point());
  return out;
}

}  // namespace dbrepl
