// Durable filesystem operations composed from an Env: what dbrepl does when
// it installs, replaces or records something that must survive a crash.
// Each returns only once the result is durable under Env's model (data and
// the directory entries involved fsynced), so after a crash at any point the
// filesystem shows the state before the call or after it, never a mix (for
// WriteFileAtomically and RenameDurably; MakeDirsDurably may leave some of
// the directories it created, which is harmless).
//
//   RETURN_IF_ERROR(WriteFileAtomically(env, recon_file, json));
//   RETURN_IF_ERROR(RenameDurably(env, upload, db_file));
//
// Errors are the Env's, naming the path that failed. Thread-safe.
#ifndef DBREPL_COMMON_ENV_FILE_OPS_H_
#define DBREPL_COMMON_ENV_FILE_OPS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/env/env.h"

namespace dbrepl {

// mkdir -p: creates the missing directories of `path` (mode 0755) and fsyncs
// each new directory's parent so the new entries survive a crash. OK if
// `path` already is a directory; FAILED_PRECONDITION if it or a parent is
// something else.
absl::Status MakeDirsDurably(Env* env, const std::string& path);

// As MakeDirsDurably, but creates nothing at or above `root` (which must be
// a prefix of `path`): NOT_FOUND if `root` is gone, so an unmounted device's
// mount point is never filled with a fresh directory tree.
absl::Status MakeDirsDurablyBelow(Env* env, const std::string& root, const std::string& path);

// Directory fsyncs owed by a batch of durable operations, each done once at
// the end (many installs into one partition share its directories' syncs).
// Nothing the batch did may be reported durable before Flush returns OK.
// Not thread-safe: one batch, one thread.
class DeferredDirSyncs {
 public:
  void Add(const std::string& dir) { dirs_.push_back(dir); }
  // fsyncs each distinct directory once; forgets them either way.
  // The first error, naming its directory.
  absl::Status Flush(Env* env);
  bool empty() const { return dirs_.empty(); }

 private:
  std::vector<std::string> dirs_;
};

// MakeDirsDurablyBelow whose parent fsyncs are owed to `deferred` instead of
// done before returning.
absl::Status MakeDirsBelow(Env* env, const std::string& root, const std::string& path, DeferredDirSyncs* deferred);

// Swift's renamer(), made durable: creates the target's directory, fsyncs the
// source, renames it over `to`, then fsyncs the target's directory and the
// source's (if different).
absl::Status RenameDurably(Env* env, const std::string& from, const std::string& to);

struct AtomicWriteOptions {
  // The file's permission bits (not subject to the umask).
  uint32_t mode = 0644;
  // fsync the file before the rename and the directory after it, so that
  // after a crash `path` holds either the old or the new contents. Without
  // it readers still never see a partial file, but a crash may leave the old
  // file, the new one, or (on some filesystems) an empty one (Swift's recon
  // cache is written so).
  bool durable = true;
};

// Replaces (or creates) `path` with `data`: written to a unique hidden file
// ".<name>.<random>.tmp" beside it, renamed over `path`. A reader sees the
// old contents or the new, never a part. The temporary file is removed on
// failure. NOT_FOUND if the directory does not exist (it is not created).
absl::Status WriteFileAtomically(Env* env, const std::string& path, absl::string_view data,
                                 const AtomicWriteOptions& options = {});

// unlink(2) followed by an fsync of the directory.
absl::Status RemoveFileDurably(Env* env, const std::string& path);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_ENV_FILE_OPS_H_
