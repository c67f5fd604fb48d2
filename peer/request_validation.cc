#include "peer/request_validation.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/paths.h"
#include "common/timestamp.h"

namespace dbrepl::peer {
namespace {

std::string Shown(absl::string_view value) { return absl::CHexEscape(value.substr(0, 64)); }

}  // namespace

absl::Status ValidateDbId(absl::string_view id, absl::string_view field) {
  if (id.empty() || id.size() > kMaxIdBytes) {
    return InvalidRequestError(absl::StrCat(field, " must be 1 to ", kMaxIdBytes, " bytes, not ", id.size()));
  }
  for (char c : id) {
    if (!absl::ascii_isprint(static_cast<unsigned char>(c))) {
      return InvalidRequestError(absl::StrCat(field, " '", Shown(id), "' has a non-printable byte"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateStoredTimestamp(absl::string_view ts, absl::string_view field, bool allow_empty) {
  if (ts.empty()) {
    if (allow_empty) return absl::OkStatus();
    return InvalidRequestError(absl::StrCat(field, " is empty"));
  }
  if (ts == "0") return absl::OkStatus();
  absl::StatusOr<Timestamp> parsed = Timestamp::Parse(ts);
  if (!parsed.ok() || parsed->Internal() != ts) {
    return InvalidRequestError(
        absl::StrCat(field, " '", Shown(ts), "' is not a Swift timestamp (e.g. 1700000000.00000)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateSyncRequest(const v1::SyncRequest& r) {
  if (absl::Status s = ValidateDbId(r.id(), "id"); !s.ok()) return s;
  if (absl::Status s = ValidateHash(r.hash()); !s.ok()) {
    return InvalidRequestError(absl::StrCat("hash: ", s.message()));
  }
  if (r.max_row() < -1) return InvalidRequestError(absl::StrCat("max_row ", r.max_row(), " is below -1"));
  if (absl::Status s = ValidateStoredTimestamp(r.created_at(), "created_at"); !s.ok()) return s;
  if (absl::Status s = ValidateStoredTimestamp(r.put_timestamp(), "put_timestamp"); !s.ok()) return s;
  if (absl::Status s = ValidateStoredTimestamp(r.delete_timestamp(), "delete_timestamp"); !s.ok()) return s;
  if (static_cast<int64_t>(r.metadata().size()) > kMaxMetadataBytes) {
    return InvalidRequestError(
        absl::StrCat("metadata of ", r.metadata().size(), " bytes exceeds the limit of ", kMaxMetadataBytes));
  }
  if (r.has_policy()) {
    const v1::PolicyInfo& p = r.policy();
    if (r.db().type() != v1::CONTAINER) return InvalidRequestError("policy is for container databases only");
    if (p.storage_policy_index() < 0 || p.storage_policy_index() > 0x7fffffff) {
      return InvalidRequestError(absl::StrCat("storage_policy_index ", p.storage_policy_index(), " is out of range"));
    }
    if (p.object_count() < 0) return InvalidRequestError(absl::StrCat("object_count ", p.object_count(), " < 0"));
    if (absl::Status s = ValidateStoredTimestamp(p.status_changed_at(), "status_changed_at"); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ValidateSyncPartitionRequest(const v1::SyncPartitionRequest& r) {
  if (r.dbs_size() > kMaxPartitionDbs) {
    return InvalidRequestError(absl::StrCat(r.dbs_size(), " databases exceed the limit of ", kMaxPartitionDbs));
  }
  absl::flat_hash_set<std::string> seen;
  for (const v1::DbDigest& d : r.dbs()) {
    if (absl::Status s = ValidateHash(d.hash()); !s.ok()) return InvalidRequestError(absl::StrCat("hash: ", s.message()));
    if (!seen.insert(d.hash()).second) return InvalidRequestError(absl::StrCat("database ", d.hash(), " named twice"));
    if (absl::Status s = ValidateDbId(d.id(), "id"); !s.ok()) return s;
    if (absl::Status s = ValidateHash(d.rows_hash()); !s.ok()) {
      return InvalidRequestError(absl::StrCat("rows_hash: ", s.message()));
    }
    if (d.max_row() < -1) return InvalidRequestError(absl::StrCat("max_row ", d.max_row(), " is below -1"));
    if (d.state_digest().size() != 16) return InvalidRequestError("state_digest must be 16 bytes");
  }
  return absl::OkStatus();
}

absl::Status ValidateRows(const ItemBatch& rows) {
  auto check_name = [](const std::string& name, int64_t rowid) -> absl::Status {
    if (name.empty() || name.size() > kMaxNameBytes) {
      return InvalidRequestError(absl::StrCat("row ", rowid, ": a name must be 1 to ", kMaxNameBytes, " bytes"));
    }
    return absl::OkStatus();
  };
  for (const ObjectRecord& o : rows.objects) {
    if (absl::Status s = check_name(o.name, o.rowid); !s.ok()) return s;
    if (!DecodeTimestamps(o.created_at).ok()) {
      return InvalidRequestError(
          absl::StrCat("row ", o.rowid, ": created_at '", Shown(o.created_at), "' is not a Swift timestamp"));
    }
    if (o.size < 0) return InvalidRequestError(absl::StrCat("row ", o.rowid, ": negative size"));
  }
  for (const ContainerRecord& c : rows.containers) {
    if (absl::Status s = check_name(c.name, c.rowid); !s.ok()) return s;
    std::string field = absl::StrCat("row ", c.rowid, " ");
    if (absl::Status s = ValidateStoredTimestamp(c.put_timestamp, field + "put_timestamp"); !s.ok()) return s;
    if (absl::Status s = ValidateStoredTimestamp(c.delete_timestamp, field + "delete_timestamp"); !s.ok()) return s;
    if (c.object_count < 0 || c.bytes_used < 0) {
      return InvalidRequestError(absl::StrCat("row ", c.rowid, ": negative counts"));
    }
  }
  return absl::OkStatus();
}

}  // namespace dbrepl::peer
