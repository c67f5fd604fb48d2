"""dbreplctl check against a real cluster and Swift-written databases.

Swift's ContainerBroker (python3-swift 2.30) writes containers on a 3-node
dbrepl cluster in known states: consistent, a missing replica, a replica
rows behind, metadata that differs, a policy that differs, an extra copy on a
handoff, and a write still in a replica's .pending file. `dbreplctl check
--json` must report each as it is, predict the next pass (rsync for a
missing replica, usync for rows behind), change nothing (every file byte for
byte the same, the .pending unflushed), and exit 1. After agent passes, the
same check must find every database consistent and exit 0. Each node's
agent answers a dry-run pass (CheckPass) that says the same of its node's
databases and changes nothing, and `dbreplctl recon` reads the nodes' agent
daemons like swift-recon --replication.

Usage: swift_cluster_test.sh check_test.py PEER AGENT DBREPLCTL.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

import swift_cluster

soak, Swift = swift_cluster.load('check', ip_base=100, devices=2, part_power=3, policies=2)

check = FAILURES = swift_cluster.Checks()


def ts(n):
    return Swift.Timestamp(1700000000 + n).internal


def put(b, names):
    for n in names:
        b.put_object(n, ts(1000 + int(n.split('-')[1])), 1, 'text/plain', 'etag')
    b.get_info()  # Flush .pending.


def copy_replica(d, src, dst):
    """A copy of src's replica on dst, as a replica that was in sync would be (a new id)."""
    os.makedirs(os.path.dirname(d.path(dst)), exist_ok=True)
    shutil.copy2(d.path(src), d.path(dst))
    d.broker(dst).newid('copied-from-%d' % src)


def tree_digest(root):
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            with open(p, 'rb') as fh:
                out[os.path.relpath(p, root)] = hashlib.md5(fh.read()).hexdigest()
    return out


def run_check(*extra):
    r = subprocess.run([soak.CTL, 'check', os.path.join(soak.SWIFT_DIR, 'container.ring.gz'), '--json'] + list(extra),
                       capture_output=True, text=True, timeout=120)
    try:
        out = json.loads(r.stdout)
    except ValueError:
        out = None
    return r.returncode, out, r.stderr


