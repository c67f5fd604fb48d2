// DatabaseBroker's factories and the file-level operations of broker.h.
#include "common/db/broker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/db/account_broker.h"
#include "common/db/container_broker.h"
#include "common/db/db_files.h"
#include "common/db/lock_file.h"
#include "common/db/pending.h"
#include "common/db/schema.h"
#include "common/db/schema_info.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/timestamp.h"

namespace dbrepl {
namespace {

bool FileExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::unique_ptr<SqliteBroker> NewBroker(DbType type, const std::string& db_file, const BrokerOptions& options) {
  if (type == DbType::kAccount) return std::make_unique<AccountBroker>(db_file, options);
  return std::make_unique<ContainerBroker>(db_file, options);
}

// Writes a fresh database into a mkstemp'd "*.tmp" next to `db_file`;
// returns the tmp file's path.
absl::StatusOr<std::string> CreateTmpDb(DbType type, const std::string& db_file, const NewDatabase& db) {
  std::string db_dir = PythonDirname(db_file);
  RETURN_IF_ERROR(MakeDirs(db_dir));
  std::string tmpl = absl::StrCat(db_dir.empty() ? "." : db_dir, "/tmpXXXXXX.tmp");
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  int fd = mkstemps(buf.data(), 4);
  if (fd < 0) return absl::InternalError(absl::StrCat("mkstemp in ", db_dir, ": ", std::strerror(errno)));
  close(fd);
  std::string tmp(buf.data());
  auto remove_tmp = absl::MakeCleanup([&] { unlink(tmp.c_str()); });
  {
    SqliteOpenOptions options;
    options.busy_timeout = absl::ZeroDuration();
    options.creating_schema = true;
    ASSIGN_OR_RETURN(std::unique_ptr<SqliteConnection> conn, SqliteConnection::Open(tmp, options));
    RETURN_IF_ERROR(CreateSchema(conn.get(), type, db));
  }
  // Swift's initialize() commits with synchronous=OFF and fsyncs once.
  fd = open(tmp.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0) {
    absl::Status s = absl::InternalError(absl::StrCat("fsync ", tmp, ": ", std::strerror(errno)));
    if (fd >= 0) close(fd);
    return s;
  }
  close(fd);
  std::move(remove_tmp).Cancel();
  return tmp;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DatabaseBroker>> DatabaseBroker::Open(DbType type, const std::string& db_file,
                                                                     const BrokerOptions& options) {
  if (!FileExists(db_file)) return DbNotFoundError(absl::StrCat("DB ", db_file, " doesn't exist"));
  std::unique_ptr<SqliteBroker> broker = NewBroker(type, db_file, options);
  RETURN_IF_ERROR(broker->Init());
  return std::unique_ptr<DatabaseBroker>(std::move(broker));
}

absl::StatusOr<std::unique_ptr<DatabaseBroker>> DatabaseBroker::Create(
    DbType type, const std::string& db_file, const std::string& account, const std::string& container,
    const std::string& put_timestamp, int64_t storage_policy_index, const BrokerOptions& options) {
  if (FileExists(db_file)) return absl::AlreadyExistsError(absl::StrCat("DB ", db_file, " already exists"));
  NewDatabase db;
  db.account = account;
  db.container = container;
  db.created_at = Timestamp::Now().Internal();
  db.put_timestamp = put_timestamp.empty() ? Timestamp::Zero().Internal() : put_timestamp;
  db.id = NewDbId(db_file);
  db.storage_policy_index = storage_policy_index;
  ASSIGN_OR_RETURN(std::string tmp, CreateTmpDb(type, db_file, db));
  // Unlike Swift, which leaves the tmp file for _reclaim_tmp_dbs, remove it
  // when the rename does not happen.
  auto remove_tmp = absl::MakeCleanup([&] { unlink(tmp.c_str()); });
  {
    ASSIGN_OR_RETURN(DirectoryLock lock, LockParentDirectory(db_file, options.lock_timeout));
    if (FileExists(db_file)) return absl::AlreadyExistsError(absl::StrCat("DB ", db_file, " already exists"));
    RETURN_IF_ERROR(Renamer(tmp, db_file, /*fsync=*/true));
  }
  std::move(remove_tmp).Cancel();
  return Open(type, db_file, options);
}

absl::StatusOr<int64_t> DatabaseBroker::GetReconcilerSync() {
  return absl::FailedPreconditionError("only a container database has a reconciler sync point");
}
absl::Status DatabaseBroker::UpdateReconcilerSync(int64_t) {
  return absl::FailedPreconditionError("only a container database has a reconciler sync point");
}
absl::StatusOr<bool> DatabaseBroker::HasMultiplePolicies() {
  return absl::FailedPreconditionError("only a container database has storage policies");
}
absl::StatusOr<std::vector<ObjectRecord>> DatabaseBroker::GetMisplacedSince(int64_t, int) {
  return absl::FailedPreconditionError("only a container database has misplaced objects");
}

absl::StatusOr<DbType> DetectDbType(const std::string& db_file) {
  if (!FileExists(db_file)) return DbNotFoundError(absl::StrCat("DB ", db_file, " doesn't exist"));
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteConnection> conn, SqliteConnection::Open(db_file, SqliteOpenOptions()));
  ASSIGN_OR_RETURN(SchemaInfo schema, InspectSchema(conn.get()));
  absl::optional<DbType> type = schema.DetectType();
  if (!type.has_value()) {
    return absl::DataLossError(absl::StrCat(db_file, " has neither an account_stat nor a container_stat table"));
  }
  return *type;
}

absl::StatusOr<std::string> QuarantineDb(const std::string& db_file, DbType type) {
  return QuarantineHashDir(PythonDirname(db_file), type);
}

absl::Status DeleteDbFiles(const std::string& db_file) {
  std::string hash_dir = PythonDirname(db_file);
  {
    ASSIGN_OR_RETURN(DirectoryLock lock, LockDirectory(hash_dir, absl::Seconds(10)));
    RemoveTree(hash_dir);
  }
  // Prune the suffix, then the partition directory, when empty.
  std::string dir = hash_dir;
  for (int i = 0; i < 2; ++i) {
    dir = PythonDirname(dir);
    if (rmdir(dir.c_str()) != 0) {
      if (errno == ENOTEMPTY || errno == EEXIST) break;
      if (errno == ENOENT) continue;
      return absl::InternalError(absl::StrCat("ERROR while trying to clean up ", dir, ": ", std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}


absl::Status DeleteDbFilesIfUnchanged(DbType type, const std::string& db_file, int64_t expected_max_row) {
  std::string hash_dir = PythonDirname(db_file);
  {
    ASSIGN_OR_RETURN(DirectoryLock lock, LockExistingDirectory(hash_dir, absl::Seconds(10)));
    ASSIGN_OR_RETURN(int64_t pending, PendingFileSize(absl::StrCat(db_file, ".pending")));
    if (pending > 0) return absl::FailedPreconditionError("rows arrived in the .pending file");
    {
      BrokerOptions options;
      options.flush_pending = false;  // We hold the lock a flush would take.
      ASSIGN_OR_RETURN(std::unique_ptr<DatabaseBroker> broker, DatabaseBroker::Open(type, db_file, options));
      ASSIGN_OR_RETURN(int64_t max_row, broker->GetMaxRow());
      if (max_row != expected_max_row) {
        return absl::FailedPreconditionError(absl::StrCat(max_row - expected_max_row, " new rows"));
      }
    }
    RemoveTree(hash_dir);
  }
  std::string dir = hash_dir;
  for (int i = 0; i < 2; ++i) {
    dir = PythonDirname(dir);
    if (rmdir(dir.c_str()) != 0) {
      if (errno == ENOTEMPTY || errno == EEXIST) break;
      if (errno == ENOENT) continue;
      return absl::InternalError(absl::StrCat("ERROR while trying to clean up ", dir, ": ", std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<FileStamp> ReadFileStamp(const std::string& db_file) {
  FileStamp stamp;
  int fd = open(db_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat("open ", db_file, ": ", std::strerror(errno)));
  struct stat st;
  unsigned char header[4] = {0, 0, 0, 0};
  bool ok = fstat(fd, &st) == 0 && pread(fd, header, sizeof(header), 24) >= 0;
  int e = errno;
  close(fd);
  if (!ok) return absl::InternalError(absl::StrCat("reading ", db_file, ": ", std::strerror(e)));
  stamp.dev = st.st_dev;
  stamp.ino = st.st_ino;
  stamp.size = st.st_size;
  stamp.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  stamp.change_counter = (uint32_t{header[0]} << 24) | (uint32_t{header[1]} << 16) | (uint32_t{header[2]} << 8) |
                         uint32_t{header[3]};
  stamp.journal = FileExists(absl::StrCat(db_file, "-journal"));
  return stamp;
}

absl::StatusOr<int> ReclaimTmpFiles(const std::string& db_dir, absl::Time cutoff) {
  return RemoveTmpFilesOlderThan(db_dir, cutoff);
}

}  // namespace dbrepl
