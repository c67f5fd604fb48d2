#!/bin/bash
# Swift and dbrepl agree on rings, both ways:
#  1. a ring built and rebalanced by Debian's swift-ring-builder: for several
#     accounts and containers `dbreplctl ring nodes --all` prints the same
#     partition, hash, primaries and handoffs (in order) as swift-get-nodes,
#     and the same for every partition as Swift's Ring class; `ring show`
#     reads it;
#  2. rings made by `dbreplctl ring create` (including one with 2^17
#     partitions, where handoff scanning steps by 2) are read by Swift's Ring
#     class with the same devices, primaries and handoffs.
# Usage: ring_compat_test.sh DBREPLCTL RING_COMPAT_DUMP_PY
set -euo pipefail

CTL="$PWD/$1"
DUMP="$PWD/$2"
PY=/usr/bin/python3  # Debian's, which has swift (PATH's may not)
T="${TEST_TMPDIR:-$(mktemp -d)}/ring_compat"
rm -rf "$T"
mkdir -p "$T/swift" "$T/ours"
cd "$T"

fail() { echo "FAIL: $*" >&2; exit 1; }

# swift-get-nodes reads <swift_dir>/swift.conf (-d); SWIFT_CONF_FILE for
# newer Swift releases.
printf '[swift-hash]\nswift_hash_path_prefix = compat-prefix\nswift_hash_path_suffix = compat-suffix\n' \
  > "$T/swift/swift.conf"
cp "$T/swift/swift.conf" "$T/ours/swift.conf"
export SWIFT_CONF_FILE="$T/swift/swift.conf"

# --- 1. A ring built by Swift ------------------------------------------------
rb() { "$PY" /usr/bin/swift-ring-builder "$@" > /dev/null; }
for type in container account; do
  b="$T/swift/$type.builder"
  rb "$b" create 10 3 1
  w=100
  adds=()  # one "add" of many devices: each swift-ring-builder run costs a second
  for rz in 1/1 1/2 2/1 2/2 3/1; do
    r=${rz%/*}; z=${rz#*/}
    for host in 1 2; do
      for dev in sdb sdc; do
        adds+=("r${r}z${z}-10.${r}.${z}.${host}:6201R10.9.${z}.${host}:6301/${dev}_m${w}" "$w")
        w=$(( w == 100 ? 60 : 100 ))
      done
    done
  done
  adds+=("r1z1-10.1.1.9:6201/sdz" 0)
  rb "$b" add "${adds[@]}"
  rc=0; rb "$b" rebalance || rc=$?
  [ "$rc" -le 1 ] || fail "swift-ring-builder rebalance exited $rc"
done
RING="$T/swift/container.ring.gz"
ARING="$T/swift/account.ring.gz"
[ -s "$RING" ] && [ -s "$ARING" ] || fail "swift-ring-builder wrote no ring"

keep() { grep -E '^(Partition|Hash|Server:Port Device)' || true; }

compare_names() {  # ring, then account [container]
  local ring=$1; shift
  "$PY" /usr/bin/swift-get-nodes -a -d "$T/swift" "$ring" "$@" 2>/dev/null | keep > swift.out
  "$CTL" ring nodes "$ring" "$@" --all --swift-dir "$T/ours" | keep > ours.out
  [ "$(grep -c 'Server:Port' swift.out)" -ge 3 ] || fail "swift-get-nodes printed no nodes for $*"
  diff -u swift.out ours.out || fail "ring nodes $* differs from swift-get-nodes"
}
for target in "a c" "AUTH_test photos" "AUTH_test photos_2" "AUTH_0123456789abcdef x" "acct ünïcødé"; do
  # shellcheck disable=SC2086
  compare_names "$RING" $target
done
for account in a AUTH_test AUTH_other; do
  compare_names "$ARING" "$account"
done
echo "swift-get-nodes and dbreplctl agree on names"

# Every partition, handoffs included, against Swift's Ring class.
"$PY" "$DUMP" "$RING" $(seq 0 1023) | grep -v '^Device' > swift_parts.out
partition_flags() { for p in "$@"; do printf -- '--partition=%s ' "$p"; done; }
# shellcheck disable=SC2046
"$CTL" ring nodes "$RING" $(partition_flags $(seq 0 1023)) --all | keep | grep -v '^Hash' > ours_parts.out
diff -u swift_parts.out ours_parts.out > parts.diff || { head -40 parts.diff; fail "partition nodes differ"; }
[ "$(grep -c '^Partition' ours_parts.out)" -eq 1024 ] || fail "expected 1024 partitions"
echo "all 1024 partitions agree"

"$CTL" ring show "$RING" > show.out
grep -q '^1024 partitions (part power 10), 3.00 replicas, 3 regions, 5 zones, 21 devices' show.out \
  || { cat show.out; fail "ring show summary"; }
