#include "common/db/schema_verify.h"

#include "common/db/broker.h"
#include "common/fs_util.h"
#include "common/db/testing/db_test_util.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::CreateLegacyContainerDb;
using ::dbrepl::testing::NewDbPath;
using ::dbrepl::testing::RawConnection;
using ::dbrepl::testing::StatusIs;
using ::testing::HasSubstr;

std::string NewDb(DbType type) {
  std::string path = NewDbPath(type);
  auto b = DatabaseBroker::Create(type, path, "a", type == DbType::kContainer ? "c" : "", "0000000001.00000");
  EXPECT_OK(b.status());
  return path;
}

TEST(SchemaVerifyTest, SwiftsSchemasPass) {
  for (DbType type : {DbType::kContainer, DbType::kAccount}) {
    std::string path = NewDb(type);
    EXPECT_OK(VerifySwiftSchema(RawConnection(path).get(), type)) << ServerType(type);
  }
  std::string legacy = NewDbPath(DbType::kContainer);
  ASSERT_OK(CreateLegacyContainerDb(legacy, "a", "c", "0000000001.00000", {}));
  EXPECT_OK(VerifySwiftSchema(RawConnection(legacy).get(), DbType::kContainer));
  // ... and after the migration a first merge runs.
  {
    auto b = DatabaseBroker::Open(DbType::kContainer, legacy);
    ASSERT_OK(b.status());
    ObjectRecord o;
    o.name = "o";
    o.created_at = "0000000002.00000";
    ItemBatch batch;
    batch.objects.push_back(o);
    ASSERT_OK((*b)->MergeItems(batch, "").status());
  }
  EXPECT_OK(VerifySwiftSchema(RawConnection(legacy).get(), DbType::kContainer));
}

TEST(SchemaVerifyTest, AVerdictIsRememberedOnlyForTheSameSchemaText) {
  // Accepted twice (the second from memory), and a copy with one trigger
  // more is still refused: it is another text.
  std::string path = NewDb(DbType::kContainer);
  EXPECT_OK(VerifySwiftSchema(RawConnection(path).get(), DbType::kContainer));
  EXPECT_OK(VerifySwiftSchema(RawConnection(path).get(), DbType::kContainer));
  EXPECT_THAT(VerifySwiftSchema(RawConnection(path).get(), DbType::kAccount),
              StatusIs(absl::StatusCode::kInvalidArgument)) << "the type is part of what is remembered";
  auto conn = RawConnection(path);
  ASSERT_OK(conn->Execute("CREATE TRIGGER wipe AFTER INSERT ON incoming_sync BEGIN DELETE FROM object; END"));
  EXPECT_THAT(VerifySwiftSchema(conn.get(), DbType::kContainer), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(VerifySwiftSchema(conn.get(), DbType::kContainer), StatusIs(absl::StatusCode::kDataLoss))
      << "a refusal is not remembered as an acceptance";
  // A column added by hand changes the table's SQL text too.
  std::string other = NewDb(DbType::kContainer);
  auto c2 = RawConnection(other);
  ASSERT_OK(c2->Execute("ALTER TABLE object ADD COLUMN evil TEXT"));
  EXPECT_THAT(VerifySwiftSchema(c2.get(), DbType::kContainer), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(SchemaVerifyTest, AForeignTriggerIsRefused) {
  std::string path = NewDb(DbType::kContainer);
  auto conn = RawConnection(path);
  ASSERT_OK(conn->Execute("CREATE TRIGGER wipe AFTER INSERT ON incoming_sync BEGIN DELETE FROM object; END"));
  EXPECT_THAT(VerifySwiftSchema(conn.get(), DbType::kContainer),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("trigger 'wipe'")));
}

TEST(SchemaVerifyTest, AChangedSwiftTriggerIsRefused) {
  std::string path = NewDb(DbType::kAccount);
  auto conn = RawConnection(path);
  ASSERT_OK(conn->Execute("DROP TRIGGER container_insert; CREATE TRIGGER container_insert AFTER INSERT ON "
                          "container BEGIN DELETE FROM container; END"));
  EXPECT_THAT(VerifySwiftSchema(conn.get(), DbType::kAccount),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("differs from Swift's")));
}

TEST(SchemaVerifyTest, TablesWithoutSwiftsColumnsOrExtraOnesAreRefused) {
  {
    std::string path = NewDbPath(DbType::kContainer);
    SqliteOpenOptions create;
    create.create = true;
    ASSERT_OK(MakeDirs(Dirname(path)));
    auto opened = SqliteConnection::Open(path, create);
    ASSERT_OK(opened.status());
    auto conn = *std::move(opened);
    ASSERT_OK(conn->Execute(
        "CREATE TABLE container_stat (x); CREATE TABLE object (y); CREATE TABLE incoming_sync (z);"));
    EXPECT_THAT(VerifySwiftSchema(conn.get(), DbType::kContainer), StatusIs(absl::StatusCode::kDataLoss));
  }
  {
    std::string path = NewDb(DbType::kContainer);
    auto conn = RawConnection(path);
    ASSERT_OK(conn->Execute("ALTER TABLE object ADD COLUMN evil TEXT DEFAULT 'x'"));
    EXPECT_THAT(VerifySwiftSchema(conn.get(), DbType::kContainer),
                StatusIs(absl::StatusCode::kDataLoss, HasSubstr("column 'evil'")));
  }
  {
    std::string path = NewDb(DbType::kAccount);
    auto conn = RawConnection(path);
    ASSERT_OK(conn->Execute("CREATE TABLE extra (a); CREATE VIEW v AS SELECT 1"));
    EXPECT_THAT(VerifySwiftSchema(conn.get(), DbType::kAccount), StatusIs(absl::StatusCode::kDataLoss));
  }
}

TEST(SchemaVerifyTest, TheOtherTypeIsInvalidArgument) {
  std::string path = NewDb(DbType::kAccount);
  EXPECT_THAT(VerifySwiftSchema(RawConnection(path).get(), DbType::kContainer),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace dbrepl
