#!/bin/bash
# Runs a test built on swift_cluster.py with Debian's Python, which has
# python3-swift (the python3 on PATH may be another interpreter without it).
# Args: $1 = the test script, $2 = dbrepl-peer, $3 = dbrepl-agent,
# $4 = dbreplctl.
set -euo pipefail
if [[ ! -x /usr/bin/python3 ]] || ! /usr/bin/python3 -c 'import swift' 2>/dev/null; then
  echo "$(basename "$1"): /usr/bin/python3 with python3-swift is required" >&2
  exit 1
fi
command -v rsync >/dev/null || { echo "$(basename "$1"): rsync is required" >&2; exit 1; }
exec /usr/bin/python3 "$1" "$2" "$3" "$4"