[ "$(grep -cE '^ +[0-9]+ +[0-9]+ +[0-9]+ ' show.out)" -eq 21 ] || { cat show.out; fail "ring show devices"; }
grep -qE '^ +20 +1 +1 +10\.1\.1\.9:6201 +10\.1\.1\.9:6201 +sdz +0\.00 +0 +0\.00' show.out \
  || { cat show.out; fail "ring show weight-0 device"; }
echo "ring show reads Swift's ring"

# --- 2. Rings built by dbreplctl, read by Swift ------------------------------
make_ring() {  # path part_power replicas
  "$CTL" ring create "$1" --part-power "$2" --replicas "$3" \
    --device 1/1/10.1.1.1:6201/sdb/100 --device r1z1-10.1.1.1:6201R10.9.1.1:6301/sdc_fast/50 \
    --device 1/1/10.1.1.2:6201/sdb/100 --device 1/2/10.1.2.1:6201/sdb/100 \
    --device 1/2/10.1.2.2:6201/sdb/100 --device 2/1/10.2.1.1:6201/sdb/200 \
    --device 2/1/10.2.1.1:6201/sdc/200 --device 2/3/10.2.3.1:6201/sdb/100 \
    --device "r3z1-[fd00::31]:6201R[fd00::931]:6301/sdb/80" --device 1/1/10.1.1.9:6201/sdz/0 > /dev/null
}
make_ring "$T/ours/container.ring.gz" 8 3
make_ring "$T/ours/big.ring.gz" 17 2.5

"$PY" "$DUMP" "$T/ours/container.ring.gz" $(seq 0 255) > swift_ours.out
grep '^Device' swift_ours.out > swift_devs.out
cat > want_devs.out <<'DEVS'
Device	0 1 1 10.1.1.1 6201 10.1.1.1 6201 sdb 100.0 
Device	1 1 1 10.1.1.1 6201 10.9.1.1 6301 sdc 50.0 fast
Device	2 1 1 10.1.1.2 6201 10.1.1.2 6201 sdb 100.0 
Device	3 1 2 10.1.2.1 6201 10.1.2.1 6201 sdb 100.0 
Device	4 1 2 10.1.2.2 6201 10.1.2.2 6201 sdb 100.0 
Device	5 2 1 10.2.1.1 6201 10.2.1.1 6201 sdb 200.0 
Device	6 2 1 10.2.1.1 6201 10.2.1.1 6201 sdc 200.0 
Device	7 2 3 10.2.3.1 6201 10.2.3.1 6201 sdb 100.0 
Device	8 3 1 fd00::31 6201 fd00::931 6301 sdb 80.0 
Device	9 1 1 10.1.1.9 6201 10.1.1.9 6201 sdz 0.0 
DEVS
diff -u want_devs.out swift_devs.out || fail "Swift reads different devices from dbreplctl's ring"
grep -v '^Device' swift_ours.out > swift_ours_parts.out
# shellcheck disable=SC2046
"$CTL" ring nodes "$T/ours/container.ring.gz" $(partition_flags $(seq 0 255)) --all | keep | grep -v '^Hash' \
  > ours_ours_parts.out
diff -u swift_ours_parts.out ours_ours_parts.out > ours.diff || { head -40 ours.diff; fail "dbreplctl ring: nodes differ"; }
for target in "a c" "AUTH_test photos"; do
  # shellcheck disable=SC2086
  "$PY" /usr/bin/swift-get-nodes -a -d "$T/swift" "$T/ours/container.ring.gz" $target 2>/dev/null | keep > swift.out
  # shellcheck disable=SC2086
  "$CTL" ring nodes "$T/ours/container.ring.gz" $target --all --swift-dir "$T/ours" | keep > ours.out
  diff -u swift.out ours.out || fail "swift-get-nodes on dbreplctl's ring: $target"
done
echo "Swift reads dbreplctl's ring identically"

SAMPLE="0 1 2 3 65535 65536 65537 131071 77777 12345 99999 100000 31337"
"$PY" "$DUMP" "$T/ours/big.ring.gz" $SAMPLE | grep -v '^Device' > swift_big.out
# shellcheck disable=SC2046,SC2086
"$CTL" ring nodes "$T/ours/big.ring.gz" --type container $(partition_flags $SAMPLE) --all | keep | grep -v '^Hash' \
  > ours_big.out
diff -u swift_big.out ours_big.out > big.diff || { head -40 big.diff; fail "2^17-partition ring differs"; }
grep -q 'Handoff' ours_big.out || fail "no handoffs in the big ring"
echo "2^17 partitions, 2.5 replicas: agree"
echo PASS
