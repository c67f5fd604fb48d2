"""Sharded containers against real Swift: dbrepl never damages one.

Swift's sharder (swift.container.backend.ContainerBroker, Debian's
python3-swift 2.30) builds containers in each db_state on one node of a
3-node dbrepl cluster (peers with their rsync daemons, one agent pass per
node):

  ranges    "<hash>.db" with shard ranges, own range SHARDING (initiated)
  sharding  "<hash>.db" and "<hash>_<epoch>.db" (set_sharding_state)
  sharded   "<hash>_<epoch>.db" alone (set_sharded_state)
  plain     an unsharded container: the control, it must replicate

First the sharded copies are the only ones (the other replicas lack them):
nothing may be shipped, the files stay byte for byte as Swift left them.
Then each other replica holds a plain unsharded "<hash>.db" with rows of its
own while the first keeps its sharded copy: no "<hash>.db" may appear beside
an epoch file, nothing of the sharded copy may change, and the agents say
so in their logs. Swift's broker must still read every sharded copy with
the state it had.

Usage: swift_cluster_test.sh sharding_test.py PEER AGENT DBREPLCTL.
"""

import hashlib
import os
import subprocess
import sys

import swift_cluster

soak, Swift = swift_cluster.load('sharding', ip_base=20, devices=1, part_power=2, policies=1)
from swift.common.utils import ShardRange  # noqa: E402
from swift.container.backend import SHARDED, SHARDING, UNSHARDED  # noqa: E402

check = FAILURES = swift_cluster.Checks()


def ts(n):
    return Swift.Timestamp(1700000000 + n).internal


def snapshot(hash_dir):
    """{file name: md5} of the database files in a hash dir ({} if none)."""
    if not os.path.isdir(hash_dir):
        return {}
    out = {}
    for name in sorted(os.listdir(hash_dir)):
        if name.endswith('.db'):
            with open(os.path.join(hash_dir, name), 'rb') as f:
                out[name] = hashlib.md5(f.read()).hexdigest()
    return out


def make_plain(db, dev, rows, tag):
    b = db.broker(dev)
    b.initialize(ts(0), 0)
    for i in range(rows):
        b.put_object('%s-%d' % (tag, i), ts(10 + i), 1, 'text/plain', 'etag')
    b.get_info()  # Flush .pending.
    return b


def make_sharded(db, dev, state):
    """A container on `dev` in `state` (ranges/sharding/sharded), by Swift's broker."""
    b = make_plain(db, dev, 20, 'obj')
    epoch = Swift.Timestamp(1700000500)
    own = b.get_own_shard_range()
    own.update_state(ShardRange.SHARDING, state_timestamp=epoch)
    own.epoch = epoch
    shards = [ShardRange('.shards_a/%s-%d' % (db.container, k), epoch, lower=lo, upper=hi)
              for k, (lo, hi) in enumerate([('', 'obj-5'), ('obj-5', '')])]
    b.merge_shard_ranges([own] + shards)
    assert b.sharding_initiated(), db.container
    if state in ('sharding', 'sharded'):
        assert b.set_sharding_state(), db.container
        assert b.get_db_state() == SHARDING
    if state == 'sharded':
        own = b.get_own_shard_range()
        own.update_state(ShardRange.SHARDED, state_timestamp=Swift.Timestamp(1700000600))
        b.merge_shard_ranges(own)
        assert b.set_sharded_state(), db.container
        assert b.get_db_state() == SHARDED
    return b


def run_agents(cluster, label, codes):
    for n in cluster.nodes:
        log_path = os.path.join(soak.WORK, 'logs', 'agent%d-%s.log' % (n.idx, label))
        with open(log_path, 'wb') as logf:
            r = subprocess.run(cluster.agent_argv(n, 'container', once=True), stdout=logf, stderr=subprocess.STDOUT,
                               timeout=300)
        # --once exits 1 when a database did not replicate everywhere: the
        # agents whose peer holds a sharded copy must say so.
        codes[n.idx] = r.returncode
        check(r.returncode in (0, 1), 'agent %d (%s) exited %d' % (n.idx, label, r.returncode))
    text = ''
    for n in cluster.nodes:
        with open(os.path.join(soak.WORK, 'logs', 'agent%d-%s.log' % (n.idx, label)), errors='replace') as f:
            text += f.read()
    return text