def main():
    cluster = soak.Cluster()
    cluster.setup()
    ring = Swift.Ring(soak.SWIFT_DIR, ring_name='container')
    names = ['consistent', 'missing', 'behind', 'metadata', 'policy', 'handoff', 'pending']
    dbs = {n: soak.Db('container', 'a', n, ring, cluster) for n in names}
    for name, d in dbs.items():
        p0 = d.primaries[0]
        b = d.broker(p0)
        b.initialize(ts(1), 0)
        put(b, ['o-%d' % i for i in range(6)])
        if name == 'missing':
            copy_replica(d, p0, d.primaries[1])
            continue
        for other in d.primaries[1:]:
            copy_replica(d, p0, other)
        if name == 'behind':
            put(b, ['o-%d' % i for i in range(6, 10)])
        elif name == 'metadata':
            b.update_metadata({'X-Container-Meta-Color': ('blue', ts(50))})
        elif name == 'policy':
            d.broker(d.primaries[2]).set_storage_policy_index(1, timestamp=ts(2))
        elif name == 'handoff':
            copy_replica(d, p0, d.handoffs[0])
        elif name == 'pending':
            d.broker(d.primaries[1]).put_object('o-99', ts(1099), 1, 'text/plain', 'etag')  # Stays in .pending.

    for n in cluster.nodes:
        cluster.start_peer(n)
    try:
        roots = {n.idx: n.devices_root for n in cluster.nodes}
        before = {i: tree_digest(r) for i, r in roots.items()}
        rc, out, err = run_check()
        by = {}
        after = {i: tree_digest(r) for i, r in roots.items()}
        check(before == after, 'check changed files: %s' % sorted(
            set(k for i in roots for k in set(before[i].items()) ^ set(after[i].items()))))
        check(rc == 1, 'check before the passes exited %d, want 1 (%s)' % (rc, err))
        check(out is not None, 'no JSON from check: %s' % err)
        if out is not None:
            by = {db['container']: db for db in out['databases'] if 'container' in db}
            check(set(by) == set(names), 'databases reported: %s' % sorted(by))
            want = {'consistent': [], 'missing': ['missing_replica'], 'behind': ['rows'],
                    'metadata': ['metadata'], 'policy': ['storage_policy_index'], 'handoff': ['on_handoff'],
                    'pending': []}
            for name, diffs in want.items():
                db = by.get(name)
                if db is None:
                    continue
                check(db['differences'] == diffs, '%s: differences %s, want %s' % (name, db['differences'], diffs))
                check(db['consistent'] == (not diffs), '%s: consistent %s' % (name, db['consistent']))
            if 'missing' in by:
                steps = by['missing']['next_pass']
                check(any(s['action'] == 'rsync' and s['to'] == cluster.devs[dbs['missing'].primaries[2]][1]
                          for s in steps), 'missing: no rsync predicted to the replica that lacks it: %s' % steps)
            if 'behind' in by:
                steps = [s for s in by['behind']['next_pass']
                         if s['from'] == cluster.devs[dbs['behind'].primaries[0]][1]]
                check(steps and all(s['action'] == 'usync' for s in steps), 'behind: %s' % steps)
            if 'pending' in by:
                pend = [r for r in by['pending']['replicas'] if r.get('pending_bytes', 0) > 0]
                check(len(pend) == 1, 'pending: replicas with pending bytes: %s' % by['pending']['replicas'])
            t = out['totals']
            check(t['databases'] == len(names) and t['consistent'] == 2 and t['differ'] == 5,
                  'totals before: %s' % t)
            check(t['missing_replicas'] == 1 and t['handoff_copies'] == 1, 'totals before: %s' % t)
        # The agents' dry-run pass (admin CheckPass) says the same of each
        # node's databases, and changes nothing either.
        soak.INTERVAL = 1e8  # Daemons that never start a pass by themselves.
        for n in cluster.nodes:
            cluster.start_agent(n, 'container')
        seen = {}
        for n in cluster.nodes:
            r = subprocess.run([soak.CTL, 'dry-run', cluster.admin(n, 'container'), '--json'], capture_output=True,
                               text=True, timeout=120)
            check(r.returncode == 1, 'dry-run on node %d exited %d: %s' % (n.idx, r.returncode, r.stderr))
            dry = json.loads(r.stdout) if r.stdout.strip() else {'databases': []}
            for db in dry['databases']:
                seen[db.get('container')] = db
                want = by.get(db.get('container')) if out is not None else None
                check(want is not None and db['differences'] == want['differences'] and
                      db['next_pass'] == want['next_pass'],
                      'dry-run on node %d disagrees with check on %s: %s vs %s' % (
                          n.idx, db.get('container'), db['differences'], want and want['differences']))
            st = cluster.agent_status(n, 'container')
            check(st is not None and int(st.get('passes_completed', 0)) == 0, 'a pass ran during the dry run: %s' % st)
        check(set(seen) == set(names), 'dry-runs together saw %s' % sorted(seen))
        for n in cluster.nodes:
            n.agents['container'].stop()
        soak.INTERVAL = 1
        after = {i: tree_digest(r) for i, r in roots.items()}
        check(before == after, 'the dry runs changed files')

        # One database by name, and a human report.
        r = subprocess.run([soak.CTL, 'check', os.path.join(soak.SWIFT_DIR, 'container.ring.gz'), 'a/behind',
                            '--swift-dir', soak.SWIFT_DIR], capture_output=True, text=True, timeout=60)
        check(r.returncode == 1 and 'a/behind: differs (rows)' in r.stdout and '1 container databases' in r.stdout,
              'check a/behind: %d %s %s' % (r.returncode, r.stdout, r.stderr))

        for k in range(1, 4):
            for n in cluster.nodes:
                subprocess.run(cluster.agent_argv(n, 'container', once=True), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=300)
            rc, out, err = run_check()
            if rc == 0:
                break
        check(rc == 0, 'check after %d rounds exited %d: %s %s' % (k, rc, json.dumps(out and out['totals']), err))
        if out is not None:
            check(out['totals']['consistent'] == len(names) and out['totals']['differ'] == 0,
                  'totals after: %s' % out['totals'])
            check(out['unreachable'] == [], 'unreachable: %s' % out['unreachable'])
        # dbreplctl recon across the nodes' agent daemons (their admin APIs).
        for n in cluster.nodes:
            cluster.start_agent(n, 'container')
        deadline = time.time() + 120
        while time.time() < deadline:
            st = [cluster.agent_status(n, 'container') for n in cluster.nodes]
            if all(x and int(x.get('passes_completed', 0)) >= 1 for x in st):
                break
            time.sleep(0.2)  # poll a real condition (a pass completed), with a deadline
        addrs = [cluster.admin(n, 'container') for n in cluster.nodes]
        r = subprocess.run([soak.CTL, 'recon'] + addrs + ['--json'], capture_output=True, text=True, timeout=60)
        rec = json.loads(r.stdout) if r.stdout.strip() else {}
        check(r.returncode == 0 and rec.get('reported') == 3 and rec.get('no_result') == 0,
              'recon: %d %s %s' % (r.returncode, r.stdout[-400:], r.stderr))
        check(rec.get('replication_failure', {}).get('total') == 0, 'recon failures: %s' % rec.get('replication_failure'))
        check(rec.get('oldest_completion') and rec['oldest_completion']['agent'] in addrs, 'recon oldest: %s' % rec)
        r = subprocess.run([soak.CTL, 'recon'] + addrs, capture_output=True, text=True, timeout=60)
        check('Oldest completion was' in r.stdout and '[replication_time]' in r.stdout, 'recon text: %s' % r.stdout)
        cluster.nodes[1].agents['container'].stop()
        r = subprocess.run([soak.CTL, 'recon'] + addrs + ['--json', '--timeout', '3'], capture_output=True, text=True,
                           timeout=60)
        rec = json.loads(r.stdout) if r.stdout.strip() else {}
        check(r.returncode == 1 and rec.get('unreachable') == [addrs[1]], 'recon with an agent down: %d %s' % (
            r.returncode, rec.get('unreachable')))
        for n in cluster.nodes:
            n.agents['container'].stop()

        # A peer that is down: reported, exit 1.
        cluster.nodes[2].peer.stop()
        rc, out, err = run_check('--timeout', '5')
        check(rc == 1 and out is not None and len(out['unreachable']) == len(cluster.nodes[2].devices),
              'with a peer down: exit %d, %s' % (rc, out and out['unreachable']))
    finally:
        for n in cluster.nodes:
            n.peer.stop()
    # Bad input: a clear error.
    r = subprocess.run([soak.CTL, 'check', os.path.join(soak.WORK, 'nope.ring.gz')], capture_output=True, text=True)
    check(r.returncode != 0 and 'dbreplctl check' in r.stderr, 'missing ring: %d %s' % (r.returncode, r.stderr))
    print('check_test: %d databases, %d failures' % (len(names), len(FAILURES)), flush=True)
    if FAILURES:
        print('work dir: ' + soak.WORK)
        sys.exit(1)


if __name__ == '__main__':
    main()
