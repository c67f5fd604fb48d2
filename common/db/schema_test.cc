#include "common/db/schema.h"

#include "common/db/schema_info.h"
#include "common/db/testing/db_test_util.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::NewTestDir;
using ::dbrepl::testing::Query;
using ::dbrepl::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

std::unique_ptr<SqliteConnection> Fresh() {
  SqliteOpenOptions options;
  options.create = true;
  options.creating_schema = true;
  auto conn = SqliteConnection::Open(NewTestDir() + "/new.db", options);
  EXPECT_OK(conn);
  return *std::move(conn);
}

std::vector<std::string> MasterNames(SqliteConnection* conn) {
  std::vector<std::string> names;
  for (const auto& row : Query(conn, "SELECT name FROM sqlite_master")) names.push_back(row[0]);
  return names;
}

NewDatabase Db(const std::string& container) {
  NewDatabase db;
  db.account = "a";
  db.container = container;
  db.created_at = "1700000000.00000";
  db.put_timestamp = "0000000001.00000";
  db.id = "id-sda";
  db.storage_policy_index = 2;
  return db;
}

// The sqlite_master order of a container database made by Swift 2.30.1's
// ContainerBroker.initialize.
TEST(SchemaTest, ContainerMasterOrderMatchesSwift) {
  auto conn = Fresh();
  ASSERT_OK(CreateSchema(conn.get(), DbType::kContainer, Db("c")));
  EXPECT_THAT(MasterNames(conn.get()),
              ElementsAreArray({"outgoing_sync", "sqlite_autoindex_outgoing_sync_1", "incoming_sync",
                                "sqlite_autoindex_incoming_sync_1", "outgoing_sync_insert", "outgoing_sync_update",
                                "incoming_sync_insert", "incoming_sync_update", "object", "sqlite_sequence",
                                "ix_object_deleted_name", "object_update", "object_insert_policy_stat",
                                "object_delete_policy_stat", "policy_stat", "container_info", "container_stat",
                                "container_stat_update", "shard_range", "shard_range_update"}));
  EXPECT_THAT(Query(conn.get(), "SELECT account, container, created_at, put_timestamp, status_changed_at, id, "
                                "storage_policy_index, hash, delete_timestamp, metadata FROM container_stat"),
              ElementsAre(ElementsAre("a", "c", "1700000000.00000", "0000000001.00000", "0000000001.00000",
                                      "id-sda", "2", "00000000000000000000000000000000", "0", "")));
  EXPECT_THAT(Query(conn.get(), "SELECT storage_policy_index, object_count FROM policy_stat"),
              ElementsAre(ElementsAre("2", "0")));
}

TEST(SchemaTest, AccountMasterOrderMatchesSwift) {
  auto conn = Fresh();
  ASSERT_OK(CreateSchema(conn.get(), DbType::kAccount, Db("")));
  EXPECT_THAT(MasterNames(conn.get()),
              ElementsAreArray({"outgoing_sync", "sqlite_autoindex_outgoing_sync_1", "incoming_sync",
                                "sqlite_autoindex_incoming_sync_1", "outgoing_sync_insert", "outgoing_sync_update",
                                "incoming_sync_insert", "incoming_sync_update", "container", "sqlite_sequence",
                                "ix_container_deleted_name", "container_insert", "container_update",
                                "container_delete", "container_insert_ps", "container_delete_ps", "account_stat",
                                "policy_stat"}));
  EXPECT_THAT(Query(conn.get(), "SELECT account, put_timestamp, status_changed_at, container_count, id FROM account_stat"),
              ElementsAre(ElementsAre("a", "0000000001.00000", "0000000001.00000", "0", "id-sda")));
}

TEST(SchemaTest, StoresSwiftsDdlText) {
  auto conn = Fresh();
  ASSERT_OK(CreateSchema(conn.get(), DbType::kContainer, Db("c")));
  // sqlite_master keeps the statement text as Swift wrote it.
  EXPECT_THAT(Query(conn.get(), "SELECT sql FROM sqlite_master WHERE name = 'ix_object_deleted_name'"),
              ElementsAre(ElementsAre("CREATE INDEX ix_object_deleted_name ON object (deleted, name)")));
}

