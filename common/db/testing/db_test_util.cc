#include "common/db/testing/db_test_util.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/chexor.h"
#include "common/db/db_files.h"
#include "common/db/legacy_schema.h"
#include "common/db/schema.h"
#include "common/hash_path.h"
#include "common/status_macros.h"
#include "glog/logging.h"

namespace dbrepl::testing {
namespace {


}  // namespace

std::string NewTestDir() {
  static std::atomic<int> counter{0};
  const char* base = std::getenv("TEST_TMPDIR");
  std::string tmpl = absl::StrCat(base != nullptr ? base : "/tmp", "/t", counter++, "_XXXXXX");
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  CHECK(mkdtemp(buf.data()) != nullptr) << tmpl;
  return std::string(buf.data());
}

std::string NewDbPath(DbType type, const std::string& device) {
  std::string hash = Md5Hex(NewUuid4());
  return absl::StrCat(NewTestDir(), "/srv/node/", device, "/", Datadir(type), "/7/", hash.substr(29), "/", hash, "/",
                      hash, ".db");
}

std::string DeviceDirOf(const std::string& db_file) { return DevicePath(db_file); }

std::unique_ptr<SqliteConnection> RawConnection(const std::string& db_file) {
  SqliteOpenOptions options;
  options.busy_timeout = absl::Seconds(5);
  auto conn = SqliteConnection::Open(db_file, options);
  CHECK(conn.ok()) << conn.status();
  return *std::move(conn);
}

std::vector<std::vector<std::string>> Query(SqliteConnection* conn, const std::string& sql) {
  auto st = conn->Prepare(sql);
  CHECK(st.ok()) << st.status();
  std::vector<std::vector<std::string>> rows;
  while (true) {
    auto row = st->Step();
    CHECK(row.ok()) << row.status();
    if (!*row) break;
    std::vector<std::string> cols;
    for (int i = 0; i < st->ColumnCount(); ++i) cols.push_back(st->ColumnIsNull(i) ? "NULL" : st->ColumnText(i));
    rows.push_back(std::move(cols));
  }
  return rows;
}

std::string ExpectedHash(const ItemBatch& rows) {
  std::string hash = kEmptyDbHash;
  for (const ObjectRecord& o : rows.objects) hash = *Chexor(hash, o.name, o.created_at);
  for (const ContainerRecord& c : rows.containers) {
    hash = *Chexor(hash, c.name,
                   absl::StrCat(c.put_timestamp, "-", c.delete_timestamp, "-", c.object_count, "-", c.bytes_used));
  }
  return hash;
}

absl::Status CreateLegacyContainerDb(const std::string& db_file, const std::string& account,
                                     const std::string& container, const std::string& put_timestamp,
                                     const std::vector<ObjectRecord>& objects) {
  RETURN_IF_ERROR(MakeDirs(PythonDirname(db_file)));
  SqliteOpenOptions options;
  options.create = true;
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteConnection> conn, SqliteConnection::Open(db_file, options));
  RETURN_IF_ERROR(conn->Execute(kSyncTablesDdl));
  RETURN_IF_ERROR(conn->Execute(kLegacyObjectDdl));
  RETURN_IF_ERROR(conn->Execute(kLegacyContainerStatDdl));
  ASSIGN_OR_RETURN(SqliteStatement st, conn->Prepare("UPDATE container_stat SET account = ?, container = ?, "
                                                     "created_at = ?, id = ?, put_timestamp = ?"));
  st.BindText(1, account);
  st.BindText(2, container);
  st.BindText(3, "0000000000.50000");
  st.BindText(4, NewUuid4());
  st.BindText(5, put_timestamp);
  RETURN_IF_ERROR(st.Run());
  ASSIGN_OR_RETURN(SqliteStatement insert,
                   conn->Prepare("INSERT INTO object (name, created_at, size, content_type, etag, deleted) "
                                 "VALUES (?, ?, ?, ?, ?, ?)"));
  for (const ObjectRecord& o : objects) {
    insert.BindText(1, o.name);
    insert.BindText(2, o.created_at);
    insert.BindInt(3, o.size);
    insert.BindText(4, o.content_type);
    insert.BindText(5, o.etag);
    insert.BindInt(6, o.deleted ? 1 : 0);
    RETURN_IF_ERROR(insert.Run());
  }
  return absl::OkStatus();
}

bool PathExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

void WaitPastLastWrite(const std::string& db_file) {
  auto ns = [](const struct timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec; };
  int64_t last = 0;
  for (const std::string& f : {db_file, db_file + ".pending"}) {
    struct stat st;
    if (stat(f.c_str(), &st) == 0) last = std::max({last, ns(st.st_mtim), ns(st.st_ctim)});
  }
  while (true) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME_COARSE, &now);
    if (ns(now) > last) return;
    usleep(1000);  // The clock ticks every few ms.
  }
}

ObjectRecord TestObject(const std::string& name, int i) {
  ObjectRecord o;
  o.name = name;
  o.created_at = absl::StrCat(1700000000 + i, ".00000");
  return o;
}

}  // namespace dbrepl::testing
