#!/usr/bin/python3
"""dbrepl against OpenStack Swift's own container replicator, on identical copies of the same data.

Run it through bench/run.sh, which builds dbrepl with -c opt first (docs/performance.md says what
each case measures and how to read the numbers):

  bench/run.sh [--n 1000] [--m 1000] [--cases first,steady,rsync,usync,rtm,limits,memory | all]
               [--agent-mode daemon|once] [--concurrency 8] [--workdir DIR] [--keep]

Three nodes on loopback (127.0.50.1-3 by default), one device each, part power 8, 3 replicas. The
databases are written once by Swift's ContainerBroker (python3-swift); every case starts from one
seed tree, copied for the Swift run and the dbrepl run. A pass is the three nodes' replicators run
one after another. After every pass, every replica is read back with Swift's broker and compared.

Needs Debian's python3-swift, swift, swift-container and rsync (./run setup installs them); runs
with /usr/bin/python3 (python3-swift is not on other interpreters' paths).
"""

import argparse
import atexit
import hashlib
import http.client
import json
import multiprocessing
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf('SC_CLK_TCK')
ACCOUNT = 'AUTH_bench'
# Swift 2.30's servers and daemons read the hash prefix/suffix from /etc/swift/swift.conf and
# nowhere else (swift.common.utils.SWIFT_CONF_FILE; SWIFT_CONF_FILE in the environment is not
# read), so both systems' swift_dir get a swift.conf with the same [swift-hash] values.
SYSTEM_SWIFT_CONF = '/etc/swift/swift.conf'
SWIFT_CONF = None  # set by swift_conf_text()
PART_POWER = 8
DEVS = ['d1', 'd2', 'd3']
ALL_CASES = ['first', 'steady', 'rsync', 'usync', 'rtm', 'limits', 'memory']
# The default leaves out `memory` (its data, 10 000 small containers and a 1 M-row one, take longer to
# write than everything else together); `--cases all` runs everything.
DEFAULT_CASES = ['first', 'steady', 'rsync', 'usync', 'rtm', 'limits']
SYSTEMS = ['swift', 'dbrepl']
# What the bench runs of dbrepl's, relative to --bin-dir.
BINARIES = ('peer/dbrepl-peer', 'agent/dbrepl-agent', 'tools/dbreplctl', 'bench/bench_client')


def swift_conf_text():
    import configparser
    cp = configparser.ConfigParser(interpolation=None)
    try:
        cp.read(SYSTEM_SWIFT_CONF, encoding='latin1')
        prefix = cp.get('swift-hash', 'swift_hash_path_prefix', fallback='')
        suffix = cp.get('swift-hash', 'swift_hash_path_suffix', fallback='')
    except configparser.Error as e:
        die('%s: %s' % (SYSTEM_SWIFT_CONF, e))
    if not prefix and not suffix:
        die('%s has no [swift-hash] prefix/suffix; Swift 2.30 reads them from there only '
            '(the Debian package swift installs it)' % SYSTEM_SWIFT_CONF)
    return '[swift-hash]\nswift_hash_path_prefix = %s\nswift_hash_path_suffix = %s\n' % (prefix, suffix)


def log(msg):
    print(msg, flush=True)


def die(msg):
    print('bench: ERROR: ' + msg, file=sys.stderr, flush=True)
    sys.exit(2)


# --------------------------------------------------------------------------------------------
# Work done in pool processes (a fresh interpreter each: multiprocessing "spawn"). They import
# Swift, pointed at the swift_dir of the run (the same [swift-hash] as /etc/swift/swift.conf).

_RING = None


def _pool_init(swift_etc):
    global _RING
    from swift.common.ring import Ring
    from swift.common.utils import set_swift_dir
    set_swift_dir(swift_etc)
    _RING = Ring(swift_etc, ring_name='container')


