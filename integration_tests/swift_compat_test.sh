#!/bin/bash
# Runs swift_compat_test.py with Debian's Python, which has python3-swift
# (the python3 on PATH may be another interpreter without it).
# Args: $1 = dbreplctl, $2 = swift_compat_test.py (both from runfiles).
set -euo pipefail
if [[ ! -x /usr/bin/python3 ]] || ! /usr/bin/python3 -c 'import swift' 2>/dev/null; then
  echo "swift_compat_test: /usr/bin/python3 with python3-swift is required" >&2
  exit 1
fi
exec /usr/bin/python3 "$2" "$1"
