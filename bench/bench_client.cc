// bench_client: the small measuring tool of the benchmark harness (bench/bench.py).
// Not a test and not part of the product; each subcommand prints one JSON object.
//
//   bench_client rtt --target=IP:PORT --method=check [--calls=10000] [--threads=1]
//       grpc.health.v1.Health/Check, unary, over one channel: the gRPC loopback floor.
//   bench_client rtt --target=IP:PORT --method=sync --device=D --partition=P --hash=H
//       --sync_json='{...SyncRequest fields...}' [--calls=5000]
//       dbrepl.v1.ReplicationPeer/Sync on a real database: transport + the peer's per-database work.
//   bench_client pass --target=ADMIN_IP:PORT [--poll_ms=5] [--timeout=3600]
//       ReplicationAgent/RunPass, then GetStatus every poll_ms until passes_completed grows:
//       one pass of a running agent daemon, timed from the request to the observed end.
//   bench_client install --dir=DEVICES_TREE --out=DIR [--limit=N]
//       The peer's CompleteRsync in-process: copies each database under --dir into
//       DIR/sda/tmp/ (untimed, as rsync would), then installs them all (timed).
//   bench_client merge --data=DIR --out=DIR [--limit=N] [--missing=100] [--per_row_triggers]
//       The receiving side of a usync, without gRPC: for each <k>.full.db under --data, a copy
//       of it lacking its last --missing rows is made in --out (untimed), then each copy is
//       opened and the missing rows and the sender's sync table merged in one transaction,
//       as a MergeItems stream's one batch would be (timed: open, merge, commit, close).
//   bench_client sqlite-insert --db=PATH --rows=R [--batch=1000] [--prefix=raw]
//       INSERT INTO object ... in transactions of `batch` rows, through dbrepl's SQLite
//       connection (Swift's pragmas, chexor registered in C++) on a database Swift created.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/db/broker.h"
#include "common/db/sqlite_connection.h"
#include "common/db/state_cache.h"
#include "common/fs_util.h"
#include "common/env/env.h"
#include "common/paths.h"
#include "peer/db_locator.h"
#include "peer/replicator_rpc.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include <functional>
#include "dbrepl/v1/agent.grpc.pb.h"
#include "dbrepl/v1/peer.grpc.pb.h"
#include "gflags/gflags.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"

DEFINE_string(dir, "", "read-state: the devices tree to read every database of.");
DEFINE_int32(rounds, 1, "read-state: passes over the databases (the first is cold, later ones hit the cache).");
DEFINE_string(out, "", "install: a devices root to install into (DIR/sda is made).");
DEFINE_int32(limit, 1000000, "install: most databases to install.");
DEFINE_string(data, "", "merge: a directory of <k>.full.db files (bench.py's data).");
DEFINE_int32(missing, 100, "merge: rows each copy lacks (and gets back).");
DEFINE_bool(per_row_triggers, false, "merge: run Swift's object triggers per row (BrokerOptions::batch_object_triggers off).");
DEFINE_string(target, "", "host:port of the peer (rtt) or of the agent's admin API (pass).");
DEFINE_string(method, "check", "rtt: check (health) or sync (ReplicationPeer/Sync).");
DEFINE_int32(calls, 10000, "rtt: calls to time (after --warmup).");
DEFINE_int32(warmup, 200, "rtt: untimed calls first.");
DEFINE_int32(threads, 1, "rtt: client threads sharing the one channel, each making calls/threads calls.");
DEFINE_string(device, "", "rtt sync: device.");
DEFINE_int64(partition, 0, "rtt sync: partition.");
DEFINE_string(hash, "", "rtt sync: database hash.");
DEFINE_string(sync_json, "{}", "rtt sync: the SyncRequest as JSON (db is filled in from the flags).");
DEFINE_int32(poll_ms, 5, "pass: GetStatus interval.");
DEFINE_double(timeout, 3600, "pass: give up after this many seconds.");
DEFINE_string(db, "", "sqlite-insert: the database file (an initialized Swift container database).");
DEFINE_int64(rows, 100000, "sqlite-insert: rows to insert.");
DEFINE_int32(batch, 1000, "sqlite-insert: rows per transaction.");
DEFINE_string(prefix, "raw", "sqlite-insert: object name prefix.");

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string ToJson(const google::protobuf::Message& m) {
  std::string json;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  o.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(m, &json, o);
  return json;
}

