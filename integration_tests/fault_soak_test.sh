#!/bin/bash
# Runs the fault soak (fault_soak.py) with Debian's Python, which has
# python3-swift (the python3 on PATH may be another interpreter without it).
# Args: $1 = dbrepl-peer, $2 = dbrepl-agent, $3 = dbreplctl, $4 = fault_soak.py.
# Knobs are environment variables (SOAK_SECONDS, SOAK_DBS, SOAK_SEED,
# SOAK_FAULTS, ...; see fault_soak.py), e.g.
#   bazel test //integration_tests:fault_soak_test --test_env=SOAK_SEED=42 --test_env=SOAK_FAULTS=0
set -euo pipefail
if [[ ! -x /usr/bin/python3 ]] || ! /usr/bin/python3 -c 'import swift' 2>/dev/null; then
  echo "fault_soak_test: /usr/bin/python3 with python3-swift is required" >&2
  exit 1
fi
command -v rsync >/dev/null || { echo "fault_soak_test: rsync is required" >&2; exit 1; }
exec /usr/bin/python3 "$4" "$1" "$2" "$3"
