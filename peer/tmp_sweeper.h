// TmpSweeper: removes rsync uploads nobody claimed. A sender ships a file to
// <device>/tmp/<its db id> and asks for it to be installed a moment later;
// an upload still there long after (the sender died, or its second rsync
// pass failed) will never be claimed, and the sender ships a new one next
// pass. rsync's own temporary files (".<name>.XXXXXX") of a transfer that
// died are removed the same way, once they stop changing. Swift leaves both
// for reclaim_age (a week); dbrepl sweeps them after `max_age` without a
// change (the sender's rsync has a node_timeout of inactivity anyway), so a
// node's tmp/ holds only uploads in flight. Only names shaped as a
// replicator's upload are swept: a database id "<uuid4>-<device>" (Swift's
// and dbrepl's senders name uploads so), or rsync's temporary file of one.
// <device>/tmp is shared with Swift's other daemons (an object server's
// mkstemp files, the sharder's "fresh<uuid>.db"): those, and any other name,
// are left to the agent's reclaim_age cleanup, as Swift leaves them. A private install name
// (".*.installing", and its journal) is removed at once unless an install of
// this process holds it (peer/upload.h UploadInUse). An agent's outbox
// directory (common/paths.h kOutboxPrefix: hard links staged for one batch
// rsync) is locked by its agent for the whole push; one unlocked and
// untouched for max_age was abandoned by a crash: its links are removed
// (never the databases they point to), then it.
//
//   TmpSweeper sweeper(env, "/srv/node", absl::Minutes(2));
//   sweeper.Start();      // sweeps every max_age / 2 until Stop()
//   int removed = sweeper.SweepOnce();
//
// Thread-safe; Start at most once; Stop (or destruction) joins.
#ifndef DBREPL_PEER_TMP_SWEEPER_H_
#define DBREPL_PEER_TMP_SWEEPER_H_

#include <string>
#include <thread>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/env/env.h"

namespace dbrepl::peer {

// True for "<uuid4>-<device>" and rsync's ".<that>.XXXXXX".
bool LooksLikeUpload(absl::string_view name);

class TmpSweeper {
 public:
  TmpSweeper(Env* env, std::string devices, absl::Duration max_age)
      : env_(env), devices_(std::move(devices)), max_age_(max_age) {}
  ~TmpSweeper() { Stop(); }

  void Start();
  void Stop();

  // One sweep over every <devices>/<device>/tmp; returns files removed.
  int SweepOnce();

 private:
  int RemoveOutbox(const std::string& dir);

  Env* const env_;
  const std::string devices_;
  const absl::Duration max_age_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace dbrepl::peer

#endif  // DBREPL_PEER_TMP_SWEEPER_H_