int Fail(const std::string& what) {
  std::cerr << "bench_client: " << what << "\n";
  return 1;
}

int Rtt() {
  if (FLAGS_target.empty()) return Fail("--target is required");
  grpc::ChannelArguments args;
  // Each thread of a multi-threaded run still shares one HTTP/2 connection, as the agent does per peer.
  auto channel = grpc::CreateCustomChannel(FLAGS_target, grpc::InsecureChannelCredentials(), args);
  auto health = grpc::health::v1::Health::NewStub(channel);
  auto peer = dbrepl::v1::ReplicationPeer::NewStub(channel);
  dbrepl::v1::SyncRequest sync;
  if (FLAGS_method == "sync") {
    auto s = google::protobuf::util::JsonStringToMessage(FLAGS_sync_json, &sync);
    if (!s.ok()) return Fail(absl::StrCat("--sync_json: ", s.ToString()));
    sync.mutable_db()->set_type(dbrepl::v1::CONTAINER);
    sync.mutable_db()->set_device(FLAGS_device);
    sync.mutable_db()->set_partition(FLAGS_partition);
    sync.mutable_db()->set_hash(FLAGS_hash);
  } else if (FLAGS_method != "check") {
    return Fail("--method is check or sync");
  }
  auto call = [&]() -> grpc::Status {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (FLAGS_method == "check") {
      grpc::health::v1::HealthCheckRequest req;
      grpc::health::v1::HealthCheckResponse resp;
      return health->Check(&ctx, req, &resp);
    }
    dbrepl::v1::SyncResponse resp;
    return peer->Sync(&ctx, sync, &resp);
  };
  for (int i = 0; i < FLAGS_warmup; ++i) {
    grpc::Status s = call();
    if (!s.ok()) return Fail(absl::StrCat("warmup call failed: ", s.error_message()));
  }
  const int threads = std::max(1, FLAGS_threads);
  const int per_thread = std::max(1, FLAGS_calls / threads);
  std::vector<std::vector<double>> lat(threads);
  std::atomic<int> errors{0};
  auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t]() {
      lat[t].reserve(per_thread);
      for (int i = 0; i < per_thread; ++i) {
        auto a = Clock::now();
        if (!call().ok()) ++errors;
        lat[t].push_back(Seconds(Clock::now() - a) * 1e6);
      }
    });
  }
  for (auto& w : workers) w.join();
  double wall = Seconds(Clock::now() - start);
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))]; };
  std::cout << absl::StrFormat(
      "{\"method\": \"%s\", \"calls\": %d, \"threads\": %d, \"errors\": %d, \"seconds\": %.6f, "
      "\"calls_per_s\": %.1f, \"p50_us\": %.1f, \"p99_us\": %.1f}\n",
      FLAGS_method, static_cast<int>(all.size()), threads, errors.load(), wall, all.size() / wall, pct(0.5),
      pct(0.99));
  return errors.load() == 0 ? 0 : 1;
}

