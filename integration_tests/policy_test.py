"""Storage policy indexes against real Swift: replicas that disagree on a
container's policy converge to the index Swift's rule picks.

Swift's ContainerBroker (Debian's python3-swift 2.30) writes every replica of
a set of containers on a 3-node dbrepl cluster with three storage policies:
each replica created with its own policy index at its own time (Swift's
initialize() sets status_changed_at = put_timestamp), with objects. The
expected winner is the first replica in Swift's own order
(swift.container.reconciler.cmp_policy_info: no replica is deleted or
recreated, so the oldest status change wins). Agent passes run node after
node until nothing changes; then every replica, read by Swift's broker, has
that index and every object of every replica. Containers whose replicas
agree keep their index, and so does a container with one replica only.

What Swift's replicator does after replicating a container is checked the
same way: every object row left in a losing policy is queued for Swift's
container-reconciler in the ".misplaced_objects" account, the entries
exactly those Swift's own translator makes (get_row_to_q_entry_translator),
and the reconciler containers reach their primaries; a container with
X-Container-Sync-To and -Key set is linked where Swift's container-sync
daemon looks (ContainerSyncStore lists it on every node holding it), and one
with an empty key is not.

Usage: swift_cluster_test.sh policy_test.py PEER AGENT DBREPLCTL.
"""

import functools
import os
import random
import subprocess
import sys

import swift_cluster

soak, Swift = swift_cluster.load('policy', ip_base=60, devices=1, part_power=3, policies=3)
from swift.container.reconciler import (cmp_policy_info, get_reconciler_container_name,  # noqa: E402
                                        get_row_to_q_entry_translator, MISPLACED_OBJECTS_ACCOUNT)
from swift.container.sync_store import ContainerSyncStore  # noqa: E402

SEED = int(os.environ.get('POLICY_SEED', '7'))
check = FAILURES = swift_cluster.Checks()


def ts(n):
    return Swift.Timestamp(1700000000 + n).internal


def run_round(cluster, k):
    for n in cluster.nodes:
        log_path = os.path.join(soak.WORK, 'logs', 'agent%d-round%d.log' % (n.idx, k))
        with open(log_path, 'wb') as logf:
            r = subprocess.run(cluster.agent_argv(n, 'container', once=True), stdout=logf, stderr=subprocess.STDOUT,
                               timeout=300)
        check(r.returncode == 0, 'agent %d round %d exited %d (see %s)' % (n.idx, k, r.returncode, log_path))


def state(dbs):
    out = {}
    for name, d in dbs.items():
        for dev in d.primaries:
            if os.path.exists(d.path(dev)):
                info = d.broker(dev).get_info()
                out[(name, dev)] = (info['storage_policy_index'], info['hash'])
    return out


