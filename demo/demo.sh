#!/usr/bin/env bash
# The local demo: a three-node Swift-like cluster on loopback (127.0.0.1-3),
# each node with a dbrepl-peer (running its own rsync daemon) and a
# dbrepl-agent, replicating real container databases that start out diverged:
# some exist on one node only, one was written differently on two nodes.
# Run it through `./run demo`, which builds first.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/bazel-bin
CTL=$BIN/tools/dbreplctl
WORK=${DEMO_DIR:-$(mktemp -d /tmp/dbrepl-demo.XXXXXX)}
SWIFT=$WORK/etc/swift
mkdir -p "$SWIFT" "$WORK/logs"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

free_port() { python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$1"; }

IPS=(127.0.0.1 127.0.0.2 127.0.0.3)
DEVS=(sda sdb sdc)
PORTS=()
for i in 0 1 2; do PORTS+=("$(free_port "${IPS[$i]}")"); done
RSYNC_PORT=$(free_port 127.0.0.1)
RSYNC_MODULE="rsync://{replication_ip}:$RSYNC_PORT/container"

echo "== a ring of three nodes, three replicas (in $WORK)"
printf '[swift-hash]\nswift_hash_path_prefix = demo-prefix\nswift_hash_path_suffix = demo-suffix\n' > "$SWIFT/swift.conf"
$CTL ring create "$SWIFT/container.ring.gz" --part-power 6 --replicas 3 \
  --device "1/1/${IPS[0]}:${PORTS[0]}/sda" --device "1/2/${IPS[1]}:${PORTS[1]}/sdb" \
  --device "1/3/${IPS[2]}:${PORTS[2]}/sdc"

echo "== starting a dbrepl-peer (with its rsync daemon) on each node"
for i in 0 1 2; do
  mkdir -p "$WORK/node$i/srv/node/${DEVS[$i]}" "$WORK/node$i/run"
  "$BIN/peer/dbrepl-peer" --bind_ip="${IPS[$i]}" --bind_port="${PORTS[$i]}" \
    --devices="$WORK/node$i/srv/node" --mount_check=false --swift_dir="$SWIFT" \
    --rsync_daemon --rsync_port="$RSYNC_PORT" --rsync_state_dir="$WORK/node$i/run" \
    >"$WORK/logs/peer$i.log" 2>&1 &
  PIDS+=($!)
done
for i in 0 1 2; do $CTL health "${IPS[$i]}:${PORTS[$i]}" --service readiness --wait --timeout 60; done

# The path of account/container's database on node i.
db_path() {
  $CTL ring nodes "$SWIFT/container.ring.gz" "$2" "$3" --swift-dir "$SWIFT" --devices "$WORK/node$1/srv/node" |
    awk -v ip="${IPS[$1]}:${PORTS[$1]}" '$1 == "primary" && $3 == ip {print $4}'
}
make_db() {  # node account container first count
  local path
  path=$(db_path "$1" "$2" "$3")
  $CTL create "$path" --account "$2" --container "$3" --put-timestamp 1700000000.00000 >/dev/null
  for ((k = $4; k < $4 + $5; k++)); do
    $CTL put "$path" "object-$k" --timestamp "$((1700000100 + k)).00000" --size $((k * 100)) >/dev/null
  done
}

echo "== writing diverged databases: each container starts on one node only; 'shared' differs on two nodes"
make_db 0 AUTH_demo photos 0 12
make_db 1 AUTH_demo docs 0 7
make_db 2 AUTH_demo logs 0 25
make_db 0 AUTH_demo shared 0 10
make_db 1 AUTH_demo shared 100 5

show() {
  printf '%-8s' container; for i in 0 1 2; do printf '  %-44s' "node$i (objects hash)"; done; echo
  for c in photos docs logs shared; do
    printf '%-8s' "$c"
    for i in 0 1 2; do
      local p
      p=$(db_path "$i" AUTH_demo "$c")
      if [ -f "$p" ]; then
        $CTL info "$p" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("  %-44s" % ("%d %s" % (d["count"], d["hash"])), end="")'
      else
        printf '  %-44s' "-"
      fi
    done
    echo
  done
}
show

echo "== dbreplctl check before the pass: what differs, and what the next pass will do (exit 1: replicas differ)"
if $CTL check "$SWIFT/container.ring.gz"; then
  echo "check found nothing to do before the pass: the demo data did not diverge" >&2
  exit 1
fi

echo "== one replication pass on every node (dbrepl-agent --once)"
for i in 0 1 2; do
  "$BIN/agent/dbrepl-agent" --server_type=container --once --bind_ip="${IPS[$i]}" --bind_port="${PORTS[$i]}" \
    --devices="$WORK/node$i/srv/node" --mount_check=false --swift_dir="$SWIFT" --rsync_module="$RSYNC_MODULE" \
    --recon_cache_path="$WORK/node$i/recon" --databases_per_second=0 >"$WORK/logs/agent$i-once.log" 2>&1
  grep -E "Attempted|successes|no_change" "$WORK/logs/agent$i-once.log" | sed 's/^[^]]*] /   node'"$i"': /'
done
echo "== after the pass: every replica has every row, and the hashes agree"
show
echo "== dbreplctl check after the pass"
$CTL check "$SWIFT/container.ring.gz"

echo "== an agent daemon with its admin API; run a pass now and read its status"
ADMIN_PORT=$(free_port 127.0.0.1)
"$BIN/agent/dbrepl-agent" --server_type=container --bind_ip="${IPS[0]}" --bind_port="${PORTS[0]}" \
  --devices="$WORK/node0/srv/node" --mount_check=false --swift_dir="$SWIFT" --rsync_module="$RSYNC_MODULE" \
  --recon_cache_path="$WORK/node0/recon" --admin_ip=127.0.0.1 --admin_port="$ADMIN_PORT" --interval=3600 \
  >"$WORK/logs/agent0-daemon.log" 2>&1 &
PIDS+=($!)
$CTL health "127.0.0.1:$ADMIN_PORT" --service dbrepl.v1.ReplicationAgent --wait --timeout 60
$CTL run-pass "127.0.0.1:$ADMIN_PORT" >/dev/null
for _ in $(seq 1 100); do
  if $CTL status "127.0.0.1:$ADMIN_PORT" | grep -q '"passes_completed": "[1-9]'; then break; fi
  sleep 0.2
done
$CTL status "127.0.0.1:$ADMIN_PORT" | python3 -c '
import json, sys
s = json.load(sys.stdin)
last = s["last"]
print("   passes completed: %s, last pass: %s/%s dbs, succeeded: %s" % (
    s["passes_completed"], last["databases_done"], last["databases_total"], last["succeeded"]))
print("   stats:", {k: v for k, v in last["stats"].items() if v not in ("0", 0, {})})'
echo "== recon cache (as swift-recon reads it):"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("   replication_time %.3fs, attempted %d, success %d, failure %d" % (d["replication_time"], d["replication_stats"]["attempted"], d["replication_stats"]["success"], d["replication_stats"]["failure"]))' "$WORK/node0/recon/container.recon"

echo "== stopping everything (SIGTERM)"
cleanup
PIDS=()
echo "== demo finished; logs in $WORK/logs"