int Pass() {
  if (FLAGS_target.empty()) return Fail("--target is required");
  auto stub = dbrepl::v1::ReplicationAgent::NewStub(
      grpc::CreateChannel(FLAGS_target, grpc::InsecureChannelCredentials()));
  auto status = [&](dbrepl::v1::GetStatusResponse* out) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub->GetStatus(&ctx, dbrepl::v1::GetStatusRequest(), out);
  };
  dbrepl::v1::GetStatusResponse before;
  if (grpc::Status s = status(&before); !s.ok()) return Fail(absl::StrCat("GetStatus: ", s.error_message()));
  if (before.current().running()) return Fail("a pass is already running");
  auto start = Clock::now();
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    dbrepl::v1::RunPassResponse resp;
    grpc::Status s = stub->RunPass(&ctx, dbrepl::v1::RunPassRequest(), &resp);
    if (!s.ok()) return Fail(absl::StrCat("RunPass: ", s.error_message()));
    if (!resp.started()) return Fail("RunPass: not started (a pass is running)");
  }
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(FLAGS_timeout));
  dbrepl::v1::GetStatusResponse now;
  int polls = 0;
  while (true) {
    ++polls;
    if (grpc::Status s = status(&now); !s.ok()) return Fail(absl::StrCat("GetStatus: ", s.error_message()));
    if (now.passes_completed() > before.passes_completed()) break;
    if (Clock::now() > deadline) return Fail("pass did not finish before --timeout");
    std::this_thread::sleep_for(std::chrono::milliseconds(FLAGS_poll_ms));
  }
  double wall = Seconds(Clock::now() - start);
  std::cout << absl::StrFormat("{\"wall\": %.6f, \"polls\": %d, \"status\": %s}\n", wall, polls, ToJson(now));
  return 0;
}

int SqliteInsert() {
  if (FLAGS_db.empty()) return Fail("--db is required");
  auto conn = dbrepl::SqliteConnection::Open(FLAGS_db, {});
  if (!conn.ok()) return Fail(conn.status().ToString());
  auto st = (*conn)->Prepare(
      "INSERT INTO object (name, created_at, size, content_type, etag, deleted, storage_policy_index) "
      "VALUES (?, ?, ?, ?, ?, 0, 0)");
  if (!st.ok()) return Fail(st.status().ToString());
  auto start = Clock::now();
  for (int64_t lo = 0; lo < FLAGS_rows; lo += FLAGS_batch) {
    auto txn = dbrepl::Transaction::Begin(conn->get());
    if (!txn.ok()) return Fail(txn.status().ToString());
    for (int64_t i = lo; i < std::min<int64_t>(FLAGS_rows, lo + FLAGS_batch); ++i) {
      // The same rows as bench.py's Python loop: name, Swift timestamp, size, type, etag.
      st->BindText(1, absl::StrFormat("%s-%08d", FLAGS_prefix, i));
      st->BindText(2, absl::StrFormat("%016.5f", 1700000000.0 + i * 0.001));
      st->BindInt(3, i);
      st->BindText(4, "application/octet-stream");
      st->BindText(5, absl::StrFormat("%032x", i));
      if (absl::Status s = st->Run(); !s.ok()) return Fail(s.ToString());
      st->Reset();
    }
    if (absl::Status s = txn->Commit(); !s.ok()) return Fail(s.ToString());
  }
  double wall = Seconds(Clock::now() - start);
  std::cout << absl::StrFormat("{\"rows\": %d, \"batch\": %d, \"seconds\": %.6f, \"rows_per_s\": %.1f}\n",
                               FLAGS_rows, FLAGS_batch, wall, FLAGS_rows / wall);
  return 0;
}

// Every "*.db" file below `root`, depth first.
std::vector<std::string> DbFilesUnder(const std::string& root) {
  std::vector<std::string> files;
  std::function<void(const std::string&)> walk = [&](const std::string& dir) {
    absl::StatusOr<std::vector<std::string>> names = dbrepl::ListDirectory(dir);
    if (!names.ok()) return;
    for (const std::string& n : *names) {
      std::string path = dir + "/" + n;
      if (absl::EndsWith(n, ".db")) {
        files.push_back(path);
      } else if (dbrepl::IsDirectory(path)) {
        walk(path);
      }
    }
  };
  walk(root);
  return files;
}

