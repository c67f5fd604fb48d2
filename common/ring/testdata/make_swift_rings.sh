#!/bin/sh
# Regenerates the Swift-built rings in this directory with Debian's
# swift-ring-builder (python3-swift 2.30.1). Run from this directory:
#   sh make_swift_rings.sh
# The expected primaries/handoffs in ring_test.cc were printed by
# swift.common.ring.Ring on these files (see dump_swift_nodes.py).
set -eu
PY=/usr/bin/python3
RB=/usr/bin/swift-ring-builder
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

build() {  # name part_power replicas
  b="$tmp/$1.builder"
  $PY $RB "$b" create "$2" "$3" 1 >/dev/null
  w=100
  for rz in 1/1 1/2 1/3 2/1 2/2; do
    r=${rz%/*}; z=${rz#*/}
    for host in 1 2; do
      for dev in sdb sdc; do
        $PY $RB "$b" add "r${r}z${z}-10.${r}.${z}.${host}:6201R10.9.${z}.${host}:6301/${dev}_meta-${w}" $w >/dev/null
        w=$(( w == 100 ? 50 : 100 ))
      done
    done
  done
  # A weight-0 device (never assigned) and a removed one (a hole in devs).
  $PY $RB "$b" add "r2z2-10.2.2.9:6201/sdz" 0 >/dev/null
  $PY $RB "$b" add "r1z1-10.1.1.9:6201/sdy" 100 >/dev/null
  $PY $RB "$b" remove "r1z1-10.1.1.9:6201/sdy" >/dev/null
  $PY $RB "$b" rebalance -s 1 >/dev/null || true
  cp "$tmp/$1.ring.gz" "./$1.ring.gz"
}

build swift_container 8 3
build swift_fractional 6 2.5
