// VerifySwiftSchema: is this file's schema one that Swift writes? A database
// that arrives by rsync is installed as it is, so anything in its schema
// runs in this node's brokers from then on: a trigger such as
// "AFTER INSERT ON incoming_sync BEGIN DELETE FROM object; END" would wipe
// rows after the install was answered OK. Before installing an upload, the
// peer checks that every table, column, index, view and trigger in it is one
// Swift creates (today's schema, the pre-storage-policy schema, or what
// Swift's migrations leave between them), and that the tables Swift's code
// needs have the columns it reads.
//
//   RETURN_IF_ERROR(VerifySwiftSchema(conn, DbType::kContainer));
//
// Triggers and views are compared by their SQL text with whitespace runs
// collapsed (sqlite_master keeps the text as created). Extra tables, extra
// columns, unknown indexes, triggers or views are refused.
//
// A schema found to be Swift's is remembered by its sqlite_master rows (and
// the type), which the verdict depends on alone: the next upload with the
// same schema costs one SELECT.
//
// Returns OK, or DATA_LOSS naming the first thing that is not Swift's (the
// caller treats the file as a corrupt upload). INVALID_ARGUMENT for a
// database of the other type. Thread-safe.
#ifndef DBREPL_COMMON_DB_SCHEMA_VERIFY_H_
#define DBREPL_COMMON_DB_SCHEMA_VERIFY_H_

#include "absl/status/status.h"
#include "common/db/sqlite_connection.h"
#include "common/db_type.h"

namespace dbrepl {

absl::Status VerifySwiftSchema(SqliteConnection* conn, DbType type);

// VerifySwiftSchema, then SQLite's quick_check: what an upload must pass
// before it is used (DATA_LOSS naming the first problem). On a connection
// on which nothing of the file has run yet.
absl::Status VerifySwiftDatabaseOn(SqliteConnection* conn, DbType type);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_SCHEMA_VERIFY_H_