def main():
    cluster = soak.Cluster()
    cluster.setup()
    ring = Swift.Ring(soak.SWIFT_DIR, ring_name='container')
    states = ['ranges', 'sharding', 'sharded']
    dbs = {}
    for phase in ('alone', 'beside'):
        for state in states + ['plain']:
            name = '%s-%s' % (phase, state)
            dbs[name] = soak.Db('container', 'a', name, ring, cluster)

    # Phase "alone": only the first primary has a copy.
    for state in states:
        d = dbs['alone-' + state]
        make_sharded(d, d.primaries[0], state)
    make_plain(dbs['alone-plain'], dbs['alone-plain'].primaries[0], 20, 'obj')
    # Phase "beside": the first primary sharded, the others plain with rows
    # of their own.
    for state in states:
        d = dbs['beside-' + state]
        make_sharded(d, d.primaries[0], state)
        for k, dev in enumerate(d.primaries[1:]):
            make_plain(d, dev, 7, 'other%d' % k)
    d = dbs['beside-plain']
    for k, dev in enumerate(d.primaries):
        make_plain(d, dev, 7, 'other%d' % k)

    before = {(name, dev): snapshot(os.path.dirname(d.path(dev))) for name, d in dbs.items() for dev in d.primaries}
    for n in cluster.nodes:
        cluster.start_peer(n)
    try:
        codes = {}
        logs = run_agents(cluster, 'pass1', codes)
        logs += run_agents(cluster, 'pass2', codes)
    finally:
        for n in cluster.nodes:
            n.peer.stop()

    for name, d in dbs.items():
        phase, state = name.split('-')
        for dev in d.primaries:
            after = snapshot(os.path.dirname(d.path(dev)))
            was = before[(name, dev)]
            sharded_here = state != 'plain' and dev == d.primaries[0]
            if state == 'plain':
                # The control: every replica holds every row.
                b = d.broker(dev)
                check(os.path.exists(d.path(dev)), '%s: not replicated to device %d' % (name, dev))
                if os.path.exists(d.path(dev)):
                    want = 20 if phase == 'alone' else 21
                    got = b.get_info()['object_count']
                    check(got == want, '%s on %d: %d objects, want %d' % (name, dev, got, want))
            elif sharded_here:
                check(after == was, '%s on %d (its sharded copy) changed: %s -> %s' % (name, dev, was, after))
                b = d.broker(dev)
                want = {'ranges': UNSHARDED, 'sharding': SHARDING, 'sharded': SHARDED}[state]
                check(b.get_db_state() == want, '%s: db_state %s, want %s' % (name, b.get_db_state(), want))
            elif phase == 'alone':
                # Nothing shipped from the sharded copy.
                check(after == was, '%s on %d: %s appeared' % (name, dev, after))
            else:
                # Plain copies beside a sharded one: they replicate between
                # themselves, but nothing of the sharded copy reaches them
                # and no epoch file appears.
                check(sorted(after) == sorted(was), '%s on %d: files %s -> %s' % (name, dev, was, after))
                names = [o[0] for o in d.broker(dev).list_objects_iter(1000, '', None, None, None)]
                check(all(n.startswith('other') for n in names), '%s on %d: rows of the sharded copy arrived: %s'
                      % (name, dev, names))
                check(len(names) == 14, '%s on %d: %d objects, want 14' % (name, dev, len(names)))
    # Whoever pushes to a first primary's sharded copy is told DB_SHARDED,
    # and its --once pass does not count as complete.
    check(any(c == 1 for c in codes.values()), 'no agent reported the unreplicated sharded containers: %s' % codes)
    check('not replicating' in logs, 'no agent said it left a sharded container alone')
    check('dbrepl does not replicate sharded containers' in logs, 'no DB_SHARDED reason in the agents\' logs')
    n_alone = sum(1 for line in logs.splitlines() if 'not replicating' in line)
    print('sharding_test: %d databases in %d states; %d "not replicating" lines; %d failures' % (
        len(dbs), len(states) + 1, n_alone, len(FAILURES)), flush=True)
    if FAILURES:
        print('work dir: ' + soak.WORK)
        sys.exit(1)


if __name__ == '__main__':
    main()