// read-state: the cold-cache read of every database under --dir (what a
// replicator pays per database on first contact), for profiling.
int ReadState() {
  std::vector<std::string> files = DbFilesUnder(FLAGS_dir);
  dbrepl::StateCache cache;
  auto start = Clock::now();
  int ok = 0;
  for (int round = 0; round < FLAGS_rounds; ++round) {
    for (const std::string& f : files) {
      auto r = cache.Read(dbrepl::DbType::kContainer, f, dbrepl::BrokerOptions());
      ok += r.ok() ? 1 : 0;
    }
  }
  double wall = Seconds(Clock::now() - start);
  std::cout << absl::StrFormat("{\"databases\": %d, \"rounds\": %d, \"seconds\": %.6f, \"us_per_db\": %.1f}\n",
                               static_cast<int>(files.size()), FLAGS_rounds, wall,
                               wall * 1e6 / std::max<size_t>(1, files.size() * FLAGS_rounds));
  return ok > 0 ? 0 : 1;
}

// install: the receiving side of a new replica, without rsync or gRPC.
int Install() {
  std::vector<std::string> files = DbFilesUnder(FLAGS_dir);
  if (files.size() > static_cast<size_t>(FLAGS_limit)) files.resize(FLAGS_limit);
  const std::string tmp = FLAGS_out + "/sda/tmp";
  if (!dbrepl::MakeDirs(tmp).ok()) return Fail("cannot make " + tmp);
  std::vector<std::pair<dbrepl::v1::DbRef, std::string>> work;
  for (size_t i = 0; i < files.size(); ++i) {
    // .../<datadir>/<part>/<suffix>/<hash>/<hash>.db
    std::vector<std::string> parts = absl::StrSplit(files[i], '/');
    if (parts.size() < 5) continue;
    dbrepl::v1::DbRef ref;
    ref.set_type(dbrepl::v1::CONTAINER);
    ref.set_device("sda");
    ref.set_partition(std::stoll(parts[parts.size() - 4]));
    ref.set_hash(parts[parts.size() - 2]);
    std::string name = absl::StrCat("upload-", i);
    absl::StatusOr<std::string> bytes = dbrepl::Env::Default()->ReadFile(files[i]);
    if (!bytes.ok() || !dbrepl::Env::Default()->WriteNewFile(tmp + "/" + name, *bytes, 0644).ok()) {
      return Fail("cannot copy " + files[i]);
    }
    work.emplace_back(ref, name);
  }
  dbrepl::peer::DbLocator locator(FLAGS_out, /*mount_check=*/false);
  dbrepl::peer::ReplicatorRpc rpc;
  sync();  // The copies' writeback is not the install's.
  auto start = Clock::now();
  timespec cpu0;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0);
  int ok = 0;
  for (auto& [ref, name] : work) {
    absl::StatusOr<dbrepl::peer::LocatedDb> db = locator.Locate(ref);
    if (!db.ok()) return Fail(std::string(db.status().message()));
    absl::StatusOr<std::string> id = rpc.CompleteRsync(*db, name, "", absl::Now() + absl::Seconds(30));
    ok += id.ok() ? 1 : 0;
    if (!id.ok()) std::cerr << id.status() << "\n";
  }
  double wall = Seconds(Clock::now() - start);
  timespec cpu1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
  double cpu = (cpu1.tv_sec - cpu0.tv_sec) + (cpu1.tv_nsec - cpu0.tv_nsec) / 1e9;
  std::cout << absl::StrFormat(
      "{\"databases\": %d, \"installed\": %d, \"seconds\": %.6f, \"us_per_db\": %.1f, \"cpu_us_per_db\": %.1f}\n",
      static_cast<int>(work.size()), ok, wall, wall * 1e6 / std::max<size_t>(1, work.size()),
      cpu * 1e6 / std::max<size_t>(1, work.size()));
  return ok == static_cast<int>(work.size()) ? 0 : 1;
}