def object_rows(k, lo, hi):
    """Rows lo..hi-1 of container k: unique per container (timestamps are offset by k)."""
    sec0 = 1600000000 + k * 20
    return [{'name': 'obj/%07d' % j,
             'created_at': '%010d.%05d' % (sec0 + j // 100000, j % 100000),
             'size': j,
             'content_type': 'application/octet-stream',
             'etag': '%032x' % (k * 10000000 + j),
             'deleted': 0,
             'storage_policy_index': 0} for j in range(lo, hi)]


ROW_KEYS = ('name', 'created_at', 'size', 'content_type', 'etag', 'deleted', 'storage_policy_index')


def rows_digest(broker, count):
    """sha1 over a replica's rows (ROWIDs excluded: they differ between replicas), read with
    Swift's get_items_since; and how many rows there were."""
    items = broker.get_items_since(-1, count + 1000)
    rows = sorted(tuple(it[k] for k in ROW_KEYS) for it in items)
    h = hashlib.sha1()
    for r in rows:
        h.update(repr(r).encode())
    return h.hexdigest(), len(rows)


def _gen_container(task):
    """Writes one container with Swift's ContainerBroker: `<k>.full.db` with m rows, and when
    prefix_rows is set also `<k>.prefix.db` with the first prefix_rows rows (the full database is
    a copy of the prefix one with the rest merged in, so both share ROWIDs 1..prefix_rows)."""
    from swift.common.utils import Timestamp, hash_path
    from swift.container.backend import ContainerBroker
    setname, k, m, prefix_rows, outdir = task
    container = '%s-%06d' % (setname, k)
    t0 = time.time()
    full = os.path.join(outdir, '%06d.full.db' % k)
    prefix = os.path.join(outdir, '%06d.prefix.db' % k) if prefix_rows is not None else None

    merge_s = [0.0]

    def merge(broker, lo, hi):
        for a in range(lo, hi, 10000):
            rows = object_rows(k, a, min(hi, a + 10000))
            t = time.time()
            broker.merge_items(rows)
            merge_s[0] += time.time() - t

    first = prefix or full
    for p in (full, prefix):
        if p and os.path.exists(p):
            os.unlink(p)
    b = ContainerBroker(first, account=ACCOUNT, container=container)
    b.initialize(Timestamp(1500000000 + k).internal, 0)
    merge(b, 0, prefix_rows if prefix else m)
    if prefix:
        shutil.copyfile(prefix, full)
        merge(ContainerBroker(full, account=ACCOUNT, container=container), prefix_rows, m)
    written = (prefix_rows or 0) + m
    seconds = time.time() - t0
    fb = ContainerBroker(full)
    info = fb.get_info()
    digest, n = rows_digest(fb, m)
    assert n == m and info['object_count'] == m, (full, n, info['object_count'])
    return {'k': k, 'container': container, 'hash': hash_path(ACCOUNT, container),
            'part': _RING.get_part(ACCOUNT, container), 'full': full, 'prefix': prefix,
            'rows': m, 'prefix_rows': prefix_rows, 'obj_hash': info['hash'], 'digest': digest,
            'size': os.path.getsize(full), 'rows_written': written, 'seconds': seconds,
            'merge_seconds': merge_s[0]}


def replica_paths(root, rec):
    h = rec['hash']
    rel = os.path.join('containers', str(rec['part']), h[-3:], h, h + '.db')
    return [os.path.join(root, 'node%d' % (i + 1), DEVS[i], rel) for i in range(3)]


def _seed_container(task):
    """Lays out one container's replicas in a seed tree.

    sync:   all three nodes have the full rows; no sync points (first contact).
    single: node k%3 alone has it (the other two need it rsynced).
    lag:    node k%3 has only the first prefix_rows rows; the others are full. Sync points as the
            replicas would have left them when all three last agreed at prefix_rows (full ones
            agreed on everything): y.incoming[x] = x.outgoing[y] = that point.
    Each replica gets its own database id, as independently created replicas have."""
    from swift.container.backend import ContainerBroker
    kind, rec, root = task
    k = rec['k']
    paths = replica_paths(root, rec)
    present = [0, 1, 2] if kind in ('sync', 'lag') else [k % 3]
    lag = k % 3 if kind == 'lag' else None
    ids = [str(uuid.uuid4()) for _ in range(3)]
    for i in present:
        os.makedirs(os.path.dirname(paths[i]), exist_ok=True)
        shutil.copyfile(rec['prefix'] if i == lag else rec['full'], paths[i])
        b = ContainerBroker(paths[i])
        with b.get() as conn:  # Swift's newid(), minus the incoming sync row it also adds
            conn.execute('UPDATE container_stat SET id = ?', (ids[i],))
            conn.commit()
    if kind == 'lag':
        for x in range(3):
            for y in range(3):
                if x == y:
                    continue
                point = rec['rows'] if lag not in (x, y) else rec['prefix_rows']
                ContainerBroker(paths[y]).merge_syncs([{'remote_id': ids[x], 'sync_point': point}],
                                                      incoming=True)
                ContainerBroker(paths[x]).merge_syncs([{'remote_id': ids[y], 'sync_point': point}],
                                                      incoming=False)
    return rec['hash']


def _verify_container(task):
    """Reads every replica with Swift's broker: get_info() and all rows (get_items_since) must
    match what was written (full rows, hash, count)."""
    from swift.container.backend import ContainerBroker
    rec, root = task
    problems = []
    for i, p in enumerate(replica_paths(root, rec)):
        where = 'node%d %s' % (i + 1, rec['container'])
        if not os.path.exists(p):
            problems.append('%s: replica missing' % where)
            continue
        try:
            b = ContainerBroker(p)
            info = b.get_info()
            digest, n = rows_digest(b, rec['rows'])
        except Exception as e:  # noqa: BLE001 - report, do not stop the run
            problems.append('%s: unreadable: %s' % (where, e))
            continue
        if info['hash'] != rec['obj_hash']:
            problems.append('%s: hash %s != %s' % (where, info['hash'], rec['obj_hash']))
        if info['object_count'] != rec['rows'] or n != rec['rows']:
            problems.append('%s: %d rows (object_count %d), want %d' % (
                where, n, info['object_count'], rec['rows']))
        elif digest != rec['digest']:
            problems.append('%s: rows differ from what was written' % where)
    return problems


def _replication_info(path):
    from swift.container.backend import ContainerBroker
    return ContainerBroker(path).get_replication_info()


def _sqlite_py_limit(task):
    """The SQLite floor through Swift's own connection (Swift's pragmas; chexor is Swift's Python
    function, called by the schema's insert trigger): INSERT in transactions of `batch` rows."""
    from swift.common.db import get_db_connection
    from swift.common.utils import Timestamp
    from swift.container.backend import ContainerBroker
    path, rows, batch, prefix, make_only = task
    if os.path.exists(path):
        os.unlink(path)
    ContainerBroker(path, account=ACCOUNT, container='limit-' + prefix).initialize(
        Timestamp(1500000000).internal, 0)
    if make_only:
        return None
    data = [('%s-%08d' % (prefix, i), '%016.5f' % (1700000000.0 + i * 0.001), i,
             'application/octet-stream', '%032x' % i) for i in range(rows)]
    conn = get_db_connection(path)
    t0 = time.monotonic()
    for lo in range(0, rows, batch):
        conn.executemany('INSERT INTO object (name, created_at, size, content_type, etag, deleted, '
                         'storage_policy_index) VALUES (?, ?, ?, ?, ?, 0, 0)', data[lo:lo + batch])
        conn.commit()
    seconds = time.monotonic() - t0
    conn.close()
    return {'rows': rows, 'batch': batch, 'seconds': seconds, 'rows_per_s': rows / seconds}


# --------------------------------------------------------------------------------------------
# Processes: every process the bench starts is a session leader, stopped by its process group
# (its own id) on the way out, whatever the way out is.

class Procs:
    def __init__(self):
        self.live = []
        self.lock = threading.Lock()

    def spawn(self, argv, logfile, env=None, cwd=None):
        out = open(logfile, 'ab')
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                 env=env, cwd=cwd, start_new_session=True)
        except FileNotFoundError:
            die('cannot run %s' % argv[0])
        finally:
            out.close()
        with self.lock:
            self.live.append(p)
        return p

    def wait4(self, p):
        """Waits for p and returns (exit code, rusage); rusage covers p and its reaped children."""
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        with self.lock:
            if p in self.live:
                self.live.remove(p)
        return p.returncode, ru

    def stop(self, p, timeout=15):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        else:
            # The leader is gone; its group (e.g. forked workers) may not be.
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        with self.lock:
            if p in self.live:
                self.live.remove(p)

    def stop_all(self):
        for p in reversed(list(self.live)):
            self.stop(p, timeout=5)


PROCS = Procs()


def _on_signal(signum, frame):
    raise SystemExit(128 + signum)


# --------------------------------------------------------------------------------------------
# /proc accounting.

def proc_tree(pid):
    out, i = [pid], 0
    while i < len(out):
        p = out[i]
        i += 1
        try:
            for t in os.listdir('/proc/%d/task' % p):
                with open('/proc/%d/task/%s/children' % (p, t)) as f:
                    out.extend(int(x) for x in f.read().split())
        except OSError:
            pass
    return out


