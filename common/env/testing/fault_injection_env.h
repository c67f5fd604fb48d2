// FaultInjectionEnv: an Env for tests that fails chosen calls and simulates
// a crash (power loss) that loses everything not yet durable, in the manner
// of LevelDB's FaultInjectionTestEnv.
//
//   FaultInjectionEnv env(Env::Default(), backup_dir);
//   env.CrashAfter(3);                      // the 4th mutating call "crashes"
//   ... run the code under test with &env; it sees UNAVAILABLE from then on ...
//   ASSERT_OK(env.DropUnsyncedChanges());   // what survives the power loss
//   ... check the files on disk ...
//
// The model (see env.h): a name created, removed or renamed into a directory
// survives only if SyncDir(that directory) was called after it; data written
// by WriteNewFile survives only if SyncFile(file) followed. A crash undoes
// the rest, newest first: unsynced renames are renamed back (a file a rename
// replaced comes back too), unsynced removals are restored, unsynced new
// files and directories vanish, and surviving files with unsynced data are
// truncated to nothing. Writes that bypass the Env (SQLite's) are not
// tracked: SQLite makes its own commits durable.
//
// Removed and replaced files are kept as hard links under `backup_dir`, which
// must be on the same filesystem as the files the test touches.
//
// Thread-safe.
#ifndef DBREPL_COMMON_ENV_TESTING_FAULT_INJECTION_ENV_H_
#define DBREPL_COMMON_ENV_TESTING_FAULT_INJECTION_ENV_H_

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/env/env.h"

namespace dbrepl::testing {

class FaultInjectionEnv final : public Env {
 public:
  // One call, as the fault hook sees it. `op` is the method name
  // ("RenameFile", "SyncDir", ...); `path` its first path argument and `to`
  // the second (RenameFile only).
  struct Call {
    std::string op;
    std::string path;
    std::string to;
  };

  FaultInjectionEnv(Env* base, std::string backup_dir);

  // After `n` more mutating calls (CreateDir, RemoveDir, RemoveFile,
  // RenameFile, SyncFile, SyncDir, WriteNewFile) succeed, the process is
  // "dead": that call and every later call of any kind fail with UNAVAILABLE
  // "simulated crash". n < 0 disables.
  void CrashAfter(int n);
  bool crashed() const;

  // Called before every call; a non-OK status is returned instead of doing it.
  void SetFaultHook(std::function<absl::Status(const Call&)> hook);

  // Undoes what was not durable (see the model above), then forgets it, and
  // revives the Env (CrashAfter disabled).
  absl::Status DropUnsyncedChanges();

  // Mutating calls that succeeded since construction.
  int mutations() const;

  // Now() runs ahead of the real clock by the total advanced.
  void AdvanceClock(absl::Duration by);

  absl::StatusOr<FileInfo> Stat(const std::string& path) override;
  absl::StatusOr<FileInfo> Lstat(const std::string& path) override;
  absl::Status CreateDir(const std::string& path) override;
  absl::Status RemoveDir(const std::string& path) override;
  absl::Status RemoveFile(const std::string& path) override;
  absl::Status RenameFile(const std::string& from, const std::string& to) override;
  absl::Status SyncFile(const std::string& path) override;
  absl::Status SyncDir(const std::string& path) override;
  absl::Status WriteNewFile(const std::string& path, absl::string_view data, uint32_t mode) override;
  absl::StatusOr<std::string> ReadFile(const std::string& path) override;
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path) override;
  absl::Time Now() override;

 private:
  // One change to a directory entry that is not durable yet.
  struct Change {
    enum Kind { kCreatedFile, kCreatedDir, kRemovedFile, kRemovedDir, kRenamed } kind;
    std::string path;         // The name created/removed, or the rename's target.
    std::string from;         // kRenamed: the source name.
    std::string backup;       // kRemovedFile/kRenamed: the file that was there (or "").
  };

  absl::Status Before(const Call& call, bool mutating) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Succeeded(bool mutating) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::string> Backup(const std::string& path) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Env* const base_;
  const std::string backup_dir_;
  mutable absl::Mutex mu_;
  int crash_after_ ABSL_GUARDED_BY(mu_) = -1;
  bool crashed_ ABSL_GUARDED_BY(mu_) = false;
  int mutations_ ABSL_GUARDED_BY(mu_) = 0;
  int backups_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration clock_offset_ ABSL_GUARDED_BY(mu_);
  std::function<absl::Status(const Call&)> hook_ ABSL_GUARDED_BY(mu_);
  std::vector<Change> changes_ ABSL_GUARDED_BY(mu_);  // Oldest first.
  std::set<std::string> unsynced_data_ ABSL_GUARDED_BY(mu_);
};

}  // namespace dbrepl::testing

#endif  // DBREPL_COMMON_ENV_TESTING_FAULT_INJECTION_ENV_H_
