#!/usr/bin/env bash
# The local demo: starts a dbrepl-peer and a dbrepl-agent on loopback, shows
# them healthy over gRPC, then stops them with SIGTERM. (Run through
# `./run demo`, which builds first.)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=bazel-bin
WORK=${DEMO_DIR:-$(mktemp -d /tmp/dbrepl-demo.XXXXXX)}
mkdir -p "$WORK/node1/srv/node/sda" "$WORK/logs"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

PEER_PORT=$(free_port)
AGENT_PORT=$(free_port)
echo "== starting dbrepl-peer on 127.0.0.1:$PEER_PORT and dbrepl-agent on 127.0.0.1:$AGENT_PORT (logs in $WORK/logs)"
$BIN/peer/dbrepl-peer --bind_ip=127.0.0.1 --bind_port="$PEER_PORT" --devices="$WORK/node1/srv/node" \
  --mount_check=false >"$WORK/logs/peer.log" 2>&1 &
PIDS+=($!)
$BIN/agent/dbrepl-agent --admin_ip=127.0.0.1 --admin_port="$AGENT_PORT" --devices="$WORK/node1/srv/node" \
  >"$WORK/logs/agent.log" 2>&1 &
PIDS+=($!)

echo "== health"
$BIN/tools/dbreplctl health "127.0.0.1:$PEER_PORT" --service liveness
$BIN/tools/dbreplctl health "127.0.0.1:$PEER_PORT" --service readiness
$BIN/tools/dbreplctl health "127.0.0.1:$PEER_PORT" --service dbrepl.v1.ReplicationPeer
$BIN/tools/dbreplctl health "127.0.0.1:$AGENT_PORT" --service dbrepl.v1.ReplicationAgent

echo "== stopping (SIGTERM)"
cleanup
PIDS=()
tail -n 3 "$WORK/logs/peer.log"
echo "== demo finished"