def main():
    rng = random.Random(SEED)
    cluster = soak.Cluster()
    cluster.setup()
    ring = Swift.Ring(soak.SWIFT_DIR, ring_name='container')
    dbs, expected, objects = {}, {}, {}
    for k in range(12):
        name = 'disagree-%d' % k
        d = dbs[name] = soak.Db('container', 'a', name, ring, cluster)
        policies = [rng.randrange(3) for _ in d.primaries]
        if len(set(policies)) == 1:
            policies[0] = (policies[0] + 1) % 3
        order = list(range(len(d.primaries)))
        rng.shuffle(order)
        infos = []
        for i, dev in enumerate(d.primaries):
            b = d.broker(dev)
            b.initialize(ts(100 + 10 * order[i]), policies[i])
            b.put_object('o-%d' % i, ts(1000 + i), 1, 'text/plain', 'etag', storage_policy_index=policies[i])
            info = b.get_info()
            info['count'] = info['object_count']
            infos.append(info)
        best = sorted(infos, key=functools.cmp_to_key(cmp_policy_info))[0]
        expected[name] = best['storage_policy_index']
        objects[name] = len(d.primaries)
    for k in range(3):
        name = 'agree-%d' % k
        d = dbs[name] = soak.Db('container', 'a', name, ring, cluster)
        for i, dev in enumerate(d.primaries):
            b = d.broker(dev)
            b.initialize(ts(100 + i), 2)
            b.put_object('o-%d' % i, ts(1000 + i), 1, 'text/plain', 'etag', storage_policy_index=2)
        expected[name], objects[name] = 2, len(d.primaries)
    d = dbs['single'] = soak.Db('container', 'a', 'single', ring, cluster)
    b = d.broker(d.primaries[0])
    b.initialize(ts(100), 1)
    b.put_object('o', ts(1000), 1, 'text/plain', 'etag', storage_policy_index=1)
    expected['single'], objects['single'] = 1, 1
    # Container sync: set on one replica, replicated as metadata.
    for name, key in (('synced', 'secret'), ('unsynced', '')):
        d = dbs[name] = soak.Db('container', 'a', name, ring, cluster)
        for i, dev in enumerate(d.primaries):
            b = d.broker(dev)
            b.initialize(ts(100 + i), 0)
            b.put_object('o-%d' % i, ts(1000 + i), 1, 'text/plain', 'etag')
        d.broker(d.primaries[0]).update_metadata({'X-Container-Sync-To': ('//realm/cluster/a/c2', ts(60)),
                                                  'X-Container-Sync-Key': (key, ts(60))})
        expected[name], objects[name] = 0, len(d.primaries)

    for n in cluster.nodes:
        cluster.start_peer(n)
    rounds = 0
    try:
        before = state(dbs)
        for rounds in range(1, 7):
            run_round(cluster, rounds)
            after = state(dbs)
            if after == before:
                break
            before = after
    finally:
        for n in cluster.nodes:
            n.peer.stop()
    check(rounds < 6, 'replicas still changing after %d rounds' % rounds)

    for name, d in dbs.items():
        for dev in d.primaries:
            check(os.path.exists(d.path(dev)), '%s: no replica on device %d' % (name, dev))
            if not os.path.exists(d.path(dev)):
                continue
            b = d.broker(dev)
            info = b.get_info()
            check(info['storage_policy_index'] == expected[name], '%s on %d: policy %d, Swift\'s rule says %d' % (
                name, dev, info['storage_policy_index'], expected[name]))
            rows = b.get_items_since(-1, 1000)
            check(len(rows) == objects[name], '%s on %d: %d rows, want %d' % (name, dev, len(rows), objects[name]))
    # The reconciler's queue, as Swift's translator makes it from the rows in
    # a losing policy of each converged replica.
    want_q = {}
    for name, d in dbs.items():
        if not name.startswith('disagree'):
            continue
        b = d.broker(d.primaries[0])
        tr = get_row_to_q_entry_translator(b)
        for row in b.get_misplaced_since(-1, 1000):
            q = tr(row)
            want_q[q['name']] = (get_reconciler_container_name(row['created_at']), q)
    check(want_q, 'no misplaced rows: the test made no policy disagreement')
    got_q = {}
    for qname in sorted({c for c, _ in want_q.values()}):
        qd = soak.Db('container', MISPLACED_OBJECTS_ACCOUNT, qname, ring, cluster)
        present = [dev for dev in qd.primaries if os.path.exists(qd.path(dev))]
        check(len(present) == len(qd.primaries), 'reconciler container %s on %d of %d primaries' % (
            qname, len(present), len(qd.primaries)))
        for dev in present:
            for row in qd.broker(dev).get_items_since(-1, 10000):
                got_q[row['name']] = (qname, row)
    for qname, (container, q) in want_q.items():
        got = got_q.get(qname)
        check(got is not None, 'not queued for the reconciler: %s' % qname)
        if got is None:
            continue
        check(got[0] == container, '%s queued in %s, Swift says %s' % (qname, got[0], container))
        for field in ('created_at', 'etag', 'content_type', 'size', 'deleted'):
            check(got[1][field] == q[field], '%s: %s %r, Swift says %r' % (qname, field, got[1][field], q[field]))
    check(set(got_q) == set(want_q), 'queued but not misplaced: %s' % sorted(set(got_q) - set(want_q)))

    # Container sync: linked on every node that holds "synced", never "unsynced".
    for n in cluster.nodes:
        store = ContainerSyncStore(n.devices_root, None, False)
        listed = sorted(store.synced_containers_generator())
        want = sorted(dbs['synced'].path(dev) for dev in dbs['synced'].primaries
                      if cluster.devs[dev][0] == n.idx)
        check([os.path.realpath(p) for p in listed] == [os.path.realpath(p) for p in want],
              'node %d sync store lists %s, want %s' % (n.idx, listed, want))

    print('policy_test: %d containers, converged in %d rounds, %d queued for the reconciler, %d failures' % (
        len(dbs), rounds, len(got_q), len(FAILURES)), flush=True)
    if FAILURES:
        print('work dir: ' + soak.WORK)
        sys.exit(1)


if __name__ == '__main__':
    main()
