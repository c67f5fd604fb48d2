#!/usr/bin/env bash
# Runs the manifest policy checks with Debian's Python (python3-yaml), giving
# it the flag names each binary really defines.
set -euo pipefail
flags() { "$1" --helpxml 2>/dev/null | grep -o '<name>[^<]*</name>' | sed 's/<[^>]*>//g' | tr '\n' ' ' || true; }
PEER_FLAGS=$(flags "$1")
AGENT_FLAGS=$(flags "$2")
export PEER_FLAGS AGENT_FLAGS
exec /usr/bin/python3 "$(dirname "$0")/manifest_policy_test.py" -v
