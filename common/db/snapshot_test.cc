// The replication info a sender offers must describe one state of the
// database: a row committed by another writer while the info is read must be
// either wholly in it (counted in max_row and hashed) or wholly out of it.
// When hash and max_row come from different moments, a peer holding the old
// rows sees "same hash" and records the sender's newer max_row as delivered,
// and the new row never replicates.
#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/chexor.h"
#include "common/db/broker.h"
#include "common/db/testing/db_test_util.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::NewDbPath;
using ::dbrepl::testing::Query;
using ::dbrepl::testing::RawConnection;

struct Seen {
  std::string hash;
  int64_t max_row;
};

// The hash Swift's triggers give the rows with ROWID <= max_row (rows are only
// ever added in this test, so that prefix never changes afterwards).
std::string PrefixHash(const std::string& db_file, int64_t max_row, DbType type) {
  auto conn = RawConnection(db_file);
  std::string sql = type == DbType::kContainer
                        ? absl::StrCat("SELECT name, created_at FROM object WHERE ROWID <= ", max_row)
                        : absl::StrCat("SELECT name, put_timestamp || '-' || delete_timestamp || '-' || "
                                       "object_count || '-' || bytes_used FROM container WHERE ROWID <= ",
                                       max_row);
  std::string hash = kEmptyDbHash;
  for (const auto& row : Query(conn.get(), sql)) hash = *Chexor(hash, row[0], row[1]);
  return hash;
}

class SnapshotTest : public ::testing::TestWithParam<std::tuple<DbType, bool>> {};

TEST_P(SnapshotTest, HashAndMaxRowDescribeOneState) {
  const auto [type, use_pending] = GetParam();
  const std::string path = NewDbPath(type);
  auto created = DatabaseBroker::Create(type, path, "a", type == DbType::kContainer ? "c" : "",
                                        "0000000001.00000");
  ASSERT_OK(created.status());
  created->reset();

  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    auto b = DatabaseBroker::Open(type, path);
    ASSERT_OK(b.status());
    for (int i = 0; !stop; ++i) {
      if (type == DbType::kContainer) {
        ObjectRecord o;
        o.name = absl::StrCat("o", i);
        o.created_at = absl::StrCat(1700000000 + i, ".00000");
        o.content_type = "text/plain";
        o.etag = "e";
        ASSERT_OK((*b)->PutObject(o, use_pending));
      } else {
        ContainerRecord c;
        c.name = absl::StrCat("c", i);
        c.put_timestamp = absl::StrCat(1700000000 + i, ".00000");
        c.object_count = i;
        ASSERT_OK((*b)->PutContainer(c, use_pending));
      }
      ++written;
    }
  });
  std::vector<Seen> seen;
  {
    auto b = DatabaseBroker::Open(type, path);
    ASSERT_OK(b.status());
    while (written < 1000) {
      auto info = (*b)->GetReplicationInfo();
      ASSERT_OK(info.status());
      seen.push_back({info->hash, info->max_row});
    }
  }
  stop = true;
  writer.join();
  auto b = DatabaseBroker::Open(type, path);
  ASSERT_OK(b.status());
  ASSERT_OK((*b)->GetReplicationInfo().status());  // Flush what is pending.
  int mismatches = 0;
  for (const Seen& s : seen) {
    if (PrefixHash(path, s.max_row, type) != s.hash) ++mismatches;
  }
  EXPECT_EQ(mismatches, 0) << "of " << seen.size() << " replication infos read during writes";
}

INSTANTIATE_TEST_SUITE_P(Types, SnapshotTest,
                         ::testing::Combine(::testing::Values(DbType::kContainer, DbType::kAccount),
                                            ::testing::Bool()));

}  // namespace
}  // namespace dbrepl