TEST(SchemaTest, RequiresNames) {
  auto conn = Fresh();
  EXPECT_THAT(CreateSchema(conn.get(), DbType::kContainer, Db("")), StatusIs(absl::StatusCode::kInvalidArgument));
  NewDatabase no_account = Db("c");
  no_account.account = "";
  EXPECT_THAT(CreateSchema(conn.get(), DbType::kContainer, no_account), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CreateSchema(conn.get(), DbType::kAccount, Db("c")), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SchemaInfoTest, InspectsCurrentAndLegacySchemas) {
  auto conn = Fresh();
  ASSERT_OK(CreateSchema(conn.get(), DbType::kContainer, Db("c")));
  ASSERT_OK_AND_ASSIGN(SchemaInfo info, InspectSchema(conn.get()));
  EXPECT_EQ(info.DetectType(), DbType::kContainer);
  EXPECT_TRUE(info.container_stat_is_view);
  EXPECT_TRUE(info.rows_have_policy_index);
  EXPECT_TRUE(info.has_deleted_name_index);
  EXPECT_TRUE(info.HasStatColumn("x_container_sync_point1"));
  EXPECT_TRUE(info.swift_stat_view);
  EXPECT_OK(CheckSchema(info, DbType::kContainer));
  EXPECT_THAT(CheckSchema(info, DbType::kAccount), StatusIs(absl::StatusCode::kInvalidArgument));

  std::string legacy = NewTestDir() + "/legacy.db";
  ASSERT_OK(testing::CreateLegacyContainerDb(legacy, "a", "c", "0000000001.00000", {}));
  auto lconn = testing::RawConnection(legacy);
  ASSERT_OK_AND_ASSIGN(SchemaInfo linfo, InspectSchema(lconn.get()));
  EXPECT_EQ(linfo.DetectType(), DbType::kContainer);
  EXPECT_FALSE(linfo.container_stat_is_view);
  EXPECT_FALSE(linfo.rows_have_policy_index);
  EXPECT_FALSE(linfo.has_policy_stat);
  EXPECT_FALSE(linfo.swift_stat_view);
  EXPECT_OK(CheckSchema(linfo, DbType::kContainer));

  // Asked again (from memory now), each is still what it is.
  ASSERT_OK_AND_ASSIGN(SchemaInfo again, InspectSchema(conn.get()));
  EXPECT_TRUE(again.container_stat_is_view);
  EXPECT_TRUE(again.swift_stat_view);
  EXPECT_EQ(again.stat_columns, info.stat_columns);
  ASSERT_OK_AND_ASSIGN(SchemaInfo lagain, InspectSchema(lconn.get()));
  EXPECT_FALSE(lagain.container_stat_is_view);
  EXPECT_EQ(lagain.stat_columns, linfo.stat_columns);
}

TEST(SchemaInfoTest, AChangedSchemaIsInspectedAfresh) {
  auto conn = Fresh();
  ASSERT_OK(CreateSchema(conn.get(), DbType::kContainer, Db("c")));
  ASSERT_OK_AND_ASSIGN(SchemaInfo before, InspectSchema(conn.get()));
  ASSERT_TRUE(before.swift_stat_view);
  // The same columns, another view: no longer Swift's (read through it).
  ASSERT_OK(conn->Execute("DROP VIEW container_stat"));
  ASSERT_OK(conn->Execute("CREATE VIEW container_stat AS SELECT ci.*, 42 AS object_count, 0 AS bytes_used "
                          "FROM container_info ci"));
  ASSERT_OK_AND_ASSIGN(SchemaInfo after, InspectSchema(conn.get()));
  EXPECT_TRUE(after.container_stat_is_view);
  EXPECT_FALSE(after.swift_stat_view);
  // Whitespace aside, Swift's view is Swift's.
  EXPECT_EQ(NormaliseSql("  CREATE VIEW\n\t x   AS SELECT 1  "), "CREATE VIEW x AS SELECT 1");
}

TEST(SchemaInfoTest, MissingTablesAreDataLoss) {
  auto conn = Fresh();
  ASSERT_OK(CreateSchema(conn.get(), DbType::kContainer, Db("c")));
  ASSERT_OK(conn->Execute("DROP TABLE object"));
  ASSERT_OK_AND_ASSIGN(SchemaInfo info, InspectSchema(conn.get()));
  EXPECT_THAT(CheckSchema(info, DbType::kContainer), StatusIs(absl::StatusCode::kDataLoss));
  SchemaInfo empty;
  EXPECT_THAT(CheckSchema(empty, DbType::kAccount), StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace dbrepl