// merge: the receiving side of a usync, in-process.
int Merge() {
  std::vector<std::string> sources;
  for (int k = 0; k < FLAGS_limit; ++k) {
    std::string f = absl::StrFormat("%s/%06d.full.db", FLAGS_data, k);
    if (!dbrepl::Env::Default()->Stat(f).ok()) break;
    sources.push_back(f);
  }
  if (sources.empty()) return Fail("no <k>.full.db under --data");
  if (!dbrepl::MakeDirs(FLAGS_out).ok()) return Fail("cannot make " + FLAGS_out);
  struct Work {
    std::string target;
    dbrepl::ItemBatch rows;
    std::string source_id;
    std::vector<dbrepl::SyncRecord> syncs;
  };
  std::vector<Work> work;
  for (size_t k = 0; k < sources.size(); ++k) {
    Work w;
    w.target = absl::StrFormat("%s/%06d.db", FLAGS_out, k);
    absl::StatusOr<std::string> bytes = dbrepl::Env::Default()->ReadFile(sources[k]);
    if (!bytes.ok()) return Fail("cannot read " + sources[k]);
    (void)dbrepl::Env::Default()->RemoveFile(w.target);
    if (!dbrepl::Env::Default()->WriteNewFile(w.target, *bytes, 0644).ok()) return Fail("cannot copy " + sources[k]);
    auto source = dbrepl::DatabaseBroker::Open(dbrepl::DbType::kContainer, sources[k], dbrepl::BrokerOptions());
    if (!source.ok()) return Fail(source.status().ToString());
    auto info = (*source)->GetReplicationInfo();
    if (!info.ok()) return Fail(info.status().ToString());
    const int64_t from = info->max_row - FLAGS_missing;
    auto rows = (*source)->GetItemsSince(from, FLAGS_missing);
    auto syncs = (*source)->GetSyncs(/*incoming=*/true);
    if (!rows.ok() || !syncs.ok()) return Fail("cannot read rows of " + sources[k]);
    w.rows = *std::move(rows);
    w.source_id = "bench-sender";
    w.syncs = *std::move(syncs);
    {
      // The copy lacks the rows: delete them (untimed), as a lagging replica would not have them.
      auto conn = dbrepl::SqliteConnection::Open(w.target, {});
      if (!conn.ok()) return Fail(conn.status().ToString());
      if (absl::Status s = (*conn)->Execute(absl::StrCat("DELETE FROM object WHERE ROWID > ", from)); !s.ok()) {
        return Fail(s.ToString());
      }
    }
    work.push_back(std::move(w));
  }
  sync();
  auto start = Clock::now();
  timespec cpu0;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0);
  int ok = 0;
  size_t rows = 0;
  dbrepl::BrokerOptions options;
  options.batch_object_triggers = !FLAGS_per_row_triggers;
  for (Work& w : work) {
    auto broker = dbrepl::DatabaseBroker::Open(dbrepl::DbType::kContainer, w.target, options);
    if (!broker.ok()) return Fail(broker.status().ToString());
    auto r = (*broker)->MergeItemsAndSyncs(w.rows, w.source_id, w.syncs);
    if (!r.ok()) return Fail(r.status().ToString());
    ok += 1;
    rows += w.rows.objects.size();
  }
  double wall = Seconds(Clock::now() - start);
  timespec cpu1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
  double cpu = (cpu1.tv_sec - cpu0.tv_sec) + (cpu1.tv_nsec - cpu0.tv_nsec) / 1e9;
  std::cout << absl::StrFormat(
      "{\"databases\": %d, \"rows\": %d, \"seconds\": %.6f, \"us_per_db\": %.1f, \"cpu_us_per_db\": %.1f}\n", ok,
      static_cast<int>(rows), wall, wall * 1e6 / ok, cpu * 1e6 / ok);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage("bench_client rtt|pass|sqlite-insert|read-state|install|merge [flags]  (see bench/bench_client.cc)");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (argc != 2) return Fail("expected one subcommand: rtt, pass or sqlite-insert");
  std::string cmd = argv[1];
  if (cmd == "rtt") return Rtt();
  if (cmd == "pass") return Pass();
  if (cmd == "sqlite-insert") return SqliteInsert();
  if (cmd == "read-state") return ReadState();
  if (cmd == "install") return Install();
  if (cmd == "merge") return Merge();
  return Fail("unknown subcommand " + cmd);
}
