#!/bin/bash
# Runs check_test.py with Debian's Python, which has python3-swift (the
# python3 on PATH may be another interpreter without it).
# Args: $1 = dbrepl-peer, $2 = dbrepl-agent, $3 = dbreplctl,
# $4 = fault_soak.py (its cluster harness), $5 = check_test.py.
set -euo pipefail
if [[ ! -x /usr/bin/python3 ]] || ! /usr/bin/python3 -c 'import swift' 2>/dev/null; then
  echo "check_test: /usr/bin/python3 with python3-swift is required" >&2
  exit 1
fi
command -v rsync >/dev/null || { echo "check_test: rsync is required" >&2; exit 1; }
exec /usr/bin/python3 "$5" "$1" "$2" "$3" "$4"
