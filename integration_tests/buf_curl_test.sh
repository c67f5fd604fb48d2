#!/usr/bin/env bash
# What an operator does with `buf curl` (Debian has no grpcurl), against real
# processes: list services through reflection on the peer and the agent, call
# ReplicationPeer/Sync, ask the agent for its status, and check health with
# the schema from Debian's grpc-proto; and that dbreplctl reports the same
# error reasons. buf comes from tools/buf (npm install, done by `./run setup`).
set -euo pipefail
PEER=$1 AGENT=$2 CTL=$3 BUF_PKG=$4
BUF="$(dirname "$(readlink -f "$BUF_PKG")")/node_modules/.bin/buf"
if [ ! -x "$BUF" ]; then
  echo "FAIL: $BUF is missing; run ./run setup (it installs buf into tools/buf)" >&2
  exit 1
fi
W=$TEST_TMPDIR
mkdir -p "$W/srv/node/sda" "$W/swift"
printf '[swift-hash]\nswift_hash_path_suffix = buf\n' > "$W/swift/swift.conf"
"$CTL" ring create "$W/swift/container.ring.gz" --force --part-power 2 --replicas 1 --device 1/1/127.0.0.1:6201/sda >/dev/null
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PP=$(port); AP=$(port)
"$PEER" --bind_ip=127.0.0.1 --bind_port="$PP" --devices="$W/srv/node" --mount_check=false --swift_dir="$W/swift" \
  >"$W/peer.log" 2>&1 &
PEER_PID=$!
"$AGENT" --bind_ip=127.0.0.1 --bind_port=6201 --devices="$W/srv/node" --mount_check=false --swift_dir="$W/swift" \
  --admin_port="$AP" --interval=3600 --recon_cache_path="$W/recon" >"$W/agent.log" 2>&1 &
AGENT_PID=$!
trap 'kill $PEER_PID $AGENT_PID 2>/dev/null || true; wait' EXIT
"$CTL" health "127.0.0.1:$PP" --service readiness --wait --timeout 60 >/dev/null
"$CTL" health "127.0.0.1:$AP" --service dbrepl.v1.ReplicationAgent --wait --timeout 60 >/dev/null

# gRPC 1.51 serves reflection v1alpha only; say so rather than rely on fallback.
CURL=("$BUF" curl --protocol grpc --http2-prior-knowledge --reflect-protocol grpc-v1alpha)
fail() { echo "FAIL: $*" >&2; exit 1; }

services=$("${CURL[@]}" --list-services "http://127.0.0.1:$PP")
grep -qx dbrepl.v1.ReplicationPeer <<<"$services" || fail "peer services: $services"
services=$("${CURL[@]}" --list-services "http://127.0.0.1:$AP")
grep -qx dbrepl.v1.ReplicationAgent <<<"$services" || fail "agent services: $services"
# --list-methods walks every service; it ends in an error on grpc.health.v1
# (gRPC 1.51's reflection cannot describe it), after listing ours.
methods=$("${CURL[@]}" --list-methods "http://127.0.0.1:$PP" 2>/dev/null || true)
for m in Sync MergeItems MergeSyncs CompleteRsync RsyncThenMerge; do
  grep -qx "dbrepl.v1.ReplicationPeer/$m" <<<"$methods" || fail "no method $m in: $methods"
done

# Sync on a database the peer does not have: NOT_FOUND with the reason.
set +e
out=$("${CURL[@]}" -v -d '{"db":{"type":"CONTAINER","device":"sda","partition":1,"hash":"e8fbcd486a77117e2cd3398aa1f9485f"},"id":"operator","hash":"00000000000000000000000000000000","created_at":"0000000001.00000","put_timestamp":"0","delete_timestamp":"0"}' \
  "http://127.0.0.1:$PP/dbrepl.v1.ReplicationPeer/Sync" 2>&1)
set -e
grep -q '"code": "not_found"' <<<"$out" || fail "Sync answer: $out"
grep -qi 'dbrepl-error-reason: DB_NOT_FOUND' <<<"$out" || fail "Sync reason missing: $out"

# Bad input: traversal in the device name is INVALID_ARGUMENT.
set +e
out=$("${CURL[@]}" -d '{"db":{"type":"CONTAINER","device":"../etc","partition":1,"hash":"e8fbcd486a77117e2cd3398aa1f9485f"},"id":"x"}' \
  "http://127.0.0.1:$PP/dbrepl.v1.ReplicationPeer/Sync" 2>&1)
set -e
grep -q '"code": "invalid_argument"' <<<"$out" || fail "traversal answer: $out"

# dbreplctl converts errors as every client does and names the reason.
set +e
out=$("$CTL" replicate "127.0.0.1:$AP" --type container --device sda --partition 1 \
  --hash e8fbcd486a77117e2cd3398aa1f9485f 2>&1)
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "dbreplctl replicate of a missing database exited $rc: $out"
grep -q "127.0.0.1:$AP: NOT_FOUND (DB_NOT_FOUND): " <<<"$out" || fail "dbreplctl replicate error: $out"

# The agent's status.
out=$("${CURL[@]}" -d '{}' "http://127.0.0.1:$AP/dbrepl.v1.ReplicationAgent/GetStatus")
grep -q '"type": "CONTAINER"' <<<"$out" || fail "GetStatus: $out"

# Health, with the schema reflection cannot give in gRPC 1.51.
# (buf takes the schema path relative to the working directory.)
out=$(cd /usr/share/grpc-proto/grpc/health/v1 && "$BUF" curl --protocol grpc --http2-prior-knowledge --schema health.proto -d '{"service":"liveness"}' \
  "http://127.0.0.1:$PP/grpc.health.v1.Health/Check")
grep -q '"status": "SERVING"' <<<"$out" || fail "health: $out"
echo "PASS: buf curl lists, calls and health-checks the peer and the agent"
