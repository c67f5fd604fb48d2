"""Fault soak for dbrepl: real processes, concurrent writers, injected faults.

A cluster of SOAK_NODES nodes on loopback (127.0.<x>.<n>, one address per
node), each with SOAK_DEVICES devices, a dbrepl-peer (running its own rsync
daemon) and two dbrepl-agent daemons (container and account) with a short
--interval, all running at once. Hundreds of container and account databases
start out in assorted states (same rows everywhere, on one replica only, one
replica far ahead, diverged, a copy on a handoff). While the agents run:

  * writer threads put rows into random primary replicas, through Swift's own
    ContainerBroker.put_object / AccountBroker.put_container (via the .pending
    file, as Swift's servers do; sometimes followed by get_info(), which
    flushes the pending file as a HEAD would) and through `dbreplctl put`
    (direct and --pending). Every ACKNOWLEDGED write (the call returned
    without error) is recorded: database, replica (device), name, timestamp,
    the replica's database id at the time.
  * fault threads (unless SOAK_FAULTS=0) inject, at random moments: SIGKILL of
    agents (at random moments in a pass, and while the agent has an rsync
    child running), SIGKILL of peers (also while their rsync daemon is
    receiving), SIGKILL of a peer's rsync daemon, a peer restarted without its
    rsync daemon for a while, a device "unmounted" (renamed out of --devices;
    peers run with --mount_check=false, so they answer DEVICE_UNAVAILABLE) and
    remounted, a peer stopped with SIGSTOP for a few seconds (slow peer), and
    bytes overwritten in the middle of a replica's .db file. A replica is only
    corrupted when every acknowledged write it took is already present on
    another replica, and writers leave it alone from then on: no acknowledged
    write is legitimately lost with it, so every acknowledged write must
    survive.

Then the faults stop, everything is restored, the agent daemons get SIGTERM,
and clean rounds run: every agent of every node and type, `--once`, all at the
same time (with --max_diffs raised so diff capping cannot explain a slow
convergence). After each round the cluster is checked; it must converge
within SOAK_CONVERGE_WITHIN (2) rounds. Converged means: every database has a
replica at each of its ring primaries, every replica passes PRAGMA
integrity_check, every replica has the same rows (every column but ROWID) and
the same hash as Swift's own broker reads them (get_items_since,
get_replication_info), and no copy remains on a non-primary device. At the end
it also asserts: every acknowledged write present on every primary replica
(the name with its newest acknowledged timestamp), no stray files in any
<device>/tmp/, no unflushed .pending entries, no process crashed.

Prints a summary (databases, writes, faults by kind, passes, rounds to
converge) and, on failure, exactly which writes are missing where, with the
receiving replica's sync points for the writer's replica id.

Usage: fault_soak.py PEER AGENT DBREPLCTL   (with /usr/bin/python3, which has
python3-swift). Environment (all optional):
  SOAK_SECONDS (100)  SOAK_DBS (240 container DBs)  SOAK_ACCOUNT_DBS (SOAK_DBS/2)
  SOAK_SEED (random)  SOAK_FAULTS (1; 0 = writers and agents only)
  SOAK_WRITERS (6)    SOAK_NODES (4)   SOAK_DEVICES (2 per node)  SOAK_PART_POWER (6)
  SOAK_INTERVAL (1)   SOAK_PER_DIFF (20)  SOAK_MAX_DIFFS (4)  SOAK_NODE_TIMEOUT (4)
  SOAK_FAULT_THREADS (2)  SOAK_WRITE_PAUSE (0.01 s between a writer's writes)
  SOAK_CLEAN_ROUNDS (4)   SOAK_CONVERGE_WITHIN (2)  SOAK_HANDOFF_WRITES (0)
  SOAK_IP_PREFIX (127.0.<60+pid%150>)  SOAK_WORK (dir)  SOAK_KEEP (0)  SOAK_VERBOSE (0)
  SOAK_MAX_CORRUPT (6)  SOAK_STRICT_TMP (1; 0 = stray tmp/ files are reported, not failed)
  SOAK_TMP_MAX_AGE (3 s: the peers' --tmp_upload_max_age)
"""

import collections
import ctypes
import glob
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback


def env(name, default):
    v = os.environ.get(name)
    return default if v is None or v == '' else v


