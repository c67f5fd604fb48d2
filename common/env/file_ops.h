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

#include "absl/status/status.h"
#include "common/env/env.h"

namespace dbrepl {

// mkdir -p: creates the missing directories of `path` (mode 0755) and fsyncs
// each new directory's parent so the new entries survive a crash. OK if
// `path` already is a directory; FAILED_PRECONDITION if it or a parent is
// something else.
absl::Status MakeDirsDurably(Env* env, const std::string& path);

// Swift's renamer(), made durable: creates the target's directory, fsyncs the
// source, renames it over `to`, then fsyncs the target's directory and the
// source's (if different).
absl::Status RenameDurably(Env* env, const std::string& from, const std::string& to);

// Replaces (or creates) `path` with `data`: written to a unique hidden file
// beside it, fsynced, renamed over `path`, and the directory fsynced. A
// reader sees the old contents or the new, never a part. The temporary file
// is removed on failure.
absl::Status WriteFileAtomically(Env* env, const std::string& path, const std::string& data);

// unlink(2) followed by an fsync of the directory.
absl::Status RemoveFileDurably(Env* env, const std::string& path);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_ENV_FILE_OPS_H_
