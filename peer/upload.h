// Upload: a database file another node rsynced into <device>/tmp/, taken
// over for installation (CompleteRsync, RsyncThenMerge).
//
//   ASSIGN_OR_RETURN(Upload upload, Upload::Claim(env, db, "<sender db id>"));
//   ASSIGN_OR_RETURN(std::unique_ptr<DatabaseBroker> fresh, upload.OpenVerified());
//   ... NewId, fold ..., then fresh.reset() and upload.Install(target) ...
//
// Claim() first renames tmp/<name> to a private name (tmp/.<name>.<uuid>
// .installing), so that a second rsync of the same name, which ends in a
// rename over tmp/<name>, cannot swap the file while it is being checked and
// installed. Only regular files are taken: a symlink, directory or FIFO at
// tmp/<name> (or a tmp/ that is itself a symlink) is refused, so an upload can
// never make the peer read or write outside the devices root.
//
// OpenVerified() opens the private file as a database of the expected type
// without the hash-directory lock (nobody else knows its name) and checks that
// it is whole (PRAGMA quick_check) and that its schema is Swift's
// (common/db/schema_verify.h). A bad upload is moved to
// <device>/quarantined/uploads/<name> (replacing an earlier one of that name,
// so a sender that keeps sending a bad file cannot fill the disk) and is
// answered DATA_LOSS/UPLOAD_CORRUPT; it never quarantines anything else.
//
// An Upload that is not installed removes its private file when destroyed:
// the sender still has the original and sends it again. A crash can leave a
// private file; RemoveAbandonedUploads() (peer start-up) removes those.
//
// Not thread-safe; one Upload per call.
#ifndef DBREPL_PEER_UPLOAD_H_
#define DBREPL_PEER_UPLOAD_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/broker.h"
#include "common/env/env.h"
#include "common/env/file_ops.h"
#include "peer/db_locator.h"

namespace dbrepl::peer {

class Upload {
 public:
  // NOT_FOUND/RSYNC_PRECONDITION if tmp/<tmp_name> does not exist;
  // INVALID_ARGUMENT/INVALID_REQUEST if it is not a regular file or tmp/ is
  // not a plain directory.
  static absl::StatusOr<Upload> Claim(Env* env, const LocatedDb& db, const std::string& tmp_name);

  Upload(Upload&& other) noexcept;
  Upload& operator=(Upload&&) = delete;
  ~Upload();

  // The private path while claimed.
  const std::string& path() const { return path_; }
  const std::string& tmp_name() const { return tmp_name_; }

  // Opens and verifies (see above). `busy_timeout` as for any broker.
  absl::StatusOr<std::unique_ptr<DatabaseBroker>> OpenVerified(absl::Duration busy_timeout);

  // Renames the (closed) file to `target`, durably: the file's data is
  // synced, then the rename, then `target`'s directory (which must exist,
  // durably: MakeDirsDurablyBelow). tmp/ is not synced: should its old name
  // survive a crash, it is a second link to the installed file, and the
  // private name is unlinked at the next start (RemoveAbandonedUploads).
  // Afterwards the Upload owns nothing. With `deferred`, the directory's
  // fsync is owed to it instead (the file's is done here, before the rename).
  absl::Status Install(const std::string& target, DeferredDirSyncs* deferred = nullptr);

  // Removes the (closed) file now, after its rows were merged elsewhere.
  absl::Status Remove();

 private:
  Upload(Env* env, LocatedDb db, std::string tmp_name, std::string path)
      : env_(env), db_(std::move(db)), tmp_name_(std::move(tmp_name)), path_(std::move(path)) {}
  absl::Status Quarantine(const absl::Status& why);

  Env* env_;
  LocatedDb db_;
  std::string tmp_name_;
  std::string path_;  // Empty once installed, quarantined or moved from.
};

// True while an Upload of this process holds `private_path` (a
// "tmp/.*.installing" name): every other such file, and its journal, was
// abandoned (a crash, or a device that vanished under an install).
bool UploadInUse(const std::string& private_path);

// Removes "tmp/.*.installing" files (and their "-journal") left by a crash in
// <devices>/<device>/tmp
// for every device directory; returns how many were removed.
int RemoveAbandonedUploads(Env* env, const std::string& devices);

}  // namespace dbrepl::peer

#endif  // DBREPL_PEER_UPLOAD_H_
