#!/usr/bin/env bash
# The benchmark: dbrepl against Swift's own container replicator (docs/performance.md).
#
#   bench/run.sh [--n 1000] [--m 1000] [--cases first,steady,rsync,usync,rtm,limits,memory | all]
#                [--agent-mode daemon|once] [--workdir DIR] [--keep] [--profile perf|strace]
#
# Installs missing Debian packages (./run setup), builds dbrepl with -c opt, then runs
# bench/bench.py with Debian's python3 (python3-swift lives there). `bench/run.sh --help` lists
# every option.
set -euo pipefail
cd "$(dirname "$0")/.."
./run setup
bazel build -c opt //peer:dbrepl-peer //agent:dbrepl-agent //tools:dbreplctl //bench:bench_client
exec /usr/bin/python3 bench/bench.py --bin-dir "$(bazel info -c opt bazel-bin 2>/dev/null)" "$@"