def proc_cpu(pid):
    """utime+stime+cutime+cstime in seconds (children count once reaped)."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / CLK_TCK
    except (OSError, IndexError):
        return 0.0


def proc_hwm_kb(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def machine_cpu():
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    with open('/proc/stat') as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v[:8]) - idle) / CLK_TCK, sum(v[:8]) / CLK_TCK


def loadavg():
    with open('/proc/loadavg') as f:
        return float(f.read().split()[0])


def reset_hwm(pid):
    try:
        with open('/proc/%d/clear_refs' % pid, 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


class Meter:
    """CPU seconds (sum over nodes) and peak RSS (per node: summed over that node's processes,
    e.g. a Swift server's workers; then the largest node) of long-running process trees."""

    def __init__(self, roots):
        self.roots = [p.pid for p in roots]

    def start(self):
        self.t0 = {}
        for root in self.roots:
            for pid in proc_tree(root):
                reset_hwm(pid)
                self.t0[pid] = proc_cpu(pid)

    def stop(self):
        cpu, rss = 0.0, []
        for root in self.roots:
            node = 0
            for pid in proc_tree(root):
                cpu += proc_cpu(pid) - self.t0.get(pid, 0.0)
                node += proc_hwm_kb(pid)
            rss.append(node)
        return {'cpu': cpu, 'rss_mb': max(rss) / 1024 if rss else 0,
                'procs': sum(len(proc_tree(r)) for r in self.roots)}


# --------------------------------------------------------------------------------------------

def port_free(ip, port):
    s = socket.socket()
    # As the servers bind (SO_REUSEADDR): a TIME_WAIT left by the previous run is no conflict.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((ip, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def wait_tcp(ip, port, timeout=60, proc=None, what=''):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            die('%s exited (%s) before listening on %s:%d' % (what, proc.returncode, ip, port))
        try:
            socket.create_connection((ip, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    die('%s not listening on %s:%d after %ds' % (what, ip, port, timeout))


def run(argv, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        die('%s failed (%d): %s%s' % (' '.join(argv), p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    return p.stdout


def copy_tree(src, dst):
    os.makedirs(dst, exist_ok=True)
    run(['cp', '-a', src + '/.', dst])


def dir_size(path):
    total = 0
    for d, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(d, f))
            except OSError:
                pass
    return total


def fmt(v, digits=2):
    if v is None:
        return '-'
    if isinstance(v, float):
        if v >= 1000:
            return '{:,.0f}'.format(v)
        return ('%.' + str(digits) + 'f') % v
    return str(v)


# --------------------------------------------------------------------------------------------
# The two systems. Each has its own swift_dir (same swift.conf, its own ring: Swift's points at
# the container servers, dbrepl's at the peers), its own ports, and per node one config file
# in Swift's format read by both its server and its replicator.

class System:
    def __init__(self, bench, name):
        self.b, self.name = bench, name
        a = bench.args
        base = a.base_port + (0 if name == 'swift' else 20)
        self.server_port = base + 1
        self.rsync_port = base + 3
        self.admin_port = base + 4
        self.metrics_port = base + 5
        self.nodelay_rsync_port = base + 6  # limits: an rsync daemon with TCP_NODELAY
        self.log_port = base + 9  # Swift's syslog-over-UDP target: nothing listens there
        self.etc = os.path.join(bench.work, 'etc', name)

    def ports(self):
        ports = [self.server_port, self.rsync_port]
        if self.name == 'dbrepl':
            ports += [self.admin_port, self.metrics_port, self.nodelay_rsync_port]
        return ports

    def make_ring(self):
        os.makedirs(self.etc, exist_ok=True)
        with open(os.path.join(self.etc, 'swift.conf'), 'w') as f:
            f.write(SWIFT_CONF)
        builder = os.path.join(self.etc, 'container.builder')
        srb = shutil.which('swift-ring-builder')
        run([srb, builder, 'create', str(PART_POWER), '3', '1'])
        for i, ip in enumerate(self.b.ips):
            run([srb, builder, 'add', 'r1z%d-%s:%d/%s' % (i + 1, ip, self.server_port, DEVS[i]), '100'])
        p = subprocess.run([srb, builder, 'rebalance'], capture_output=True, text=True)
        if p.returncode not in (0, 1) or not os.path.exists(os.path.join(self.etc, 'container.ring.gz')):
            die('swift-ring-builder rebalance failed: %s %s' % (p.stdout, p.stderr))

    def conf(self, cdir, tree, i):
        a = self.b.args
        ip = self.b.ips[i]
        lines = ['[DEFAULT]',
                 'devices = %s' % os.path.join(tree, 'node%d' % (i + 1)),
                 'mount_check = false',
                 'bind_ip = %s' % ip,
                 'bind_port = %d' % self.server_port,
                 'swift_dir = %s' % self.etc]
        if self.name == 'swift':
            lines += ['user = %s' % self.b.user,
                      'workers = %s' % a.swift_workers,
                      'log_udp_host = %s' % ip,
                      'log_udp_port = %d' % self.log_port]
        lines += ['',
                  '[pipeline:main]',
                  'pipeline = container-server',
                  '',
                  '[app:container-server]',
                  'use = egg:swift#container',
                  '',
                  '[container-replicator]',
                  'concurrency = %d' % a.concurrency,
                  'databases_per_second = 0',
                  'per_diff = 1000',
                  'max_diffs = 100',
                  'node_timeout = 10',
                  'conn_timeout = 0.5',
                  'rsync_module = rsync://{replication_ip}:%d/container' % self.rsync_port,
                  'recon_cache_path = %s' % os.path.join(cdir, 'recon%d' % (i + 1)),
                  '']
        path = os.path.join(cdir, 'node%d.conf' % (i + 1))
        with open(path, 'w') as f:
            f.write('\n'.join(lines))
        return path

    def rsyncd_conf(self, cdir, tree, i, extra=None, name='rsyncd'):
        """etc/rsyncd.conf-sample's layout (modules account/container/object on the devices
        root), one daemon per node on the node's IP; max connections raised to fit the
        replicators' concurrency (the sample's 4 would refuse uploads at concurrency 8)."""
        mc = self.b.args.rsync_max_connections
        devices = os.path.join(tree, 'node%d' % (i + 1))
        state = os.path.join(cdir, '%s%d' % (name, i + 1))
        os.makedirs(state, exist_ok=True)
        extra = extra or {}
        out = ['uid = %s' % self.b.user, 'gid = %s' % self.b.group,
               'log file = %s/rsyncd.log' % state, 'pid file = %s/rsyncd.pid' % state,
               'reverse lookup = false', 'address = %s' % self.b.ips[i],
               'port = %d' % extra.pop('port', self.rsync_port)] + ['%s = %s' % kv for kv in extra.items()] + ['']
        for mod in ('account', 'container', 'object'):
            out += ['[%s]' % mod, 'max connections = %d' % mc, 'path = %s' % devices,
                    'read only = false', 'lock file = %s/%s.lock' % (state, mod), '']
        path = os.path.join(state, 'rsyncd.conf')
        with open(path, 'w') as f:
            f.write('\n'.join(out))
        return path


class Cluster:
    """One system's three nodes running over one device tree."""

    def __init__(self, bench, system, tree, tag):
        self.b, self.s, self.tree = bench, system, tree
        self.dir = os.path.join(bench.work, 'run', '%s-%s' % (tag, system.name))
        os.makedirs(self.dir, exist_ok=True)
        self.logs = os.path.join(self.dir, 'logs')
        os.makedirs(self.logs, exist_ok=True)
        self.confs = [system.conf(self.dir, tree, i) for i in range(3)]
        self.env = None
        for i in range(3):
            os.makedirs(os.path.join(self.dir, 'recon%d' % (i + 1)), exist_ok=True)
        self.rsyncds, self.servers, self.agents = [], [], []
        self.mode = bench.args.agent_mode if system.name == 'dbrepl' else 'once'

    def start(self):
        b, s = self.b, self.s
        for i in range(3):
            conf = s.rsyncd_conf(self.dir, self.tree, i)
            self.rsyncds.append(PROCS.spawn([b.rsync, '--daemon', '--no-detach', '--config=' + conf],
                                            os.path.join(self.logs, 'rsyncd%d.log' % (i + 1))))
        for i in range(3):
            if s.name == 'swift':
                argv = [b.swift_server, self.confs[i]]
            else:
                argv = [b.bin('peer/dbrepl-peer'), '--conf=' + self.confs[i],
                        '--metrics_address=%s:%d' % (b.ips[i], s.metrics_port)]
            self.servers.append(PROCS.spawn(argv, os.path.join(self.logs, 'server%d.log' % (i + 1)),
                                            env=self.env))
        for i in range(3):
            wait_tcp(b.ips[i], s.rsync_port, proc=self.rsyncds[i], what='rsync daemon')
            if s.name == 'swift':
                self.wait_swift_server(i)
            else:
                run([b.bin('tools/dbreplctl'), 'health', '%s:%d' % (b.ips[i], s.server_port),
                     '--service', 'readiness', '--wait', '--timeout', '60'])
        if s.name == 'dbrepl' and self.mode == 'daemon':
            for i in range(3):
                self.agents.append(PROCS.spawn(self.agent_argv(i) + [
                    '--admin_ip=' + b.ips[i], '--admin_port=%d' % s.admin_port,
                    '--interval=100000000', '--progress_interval=100000'],
                    os.path.join(self.logs, 'agent%d.log' % (i + 1)), env=self.env))
            for i in range(3):
                run([b.bin('tools/dbreplctl'), 'health', '%s:%d' % (b.ips[i], s.admin_port),
                     '--service', 'dbrepl.v1.ReplicationAgent', '--wait', '--timeout', '60'])

    def wait_swift_server(self, i):
        ip, port = self.b.ips[i], self.s.server_port
        end = time.monotonic() + 60
        while time.monotonic() < end:
            if self.servers[i].poll() is not None:
                die('swift-container-server on node %d exited; see %s' % (i + 1, self.logs))
            try:
                c = http.client.HTTPConnection(ip, port, timeout=2)
                c.request('GET', '/')
                c.getresponse().read()
                c.close()
                return
            except OSError:
                time.sleep(0.1)
        die('swift-container-server on node %d not answering' % (i + 1))

    def agent_argv(self, i):
        return [self.b.bin('agent/dbrepl-agent'), '--server_type=container', '--conf=' + self.confs[i]]

    def recon_path(self, i):
        return os.path.join(self.dir, 'recon%d' % (i + 1), 'container.recon')

    def peer_rpcs(self):
        """dbrepl_peer_requests_total by method, summed over the three peers."""
        out = {}
        for i in range(3):
            try:
                text = urllib.request.urlopen('http://%s:%d/metrics' % (self.b.ips[i], self.s.metrics_port),
                                              timeout=5).read().decode()
            except OSError:
                continue
            for line in text.splitlines():
                m = re.match(r'dbrepl_peer_requests_total\{([^}]*)\} ([0-9.e+]+)', line)
                if m:
                    method = re.search(r'method="([^"]*)"', m.group(1))
                    key = method.group(1) if method else '?'
                    out[key] = out.get(key, 0) + float(m.group(2))
        return out

    def run_pass(self, label, profile=None):
        """One pass: node 1's, node 2's, node 3's replicator, one after another."""
        b, s = self.b, self.s
        servers = Meter(self.servers)
        rsyncds = Meter(self.rsyncds)
        agents = Meter(self.agents) if self.agents else None
        rpcs0 = self.peer_rpcs() if s.name == 'dbrepl' else {}
        for m in (servers, rsyncds, agents):
            if m:
                m.start()
        nodes = []
        once_cpu, once_rss = 0.0, 0
        load0 = loadavg()
        busy0, _ = machine_cpu()
        t_pass = time.monotonic()
        for i in range(3):
            if os.path.exists(self.recon_path(i)):
                os.unlink(self.recon_path(i))
            prof = profile(i) if profile else None
            t0 = time.monotonic()
            if self.mode == 'daemon':
                out = run([b.bin('bench/bench_client'), 'pass', '--target=%s:%d' % (b.ips[i], s.admin_port),
                           '--poll_ms=5'])
                # RunPass to the observed end, as bench_client times it (not
                # the client's own start-up and connection).
                wall = json.loads(out)['wall']
                status = json.loads(out)['status']
                ok = status['last']['succeeded']
            else:
                if s.name == 'swift':
                    argv = [b.swift_replicator, self.confs[i], '--once', '-v']
                else:
                    argv = self.agent_argv(i) + ['--once']
                p = PROCS.spawn(argv, os.path.join(self.logs, 'replicator%d-%s.log' % (i + 1, label)), env=self.env)
                code, ru = PROCS.wait4(p)
                wall = time.monotonic() - t0
                once_cpu += ru.ru_utime + ru.ru_stime
                once_rss = max(once_rss, ru.ru_maxrss)
                ok = code == 0
            if prof:
                prof()
            recon = {}
            try:
                with open(self.recon_path(i)) as f:
                    recon = json.load(f)
            except (OSError, ValueError):
                ok = False
            nodes.append({'wall': wall, 'ok': ok, 'recon_time': recon.get('replication_time'),
                          'stats': recon.get('replication_stats', {})})
        total_wall = time.monotonic() - t_pass
        busy1, _ = machine_cpu()
        res = {'load': max(load0, loadavg()), 'machine_busy': busy1 - busy0,'label': label, 'system': s.name, 'mode': self.mode, 'nodes': nodes,
               'wall': sum(n['wall'] for n in nodes), 'wall_incl_gaps': total_wall,
               'in_pass': sum(n['recon_time'] or 0 for n in nodes),
               'server': servers.stop(), 'rsyncd': rsyncds.stop()}
        if agents:
            res['agent'] = agents.stop()
        else:
            res['agent'] = {'cpu': once_cpu, 'rss_mb': once_rss / 1024, 'procs': 3}
        stats = {}
        for n in nodes:
            for k, v in n['stats'].items():
                if isinstance(v, (int, float)) and k != 'start':
                    stats[k] = stats.get(k, 0) + v
        res['stats'] = stats
        res['ok'] = all(n['ok'] for n in nodes) and stats.get('failure', 0) == 0
        # CPU the machine spent during the pass on anything but this system's processes (other
        # people's jobs on a shared machine, and this harness): high means inflated times.
        ours = res['agent']['cpu'] + res['server']['cpu'] + res['rsyncd']['cpu']
        res['other_cpu'] = max(0.0, res['machine_busy'] - ours)
        if s.name == 'dbrepl':
            rpcs1 = self.peer_rpcs()
            res['rpcs'] = {k: int(v - rpcs0.get(k, 0)) for k, v in rpcs1.items() if v - rpcs0.get(k, 0) > 0}
        if self.agents:
            res['agent_threads'] = max(len(os.listdir('/proc/%d/task' % p.pid)) for p in self.agents)
        if s.name == 'dbrepl':
            res['server_threads'] = max(len(os.listdir('/proc/%d/task' % p.pid)) for p in self.servers)
        return res

    def stop(self):
        for p in self.agents + self.servers + self.rsyncds:
            PROCS.stop(p)
        self.agents, self.servers, self.rsyncds = [], [], []


# --------------------------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.ips = ['%s.%d' % (args.ip_prefix, i) for i in (1, 2, 3)]
        self.results = []
        self.limits = {}
        self.gen_stats = {}
        self.failures = []
        self.pool = None
        self.bin_copy = None

    # ---- setup

    def bin(self, rel):
        return os.path.join(self.bin_copy or self.args.bin_dir, rel)

    def copy_binaries(self):
        """The binaries as built now, copied into the work directory: a build
        during the run (bazel-bin is a symlink that moves) changes nothing."""
        dest = os.path.join(self.work, 'bin')
        for rel in BINARIES:
            os.makedirs(os.path.join(dest, os.path.dirname(rel)), exist_ok=True)
            shutil.copy2(os.path.join(self.args.bin_dir, rel), os.path.join(dest, rel))
        self.bin_copy = dest

    def check_deps(self):
        missing = []
        if not os.path.exists('/usr/lib/python3/dist-packages/swift/__init__.py'):
            missing.append('python3-swift')
        for exe, pkg in (('swift-container-server', 'swift-container'),
                         ('swift-container-replicator', 'swift-container'),
                         ('swift-ring-builder', 'swift'), ('rsync', 'rsync'), ('cp', 'coreutils')):
            if not shutil.which(exe):
                missing.append('%s (for %s)' % (pkg, exe))
        if self.args.profile and not shutil.which(self.args.profile):
            missing.append({'perf': 'linux-perf', 'strace': 'strace'}[self.args.profile])
        if missing:
            die('missing Debian packages: %s; run ./run setup (bench/run.sh does)' % ', '.join(missing))
        for rel in BINARIES:
            if not os.access(self.bin(rel), os.X_OK):
                die('%s not built; bench/run.sh builds it (bazel build -c opt ...)' % self.bin(rel))
        self.swift_server = shutil.which('swift-container-server')
        self.swift_replicator = shutil.which('swift-container-replicator')
        self.rsync = shutil.which('rsync')
        import grp
        import pwd
        self.user = pwd.getpwuid(os.getuid()).pw_name
        self.group = grp.getgrgid(os.getgid()).gr_name

    def check_network(self):
        self.systems = {n: System(self, n) for n in SYSTEMS}
        for ip in self.ips:
            for s in self.systems.values():
                for port in s.ports():
                    if not port_free(ip, port):
                        die('%s:%d is in use (or %s is not a local address); pick other --base-port/--ip-prefix'
                            % (ip, port, ip))

    def machine(self):
        cpu = '?'
        try:
            with open('/proc/cpuinfo') as f:
                for line in f:
                    if line.startswith('model name'):
                        cpu = line.split(':', 1)[1].strip()
                        break
        except OSError:
            pass
        mem = os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30
        disk = subprocess.run(['df', '-h', '--output=source,fstype,size', self.work], capture_output=True,
                              text=True).stdout.strip().splitlines()[-1]
        dev = disk.split()[0].rsplit('/', 1)[-1]
        rot = '?'
        try:
            with open('/sys/block/%s/queue/rotational' % re.sub(r'\d+$', '', dev)) as f:
                rot = 'rotational' if f.read().strip() == '1' else 'non-rotational'
        except OSError:
            pass
        vers = {}
        for pkg in ('python3-swift', 'rsync', 'libsqlite3-0', 'libgrpc++1.51'):
            v = subprocess.run(['dpkg-query', '-W', '-f=${Version}', pkg], capture_output=True, text=True).stdout
            vers[pkg] = v or '?'
        git = subprocess.run(['git', '-C', REPO, 'rev-parse', '--short', 'HEAD'], capture_output=True,
                             text=True).stdout.strip()
        return {'nproc': os.cpu_count(), 'cpu': cpu, 'mem_gib': round(mem, 1), 'disk': disk + ' ' + rot,
                'kernel': platform.release(), 'versions': vers, 'dbrepl_commit': git}

    # ---- data

    def datasets(self):
        a, cases = self.args, self.cases
        sets = {}
        if {'first', 'steady', 'rsync', 'usync', 'limits'} & cases:
            sets['main'] = (a.n, a.m, a.m - a.m // 10)
        if 'rtm' in cases:
            sets['rtm'] = (a.rtm_n, a.rtm_m, int(a.rtm_m * 0.4))
        if 'memory' in cases:
            sets['mem'] = (1, a.memory_rows, a.memory_rows - a.memory_rows // 20)
            for n in self.memory_ns():
                sets['ns%d' % n] = (n, a.memory_ns_rows, None)
        return sets

    def memory_ns(self):
        ns = [int(x) for x in self.args.memory_n.split(',') if x]
        if self.args.memory_big and 100000 not in ns:
            ns.append(100000)
        return ns

    def generate(self):
        """Writes every data set once with Swift's ContainerBroker (reused from --workdir when
        the same sizes were written there before)."""
        self.data = {}
        tasks = []
        for name, (n, m, prefix) in sorted(self.datasets().items()):
            d = os.path.join(self.work, 'data', name)
            manifest = os.path.join(d, 'manifest.json')
            key = {'n': n, 'm': m, 'prefix': prefix, 'part_power': PART_POWER, 'conf': SWIFT_CONF}
            if os.path.exists(manifest):
                with open(manifest) as f:
                    saved = json.load(f)
                if saved.get('key') == key:
                    self.data[name] = saved['containers']
                    log('data %-8s reused: %d containers x %d rows (%s)' % (name, n, m, d))
                    continue
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
            self.data[name] = key
            tasks += [(name, k, m, prefix, d) for k in range(n)]
        if not tasks:
            return
        todo = [t for t in tasks]
        todo.sort(key=lambda t: -t[2])  # the big ones first, so the two workers finish together
        log('writing %d containers with Swift\'s ContainerBroker (%d rows) ...' % (
            len(todo), sum(t[2] + (t[3] or 0) for t in todo)))
        t0 = time.monotonic()
        out = {}
        for rec in self.pool.imap_unordered(_gen_container, todo, chunksize=4):
            out.setdefault(rec['container'].rsplit('-', 1)[0], []).append(rec)
        elapsed = time.monotonic() - t0
        allrecs = [r for recs in out.values() for r in recs]
        rows = sum(r['rows_written'] for r in allrecs)
        merge_s = sum(r['merge_seconds'] for r in allrecs)
        self.gen_stats = {'containers': len(todo), 'rows': rows, 'wall': elapsed,
                          'rows_per_s_per_process': rows / merge_s if merge_s else 0}
        log('  done in %.1fs (ContainerBroker.merge_items: %s rows/s per process)' % (
            elapsed, fmt(self.gen_stats['rows_per_s_per_process'])))
        for name, recs in out.items():
            recs.sort(key=lambda r: r['k'])
            key = self.data[name]
            with open(os.path.join(self.work, 'data', name, 'manifest.json'), 'w') as f:
                json.dump({'key': key, 'containers': recs}, f)
            self.data[name] = recs

    def seed(self, setname, kind, tag, recs=None):
        """Builds the case's start state once, then one identical copy per system."""
        recs = recs if recs is not None else self.data[setname]
        root = os.path.join(self.work, 'trees', tag + '-seed')
        shutil.rmtree(root, ignore_errors=True)
        for i in range(3):
            os.makedirs(os.path.join(root, 'node%d' % (i + 1), DEVS[i], 'tmp'))
        t0 = time.monotonic()
        list(self.pool.imap_unordered(_seed_container, [(kind, r, root) for r in recs], chunksize=16))
        trees = {}
        systems = self.run_systems(tag)
        for j, s in enumerate(systems):
            dst = os.path.join(self.work, 'trees', '%s-%s' % (tag, s))
            shutil.rmtree(dst, ignore_errors=True)
            if j == len(systems) - 1:
                os.rename(root, dst)
            else:
                copy_tree(root, dst)
            trees[s] = dst
        os.sync()
        log('  seed %s/%s: %d containers, %.0f MB per copy, built in %.1fs' % (
            setname, kind, len(recs), dir_size(trees[systems[0]]) / 2**20, time.monotonic() - t0))
        return trees

    def verify(self, tree, recs):
        t0 = time.monotonic()
        problems = []
        for p in self.pool.imap_unordered(_verify_container, [(r, tree) for r in recs], chunksize=8):
            problems += p
        return problems, time.monotonic() - t0

    def run_systems(self, tag):
        if tag.startswith('mem-ns') and not self.args.memory_swift:
            return ['dbrepl']
        return [s for s in SYSTEMS if s in self.args.systems]

    # ---- cases

    def record(self, case, res, rows_moved, recs, tree, note=''):
        problems, vt = self.verify(tree, recs)
        res.update({'case': case, 'rows_moved': rows_moved, 'containers': len(recs),
                    'verify': 'OK' if not problems else 'FAIL', 'problems': problems[:20],
                    'n_problems': len(problems), 'note': note})
        res['dbs'] = res['stats'].get('attempted', 0)
        res['dbs_per_s'] = res['dbs'] / res['wall'] if res['wall'] else 0
        res['rows_per_s'] = rows_moved / res['wall'] if rows_moved and res['wall'] else None
        self.results.append(res)
        st = res['stats']
        keys = ('no_change', 'hashmatch', 'rsync', 'diff', 'remote_merge', 'diff_capped', 'failure')
        log('  %-7s %-6s wall %7.2fs (in pass %6.2fs)  %6s DBs/s  agent %5.1f CPU-s %5.0f MB  server %5.1f CPU-s '
            '%5.0f MB  rsyncd %4.1f CPU-s  other %4.1f CPU-s (load %.1f)  %s  verify %s (%.0fs)' % (
                case, res['system'], res['wall'], res['in_pass'], fmt(res['dbs_per_s'], 0),
                res['agent']['cpu'], res['agent']['rss_mb'], res['server']['cpu'], res['server']['rss_mb'],
                res['rsyncd']['cpu'], res['other_cpu'], res['load'],
                ' '.join('%s=%d' % (k, st.get(k, 0)) for k in keys if st.get(k)), res['verify'], vt))
        if res['other_cpu'] > 0.25 * res['wall'] * (os.cpu_count() or 1):
            log('          (note: other processes used %.1f CPU-s of the machine during this pass; '
                'times are inflated)' % res['other_cpu'])
        if res.get('rpcs'):
            log('          peer RPCs: %s' % ' '.join('%s=%d' % kv for kv in sorted(res['rpcs'].items())))
        if problems:
            self.failures.append('%s/%s' % (case, res['system']))
            log('  FAIL: %s/%s did not converge: %d problems, e.g.:' % (case, res['system'], len(problems)))
            for p in problems[:5]:
                log('        ' + p)
        if not res['ok']:
            log('  (replicator reported failures or a non-zero exit; logs in %s)' % os.path.join(
                self.work, 'run'))

    def case_group(self, tag, setname, kind, passes, rows_moved, recs=None, note=''):
        """Runs `passes` (list of (case name, reported?)) for each system from one seed."""
        recs = recs if recs is not None else self.data[setname]
        log('== %s: %s' % (tag, note or kind))
        trees = self.seed(setname, kind, tag, recs)
        for sname in self.run_systems(tag):
            c = Cluster(self, self.systems[sname], trees[sname], tag)
            try:
                c.start()
                for j, (case, report) in enumerate(passes):
                    prof = None
                    if sname == 'dbrepl' and self.args.profile == 'perf' and case in (self.args.profile_case or []):
                        prof = self.whole_machine_profile(case)
                    res = c.run_pass(case, prof)
                    if report:
                        self.record(case, res, rows_moved if j == 0 else 0, recs, trees[sname], note)
                    if case == 'steady' and sname == 'dbrepl' and self.args.profile:
                        self.profile_pass(c)
            finally:
                c.stop()
            if not self.args.keep:
                shutil.rmtree(trees[sname], ignore_errors=True)

    def whole_machine_profile(self, case):
        """For run_pass: perf over the whole machine (agent, peers, rsync, SQLite) while node 1's
        agent runs the reported pass of `case` (it then measures perf's overhead too)."""
        def start(i):
            if i != 0:
                return None
            pdir = os.path.join(self.work, 'profile')
            os.makedirs(pdir, exist_ok=True)
            out = os.path.join(pdir, 'machine-%s.perf' % case)
            p = PROCS.spawn(['perf', 'record', '-a', '--call-graph', self.args.perf_call_graph, '-F', '499',
                             '-o', out + '.data'], out + '.log')
            time.sleep(1.0)

            def stop():
                os.kill(p.pid, signal.SIGINT)
                try:
                    p.wait(60)
                except subprocess.TimeoutExpired:
                    PROCS.stop(p)
                rep = ''
                for sort, limit in (('comm', '0.5'), ('comm,dso', '0.5'), ('comm,dso,sym', '0.7')):
                    rep += subprocess.run(['perf', 'report', '-i', out + '.data', '--stdio', '--no-children',
                                           '--percent-limit', limit, '--sort', sort, '-g', 'none'],
                                          capture_output=True, text=True).stdout
                with open(out + '.txt', 'w') as f:
                    f.write(rep)
                log('    whole-machine profile of node 1 (%s): %s.txt' % (case, out))
            return stop
        return start

    def profile_pass(self, c):
        """One more steady-state pass with node 1's agent and the two peers it talks to under
        perf or strace (not reported as a measurement)."""
        if c.mode != 'daemon':
            log('  (--profile needs --agent-mode daemon)')
            return
        pdir = os.path.join(self.work, 'profile')
        os.makedirs(pdir, exist_ok=True)
        targets = {'agent1': c.agents[0].pid, 'peer2': c.servers[1].pid, 'peer3': c.servers[2].pid}
        tools = []
        for name, pid in targets.items():
            out = os.path.join(pdir, '%s.%s' % (name, self.args.profile))
            if self.args.profile == 'strace':
                argv = ['strace', '-c', '-f', '-p', str(pid), '-o', out]
            else:
                argv = ['perf', 'record', '--call-graph', self.args.perf_call_graph, '-F', '999', '-p', str(pid),
                        '-o', out + '.data']
            tools.append((name, out, PROCS.spawn(argv, out + '.log')))
        time.sleep(1.0)
        t0 = time.monotonic()
        run([self.bin('bench/bench_client'), 'pass', '--target=%s:%d' % (self.ips[0], c.s.admin_port)])
        log('  profiled steady pass of node 1 (%s): %.2fs' % (self.args.profile, time.monotonic() - t0))
        for name, out, p in tools:
            os.kill(p.pid, signal.SIGINT)
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                PROCS.stop(p)
            if self.args.profile == 'perf':
                rep = ''
                for sort, limit in (('dso', '0.5'), ('dso,sym', '1')):
                    rep += subprocess.run(['perf', 'report', '-i', out + '.data', '--stdio', '--no-children',
                                           '--percent-limit', limit, '--sort', sort, '-g', 'none'],
                                          capture_output=True, text=True).stdout
                with open(out + '.txt', 'w') as f:
                    f.write(rep)
            log('    %s: %s' % (name, out + ('.txt' if self.args.profile == 'perf' else '')))

    def run_cases(self):
        a, cs = self.args, self.cases
        if {'first', 'steady'} & cs:
            passes = [('first', 'first' in cs)]
            if 'steady' in cs:
                passes.append(('steady', True))
            self.case_group('insync', 'main', 'sync', passes, 0,
                            note='in sync: 3 identical replicas; first contact, then steady state')
        if 'rsync' in cs:
            self.case_group('rsync', 'main', 'single', [('rsync', True)], 2 * a.n * a.m,
                            note='each DB on one node only: rsync to the other two')
        if 'usync' in cs:
            missing = a.m // 10
            self.case_group('usync', 'main', 'lag', [('usync', True)], a.n * missing,
                            note='one replica lacks the last 10%% of rows (%d): usync' % missing)
        if 'rtm' in cs:
            behind = a.rtm_m - int(a.rtm_m * 0.4)
            self.case_group('rtm', 'rtm', 'lag', [('rtm', True)], a.rtm_n * behind,
                            note='one replica has 40%% of %d rows: rsync_then_merge' % a.rtm_m)
        if 'memory' in cs:
            r = a.memory_rows
            self.case_group('mem-rsync', 'mem', 'single', [('mem-rsync', True)], 2 * r,
                            note='one %d-row DB on one node: rsync to two' % r)
            self.case_group('mem-usync', 'mem', 'lag', [('mem-usync', True)], r // 20,
                            note='one %d-row DB, one replica lacks the last 5%%: usync' % r)
            for n in self.memory_ns():
                self.case_group('mem-ns%d' % n, 'ns%d' % n, 'sync', [('mem-N%d' % n, True)], 0,
                                note='%d containers x %d rows in sync (first contact): RSS vs N' % (
                                    n, a.memory_ns_rows))
        if 'limits' in cs:
            self.run_limits()

    # ---- limits

    def run_limits(self):
        a = self.args
        log('== limits (same machine, same run)')
        ldir = os.path.join(self.work, 'limits')
        shutil.rmtree(ldir, ignore_errors=True)
        os.makedirs(ldir)
        # SQLite: Swift's connection with its Python chexor, and C++ with dbrepl's.
        py = self.pool.apply(_sqlite_py_limit, ((os.path.join(ldir, 'py.db'), a.limit_rows, 1000, 'raw', False),))
        self.limits['sqlite_py'] = py
        log('  SQLite INSERT, Python + Swift\'s chexor (Swift\'s connection): %s rows/s' % fmt(py['rows_per_s']))
        cdb = os.path.join(ldir, 'c.db')
        self.pool.apply(_sqlite_py_limit, ((cdb, 0, 1000, 'raw', True),))
        c = json.loads(run([self.bin('bench/bench_client'), 'sqlite-insert', '--db=' + cdb,
                            '--rows=%d' % a.limit_rows, '--batch=1000']))
        self.limits['sqlite_c'] = c
        log('  SQLite INSERT, C++ + C++ chexor (dbrepl\'s connection):      %s rows/s' % fmt(c['rows_per_s']))
        if self.gen_stats:
            log('  (Swift\'s ContainerBroker.merge_items while writing the data: %s rows/s per process)' % fmt(
                self.gen_stats['rows_per_s_per_process']))
        # A small tree (one container in sync) for the servers.
        recs = self.data['main'][:1]
        trees = self.seed('main', 'sync', 'limits', recs)
        rec = recs[0]
        for sname in self.run_systems('limits'):
            s = self.systems[sname]
            tree = trees[sname]
            cl = Cluster(self, s, tree, 'limits')
            try:
                cl.start()
                sender = replica_paths(tree, rec)[0]
                info = self.pool.apply(_replication_info, (sender,))
                if sname == 'dbrepl':
                    self.limit_grpc(cl, rec, info)
                    self.limit_rsync(cl)
                else:
                    self.limit_swift_replicate(cl, rec, info)
            finally:
                cl.stop()
            if not self.args.keep:
                shutil.rmtree(tree, ignore_errors=True)

    def limit_grpc(self, cl, rec, info):
        target = '--target=%s:%d' % (self.ips[1], cl.s.server_port)
        bc = self.bin('bench/bench_client')
        res = {}
        res['check_1'] = json.loads(run([bc, 'rtt', target, '--method=check', '--calls=10000']))
        res['check_c'] = json.loads(run([bc, 'rtt', target, '--method=check', '--calls=20000',
                                         '--threads=%d' % self.args.concurrency]))
        sync = {k: info[k] for k in ('max_row', 'hash', 'id', 'created_at', 'put_timestamp', 'delete_timestamp')}
        sync['metadata'] = info.get('metadata') or ''
        common = [bc, 'rtt', target, '--method=sync', '--device=' + DEVS[1], '--partition=%d' % rec['part'],
                  '--hash=' + rec['hash'], '--sync_json=' + json.dumps(sync)]
        res['sync_1'] = json.loads(run(common + ['--calls=5000']))
        res['sync_c'] = json.loads(run(common + ['--calls=10000', '--threads=%d' % self.args.concurrency]))
        self.limits['grpc'] = res
        for k, v in res.items():
            log('  gRPC %-8s %-5s x%-2d: %9s calls/s  p50 %6.0f us  p99 %6.0f us' % (
                k, v['method'], v['threads'], fmt(v['calls_per_s']), v['p50_us'], v['p99_us']))

    def limit_swift_replicate(self, cl, rec, info):
        """Swift's REPLICATE 'sync' as its replicator sends it: JSON body, a new HTTP connection
        per call (Swift opens one per database per peer). The client is Python too."""
        ip, port = self.ips[1], cl.s.server_port
        path = '/%s/%d/%s' % (DEVS[1], rec['part'], rec['hash'])
        args = ['sync'] + [info[k] for k in ('max_row', 'hash', 'id', 'created_at', 'put_timestamp',
                                             'delete_timestamp', 'metadata')]
        body = json.dumps(args)
        calls = self.args.limit_http_calls

        def one():
            c = http.client.HTTPConnection(ip, port, timeout=10)
            c.request('REPLICATE', path, body, {'Content-Type': 'application/json'})
            r = c.getresponse()
            r.read()
            c.close()
            if r.status != 200:
                raise RuntimeError('REPLICATE sync: HTTP %d' % r.status)

        for _ in range(50):
            one()
        lat = []
        t0 = time.monotonic()
        for _ in range(calls):
            a = time.monotonic()
            one()
            lat.append((time.monotonic() - a) * 1e6)
        wall = time.monotonic() - t0
        lat.sort()
        res = {'calls': calls, 'seconds': wall, 'calls_per_s': calls / wall, 'p50_us': lat[len(lat) // 2],
               'p99_us': lat[int(len(lat) * 0.99)]}
        self.limits['swift_replicate'] = res
        log('  Swift REPLICATE sync, new connection per call, x1: %9s calls/s  p50 %6.0f us  p99 %6.0f us' % (
            fmt(res['calls_per_s']), res['p50_us'], res['p99_us']))

    def limit_rsync(self, cl):
        """Plain rsync of the main set's database files to node 2's rsync daemon, with the
        replicators' flags: one process per file (sequential, and `concurrency` at once), and one
        process for all of them."""
        files = [r['full'] for r in self.data['main']]
        seq_files = files[:self.args.limit_rsync_files]
        size = sum(os.path.getsize(f) for f in files)
        seq_size = sum(os.path.getsize(f) for f in seq_files)
        dest = 'rsync://%s:%d/container/%s/tmp' % (self.ips[1], cl.s.rsync_port, DEVS[1])
        flags = [self.rsync, '--quiet', '--no-motd', '--timeout=10', '--contimeout=1', '--whole-file']
        tmp = os.path.join(cl.tree, 'node2', DEVS[1], 'tmp')

        def clean():
            shutil.rmtree(tmp, ignore_errors=True)
            os.makedirs(tmp)

        res = {}
        clean()
        t0 = time.monotonic()
        for k, f in enumerate(seq_files):
            run(flags + [f, '%s/seq-%d' % (dest, k)])
        res['per_file_seq'] = time.monotonic() - t0
        # The same with TCP_NODELAY on both ends (client --sockopts, daemon "socket options"): not
        # what Swift documents, a measure of what the small-packet waits cost.
        conf = cl.s.rsyncd_conf(cl.dir, cl.tree, 1, {'port': cl.s.nodelay_rsync_port,
                                                     'socket options': 'TCP_NODELAY'}, name='rsyncd-nodelay')
        nd = PROCS.spawn([self.rsync, '--daemon', '--no-detach', '--config=' + conf],
                         os.path.join(cl.logs, 'rsyncd-nodelay.log'))
        try:
            wait_tcp(self.ips[1], cl.s.nodelay_rsync_port, proc=nd, what='rsync daemon')
            nd_dest = 'rsync://%s:%d/container/%s/tmp' % (self.ips[1], cl.s.nodelay_rsync_port, DEVS[1])
            clean()
            t0 = time.monotonic()
            for k, f in enumerate(seq_files):
                run(flags + ['--sockopts=TCP_NODELAY', f, '%s/nd-%d' % (nd_dest, k)])
            res['per_file_seq_nodelay'] = time.monotonic() - t0
        finally:
            PROCS.stop(nd)
        clean()
        t0 = time.monotonic()
        errors = []

        def worker(chunk):
            for k, f in chunk:
                p = subprocess.run(flags + [f, '%s/par-%d' % (dest, k)], capture_output=True)
                if p.returncode:
                    errors.append(p.stderr)

        c = self.args.concurrency
        items = list(enumerate(files))
        threads = [threading.Thread(target=worker, args=(items[j::c],)) for j in range(c)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        res['per_file_conc'] = time.monotonic() - t0
        if errors:
            log('  rsync errors: %s' % errors[0][:300])
        clean()
        t0 = time.monotonic()
        run(flags + files + [dest + '/'])
        res['one_process'] = time.monotonic() - t0
        clean()
        out = {'files': len(files), 'mb': size / 2**20, 'concurrency': c}
        for k, v in res.items():
            nf, sz = (len(seq_files), seq_size) if k.startswith('per_file_seq') else (len(files), size)
            out[k] = {'seconds': v, 'files': nf, 'mb': sz / 2**20, 'files_per_s': nf / v, 'mb_per_s': sz / 2**20 / v}
            log('  rsync %-20s: %6.2fs  %7s files/s  %6.1f MB/s  (%d files, %.0f MB)' % (
                k, v, fmt(nf / v), sz / 2**20 / v, nf, sz / 2**20))
        self.limits['rsync'] = out

    # ---- report

    def report(self):
        lines = []
        a = self.args
        m = self.machine_info
        lines.append('machine: %d cores (%s), %.1f GiB RAM, disk %s, kernel %s' % (
            m['nproc'], m['cpu'], m['mem_gib'], m['disk'], m['kernel']))
        lines.append('versions: %s; dbrepl %s (-c opt); concurrency %d for both; dbrepl agents: %s' % (
            ', '.join('%s %s' % kv for kv in m['versions'].items()), m['dbrepl_commit'], a.concurrency,
            a.agent_mode))
        lines.append('')
        lines.append('| case | system | wall s | in-pass s | DBs | DBs/s | rows/s | agent CPU s | agent peak RSS MB '
                     '| server CPU s | server peak RSS MB | rsyncd CPU s | other CPU s | verify |')
        lines.append('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|')
        by_case = {}
        for r in self.results:
            by_case.setdefault(r['case'], {})[r['system']] = r
            lines.append('| %s | %s | %.2f | %.2f | %d | %s | %s | %.1f | %.0f | %.1f | %.0f | %.1f | %.1f | %s |' % (
                r['case'], r['system'] + ('' if r['system'] == 'swift' else ' (%s)' % r['mode']), r['wall'],
                r['in_pass'], r['dbs'], fmt(r['dbs_per_s'], 0), fmt(r['rows_per_s'], 0) if r['rows_per_s'] else '-',
                r['agent']['cpu'], r['agent']['rss_mb'], r['server']['cpu'], r['server']['rss_mb'],
                r['rsyncd']['cpu'], r['other_cpu'], r['verify'] + ('' if r['ok'] else ' (failures)')))
        lines.append('')
        lines.append('| case | Swift/dbrepl wall | Swift/dbrepl in-pass | Swift/dbrepl total CPU |')
        lines.append('|---|---:|---:|---:|')
        for case, d in by_case.items():
            if 'swift' in d and 'dbrepl' in d:
                s, r = d['swift'], d['dbrepl']

                def cpu(x):
                    return x['agent']['cpu'] + x['server']['cpu'] + x['rsyncd']['cpu']

                lines.append('| %s | %.1fx | %.1fx | %.1fx |' % (
                    case, s['wall'] / r['wall'], s['in_pass'] / r['in_pass'] if r['in_pass'] else 0,
                    cpu(s) / cpu(r) if cpu(r) else 0))
        lines.append('')
        for r in self.results:
            st = r['stats']
            keys = ('attempted', 'no_change', 'hashmatch', 'rsync', 'diff', 'remote_merge', 'diff_capped',
                    'failure', 'success')
            extra = ''
            if r.get('rpcs'):
                extra = '; peer RPCs ' + ' '.join('%s=%d' % kv for kv in sorted(r['rpcs'].items()))
            if r.get('agent_threads'):
                extra += '; agent threads %d, peer threads %d' % (r['agent_threads'], r.get('server_threads', 0))
            lines.append('- %s/%s: %s%s' % (r['case'], r['system'],
                                            ' '.join('%s=%d' % (k, st.get(k, 0)) for k in keys), extra))
        if self.limits:
            lines.append('')
            lines.append('limits:')
            L = self.limits
            if 'sqlite_py' in L:
                lines.append('- SQLite INSERT in 1000-row transactions, Python with Swift\'s chexor: %s rows/s' %
                             fmt(L['sqlite_py']['rows_per_s']))
            if 'sqlite_c' in L:
                lines.append('- SQLite INSERT in 1000-row transactions, C++ with dbrepl\'s chexor: %s rows/s' %
                             fmt(L['sqlite_c']['rows_per_s']))
            if self.gen_stats:
                lines.append('- Swift ContainerBroker.merge_items (writing the data): %s rows/s per process' %
                             fmt(self.gen_stats['rows_per_s_per_process']))
            for k, v in L.get('grpc', {}).items():
                lines.append('- gRPC %s, %d thread(s) on one channel: %s calls/s, p50 %.0f us, p99 %.0f us' % (
                    v['method'], v['threads'], fmt(v['calls_per_s']), v['p50_us'], v['p99_us']))
            if 'swift_replicate' in L:
                v = L['swift_replicate']
                lines.append('- Swift REPLICATE sync, new HTTP connection per call: %s calls/s, p50 %.0f us, '
                             'p99 %.0f us' % (fmt(v['calls_per_s']), v['p50_us'], v['p99_us']))
            if 'rsync' in L:
                v = L['rsync']
                for k in ('per_file_seq', 'per_file_seq_nodelay', 'per_file_conc', 'one_process'):
                    if k in v:
                        lines.append('- rsync %s (%d files, %.0f MB): %s files/s, %.1f MB/s' % (
                            k, v[k]['files'], v[k]['mb'], fmt(v[k]['files_per_s']), v[k]['mb_per_s']))
        text = '\n'.join(lines)
        log('')
        log('=' * 100)
        log(text)
        with open(os.path.join(self.work, 'results.md'), 'w') as f:
            f.write(text + '\n')
        with open(os.path.join(self.work, 'results.json'), 'w') as f:
            json.dump({'machine': m, 'args': vars(a), 'results': self.results, 'limits': self.limits,
                       'generation': self.gen_stats}, f, indent=1, default=str)
        log('')
        log('results: %s/results.md and results.json; logs under %s/run' % (self.work, self.work))

    # ---- main

    def main(self):
        a = self.args
        self.cases = set(ALL_CASES) if a.cases == 'all' else set(a.cases.split(','))
        unknown = self.cases - set(ALL_CASES)
        if unknown:
            die('unknown case(s) %s; cases are %s' % (','.join(sorted(unknown)), ','.join(ALL_CASES)))
        self.check_deps()
        global SWIFT_CONF
        SWIFT_CONF = swift_conf_text()
        if a.workdir:
            self.work = os.path.abspath(a.workdir)
            os.makedirs(self.work, exist_ok=True)
            self.own_work = False
        else:
            self.work = tempfile.mkdtemp(prefix='dbrepl-bench.')
            self.own_work = True
        log('workdir %s' % self.work)
        self.copy_binaries()
        self.check_network()
        self.machine_info = self.machine()
        shutil.rmtree(os.path.join(self.work, 'etc'), ignore_errors=True)
        shutil.rmtree(os.path.join(self.work, 'run'), ignore_errors=True)
        shutil.rmtree(os.path.join(self.work, 'trees'), ignore_errors=True)
        for s in self.systems.values():
            s.make_ring()
        ctx = multiprocessing.get_context('spawn')
        self.pool = ctx.Pool(a.jobs, initializer=_pool_init, initargs=(self.systems['swift'].etc,))
        try:
            t0 = time.monotonic()
            self.generate()
            self.run_cases()
            self.report()
            log('total %.0fs' % (time.monotonic() - t0))
        finally:
            self.pool.terminate()
            self.pool.join()
            PROCS.stop_all()
            if not a.keep:
                shutil.rmtree(os.path.join(self.work, 'trees'), ignore_errors=True)
            if self.own_work and not a.keep:
                shutil.rmtree(os.path.join(self.work, 'data'), ignore_errors=True)
                shutil.rmtree(os.path.join(self.work, 'bin'), ignore_errors=True)
                shutil.rmtree(os.path.join(self.work, 'limits'), ignore_errors=True)
        if self.failures:
            log('FAIL: not converged: %s' % ', '.join(self.failures))
            return 1
        return 0


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--n', type=int, default=1000, help='containers in the main data set (cases first..usync)')
    p.add_argument('--m', type=int, default=1000, help='rows per container in the main data set')
    p.add_argument('--rtm-n', type=int, default=100, help='containers for the rsync_then_merge case')
    p.add_argument('--rtm-m', type=int, default=5000, help='rows per container for the rsync_then_merge case')
    p.add_argument('--cases', default=','.join(DEFAULT_CASES),
                   help='comma-separated, of: %s; or all (default: all but memory)' % ','.join(ALL_CASES))
    p.add_argument('--systems', default='swift,dbrepl', help='swift,dbrepl or one of them')
    p.add_argument('--agent-mode', choices=('daemon', 'once'), default='daemon',
                   help='dbrepl agents as daemons driven by the admin API (default), or dbrepl-agent --once')
    p.add_argument('--concurrency', type=int, default=8, help='replicator concurrency, both systems (Swift\'s default 8)')
    p.add_argument('--swift-workers', default='auto', help='container-server workers (Swift\'s default: auto)')
    p.add_argument('--rsync-max-connections', type=int, default=16, help='per rsync module')
    p.add_argument('--memory-rows', type=int, default=1000000, help='rows of the memory case\'s one big DB')
    p.add_argument('--memory-n', default='1000,10000', help='container counts for RSS vs N')
    p.add_argument('--memory-ns-rows', type=int, default=10, help='rows per container for RSS vs N')
    p.add_argument('--memory-big', action='store_true', help='add N = 100000 to RSS vs N (long)')
    p.add_argument('--memory-swift', action='store_true', help='run Swift in the RSS-vs-N cases too')
    p.add_argument('--limit-rows', type=int, default=200000, help='rows for the SQLite insert limits')
    p.add_argument('--limit-rsync-files', type=int, default=200, help='files for the sequential rsync limits')
    p.add_argument('--limit-http-calls', type=int, default=2000, help='Swift REPLICATE calls for its limit')
    p.add_argument('--profile', choices=('perf', 'strace'), help='profile one extra steady dbrepl pass')
    p.add_argument('--profile-case', type=lambda v: v.split(','), default=None,
                   help='with --profile perf: also profile the whole machine during node 1 of these cases '
                        '(e.g. rsync,usync); those passes then carry perf overhead')
    p.add_argument('--perf-call-graph', choices=('fp', 'dwarf'), default='fp',
                   help='perf call graphs: frame pointers (cheap; Debian\'s libraries have none) or dwarf')
    p.add_argument('--workdir', help='work directory (default: a new mktemp dir); data written there is reused')
    p.add_argument('--keep', action='store_true', help='keep the device trees and data')
    p.add_argument('--jobs', type=int, default=2, help='processes writing/verifying data')
    p.add_argument('--ip-prefix', default='127.0.50', help='nodes are PREFIX.1, .2, .3')
    p.add_argument('--base-port', type=int, default=26200, help='Swift uses BASE+1..9, dbrepl BASE+21..29')
    p.add_argument('--bin-dir', default=os.path.join(REPO, 'bazel-bin'), help='where the -c opt binaries are')
    a = p.parse_args(argv)
    a.systems = [s for s in a.systems.split(',') if s]
    if set(a.systems) - set(SYSTEMS):
        p.error('--systems takes swift and/or dbrepl')
    return a


def main():
    args = parse_args(sys.argv[1:])
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    atexit.register(PROCS.stop_all)
    return Bench(args).main()


if __name__ == '__main__':
    sys.exit(main())