SECONDS = float(env('SOAK_SECONDS', 100))
N_CONTAINER_DBS = int(env('SOAK_DBS', 240))
N_ACCOUNT_DBS = int(env('SOAK_ACCOUNT_DBS', max(1, N_CONTAINER_DBS // 2)))
SEED = int(env('SOAK_SEED', random.SystemRandom().randrange(1, 10 ** 9)))
FAULTS = env('SOAK_FAULTS', '1') != '0'
N_WRITERS = int(env('SOAK_WRITERS', 6))
N_NODES = int(env('SOAK_NODES', 4))
N_DEVICES = int(env('SOAK_DEVICES', 2))
PART_POWER = int(env('SOAK_PART_POWER', 6))
INTERVAL = float(env('SOAK_INTERVAL', 1))
PER_DIFF = int(env('SOAK_PER_DIFF', 20))
MAX_DIFFS = int(env('SOAK_MAX_DIFFS', 4))
NODE_TIMEOUT = float(env('SOAK_NODE_TIMEOUT', 4))
FAULT_THREADS = int(env('SOAK_FAULT_THREADS', 2))
WRITE_PAUSE = float(env('SOAK_WRITE_PAUSE', 0.01))
CLEAN_ROUNDS = int(env('SOAK_CLEAN_ROUNDS', 4))
CONVERGE_WITHIN = int(env('SOAK_CONVERGE_WITHIN', 2))
HANDOFF_WRITES = env('SOAK_HANDOFF_WRITES', '0') != '0'
IP_PREFIX = env('SOAK_IP_PREFIX', '127.0.%d' % (60 + os.getpid() % 150))
KEEP = env('SOAK_KEEP', '0') != '0'
VERBOSE = env('SOAK_VERBOSE', '0') != '0'
MAX_CORRUPT = int(env('SOAK_MAX_CORRUPT', 6))
# Stray files in <device>/tmp/ fail the soak unless SOAK_STRICT_TMP=0 (then
# they are only reported), to look at the other checks on their own.
STRICT_TMP = env('SOAK_STRICT_TMP', '1') != '0'
TMP_MAX_AGE = float(os.environ.get('SOAK_TMP_MAX_AGE', '3'))
REPLICAS = 3

PEER = AGENT = CTL = None
WORK = None
SWIFT_DIR = None
T0 = time.time()


def log(msg):
    sys.stdout.write('[soak %7.1fs] %s\n' % (time.time() - T0, msg))
    sys.stdout.flush()


# ---------------------------------------------------------------------------
# Processes

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper():
    """Orphans (an rsync daemon left by a SIGKILLed peer, an rsync client left
    by a SIGKILLed agent) are re-parented to us, so we can see and reap them."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except Exception as e:  # noqa: BLE001
        log('warning: cannot become a child subreaper: %s' % e)


def proc_table():
    """pid -> (comm, state, ppid, cmdline) of every process."""
    out = {}
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % d) as f:
                stat = f.read()
            with open('/proc/%s/cmdline' % d, 'rb') as f:
                cmd = f.read().replace(b'\0', b' ').decode('utf-8', 'replace').strip()
        except OSError:
            continue
        rp = stat.rfind(')')
        comm = stat[stat.find('(') + 1:rp]
        fields = stat[rp + 2:].split()
        out[int(d)] = (comm, fields[0], int(fields[1]), cmd)
    return out


def children_of(pid, table=None):
    table = table or proc_table()
    return [p for p, v in table.items() if v[2] == pid]


def descendants_of(pid, table=None):
    table = table or proc_table()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in children_of(p, table):
            out.append(c)
            todo.append(c)
    return out


class Proc:
    """One long-running child (a peer or an agent daemon)."""

    def __init__(self, name, log_path):
        self.name = name
        self.log_path = log_path
        self.popen = None
        self.want_running = False
        self.argv = None
        self.starts = 0

    def start(self, argv):
        self.argv = argv
        with open(self.log_path, 'ab') as f:
            f.write(('\n===== soak: start #%d at %.3f: %s\n' % (self.starts + 1, time.time(), ' '.join(argv))).encode())
        logf = open(self.log_path, 'ab')
        self.popen = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        logf.close()
        self.starts += 1
        self.want_running = True

    @property
    def pid(self):
        return self.popen.pid if self.popen else None

    def alive(self):
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig):
        if self.alive():
            try:
                os.kill(self.popen.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self):
        """SIGKILL and reap."""
        self.want_running = False
        if self.popen is None:
            return None
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGKILL)
        return self.popen.wait()

    def stop(self, timeout=60):
        """SIGTERM; SIGKILL after timeout. Returns (returncode, graceful)."""
        self.want_running = False
        if not self.alive():
            return (self.popen.returncode if self.popen else None), True
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout), True
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            return self.popen.wait(), False

    def log_tail(self, n=30):
        try:
            with open(self.log_path, 'rb') as f:
                f.seek(max(0, os.path.getsize(self.log_path) - 200000))
                lines = f.read().decode('utf-8', 'replace').splitlines()
            return lines[-n:]
        except OSError:
            return []


def ctl(*args, timeout=60):
    return subprocess.run([CTL] + [str(a) for a in args], capture_output=True, text=True, timeout=timeout)


def free_port(ip):
    s = socket.socket()
    s.bind((ip, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def port_free_on_all(port, ips):
    for ip in ips:
        s = socket.socket()
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((ip, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


# ---------------------------------------------------------------------------
# Events (faults, crashes, findings), thread-safe

class Events:
    def __init__(self):
        self.lock = threading.Lock()
        self.faults = []          # dicts
        self.crashes = []
        self.orphans = []
        self.findings = collections.OrderedDict()  # text -> count

    def fault(self, kind, target, **detail):
        rec = {'kind': kind, 'target': target, 't': round(time.time() - T0, 2)}
        rec.update(detail)
        with self.lock:
            self.faults.append(rec)
        log('fault %-22s %s %s' % (kind, target, ' '.join('%s=%s' % kv for kv in detail.items())))
        return rec

    def finding(self, text):
        with self.lock:
            first = text not in self.findings
            self.findings[text] = self.findings.get(text, 0) + 1
        if first:
            log('FINDING: ' + text)


EV = Events()


# ---------------------------------------------------------------------------
# Cluster

class Node:
    def __init__(self, idx, ip):
        self.idx = idx
        self.ip = ip
        self.port = None
        self.root = os.path.join(WORK, 'node%d' % idx)
        self.devices_root = os.path.join(self.root, 'srv', 'node')
        self.devices = ['d%d%s' % (idx, chr(ord('a') + k)) for k in range(N_DEVICES)]
        self.peer = Proc('peer%d' % idx, os.path.join(WORK, 'logs', 'peer%d.log' % idx))
        self.agents = {t: Proc('agent%d-%s' % (idx, t), os.path.join(WORK, 'logs', 'agent%d-%s.log' % (idx, t)))
                       for t in ('container', 'account')}
        self.admin_ports = {}
        self.rsync_enabled = True
        self.lock = threading.RLock()   # serialises faults and the monitor on this node
        self.busy = False               # a fault is acting on this node
        self.stopped = False            # SIGSTOPped


class Cluster:
    def __init__(self):
        self.nodes = [Node(i, '%s.%d' % (IP_PREFIX, i + 1)) for i in range(N_NODES)]
        self.rsync_port = None
        self.devs = {}   # ring device id -> (node idx, device name)

    def dev_path(self, dev_id):
        n, d = self.devs[dev_id]
        return os.path.join(self.nodes[n].devices_root, d)

    def unmounted_path(self, dev_id):
        n, d = self.devs[dev_id]
        return os.path.join(self.nodes[n].root, 'unmounted-' + d)

    def setup(self):
        os.makedirs(os.path.join(WORK, 'logs'), exist_ok=True)
        ips = [n.ip for n in self.nodes]
        for n in self.nodes:
            n.port = free_port(n.ip)
            for d in n.devices:
                os.makedirs(os.path.join(n.devices_root, d), exist_ok=True)
            os.makedirs(os.path.join(n.root, 'run'), exist_ok=True)
            for t in n.agents:
                n.admin_ports[t] = free_port(n.ip)
        for _ in range(50):
            p = free_port(ips[0])
            if port_free_on_all(p, ips):
                self.rsync_port = p
                break
        assert self.rsync_port, 'no rsync port free on every node address'
        specs = []
        dev_id = 0
        for n in self.nodes:
            for d in n.devices:
                # One zone per node: the ring puts the three replicas on three nodes.
                specs += ['--device', '1/%d/%s:%d/%s' % (n.idx + 1, n.ip, n.port, d)]
                self.devs[dev_id] = (n.idx, d)
                dev_id += 1
        for t in ('container', 'account'):
            r = ctl('ring', 'create', os.path.join(SWIFT_DIR, t + '.ring.gz'), '--part-power', PART_POWER,
                    '--replicas', REPLICAS, *specs)
            if r.returncode != 0:
                raise RuntimeError('ring create: ' + r.stderr)

    # --- peers

    def peer_argv(self, n, rsync):
        argv = [PEER, '--bind_ip=' + n.ip, '--bind_port=%d' % n.port, '--devices=' + n.devices_root,
                '--mount_check=false', '--swift_dir=' + SWIFT_DIR, '--shutdown_grace_seconds=5',
                '--tmp_upload_max_age=%g' % TMP_MAX_AGE]
        if rsync:
            argv += ['--rsync_daemon', '--rsync_port=%d' % self.rsync_port,
                     '--rsync_state_dir=' + os.path.join(n.root, 'run')]
        if VERBOSE:
            argv.append('--v=1')
        return argv

    def start_peer(self, n, rsync=True, wait=True):
        n.rsync_enabled = rsync
        n.peer.start(self.peer_argv(n, rsync))
        if wait:
            self.wait_peer(n)

    def wait_peer(self, n):
        rsync = n.rsync_enabled
        r = ctl('health', '%s:%d' % (n.ip, n.port), '--service', 'readiness', '--wait', '--timeout', 60, timeout=90)
        if r.returncode != 0:
            raise RuntimeError('peer %d not ready: %s\n%s' % (n.idx, r.stderr, '\n'.join(n.peer.log_tail())))
        if rsync:
            self.wait_rsync_listening(n)

    def wait_rsync_listening(self, n, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = socket.socket()
            s.settimeout(1)
            try:
                s.connect((n.ip, self.rsync_port))
                return True
            except OSError:
                time.sleep(0.05)  # poll a real condition (the port accepts), with a deadline
            finally:
                s.close()
        EV.finding('peer %d: rsync daemon not listening %ds after the peer became ready' % (n.idx, timeout))
        return False

    def rsync_daemon_pids(self, n, table=None):
        table = table or proc_table()
        if not n.peer.alive():
            return []
        return [p for p in children_of(n.peer.pid, table) if table[p][0] == 'rsync']

    def kill_peer(self, n):
        """SIGKILL the peer; deal with the rsync daemon it leaves behind."""
        table = proc_table()
        rsyncd = self.rsync_daemon_pids(n, table)
        receiving = [c for p in rsyncd for c in children_of(p, table)]
        n.peer.kill()
        n.stopped = False
        left = [p for p in rsyncd + receiving if p in proc_table()]
        if left:
            tab = proc_table()
            EV.finding('SIGKILL of dbrepl-peer leaves its rsync daemon running (pids re-parented, still listening '
                       'on the rsync port): the child is not tied to the peer\'s life (no PR_SET_PDEATHSIG / '
                       'process group kill) -- peer/rsync_daemon.cc Spawn()')
            with EV.lock:
                EV.orphans.append({'t': round(time.time() - T0, 2), 'from': n.peer.name,
                                   'procs': [tab[p][3] for p in left if p in tab]})
            # A node crash takes its rsync daemon with it: kill them, so the
            # restarted peer can run its own.
            for p in left:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            reap_orphans(wait_for=left)
        return len(receiving)

    # --- agents

    def agent_argv(self, n, t, once=False, max_diffs=None):
        argv = [AGENT, '--server_type=' + t, '--devices=' + n.devices_root, '--mount_check=false',
                '--bind_ip=' + n.ip, '--bind_port=%d' % n.port, '--swift_dir=' + SWIFT_DIR,
                '--rsync_module=rsync://{replication_ip}:%d/%s' % (self.rsync_port, t),
                '--recon_cache_path=' + os.path.join(n.root, 'recon'), '--databases_per_second=0',
                '--per_diff=%d' % PER_DIFF, '--max_diffs=%d' % (max_diffs or MAX_DIFFS),
                '--node_timeout=%g' % NODE_TIMEOUT, '--conn_timeout=1', '--progress_interval=30']
        if once:
            argv += ['--once', '--admin_port=-1']
        else:
            argv += ['--interval=%g' % INTERVAL, '--admin_ip=' + n.ip, '--admin_port=%d' % n.admin_ports[t]]
        if VERBOSE:
            argv.append('--v=1')
        return argv

    def admin(self, n, t):
        return '%s:%d' % (n.ip, n.admin_ports[t])

    def start_agent(self, n, t, wait=True):
        n.agents[t].start(self.agent_argv(n, t))
        if wait:
            self.wait_agent(n, t)

    def wait_agent(self, n, t):
        r = ctl('health', self.admin(n, t), '--service', 'dbrepl.v1.ReplicationAgent', '--wait', '--timeout', 60,
                timeout=90)
        if r.returncode != 0:
            raise RuntimeError('agent %d/%s not serving: %s\n%s' % (n.idx, t, r.stderr,
                                                                     '\n'.join(n.agents[t].log_tail())))

    def agent_status(self, n, t):
        r = ctl('status', self.admin(n, t), timeout=15)
        if r.returncode != 0:
            return None
        try:
            return json.loads(r.stdout)
        except ValueError:
            return None

    def all_procs(self):
        for n in self.nodes:
            yield n, n.peer
            for a in n.agents.values():
                yield n, a


def reap_orphans(wait_for=(), timeout=10):
    """Reaps re-parented orphans (only rsync processes are ever orphans here:
    the peers, agents and dbreplctl calls are subprocess.Popen's own children)."""
    deadline = time.time() + timeout
    pending = set(wait_for)
    while True:
        me = os.getpid()
        for p, (comm, state, ppid, cmd) in proc_table().items():
            if ppid == me and comm == 'rsync':
                try:
                    done, _ = os.waitpid(p, os.WNOHANG)
                except ChildProcessError:
                    done = p
                if done == p:
                    pending.discard(p)
        pending = {p for p in pending if os.path.exists('/proc/%d' % p)}
        if not pending or time.time() > deadline:
            return
        time.sleep(0.02)  # poll: wait for the killed orphans to become reapable


# ---------------------------------------------------------------------------
# Swift side: brokers, ring, databases

Swift = None  # module namespace filled in by import_swift()


def import_swift():
    global Swift
    import swift.common.utils as utils
    # Swift 2.30.1 reads /etc/swift/swift.conf at import (SWIFT_CONF_FILE in
    # the environment is not honoured): point it at our cluster's.
    utils.set_swift_dir(SWIFT_DIR)
    assert utils.HASH_PATH_PREFIX == b'soak-prefix' and utils.HASH_PATH_SUFFIX == b'soak-suffix', \
        'Swift did not read %s/swift.conf' % SWIFT_DIR
    from swift.account.backend import AccountBroker
    from swift.common.ring import Ring
    from swift.container.backend import ContainerBroker

    class NS:
        pass
    Swift = NS()
    Swift.utils = utils
    Swift.Timestamp = utils.Timestamp
    Swift.hash_path = utils.hash_path
    Swift.decode_timestamps = utils.decode_timestamps
    Swift.AccountBroker = AccountBroker
    Swift.ContainerBroker = ContainerBroker
    Swift.Ring = Ring


CLOCK = None  # TsSource of the main process (slot 0), set in main()


class Db:
    def __init__(self, kind, account, container, ring, cluster):
        self.kind = kind
        self.account = account
        self.container = container
        self.hash = Swift.hash_path(account, container) if kind == 'container' else Swift.hash_path(account)
        part, nodes = ring.get_nodes(account, container) if kind == 'container' else ring.get_nodes(account)
        self.part = part
        self.primaries = [n['id'] for n in nodes]
        self.handoffs = [n['id'] for n in ring.get_more_nodes(part)]
        self.key = '%s:%s/%s' % (kind, account, container or '')
        self.cluster = cluster
        self.idx = None

    def rel(self):
        return os.path.join(self.kind + 's', str(self.part), self.hash[-3:], self.hash, self.hash + '.db')

    def path(self, dev_id):
        return os.path.join(self.cluster.dev_path(dev_id), self.rel())

    def broker(self, dev_id, path=None):
        path = path or self.path(dev_id)
        if self.kind == 'container':
            return Swift.ContainerBroker(path, account=self.account, container=self.container, pending_timeout=10)
        return Swift.AccountBroker(path, account=self.account, pending_timeout=10)


def ro_connect(path, timeout=10):
    return sqlite3.connect('file:%s?mode=ro' % path, uri=True, timeout=timeout)


def read_db_id(path, kind):
    conn = ro_connect(path)
    try:
        return conn.execute('SELECT id FROM %s_stat' % kind).fetchone()[0]
    finally:
        conn.close()


class IdCache:
    """Database id of a replica file, cached by inode (an id only changes when
    an rsynced copy is renamed into place)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.cache = {}

    def get(self, path, kind):
        try:
            st = os.stat(path)
        except OSError:
            return None
        k = (path, st.st_ino, st.st_dev)
        with self.lock:
            if k in self.cache:
                return self.cache[k]
        try:
            i = read_db_id(path, 'account' if kind == 'account' else 'container')
        except Exception:  # noqa: BLE001
            return None
        with self.lock:
            self.cache[k] = i
        return i


IDS = IdCache()


# ---------------------------------------------------------------------------
# Writes
#
# Swift's brokers use eventlet, whose hub cannot be shared between Python
# threads; the writers are therefore separate single-threaded processes
# (this script with --writer). Each appends one JSON line per acknowledged
# write to <work>/writes/w<idx>.jsonl, flushed before it lets go of the gates.
#
# Gates (flock on files in <work>/gates/): a writer holds LOCK_SH on
# dev-<id> (non-blocking: an unmount holds LOCK_EX, so the writer skips the
# device) and on db-<idx> while it writes; a corruption takes LOCK_EX on
# db-<idx> after creating the marker blocked-<idx>-<dev>, which writers check
# under their shared lock. So a fault waits for the writes in flight, and no
# write lands on a device while it is away or on a replica once it is marked.

W_DB, W_DEV, W_NAME, W_TS, W_DELETED, W_VIA, W_ID, W_T = range(8)


class TsSource:
    """Unique, increasing Swift timestamps (10 us units); process `slot` of
    `slots` only uses units = slot (mod slots), so processes never collide."""

    def __init__(self, slot, slots):
        self.slot, self.slots = slot, slots
        self.last = 0

    def next(self):
        u = max(int(time.time() * 100000), self.last + 1)
        u += (self.slot - u) % self.slots
        self.last = u
        return '%016.05f' % (u / 100000.0)


class Writes:
    """The acknowledged writes of the whole soak (main process)."""

    def __init__(self):
        self.acked = []                 # tuples (see W_*)
        self.attempted_max = {}         # (db key, name) -> newest ts attempted
        self.unacked = collections.Counter()
        self.unacked_samples = {}
        self.by_via = collections.Counter()
        self.initial = []

    def ack_initial(self, db, dev, name, ts):
        self.initial.append((db.key, dev, name, ts, False, 'initial', IDS.get(db.path(dev), db.kind), 0.0))

    def load(self, files):
        acked = list(self.initial)
        attempted = {}
        unacked = collections.Counter()
        samples = {}
        for path in files:
            try:
                with open(path) as f:
                    lines = f.read().splitlines()
            except OSError:
                continue
            for line in lines:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a killed writer
                if rec[0] == 'ack':
                    w = tuple(rec[1])
                    acked.append(w)
                elif rec[0] == 'try':
                    k = (rec[1], rec[2])
                    if rec[3] > attempted.get(k, ''):
                        attempted[k] = rec[3]
                elif rec[0] == 'fail':
                    unacked[rec[1]] += 1
                    samples.setdefault(rec[1], rec[2])
        for w in acked:
            k = (w[W_DB], w[W_NAME])
            if w[W_TS] > attempted.get(k, ''):
                attempted[k] = w[W_TS]
        self.acked, self.attempted_max, self.unacked, self.unacked_samples = acked, attempted, unacked, samples
        self.by_via = collections.Counter(w[W_VIA] for w in acked)
        return acked


WRITES = Writes()
STOP_FAULTS = threading.Event()


def gate_path(*parts):
    return os.path.join(WORK, 'gates', '-'.join(str(p) for p in parts))


def flock_with_deadline(fd, mode, timeout):
    import fcntl
    deadline = time.time() + timeout
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.time() > deadline:
                return False
            time.sleep(0.01)  # poll the lock (writers hold it for one write), with a deadline


class WDb:
    """A database as a writer process sees it."""

    def __init__(self, d):
        self.__dict__.update(d)
        self.paths = {int(k): v for k, v in self.paths.items()}

    def broker(self, dev, path=None):
        path = path or self.paths[dev]
        if self.kind == 'container':
            return Swift.ContainerBroker(path, account=self.account, container=self.container, pending_timeout=10)
        return Swift.AccountBroker(path, account=self.account, pending_timeout=10)


def writer_main(cfg_path, widx):
    """One writer process: random writes into random primary replicas until
    the stop file appears."""
    import fcntl
    global WORK, CTL, SWIFT_DIR, T0
    with open(cfg_path) as f:
        cfg = json.load(f)
    WORK, CTL, T0 = cfg['work'], cfg['ctl'], cfg['t0']
    SWIFT_DIR = os.path.dirname(cfg['swift_conf'])
    import_swift()
    dbs = [WDb(d) for d in cfg['dbs']]
    rng = random.Random(cfg['seed'] * 1000 + widx)
    ts_source = TsSource(widx + 1, cfg['writers'] + 1)
    out = open(os.path.join(WORK, 'writes', 'w%d.jsonl' % widx), 'a')
    stop_file = os.path.join(WORK, 'stop-writers')
    hot = dbs[:max(1, len(dbs) // 10)]
    ids = IdCache()
    seq = 0

    def emit(rec):
        out.write(json.dumps(rec) + '\n')
        out.flush()

    while not os.path.exists(stop_file):
        db = rng.choice(hot) if rng.random() < 0.4 else rng.choice(dbs)
        devs = db.primaries
        if cfg['handoff_writes'] and rng.random() < 0.05:
            devs = db.handoffs[:2]
        dev = rng.choice(devs)
        path = db.paths[dev]
        if not os.path.exists(path):
            continue  # No replica there (yet): a server would answer 404.
        dfd = os.open(gate_path('dev', dev), os.O_RDONLY)
        try:
            try:
                fcntl.flock(dfd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # The device is unmounted.
            bfd = os.open(gate_path('db', db.idx), os.O_RDONLY)
            try:
                fcntl.flock(bfd, fcntl.LOCK_SH)
                if os.path.exists(gate_path('blocked', db.idx, dev)):
                    continue  # A corrupted replica: left alone.
                seq += 1
                write_one(db, dev, path, rng, widx, seq, ts_source, ids, emit)
            finally:
                os.close(bfd)
        finally:
            os.close(dfd)
        time.sleep(rng.uniform(0, cfg['pause']))  # pacing
    out.close()


def write_one(db, dev, path, rng, writer, seq, ts_source, ids, emit):
    """One write to replica `dev` of `db`, by a random method; recorded if
    acknowledged."""
    r = rng.random()
    overwrite = r < 0.15 and db.names
    delete = (not overwrite) and r < 0.22 and db.names
    name = rng.choice(db.names) if (overwrite or delete) else 'w%d-%d' % (writer, seq)
    m = rng.random()
    via = 'swift_pending' if m < 0.35 else 'swift_flush' if m < 0.55 else 'ctl_put' if m < 0.8 else 'ctl_pending'
    ts = ts_source.next()
    emit(['try', db.key, name, ts])
    size = rng.randrange(0, 10000)
    try:
        if via.startswith('swift'):
            b = db.broker(dev, path)
            if db.kind == 'container':
                if delete:
                    b.delete_object(name, ts)
                else:
                    b.put_object(name, ts, size, 'text/plain', 'etag-%d' % size)
            else:
                if delete:
                    b.put_container(name, '0', ts, 0, 0, 0)
                else:
                    b.put_container(name, ts, '0', size % 100, size, 0)
            if via == 'swift_flush':
                b.get_info()  # Flushes .pending into the database, as a HEAD/GET would.
        else:
            args = ['put', path, name, '--timestamp', ts]
            if db.kind == 'container':
                args += ['--size', size]
            else:
                args += ['--object-count', size % 100, '--bytes-used', size]
            if delete:
                args.append('--deleted')
            if via == 'ctl_pending':
                args.append('--pending')
            p = ctl(*args, timeout=60)
            if p.returncode != 0:
                raise RuntimeError(p.stderr.strip() or 'exit %d' % p.returncode)
    except Exception as e:  # noqa: BLE001
        emit(['fail', '%s: %s' % (via, type(e).__name__), str(e)[:300]])
        return
    via += '_delete' if delete else '_overwrite' if overwrite else ''
    emit(['ack', [db.key, dev, name, ts, bool(delete), via, ids.get(path, db.kind), round(time.time() - T0, 2)]])
    if not (overwrite or delete):
        db.names.append(name)


# ---------------------------------------------------------------------------
# Initial databases

def initial_row(kind, name, ts):
    if kind == 'container':
        return {'name': name, 'created_at': ts, 'size': 1, 'content_type': 'text/plain', 'etag': 'etag-init',
                'deleted': 0, 'storage_policy_index': 0}
    return {'name': name, 'put_timestamp': ts, 'delete_timestamp': '0', 'object_count': 1, 'bytes_used': 1,
            'deleted': 0, 'storage_policy_index': 0}


def create_replica_job(job):
    """Creates one replica with Swift's broker (initialize, then merge_items
    of its rows, as replication would). Runs in a pool worker."""
    kind, account, container, path, put_ts, rows = job
    # The initial state needs no durability: skip Swift's fsyncs (this
    # process only; dbrepl is not running yet).
    os.fsync = lambda fd: None
    if kind == 'container':
        b = Swift.ContainerBroker(path, account=account, container=container)
        b.initialize(put_ts, 0)
    else:
        b = Swift.AccountBroker(path, account=account)
        b.initialize(put_ts)
    if rows:
        b.merge_items([initial_row(kind, n, ts) for n, ts in rows])
    return path


def create_databases(cluster, rng):
    """Plans every database's initial layout (deterministic for the seed),
    creates the replicas in parallel, and records their rows as
    acknowledged writes to those replicas."""
    import multiprocessing
    ring = {t: Swift.Ring(SWIFT_DIR, ring_name=t) for t in ('container', 'account')}
    dbs = []
    for i in range(N_CONTAINER_DBS):
        dbs.append(Db('container', 'AUTH_c%d' % (i % 17), 'cont%d' % i, ring['container'], cluster))
    for i in range(N_ACCOUNT_DBS):
        dbs.append(Db('account', 'AUTH_a%d' % i, None, ring['account'], cluster))
    rng.shuffle(dbs)
    for i, db in enumerate(dbs):
        db.idx = i
    layouts = collections.Counter()
    put_ts = Swift.Timestamp(time.time() - 10).internal
    jobs = []   # (db, dev, rows)

    def rows(prefix, n):
        return [('%s%d' % (prefix, k), CLOCK.next()) for k in range(n)]

    for db in dbs:
        r = rng.random()
        p = list(db.primaries)
        rng.shuffle(p)
        if r < 0.22:
            layout = 'same'
            same = rows('i-', rng.randrange(0, 20))
            jobs += [(db, dev, same) for dev in p]
        elif r < 0.42:
            layout = 'one_replica'
            jobs.append((db, p[0], rows('i-', rng.randrange(0, 40))))
        elif r < 0.70:
            layout = 'far_behind'  # one replica far ahead: remote_merge (rsync + RsyncThenMerge)
            jobs.append((db, p[0], rows('i0-', rng.randrange(60, 160))))
            for k, dev in enumerate(p[1:], 1):
                jobs.append((db, dev, rows('i%d-' % k, rng.randrange(0, 9))))
        elif r < 0.85:
            layout = 'diverged'
            for k, dev in enumerate(p[:rng.choice((2, 3))]):
                jobs.append((db, dev, rows('i%d-' % k, rng.randrange(5, 30))))
        else:
            layout = 'handoff'  # a copy on a handoff device, to be pushed and removed
            jobs.append((db, db.handoffs[0], rows('ih-', rng.randrange(5, 40))))
            if rng.random() < 0.5:
                jobs.append((db, p[0], rows('i0-', rng.randrange(0, 20))))
        layouts[layout] += 1
    work = [(db.kind, db.account, db.container, db.path(dev), put_ts, rs) for db, dev, rs in jobs]
    pool = multiprocessing.get_context('fork').Pool(8, initializer=signal.signal,
                                                   initargs=(signal.SIGTERM, signal.SIG_DFL))
    try:
        pool.map(create_replica_job, work, chunksize=16)
    finally:
        pool.close()
        pool.join()
    for db, dev, rs in jobs:
        for n, ts in rs:
            WRITES.ack_initial(db, dev, n, ts)
    return dbs, layouts


# ---------------------------------------------------------------------------
# Faults

class Faults:
    def __init__(self, cluster, dbs):
        self.c = cluster
        self.dbs = dbs
        self.lock = threading.Lock()
        self.corrupted_dbs = set()   # db keys with one corrupted replica (never two)
        self.blocked_replicas = []   # gate keys kept blocked until the faults stop
        self.unmounted = set()
        self.corruptions = []

    def claim_node(self, rng):
        with self.lock:
            free = [n for n in self.c.nodes if not n.busy]
            if not free:
                return None
            n = rng.choice(free)
            n.busy = True
            return n

    def release(self, n):
        with self.lock:
            n.busy = False

    def loop(self, tidx):
        rng = random.Random(SEED * 7919 + tidx)
        kinds = [('kill_agent', 3), ('kill_agent_mid_rsync', 3), ('kill_peer', 2), ('kill_peer_mid_rsync', 1),
                 ('kill_rsync_daemon', 1), ('rsync_down', 1), ('unmount', 2), ('slow_peer', 2), ('corrupt', 1)]
        total = sum(w for _, w in kinds)
        while not STOP_FAULTS.wait(rng.uniform(0.2, 2.0)):  # random gap between faults
            x = rng.uniform(0, total)
            for kind, w in kinds:
                x -= w
                if x <= 0:
                    break
            if kind == 'corrupt':
                try:
                    self.corrupt(rng)
                except Exception:  # noqa: BLE001
                    EV.finding('fault harness error (corrupt): ' + traceback.format_exc().splitlines()[-1])
                continue
            n = self.claim_node(rng)
            if n is None:
                continue
            try:
                with n.lock:
                    getattr(self, kind)(n, rng)
            except Exception:  # noqa: BLE001
                EV.finding('fault harness error (%s): %s' % (kind, traceback.format_exc().splitlines()[-1]))
                log(traceback.format_exc())
            finally:
                self.release(n)

    def hold(self, rng, lo, hi):
        STOP_FAULTS.wait(rng.uniform(lo, hi))  # how long the fault lasts (random), cut short by the end

    def wait_pass_running(self, n, t, timeout=8):
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = self.c.agent_status(n, t)
            if s and s.get('current', {}).get('running'):
                return s
            time.sleep(0.1)  # poll the admin API for a running pass, with a deadline
        return None

    def kill_agent(self, n, rng):
        t = rng.choice(('container', 'account'))
        a = n.agents[t]
        s = self.wait_pass_running(n, t)
        if s:
            # A random moment in the running pass.
            time.sleep(rng.uniform(0, 1.0))
        table = proc_table()
        kids = [table[p][0] for p in children_of(a.pid, table)] if a.alive() else []
        done = s['current'].get('databases_done') if s else None
        a.kill()
        EV.fault('kill_agent', a.name, during_pass=bool(s), dbs_done=done, rsync_child='rsync' in kids)
        self.c.start_agent(n, t)

    def kill_agent_mid_rsync(self, n, rng):
        types = ['container', 'account']
        rng.shuffle(types)
        deadline = time.time() + 6
        while time.time() < deadline and not STOP_FAULTS.is_set():
            table = proc_table()
            for t in types:
                a = n.agents[t]
                if not a.alive():
                    continue
                rs = [p for p in children_of(a.pid, table) if table[p][0] == 'rsync']
                if rs:
                    also_rsync = rng.random() < 0.5
                    a.kill()
                    if also_rsync:
                        for p in rs:
                            try:
                                os.kill(p, signal.SIGKILL)
                            except ProcessLookupError:
                                pass
                    EV.fault('kill_agent_mid_rsync', a.name, rsync_killed_too=also_rsync,
                             rsync=table[rs[0]][3][-90:])
                    self.c.start_agent(n, t)
                    return
            time.sleep(0.01)  # poll for an rsync child, with a deadline
        # No rsync seen: kill at a random moment instead.
        self.kill_agent(n, rng)

    def kill_peer(self, n, rng, mid_rsync=False):
        receiving = self.c.kill_peer(n)
        EV.fault('kill_peer_mid_rsync' if mid_rsync else 'kill_peer', n.peer.name, rsync_uploads_cut=receiving)
        self.hold(rng, 0, 3)
        self.c.start_peer(n, rsync=True)

    def kill_peer_mid_rsync(self, n, rng):
        deadline = time.time() + 6
        while time.time() < deadline and not STOP_FAULTS.is_set():
            table = proc_table()
            rsd = self.c.rsync_daemon_pids(n, table)
            if any(children_of(p, table) for p in rsd):
                return self.kill_peer(n, rng, mid_rsync=True)
            time.sleep(0.01)  # poll for an upload in progress, with a deadline
        return self.kill_peer(n, rng)

    def kill_rsync_daemon(self, n, rng):
        pids = self.c.rsync_daemon_pids(n)
        for p in pids:
            os.kill(p, signal.SIGKILL)
        EV.fault('kill_rsync_daemon', n.peer.name, pids=len(pids))
        # The peer's supervisor restarts it (after a backoff).
        self.c.wait_rsync_listening(n, timeout=40)

    def rsync_down(self, n, rng):
        rc, graceful = n.peer.stop(timeout=30)
        if not graceful:
            EV.finding('dbrepl-peer did not stop within 30 s of SIGTERM')
        reap_orphans()
        self.c.start_peer(n, rsync=False)
        rec = EV.fault('rsync_down', n.peer.name)
        self.hold(rng, 3, 10)
        n.peer.stop(timeout=30)
        reap_orphans()
        self.c.start_peer(n, rsync=True)
        rec['seconds'] = round(time.time() - T0 - rec['t'], 1)

    def slow_peer(self, n, rng):
        n.peer.signal(signal.SIGSTOP)
        n.stopped = True
        rec = EV.fault('slow_peer', n.peer.name)
        self.hold(rng, 1, 6)
        n.peer.signal(signal.SIGCONT)
        n.stopped = False
        rec['seconds'] = round(time.time() - T0 - rec['t'], 1)

    def unmount(self, n, rng):
        import fcntl
        d = rng.choice(n.devices)
        dev_id = [k for k, v in self.c.devs.items() if v == (n.idx, d)][0]
        fd = os.open(gate_path('dev', dev_id), os.O_RDONLY)
        try:
            if not flock_with_deadline(fd, fcntl.LOCK_EX, 60):
                EV.finding('harness: a writer held device %s for 60 s' % d)
                return
            src, away = self.c.dev_path(dev_id), self.c.unmounted_path(dev_id)
            os.rename(src, away)
            self.unmounted.add(dev_id)
            rec = EV.fault('unmount', '%s/%s' % (n.peer.name, d))
            self.hold(rng, 2, 10)
            self.remount(dev_id)
            rec['seconds'] = round(time.time() - T0 - rec['t'], 1)
        finally:
            os.close(fd)  # Writers may use the device again.

    def remount(self, dev_id):
        src, away = self.c.dev_path(dev_id), self.c.unmounted_path(dev_id)
        if os.path.exists(src):
            found = []
            for root, dirs, files in os.walk(src):
                found += [os.path.relpath(os.path.join(root, f), src) for f in files]
                found += [os.path.relpath(os.path.join(root, x), src) + '/' for x in dirs]
            EV.finding('a device directory reappeared while its device was unmounted (renamed away): something '
                       'recreated it (e.g. a peer creating <device>/tmp after its drive check); contents: %s'
                       % sorted(found)[:10])
            aside = '%s.recreated-%d' % (away, int(time.time() * 1000))
            os.rename(src, aside)
        os.rename(away, src)
        self.unmounted.discard(dev_id)

    def corrupt(self, rng):
        import fcntl
        if len(self.corruptions) >= MAX_CORRUPT:
            return
        for _ in range(20):
            db = rng.choice(self.dbs)
            if db.key in self.corrupted_dbs:
                continue
            dev = rng.choice(db.primaries)
            path = db.path(dev)
            if dev in self.unmounted or not os.path.exists(path):
                continue
            marker = gate_path('blocked', db.idx, dev)
            open(marker, 'w').close()
            fd = os.open(gate_path('db', db.idx), os.O_RDONLY)
            try:
                # No write to this database in flight from here on, and none
                # will touch this replica again (the marker).
                if not flock_with_deadline(fd, fcntl.LOCK_EX, 60):
                    os.unlink(marker)
                    continue
                if self.acked_writes_only_here(db, dev):
                    os.unlink(marker)
                    continue
                size = os.path.getsize(path)
                if size < 8192:
                    os.unlink(marker)
                    continue
                off = rng.randrange(size // 3, 2 * size // 3)
                ino = os.stat(path).st_ino
                wfd = os.open(path, os.O_WRONLY)
                try:
                    os.pwrite(wfd, bytes(rng.randrange(256) for _ in range(512)), off)
                finally:
                    os.close(wfd)
            except OSError:
                if os.path.exists(marker):
                    os.unlink(marker)
                continue
            finally:
                os.close(fd)
            with self.lock:
                self.corrupted_dbs.add(db.key)
                self.blocked_replicas.append(marker)   # no writes to it until the faults stop
                self.corruptions.append((db, dev, off, size, ino))
            EV.fault('corrupt', '%s@%s' % (db.key, self.c.devs[dev][1]), offset=off, size=size)
            return

    def acked_writes_only_here(self, db, dev):
        """Acknowledged writes to replica `dev` of `db` not (yet) present with a
        timestamp at least as new on another existing replica."""
        mine = {}
        for w in WRITES.load(writer_files()):
            if w[W_DB] == db.key and w[W_DEV] == dev and w[W_TS] > mine.get(w[W_NAME], ''):
                mine[w[W_NAME]] = w[W_TS]
        if not mine:
            return []
        others = []
        for o in db.primaries + db.handoffs:
            if o != dev and os.path.exists(db.path(o)):
                try:
                    others.append(read_rows_ro(db, db.path(o)))
                except Exception:  # noqa: BLE001
                    pass
        return [n for n, ts in mine.items() if not any(row_ts(db, r.get(n)) >= ts for r in others)]

    def restore_all(self):
        for dev_id in list(self.unmounted):
            self.remount(dev_id)
        for n in self.c.nodes:
            with n.lock:
                if n.stopped:
                    n.peer.signal(signal.SIGCONT)
                    n.stopped = False
        for marker in self.blocked_replicas:
            if os.path.exists(marker):
                os.unlink(marker)


def read_rows_ro(db, path):
    """name -> row dict, read-only (no pending flush, no quarantine)."""
    conn = ro_connect(path)
    conn.row_factory = sqlite3.Row
    try:
        table = 'object' if db.kind == 'container' else 'container'
        return {r['name']: dict(r) for r in conn.execute('SELECT ROWID, * FROM %s' % table)}
    finally:
        conn.close()


def row_ts(db, row):
    """The newest timestamp of a row ('' if none), as an internal string."""
    if row is None:
        return ''
    if db.kind == 'container':
        return Swift.decode_timestamps(row['created_at'])[0].internal
    ts = [Swift.Timestamp(row['put_timestamp']).internal, Swift.Timestamp(row['delete_timestamp']).internal]
    return max(ts)


# ---------------------------------------------------------------------------
# Monitor: crashes and orphans while the soak runs

def monitor_loop(cluster, stop):
    while not stop.wait(0.5):
        for n, p in cluster.all_procs():
            if not n.lock.acquire(blocking=False):
                continue  # A fault is acting on this node; look again next time.
            try:
                if p.want_running and p.popen is not None and p.popen.poll() is not None:
                    rc = p.popen.returncode
                    with EV.lock:
                        EV.crashes.append({'proc': p.name, 'rc': rc, 't': round(time.time() - T0, 1),
                                           'log': p.log_tail(25)})
                    log('CRASH: %s exited with %s; restarting' % (p.name, rc))
                    try:
                        if p is n.peer:
                            cluster.start_peer(n, rsync=n.rsync_enabled)
                        else:
                            cluster.start_agent(n, [t for t, a in n.agents.items() if a is p][0])
                    except Exception as e:  # noqa: BLE001
                        log('restart failed: %s' % e)
            finally:
                n.lock.release()
        reap_orphans(timeout=0)


def status_loop(cluster, stop, passes):
    """Records every agent's passes_completed (summed over its restarts)."""
    last = {}
    while not stop.wait(2.0):
        for n in cluster.nodes:
            for t, a in n.agents.items():
                if not a.alive():
                    continue
                s = cluster.agent_status(n, t)
                if not s:
                    continue
                k = (n.idx, t, a.starts)
                done = int(s.get('passes_completed', 0))
                passes[(n.idx, t)] += max(0, done - last.get(k, 0))
                last[k] = done


# ---------------------------------------------------------------------------
# Checks

def walk_db_files(cluster):
    """Every file under every device's accounts/ and containers/ dirs:
    yields (dev_id, kind, part, hash, filename, path)."""
    for dev_id in cluster.devs:
        root = cluster.dev_path(dev_id)
        for kind in ('account', 'container'):
            base = os.path.join(root, kind + 's')
            for part in sorted(os.listdir(base)) if os.path.isdir(base) else []:
                for suffix in os.listdir(os.path.join(base, part)):
                    sdir = os.path.join(base, part, suffix)
                    if not os.path.isdir(sdir):
                        continue
                    for h in os.listdir(sdir):
                        hdir = os.path.join(sdir, h)
                        if not os.path.isdir(hdir):
                            continue
                        for f in os.listdir(hdir):
                            yield dev_id, kind, part, h, f, os.path.join(hdir, f)


def integrity(path):
    try:
        conn = ro_connect(path, timeout=30)
        try:
            res = [r[0] for r in conn.execute('PRAGMA integrity_check').fetchall()]
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        return ['%s' % e]
    return [] if res == ['ok'] else res


def check_cluster(cluster, dbs):
    """One full look at the cluster (agents idle). Returns a dict of problems
    and, per replica, Swift's view of its rows."""
    by_hash = {db.hash: db for db in dbs}
    probs = collections.defaultdict(list)
    views = {}   # (db key, dev) -> {'rows': {...}, 'hash': ..., 'id': ..., 'syncs': ..., 'max_row': ...}
    present = collections.defaultdict(set)
    corrupt = set()
    for dev_id, kind, part, h, f, path in walk_db_files(cluster):
        db = by_hash.get(h)
        if f.endswith('.pending'):
            if os.path.getsize(path) > 0:
                probs['pending_unflushed'].append(path)
            continue
        if f == '.lock':
            continue
        if not f.endswith('.db'):
            probs['stray_files'].append(path)
            continue
        bad = integrity(path)
        if bad:
            corrupt.add(path)
            probs['integrity'].append('%s: %s' % (path, '; '.join(bad[:3])))
        if db is None or db.kind != kind:
            probs['unknown_db'].append(path)
            continue
        if dev_id not in db.primaries or int(part) != db.part:
            probs['handoff_left'].append('%s on %s (%s)' % (db.key, cluster.devs[dev_id][1], path))
            continue
        present[db.key].add(dev_id)
    for db in dbs:
        for dev in db.primaries:
            if dev not in present[db.key]:
                probs['missing_replica'].append('%s on %s' % (db.key, cluster.devs[dev][1]))
                continue
            path = db.path(dev)
            if path in corrupt:
                continue  # Swift's broker would quarantine it; it is reported above.
            try:
                b = db.broker(dev, path)
                info = b.get_replication_info()
                rows = {}
                for r in b.get_items_since(-1, 10 ** 8):
                    rid = r.pop('ROWID')
                    rows[r['name']] = (rid, tuple(sorted(r.items())))
                views[(db.key, dev)] = {'rows': rows, 'hash': info['hash'], 'id': info['id'],
                                        'max_row': info['max_row'], 'syncs': b.get_syncs(),
                                        'out_syncs': b.get_syncs(incoming=False)}
            except Exception as e:  # noqa: BLE001
                probs['unreadable'].append('%s on %s: %s' % (db.key, cluster.devs[dev][1], e))
        vs = [views.get((db.key, d)) for d in db.primaries]
        if all(vs):
            if len({v['hash'] for v in vs}) > 1 or len({frozenset(x[1] for x in v['rows'].values())
                                                       for v in vs}) > 1:
                probs['diverged'].append('%s: hashes %s, rows %s' % (
                    db.key, [v['hash'][:8] for v in vs], [len(v['rows']) for v in vs]))
    for p in stray_tmp_files(cluster):
        try:
            probs['stray_tmp'].append('%s (%d bytes, %.0fs old)' % (p, os.path.getsize(p),
                                                                     time.time() - os.path.getmtime(p)))
        except OSError:
            pass  # Swept meanwhile.
    return probs, views


def stray_tmp_files(cluster):
    out = []
    for dev_id in cluster.devs:
        tmp = os.path.join(cluster.dev_path(dev_id), 'tmp')
        for f in sorted(os.listdir(tmp)) if os.path.isdir(tmp) else []:
            out.append(os.path.join(tmp, f))
    return out


CONVERGENCE_KEYS = ('missing_replica', 'integrity', 'diverged', 'handoff_left', 'unreadable')


def expected_writes(dbs):
    """(db key, name) -> the newest acknowledged write tuple."""
    newest = {}
    for w in WRITES.acked:
        k = (w[W_DB], w[W_NAME])
        if k not in newest or w[W_TS] > newest[k][W_TS]:
            newest[k] = w
    return newest


def check_writes(dbs, views, cluster):
    """Every acknowledged write (newest per name) on every primary replica."""
    by_key = {db.key: db for db in dbs}
    missing = []
    for (dbk, name), w in expected_writes(dbs).items():
        db = by_key[dbk]
        hi = WRITES.attempted_max.get((dbk, name), w[W_TS])
        for dev in db.primaries:
            v = views.get((dbk, dev))
            if v is None:
                missing.append((w, dev, 'replica missing or unreadable'))
                continue
            row = v['rows'].get(name)
            got = row_ts(db, dict(row[1])) if row else ''
            if not row or got < w[W_TS]:
                missing.append((w, dev, 'absent' if not row else 'older (%s)' % got))
            elif got > hi:
                missing.append((w, dev, 'newer than any write (%s)' % got))
    return missing


def explain_missing(missing, dbs, views, cluster, limit=40):
    """Per missing write: where it went, the writer replica's row, and the
    receiver's sync points for the writer's replica id."""
    by_key = {db.key: db for db in dbs}
    out = []
    classes = collections.Counter()
    rtm = rtm_index()
    for w, dev, why in missing:
        db = by_key[w[W_DB]]
        src = views.get((db.key, w[W_DEV]))
        recv = views.get((db.key, dev))
        src_row = src['rows'].get(w[W_NAME]) if src else None
        if dev == w[W_DEV]:
            cls = 'lost on the replica it was written to'
        elif src is None:
            cls = 'writer replica missing or unreadable'
        elif src_row is None or row_ts(db, dict(src_row[1])) < w[W_TS]:
            cls = 'also missing on the replica it was written to'
        elif recv is not None:
            # Points and ROWIDs in the writer's current numbering.
            point_now = max([x['sync_point'] for x in recv['syncs'] if x['remote_id'] == src['id']] or [-1])
            merged = [e for e in rtm.get((db.hash, src['id']), []) if e[1] > 0]
            on_recv = [e for k, v in rtm.items() if k[0] == db.hash for e in v
                       if e[0] == cluster.devs[dev][1] and e[1] > 0]
            if point_now >= src_row[0] and merged:
                cls = ("receiver's incoming sync point for the writer is at/after the row, and an RsyncThenMerge of "
                       "the writer's copy folded local rows (NewId's point counts them; MergeSyncs spreads it)")
            elif point_now >= src_row[0] and on_recv:
                cls = ("receiver's incoming sync point for the writer is at/after the row; an RsyncThenMerge on the "
                       "receiver folded local rows into another replica's copy (inflated point for that replica, "
                       "carried to the writer's id by MergeSyncs)")
            elif point_now >= src_row[0] and point_now > src['max_row']:
                cls = "receiver's incoming sync point for the writer is beyond the writer's max_row"
            elif point_now >= src_row[0]:
                cls = ("receiver's incoming sync point for the writer is at/after the row, no RsyncThenMerge of "
                       "the writer's copy seen")
            else:
                cls = 'present on the writer, not sent (sync point below the row)'
        else:
            cls = 'receiver replica missing'
        classes[cls] += 1
        if len(out) < limit:
            lines = ['  %s  name=%s ts=%s via=%s written to %s at t=%.1fs (replica id then %s)' % (
                db.key, w[W_NAME], w[W_TS], w[W_VIA], cluster.devs[w[W_DEV]][1], w[W_T], w[W_ID])]
            lines.append('    missing on %s: %s  [%s]' % (cluster.devs[dev][1], why, cls))
            if src:
                lines.append('    writer replica %s now: id %s, max_row %d, row %s' % (
                    cluster.devs[w[W_DEV]][1], src['id'], src['max_row'],
                    'ROWID %d ts %s' % (src_row[0], row_ts(db, dict(src_row[1]))) if src_row else 'absent'))
            if recv:
                lines.append('    receiver %s: id %s, max_row %d, rows %d, incoming syncs %s' % (
                    cluster.devs[dev][1], recv['id'], recv['max_row'], len(recv['rows']),
                    json.dumps(recv['syncs'])))
                if src:
                    p = [x['sync_point'] for x in recv['syncs'] if x['remote_id'] == src['id']]
                    lines.append('    => receiver %s incoming sync point for writer id %s: %s; writer row ROWID %s, '
                                 'writer max_row %d' % (cluster.devs[dev][1], src['id'], p[0] if p else 'none',
                                                        src_row[0] if src_row else '-', src['max_row']))
                for dev_name, n_rows, new_id, line in rtm.get((db.hash, src['id'] if src else w[W_ID]), [])[:4]:
                    lines.append('    log: %s' % line)
            if cls in ('lost on the replica it was written to', 'also missing on the replica it was written to'):
                # What happened to the writer's replica: replaced, quarantined, re-installed.
                wdev = '/%s/' % cluster.devs[w[W_DEV]][1]
                for line in grep_logs([db.hash], None, limit=200):
                    if wdev in line and ('Quarantined' in line or 'rsynced' in line):
                        lines.append('    log: %s' % line)
            out.append('\n'.join(lines))
    return out, classes


GLOG_TIME = re.compile(r'^[IWEF](\d{4,8} \d\d:\d\d:\d\d\.\d{6})')


RTM_RE = re.compile(r'\] (\S+)/(\d+)/([0-9a-f]{32}): merged (\d+) local rows into rsynced copy (\S+), new id (\S+)')
_RTM = None


def rtm_index():
    """(db hash, copied replica id) -> [(device, rows folded, new id, log line)] for every
    RsyncThenMerge the peers logged."""
    global _RTM
    if _RTM is None:
        _RTM = collections.defaultdict(list)
        for path in sorted(glob.glob(os.path.join(WORK, 'logs', 'peer*.log'))):
            name = os.path.basename(path)[:-4]
            with open(path, 'rb') as f:
                for raw in f:
                    if b'into rsynced copy' not in raw:
                        continue
                    line = raw.decode('utf-8', 'replace').strip()
                    m = RTM_RE.search(line)
                    if m:
                        _RTM[(m.group(3), m.group(5))].append((m.group(1), int(m.group(4)), m.group(6),
                                                               '%s: %s' % (name, line[:260])))
    return _RTM


def grep_logs(needles, also=None, limit=6):
    """Log lines containing every needle (and `also`), oldest first."""
    hits = []
    for path in sorted(glob.glob(os.path.join(WORK, 'logs', '*.log'))):
        name = os.path.basename(path)[:-4]
        with open(path, 'rb') as f:
            data = f.read()
        if not all(n.encode() in data for n in needles):
            continue
        for line in data.decode('utf-8', 'replace').splitlines():
            if all(n in line for n in needles) and (also is None or also in line):
                m = GLOG_TIME.match(line)
                hits.append((m.group(1) if m else '', '%s: %s' % (name, line[:320])))
    hits.sort()
    return [h for _, h in hits[:limit]]


LOG_PATTERNS = [
    ('peer quarantined a whole <device>/tmp directory (a broker opened on an rsync upload quarantines its parent '
     'dir; common/db/sqlite_broker.cc Guard() via peer/replicator_rpc.cc CompleteRsync/RsyncThenMerge)',
     re.compile(r'Quarantined \S+/tmp to ')),
    ('a database was quarantined after "disk I/O error" on BEGIN IMMEDIATE (its file had been replaced under '
     'the open connection; Guard() then quarantines the hash dir by path, i.e. the NEW file)',
     re.compile(r"Quarantined \S+/(accounts|containers)/.* due to disk error .*BEGIN IMMEDIATE")),
    ('a database was quarantined (any reason)', re.compile(r'Quarantined \S+/(accounts|containers)/')),
    ('quarantine failed', re.compile(r'Failed to quarantine')),
    ('fatal log / check failure / abort', re.compile(r'^F\d{4}|Check failed|terminate called|Segmentation fault|'
                                                       r'AddressSanitizer|double free')),
    ('agent: ERROR reading db', re.compile(r'ERROR reading db')),
    ('rsync daemon restarted by the peer\'s supervisor', re.compile(r'rsync daemon \(pid \d+\) exited')),
    ("rsync daemon refused a connection: 'max connections (N) reached' (--rsync_max_connections; the push "
     "fails and a first-pass upload waits in tmp/ for the peer's sweeper)", re.compile(r'max connections \(\d+\) reached')),
    ('agent: rsync exited non-zero', re.compile(r'rsync failed with \d+')),
    ('CompleteRsync refused: database already exists (the upload is dropped)',
     re.compile(r'CompleteRsync from .*already exists')),
]


def scan_logs():
    """Notable log lines of the whole run: pattern -> (count, first example)."""
    found = collections.OrderedDict()
    for path in sorted(glob.glob(os.path.join(WORK, 'logs', '*.log'))):
        name = os.path.basename(path)[:-4]
        with open(path, 'rb') as f:
            for raw in f:
                line = raw.decode('utf-8', 'replace')
                for text, rx in LOG_PATTERNS:
                    if rx.search(line):
                        c, ex = found.get(text, (0, '%s: %s' % (name, line.strip()[:300])))
                        found[text] = (c + 1, ex)
    return found


def explain_tmp(path):
    """Why an upload stayed in tmp/: its database, sender, and what the logs
    say about rsyncs of that database to that device."""
    sender = os.path.basename(path)
    dev = os.path.basename(os.path.dirname(os.path.dirname(path)))
    who, db_hash = '?', None
    try:
        conn = ro_connect(path)
        try:
            for table, kind in (('container_stat', 'container'), ('account_stat', 'account')):
                try:
                    row = conn.execute('SELECT account, %s FROM %s' % (
                        'container' if kind == 'container' else "''", table)).fetchone()
                except sqlite3.DatabaseError:
                    continue
                who = '%s %s/%s' % (kind, row[0], row[1])
                db_hash = Swift.hash_path(row[0], row[1]) if kind == 'container' else Swift.hash_path(row[0])
                break
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        who = 'unreadable: %s' % e
    notes = []
    if db_hash:
        keys = ('CompleteRsync', 'RsyncThenMerge', 'rsync failed', 'installed rsynced', 'into rsynced copy')
        notes = [line for line in grep_logs([db_hash], None, limit=400)
                 if ('/%s' % dev) in line and any(k in line for k in keys)][-3:]
    if not notes:
        notes = grep_logs([sender], None, limit=2) or ['nothing names it']
    return '%s: upload of %s from sender id %s; last related log lines: %s' % (path, who, sender, notes)


def log_excerpt(db_hash, max_lines=40):
    hits = []
    for path in sorted(glob.glob(os.path.join(WORK, 'logs', '*.log'))):
        name = os.path.basename(path)[:-4]
        with open(path, 'rb') as f:
            for line in f:
                if db_hash.encode() in line:
                    s = line.decode('utf-8', 'replace').rstrip()
                    if 'UNAVAILABLE' in s or 'DEADLINE_EXCEEDED' in s:
                        continue  # the peer was down or stopped: noise here
                    m = GLOG_TIME.match(s)
                    hits.append((m.group(1) if m else '', name, s))
    hits.sort()
    return ['    %-18s %s' % (n, s[:300]) for _, n, s in hits[-max_lines:]]


# ---------------------------------------------------------------------------
# Clean rounds

STATS_RE = re.compile(r'(Attempted to replicate .*|\d+ successes, \d+ failures|diff:\d+ .*)')


def clean_round(cluster, rnd):
    procs = []
    for n in cluster.nodes:
        for t in ('container', 'account'):
            p = Proc('once%d-%d-%s' % (rnd, n.idx, t), os.path.join(WORK, 'logs', 'once-r%d-node%d-%s.log' %
                                                                     (rnd, n.idx, t)))
            # Same options as the daemons, except max_diffs: capped diffs are
            # resumed next pass by design, and must not explain a slow convergence.
            p.start(cluster.agent_argv(n, t, once=True, max_diffs=100000))
            procs.append((n, t, p))
    results = []
    for n, t, p in procs:
        try:
            rc = p.popen.wait(600)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = 'timeout'
        p.want_running = False
        stats = []
        for line in p.log_tail(200):
            m = STATS_RE.search(line)
            if m:
                stats.append(m.group(1))
        results.append(('node%d/%s' % (n.idx, t), rc, stats[-3:]))
    return results


def corruption_outcome(cluster, db, dev, ino):
    path = db.path(dev)
    q = glob.glob(os.path.join(cluster.dev_path(dev), 'quarantined', db.kind + 's', db.hash + '*'))
    q += glob.glob(os.path.join(os.path.dirname(cluster.dev_path(dev)), '..', 'quarantined', db.kind + 's',
                                db.hash + '*'))
    parts = []
    if q:
        parts.append('quarantined (%s)' % q[0])
    if not os.path.exists(path):
        parts.append('no replica at the primary')
    else:
        parts.append('same file, never replaced' if os.stat(path).st_ino == ino else 'replaced by a new file')
        bad = integrity(path)
        parts.append('integrity_check: %s' % ('ok' if not bad else '; '.join(bad[:2])))
    return ', '.join(parts)


def shutdown_all(cluster):
    """Stops every process we started, and everything they started."""
    table = proc_table()
    doomed = set()
    for n, p in cluster.all_procs():
        if p.alive():
            doomed.update(descendants_of(p.pid, table))
    me = os.getpid()
    doomed.update(pid for pid, v in table.items() if v[2] == me and v[0] == 'rsync')
    for n, p in cluster.all_procs():
        if p.alive():
            p.stop(timeout=20)
    for pid in doomed:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    reap_orphans(wait_for=doomed, timeout=5)


# ---------------------------------------------------------------------------

def writer_files():
    return sorted(glob.glob(os.path.join(WORK, 'writes', '*.jsonl')))


WRITER_PROCS = []


def start_writers(dbs, cluster):
    os.makedirs(os.path.join(WORK, 'writes'), exist_ok=True)
    os.makedirs(os.path.join(WORK, 'gates'), exist_ok=True)
    for dev_id in cluster.devs:
        open(gate_path('dev', dev_id), 'w').close()
    initial_names = collections.defaultdict(set)
    for w in WRITES.initial:
        initial_names[w[W_DB]].add(w[W_NAME])
    cfg = {'work': WORK, 'ctl': CTL, 'swift_conf': os.path.join(SWIFT_DIR, 'swift.conf'), 'seed': SEED, 't0': T0,
           'writers': N_WRITERS, 'pause': WRITE_PAUSE, 'handoff_writes': HANDOFF_WRITES, 'dbs': []}
    for db in dbs:
        open(gate_path('db', db.idx), 'w').close()
        cfg['dbs'].append({'idx': db.idx, 'kind': db.kind, 'account': db.account, 'container': db.container,
                           'key': db.key, 'primaries': db.primaries, 'handoffs': db.handoffs[:2],
                           'paths': {d: db.path(d) for d in db.primaries + db.handoffs[:2]},
                           'names': sorted(initial_names[db.key])})
    cfg_path = os.path.join(WORK, 'writers.json')
    with open(cfg_path, 'w') as f:
        json.dump(cfg, f)
    for i in range(N_WRITERS):
        logf = open(os.path.join(WORK, 'logs', 'writer%d.log' % i), 'ab')
        WRITER_PROCS.append(subprocess.Popen([sys.executable, os.path.abspath(__file__), '--writer', cfg_path,
                                              str(i)], stdout=logf, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL))
        logf.close()


def stop_writers():
    open(os.path.join(WORK, 'stop-writers'), 'w').close()
    for i, p in enumerate(WRITER_PROCS):
        try:
            rc = p.wait(120)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
            EV.finding('harness: writer %d did not stop within 120 s (killed)' % i)
        if rc != 0:
            EV.finding('harness: writer %d exited %s (see logs/writer%d.log)' % (i, rc, i))


def count_acks():
    n = len(WRITES.initial)
    for path in writer_files():
        with open(path, 'rb') as f:
            n += f.read().count(b'["ack"')
    return n


def main():
    global PEER, AGENT, CTL, WORK, SWIFT_DIR, CLOCK
    if len(sys.argv) == 4 and sys.argv[1] == '--writer':
        return writer_main(sys.argv[2], int(sys.argv[3]))
    if len(sys.argv) != 4:
        sys.exit('usage: fault_soak.py PEER AGENT DBREPLCTL')
    PEER, AGENT, CTL = [os.path.abspath(a) for a in sys.argv[1:]]
    WORK = os.environ.get('SOAK_WORK') or tempfile.mkdtemp(prefix='dbrepl-soak-', dir=os.environ.get('TEST_TMPDIR'))
    os.makedirs(WORK, exist_ok=True)
    SWIFT_DIR = os.path.join(WORK, 'etc', 'swift')
    os.makedirs(SWIFT_DIR, exist_ok=True)
    with open(os.path.join(SWIFT_DIR, 'swift.conf'), 'w') as f:
        f.write('[swift-hash]\nswift_hash_path_prefix = soak-prefix\nswift_hash_path_suffix = soak-suffix\n')
    import_swift()
    CLOCK = TsSource(0, N_WRITERS + 1)
    become_subreaper()
    rng = random.Random(SEED)
    log('seed %d (SOAK_SEED=%d reproduces the layout and choices); work dir %s' % (SEED, SEED, WORK))
    log('%d s soak, faults %s, %d writers, %d nodes x %d devices on %s.*, %d container + %d account DBs' % (
        SECONDS, 'ON' if FAULTS else 'OFF', N_WRITERS, N_NODES, N_DEVICES, IP_PREFIX, N_CONTAINER_DBS,
        N_ACCOUNT_DBS))

    cluster = Cluster()
    ok = False
    monitor_stop = threading.Event()

    def on_term(signum, frame):
        raise KeyboardInterrupt('signal %d' % signum)
    signal.signal(signal.SIGTERM, on_term)
    try:
        cluster.setup()
        dbs, layouts = create_databases(cluster, rng)
        log('created %d databases: %s; %d initial rows' % (len(dbs), dict(layouts), len(WRITES.initial)))
        for n in cluster.nodes:
            cluster.start_peer(n, wait=False)
        for n in cluster.nodes:
            cluster.wait_peer(n)
        for n in cluster.nodes:
            for t in ('container', 'account'):
                cluster.start_agent(n, t, wait=False)
        for n in cluster.nodes:
            for t in ('container', 'account'):
                cluster.wait_agent(n, t)
        log('peers and agents up (rsync port %d)' % cluster.rsync_port)

        passes = collections.Counter()
        threads = [threading.Thread(target=monitor_loop, args=(cluster, monitor_stop), daemon=True),
                   threading.Thread(target=status_loop, args=(cluster, monitor_stop, passes), daemon=True)]
        faults = Faults(cluster, dbs)
        fthreads = [threading.Thread(target=faults.loop, args=(i,), daemon=True)
                    for i in range(FAULT_THREADS if FAULTS else 0)]
        start_writers(dbs, cluster)
        for t in threads + fthreads:
            t.start()
        end = time.time() + SECONDS
        while time.time() < end:
            time.sleep(min(10, max(0, end - time.time())))  # the soak's duration
            log('... %d acknowledged writes, %d faults, passes %d' % (count_acks(), len(EV.faults),
                                                                     sum(passes.values())))
        STOP_FAULTS.set()
        for t in fthreads:
            t.join(120)
        stop_writers()
        faults.restore_all()
        WRITES.load(writer_files())
        log('faults and writers stopped: %d acknowledged writes' % len(WRITES.acked))
        # Everything back up: peers with rsync, agents running.
        for n in cluster.nodes:
            with n.lock:
                if not n.peer.alive() or not n.rsync_enabled:
                    n.peer.stop()
                    cluster.start_peer(n, rsync=True)
        monitor_stop.set()
        for t in threads:
            t.join(30)
        # Agent daemons: SIGTERM, they finish the databases in flight.
        for n in cluster.nodes:
            for t, a in n.agents.items():
                rc, graceful = a.stop(timeout=60)
                if not graceful:
                    EV.finding('dbrepl-agent did not stop within 60 s of SIGTERM (%s)' % a.name)
                elif rc != 0:
                    EV.finding('dbrepl-agent exited %s on SIGTERM (%s)' % (rc, a.name))
        reap_orphans(timeout=10)
        leftover = [v[3] for p, v in proc_table().items() if v[2] == os.getpid() and v[0] == 'rsync']
        if leftover:
            EV.finding('rsync processes still running after the agents stopped: %s' % leftover[:3])

        probs, views = check_cluster(cluster, dbs)
        # The checks read replicas with Swift's broker, which flushes .pending
        # files: remember unflushed ones from every look after a clean round,
        # not just the last. (Right after the writers stop, entries waiting
        # in .pending are normal; the check above flushes them, so each round's
        # look shows only what appeared since.)
        ever_pending = set()
        pre = {k: len(v) for k, v in probs.items()}
        pre_missing = len(check_writes(dbs, views, cluster))
        log('before the clean rounds: %s; %d (write, replica) pairs missing' % (pre, pre_missing))

        rounds = []
        converged_at = None
        for rnd in range(1, CLEAN_ROUNDS + 1):
            res = clean_round(cluster, rnd)
            probs, views = check_cluster(cluster, dbs)
            missing = check_writes(dbs, views, cluster)
            ever_pending.update(probs.get('pending_unflushed', []))
            conv = not any(probs.get(k) for k in CONVERGENCE_KEYS)
            rounds.append((rnd, res, {k: len(v) for k, v in probs.items()}, len(missing), conv))
            log('clean round %d: exit codes %s; problems %s; missing (write, replica) %d; converged %s' % (
                rnd, [r[1] for r in res], {k: len(v) for k, v in probs.items()}, len(missing), conv))
            if conv and converged_at is None:
                converged_at = rnd
            if converged_at is not None and not missing:
                break
            if rnd > CONVERGE_WITHIN and rounds[-1][2:4] == rounds[-2][2:4]:
                log('clean round %d changed nothing: stopping the clean rounds' % rnd)
                break

        # ------------------------------------------------------------ summary
        # Uploads that lost their sender (killed, or a failed second rsync
        # pass) are removed by each peer's sweeper once unclaimed for
        # --tmp_upload_max_age: wait for that, on the real condition.
        if probs.get('stray_tmp'):
            deadline = time.time() + 10 * TMP_MAX_AGE + 10
            while time.time() < deadline:
                if not stray_tmp_files(cluster):
                    break
                time.sleep(0.2)
            probs['stray_tmp'] = ['%s (still there %.0fs after the clean rounds)' % (p, 10 * TMP_MAX_AGE + 10)
                                  for p in stray_tmp_files(cluster)]
        if ever_pending:
            probs['pending_unflushed'] = sorted(ever_pending)
        failures = []
        if converged_at is None or converged_at > CONVERGE_WITHIN:
            failures.append('did not converge within %d clean rounds (%s)' % (
                CONVERGE_WITHIN, 'converged after round %d' % converged_at if converged_at else
                'not converged after %d' % len(rounds)))
        if missing:
            failures.append('%d acknowledged writes missing on some replica' % len(missing))
        for k in ('integrity', 'stray_tmp', 'handoff_left', 'pending_unflushed', 'stray_files', 'unknown_db',
                  'unreadable', 'missing_replica', 'diverged'):
            if probs.get(k) and (k != 'stray_tmp' or STRICT_TMP):
                failures.append('%s: %d' % (k, len(probs[k])))
        if EV.crashes:
            failures.append('%d process crashes' % len(EV.crashes))

        print('\n' + '=' * 100)
        print('FAULT SOAK SUMMARY  seed=%d  soak=%.0fs  faults=%s  total wall %.0fs' % (
            SEED, SECONDS, 'on' if FAULTS else 'off', time.time() - T0))
        print('cluster: %d nodes x %d devices (%s.1-%d), %d replicas, part power %d; agents per_diff=%d '
              'max_diffs=%d interval=%gs node_timeout=%gs' % (N_NODES, N_DEVICES, IP_PREFIX, N_NODES, REPLICAS,
                                                              PART_POWER, PER_DIFF, MAX_DIFFS, INTERVAL,
                                                              NODE_TIMEOUT))
        print('databases: %d container + %d account; initial layouts %s' % (N_CONTAINER_DBS, N_ACCOUNT_DBS,
                                                                             dict(layouts)))
        print('writes acknowledged: %d  %s' % (len(WRITES.acked), dict(sorted(WRITES.by_via.items()))))
        print('writes not acknowledged: %d  %s' % (sum(WRITES.unacked.values()), dict(WRITES.unacked)))
        print('agent passes completed during the soak: %d  %s' % (
            sum(passes.values()), {'node%d/%s' % k: v for k, v in sorted(passes.items())}))
        fk = collections.Counter(f['kind'] for f in EV.faults)
        print('faults injected: %d  %s' % (len(EV.faults), dict(sorted(fk.items()))))
        ka = [f for f in EV.faults if f['kind'] == 'kill_agent']
        if ka:
            print('  kill_agent: %d during a running pass, %d with an rsync child' % (
                sum(1 for f in ka if f.get('during_pass')), sum(1 for f in ka if f.get('rsync_child'))))
        if faults.corruptions:
            print('  corrupted replicas (each held no acknowledged write missing elsewhere; not written '
                  'to afterwards):')
            for db, dev, off, size, ino in faults.corruptions:
                print('    %s on %s: 512 bytes at offset %d of %d; afterwards: %s' % (
                    db.key, cluster.devs[dev][1], off, size, corruption_outcome(cluster, db, dev, ino)))
        print('crashes: %d' % len(EV.crashes))
        for c in EV.crashes:
            print('  %s exited %s at t=%.1fs; log tail:' % (c['proc'], c['rc'], c['t']))
            for line in c['log'][-12:]:
                print('    ' + line)
        if EV.orphans:
            print('orphaned processes after SIGKILL of a peer: %d times, e.g. %s' % (len(EV.orphans),
                                                                                 EV.orphans[0]['procs'][:2]))
        print('before the clean rounds: %s; %d (write, replica) pairs missing' % (pre, pre_missing))
        for rnd, res, pr, nmiss, conv in rounds:
            print('clean round %d (all %d agents --once at once): converged=%s problems=%s missing=%d' % (
                rnd, len(res), conv, pr, nmiss))
            for name, rc, st in res:
                print('    %-18s exit %-4s %s' % (name, rc, ' | '.join(st)))
        print('passes to converge: %s (must be <= %d)' % (converged_at or 'never', CONVERGE_WITHIN))
        notable = scan_logs()
        if notable:
            print('notable log lines (all processes, whole run):')
            for text, (count, example) in notable.items():
                print('  [%dx] %s\n        e.g. %s' % (count, text, example))
        if EV.findings:
            print('findings:')
            for text, count in EV.findings.items():
                print('  [%dx] %s' % (count, text))
        for k in ('integrity', 'stray_tmp', 'handoff_left', 'pending_unflushed', 'stray_files', 'unknown_db',
                  'unreadable', 'missing_replica', 'diverged'):
            if probs.get(k):
                print('%s (%d):' % (k, len(probs[k])))
                for x in probs[k][:15]:
                    print('  ' + (explain_tmp(x.split(' ')[0]) + x[len(x.split(' ')[0]):] if k == 'stray_tmp'
                                  else x))
        if missing:
            lines, classes = explain_missing(missing, dbs, views, cluster)
            affected = sorted({w[W_DB] for w, _, _ in missing})
            print('MISSING acknowledged writes: %d (write, replica) pairs, %d distinct writes, %d databases' % (
                len(missing), len({(w[W_DB], w[W_NAME]) for w, _, _ in missing}), len(affected)))
            print('  by mechanism: %s' % dict(classes))
            vias = collections.Counter(w[W_VIA] for w, _, _ in missing)
            print('  by write method: %s' % dict(vias))
            print('  every missing (write, replica) pair: database name timestamp written-to -> missing-on (why):')
            for w, dev, why in missing[:500]:
                print('    %s %s %s %s -> %s (%s)' % (w[W_DB], w[W_NAME], w[W_TS], cluster.devs[w[W_DEV]][1],
                                                   cluster.devs[dev][1], why))
            if len(missing) > 500:
                print('    ... and %d more' % (len(missing) - 500))
            print('  details of the first %d (receiver sync points for the writer replica id):' % len(lines))
            for line in lines:
                print(line)
            by_key = {db.key: db for db in dbs}
            for dbk in affected[:3]:
                db = by_key[dbk]
                print('  log lines for %s (hash %s, partition %d, primaries %s):' % (
                    dbk, db.hash, db.part, [cluster.devs[d][1] for d in db.primaries]))
                for line in log_excerpt(db.hash):
                    print(line)
        ok = not failures
        print('RESULT: %s' % ('PASS' if ok else 'FAIL: ' + '; '.join(failures)))
        with open(os.path.join(WORK, 'logs', 'soak-record.json'), 'w') as f:
            json.dump({'seed': SEED, 'seconds': SECONDS, 'faults_enabled': FAULTS, 'faults': EV.faults,
                       'crashes': EV.crashes, 'orphans': EV.orphans, 'findings': EV.findings,
                       'rounds': [{'round': r, 'problems': pr, 'missing': m, 'converged': c}
                                  for r, _, pr, m, c in rounds],
                       'converged_at': converged_at, 'failures': failures,
                       'missing': [{'db': w[W_DB], 'name': w[W_NAME], 'ts': w[W_TS], 'via': w[W_VIA],
                                    'written_to': cluster.devs[w[W_DEV]][1], 'missing_on': cluster.devs[d][1],
                                    'why': why} for w, d, why in missing]}, f, indent=1)
        print('=' * 100)
    except KeyboardInterrupt as e:
        log('interrupted: %s' % e)
    finally:
        STOP_FAULTS.set()
        monitor_stop.set()
        if WORK and os.path.isdir(WORK):
            open(os.path.join(WORK, 'stop-writers'), 'w').close()
        for p in WRITER_PROCS:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        shutdown_all(cluster)
        out = os.environ.get('TEST_UNDECLARED_OUTPUTS_DIR')
        if not ok and out:
            try:
                shutil.copytree(os.path.join(WORK, 'logs'), os.path.join(out, 'soak-logs'))
            except OSError:
                pass
        if ok and not KEEP:
            shutil.rmtree(WORK, ignore_errors=True)
        else:
            log('work dir kept: %s' % WORK)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
