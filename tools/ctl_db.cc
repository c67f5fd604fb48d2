// dbreplctl subcommands for one database file (the broker layer):
//
//   info DB            replication info and stats, as JSON (Swift's
//                      get_replication_info keys, in Swift's order)
//   items DB           rows as JSON lines (get_items_since)
//   syncs DB           incoming and outgoing sync points, as JSON
//   create DB          a new database, exactly as Swift's initialize()
//   put DB NAME        one row, as the object/container servers write it
//
// The database type comes from --type, else from an "accounts" or
// "containers" path component, else from the schema. These commands never
// quarantine: an operator's look at a corrupt file leaves it where it is.
#include <iostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/db/broker.h"
#include "common/status_macros.h"
#include "common/timestamp.h"
#include "nlohmann/json.hpp"
#include "tools/ctl_command.h"

namespace dbrepl::ctl {
namespace {

using Json = nlohmann::ordered_json;

constexpr char kEmptyEtag[] = "d41d8cd98f00b204e9800998ecf8427e";

void Print(const Json& j, bool pretty = true) {
  std::cout << j.dump(pretty ? 2 : -1, ' ', false, Json::error_handler_t::replace) << "\n";
}

BrokerOptions ToolOptions() {
  BrokerOptions options;
  options.quarantine_on_corruption = false;
  return options;
}

absl::StatusOr<std::string> OnlyPositional(const CtlArgs& args, size_t n, absl::string_view usage) {
  if (args.positional().size() != n) {
    return absl::InvalidArgumentError(absl::StrCat("expected ", usage));
  }
  return args.positional()[0];
}

// --type, else the datadir in the path, else (existing files) the schema.
absl::StatusOr<DbType> TypeOf(const CtlArgs& args, const std::string& db_file, bool may_inspect) {
  if (args.Has("type")) {
    absl::optional<DbType> type = ParseDbType(args.Get("type"));
    if (!type.has_value()) return absl::InvalidArgumentError("--type must be 'account' or 'container'");
    return *type;
  }
  for (absl::string_view part : absl::StrSplit(db_file, '/')) {
    if (part == "accounts") return DbType::kAccount;
    if (part == "containers") return DbType::kContainer;
  }
  if (may_inspect) return DetectDbType(db_file);
  return absl::InvalidArgumentError("cannot tell the database type from the path; give --type");
}

absl::StatusOr<std::unique_ptr<DatabaseBroker>> OpenDb(const CtlArgs& args, const std::string& db_file) {
  ASSIGN_OR_RETURN(DbType type, TypeOf(args, db_file, /*may_inspect=*/true));
  return DatabaseBroker::Open(type, db_file, ToolOptions());
}

Json InfoJson(DbType type, const ReplicationInfo& i) {
  Json j;
  if (type == DbType::kAccount) {
    j["account"] = i.account;
    j["created_at"] = i.created_at;
    j["put_timestamp"] = i.put_timestamp;
    j["delete_timestamp"] = i.delete_timestamp;
    j["status_changed_at"] = i.status_changed_at;
    j["object_count"] = i.object_count;
    j["bytes_used"] = i.bytes_used;
    j["hash"] = i.hash;
    j["id"] = i.id;
    j["count"] = i.count;
    j["metadata"] = i.metadata;
    j["max_row"] = i.max_row;
    return j;
  }
  j["account"] = i.account;
  j["container"] = i.container;
  j["created_at"] = i.created_at;
  j["put_timestamp"] = i.put_timestamp;
  j["delete_timestamp"] = i.delete_timestamp;
  j["status"] = i.status;
  j["status_changed_at"] = i.status_changed_at;
  j["bytes_used"] = i.bytes_used;
  j["reported_put_timestamp"] = i.reported_put_timestamp;
  j["reported_delete_timestamp"] = i.reported_delete_timestamp;
  j["reported_object_count"] = i.reported_object_count;
  j["reported_bytes_used"] = i.reported_bytes_used;
  j["hash"] = i.hash;
  j["id"] = i.id;
  j["x_container_sync_point1"] = i.x_container_sync_point1;
  j["x_container_sync_point2"] = i.x_container_sync_point2;
  j["storage_policy_index"] = i.storage_policy_index;
  j["db_state"] = i.db_state;
  j["count"] = i.count;
  j["metadata"] = i.metadata;
  j["max_row"] = i.max_row;
  j["shard_max_row"] = i.shard_max_row;
  return j;
}

absl::Status PrintInfo(DatabaseBroker& broker) {
  ASSIGN_OR_RETURN(ReplicationInfo info, broker.GetReplicationInfo());
  Print(InfoJson(broker.type(), info));
  return absl::OkStatus();
}

absl::Status RunInfo(const CtlArgs& args) {
  RETURN_IF_ERROR(args.CheckKnown({"type"}));
  ASSIGN_OR_RETURN(std::string db_file, OnlyPositional(args, 1, "one DB path"));
  ASSIGN_OR_RETURN(std::unique_ptr<DatabaseBroker> broker, OpenDb(args, db_file));
  return PrintInfo(*broker);
}

absl::Status RunItems(const CtlArgs& args) {
  RETURN_IF_ERROR(args.CheckKnown({"type", "since", "limit"}));
  ASSIGN_OR_RETURN(std::string db_file, OnlyPositional(args, 1, "one DB path"));
  ASSIGN_OR_RETURN(int64_t point, args.GetInt("since", -1));
  ASSIGN_OR_RETURN(int64_t limit, args.GetInt("limit", -1));
  ASSIGN_OR_RETURN(std::unique_ptr<DatabaseBroker> broker, OpenDb(args, db_file));
  constexpr int kPage = 1000;
  int64_t printed = 0;
  while (limit < 0 || printed < limit) {
    int count = limit < 0 ? kPage : static_cast<int>(std::min<int64_t>(kPage, limit - printed));
    ASSIGN_OR_RETURN(ItemBatch rows, broker->GetItemsSince(point, count));
    if (rows.empty()) break;
    for (const ObjectRecord& o : rows.objects) {
      Print({{"ROWID", o.rowid}, {"name", o.name}, {"created_at", o.created_at}, {"size", o.size},
             {"content_type", o.content_type}, {"etag", o.etag}, {"deleted", o.deleted ? 1 : 0},
             {"storage_policy_index", o.storage_policy_index}},
            /*pretty=*/false);
    }
    for (const ContainerRecord& c : rows.containers) {
      Print({{"ROWID", c.rowid}, {"name", c.name}, {"put_timestamp", c.put_timestamp},
             {"delete_timestamp", c.delete_timestamp}, {"object_count", c.object_count},
             {"bytes_used", c.bytes_used}, {"deleted", c.deleted ? 1 : 0},
             {"storage_policy_index", c.storage_policy_index}},
            /*pretty=*/false);
    }
    printed += static_cast<int64_t>(rows.size());
    point = rows.last_rowid();
  }
  return absl::OkStatus();
}

absl::Status RunSyncs(const CtlArgs& args) {
  RETURN_IF_ERROR(args.CheckKnown({"type"}));
  ASSIGN_OR_RETURN(std::string db_file, OnlyPositional(args, 1, "one DB path"));
  ASSIGN_OR_RETURN(std::unique_ptr<DatabaseBroker> broker, OpenDb(args, db_file));
  Json out;
  for (bool incoming : {true, false}) {
    ASSIGN_OR_RETURN(std::vector<SyncRecord> syncs, broker->GetSyncs(incoming));
    Json list = Json::array();
    for (const SyncRecord& s : syncs) {
      list.push_back({{"remote_id", s.remote_id}, {"sync_point", s.sync_point}, {"updated_at", s.updated_at}});
    }
    out[incoming ? "incoming" : "outgoing"] = list;
  }
  Print(out);
  return absl::OkStatus();
}

absl::Status RunCreate(const CtlArgs& args) {
  RETURN_IF_ERROR(args.CheckKnown({"type", "account", "container", "put_timestamp", "policy_index"}));
  ASSIGN_OR_RETURN(std::string db_file, OnlyPositional(args, 1, "one DB path"));
  if (args.Get("account").empty()) return absl::InvalidArgumentError("--account is required");
  DbType type = DbType::kAccount;
  if (args.Has("type") || !args.Has("container")) {
    absl::StatusOr<DbType> from_path = TypeOf(args, db_file, /*may_inspect=*/false);
    if (from_path.ok()) {
      type = *from_path;
    } else if (args.Has("type")) {
      return from_path.status();
    }
  } else {
    type = DbType::kContainer;
  }
  std::string put_timestamp;
  if (args.Has("put_timestamp")) {
    ASSIGN_OR_RETURN(Timestamp t, Timestamp::Parse(args.Get("put_timestamp")));
    put_timestamp = t.Internal();
  }
  ASSIGN_OR_RETURN(int64_t policy_index, args.GetInt("policy_index", 0));
  ASSIGN_OR_RETURN(std::unique_ptr<DatabaseBroker> broker,
                   DatabaseBroker::Create(type, db_file, args.Get("account"), args.Get("container"), put_timestamp,
                                          policy_index, ToolOptions()));
  return PrintInfo(*broker);
}

absl::StatusOr<std::string> TimestampFlag(const CtlArgs& args, const std::string& key, const std::string& def) {
  if (!args.Has(key)) return def;
  ASSIGN_OR_RETURN(Timestamp t, Timestamp::Parse(args.Get(key)));
  return t.Internal();
}

absl::Status RunPut(const CtlArgs& args) {
  RETURN_IF_ERROR(args.CheckKnown({"type", "timestamp", "size", "content_type", "etag", "deleted", "pending",
                                   "storage_policy_index", "ctype_timestamp", "meta_timestamp", "object_count",
                                   "bytes_used", "delete_timestamp"}));
  if (args.positional().size() != 2) return absl::InvalidArgumentError("expected a DB path and a NAME");
  const std::string& db_file = args.positional()[0];
  const std::string& name = args.positional()[1];
  if (name.empty()) return absl::InvalidArgumentError("NAME must not be empty");
  ASSIGN_OR_RETURN(std::unique_ptr<DatabaseBroker> broker, OpenDb(args, db_file));
  ASSIGN_OR_RETURN(std::string timestamp, TimestampFlag(args, "timestamp", Timestamp::Now().Internal()));
  ASSIGN_OR_RETURN(int64_t policy_index, args.GetInt("storage_policy_index", 0));
  const bool deleted = args.Has("deleted");
  const bool pending = args.Has("pending");
  if (broker->type() == DbType::kContainer) {
    ObjectRecord o;
    o.name = name;
    o.created_at = timestamp;
    // Swift's delete_object() writes a tombstone this way.
    ASSIGN_OR_RETURN(o.size, args.GetInt("size", 0));
    o.content_type = args.Get("content_type", deleted ? "application/deleted" : "application/octet-stream");
    o.etag = args.Get("etag", deleted ? "noetag" : kEmptyEtag);
    o.deleted = deleted;
    o.storage_policy_index = policy_index;
    ASSIGN_OR_RETURN(o.ctype_timestamp, TimestampFlag(args, "ctype_timestamp", ""));
    ASSIGN_OR_RETURN(o.meta_timestamp, TimestampFlag(args, "meta_timestamp", ""));
    return broker->PutObject(o, pending);
  }
  ContainerRecord c;
  c.name = name;
  // A deleted container is reported with its delete time and no put time;
  // merging keeps the newest of each.
  c.put_timestamp = deleted ? "0" : timestamp;
  ASSIGN_OR_RETURN(c.delete_timestamp, TimestampFlag(args, "delete_timestamp", deleted ? timestamp : "0"));
  ASSIGN_OR_RETURN(c.object_count, args.GetInt("object_count", 0));
  ASSIGN_OR_RETURN(c.bytes_used, args.GetInt("bytes_used", 0));
  c.storage_policy_index = policy_index;
  return broker->PutContainer(c, pending);
}

const bool kInfoRegistered = RegisterCommand({"info", "info DB [--type account|container]",
                                        "replication info and stats of a database, as JSON", {}, RunInfo});
const bool kItemsRegistered =
    RegisterCommand({"items", "items DB [--since ROWID] [--limit N] [--type T]",
                     "rows with ROWID > --since (default -1), ascending, as JSON lines", {}, RunItems});
const bool kSyncsRegistered = RegisterCommand(
    {"syncs", "syncs DB [--type T]", "incoming and outgoing sync points of a database, as JSON", {}, RunSyncs});
const bool kCreateRegistered = RegisterCommand(
    {"create", "create DB --account A [--container C] [--put-timestamp T] [--policy-index N] [--type T]",
     "create a database as Swift does (mkstemp + rename under the directory lock); prints its info", {},
     RunCreate});
const bool kPutRegistered = RegisterCommand(
    {"put",
     "put DB NAME [--timestamp T] [--deleted] [--pending] [--storage-policy-index N] "
     "[--size N] [--content-type T] [--etag E] [--ctype-timestamp T] [--meta-timestamp T] "
     "[--object-count N] [--bytes-used N] [--delete-timestamp T]",
     "write one row (an object into a container DB, a container into an account DB); --pending appends to "
     "<DB>.pending as the servers do; the timestamp defaults to now",
     {"deleted", "pending"},
     RunPut});

}  // namespace
}  // namespace dbrepl::ctl
