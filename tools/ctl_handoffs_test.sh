#!/bin/bash
# dbreplctl handoffs on a real tree: a 4-device, 3-replica ring; one database
# of a partition on every device. Exactly the one device that is not a
# primary of that partition must be reported, with that database, and a
# directory that is not a ring device is listed as such.
# Args: $1 = dbreplctl.
set -euo pipefail
ctl=$1
dir=$(mktemp -d "${TEST_TMPDIR:-/tmp}/handoffs.XXXXXX")
"$ctl" ring create "$dir/container.ring.gz" --part-power 2 --replicas 3 \
  --device 1/1/127.0.0.1:6201/d0 --device 1/2/127.0.0.1:6201/d1 \
  --device 1/3/127.0.0.1:6201/d2 --device 1/4/127.0.0.1:6201/d3 >/dev/null
hash=00000000000000000000000000000abc
for d in d0 d1 d2 d3; do
  "$ctl" create "$dir/srv/$d/containers/1/abc/$hash/$hash.db" --account a --container c >/dev/null
done
mkdir -p "$dir/srv/stray/containers/1"
primaries=$("$ctl" ring nodes "$dir/container.ring.gz" --partition 1 --devices "$dir/srv" |
            awk '$1 == "primary" {print $4}' | sed 's|.*/srv/\([^/]*\)/.*|\1|' | sort | tr '\n' ' ')
"$ctl" handoffs "$dir/container.ring.gz" --devices "$dir/srv" --json > "$dir/out.json"
"$ctl" handoffs "$dir/container.ring.gz" --devices "$dir/srv" > "$dir/out.txt"
/usr/bin/python3 - "$dir/out.json" "$primaries" <<'PY'
import json, sys
out = json.load(open(sys.argv[1]))
primaries = sys.argv[2].split()
assert len(primaries) == 3, primaries
assert out["handoff_databases"] == 1 and out["handoff_partitions"] == 1, out
by = {d["device"]: d for d in out["devices"]}
assert by["stray"]["ring_id"] is None, by["stray"]
for name in ("d0", "d1", "d2", "d3"):
    want = 0 if name in primaries else 1
    assert by[name]["handoff_databases"] == want, (name, by[name], primaries)
    assert by[name]["partitions"] == 1, by[name]
    if want:
        assert by[name]["handoff"] == [{"partition": 1, "databases": 1}], by[name]
PY
grep -q "1 container databases in 1 handoff partitions on 1 of 5 devices" "$dir/out.txt" || { cat "$dir/out.txt"; exit 1; }
grep -q "stray .*not in the ring" "$dir/out.txt" || { cat "$dir/out.txt"; exit 1; }
# Bad input: a clear error, exit 2.
if "$ctl" handoffs "$dir/nonexistent.ring.gz" --devices "$dir/srv" 2>"$dir/err"; then exit 1; fi
grep -q "dbreplctl handoffs" "$dir/err"
echo "handoffs: OK"
