#!/usr/bin/env bash
# Fails if any file given includes a gRPC or protobuf header. The base of
# //common and the storage layer (//common/db) are built without the wire:
# only //common/rpc and the services convert to and from it. Bazel visibility
# keeps //proto out of their deps; this keeps the system headers out too
# (Debian installs grpcpp/ where any file could include it).
set -euo pipefail
[ "$#" -gt 0 ] || { echo "FAIL: no files to check" >&2; exit 1; }
pattern='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]((grpc|grpcpp|google/protobuf)/|[^">]*\.pb\.h[">])'
if bad=$(grep -nE "$pattern" "$@"); then
  echo "FAIL: gRPC or protobuf included below the service edge (use common/errors.h;" \
       "conversions belong in common/rpc):" >&2
  echo "$bad" >&2
  exit 1
fi
echo "PASS: none of $# files includes a gRPC or protobuf header"
