"""dbrepl's broker layer against real Swift (Debian's python3-swift 2.30.1).

Both directions, on the same files:
  * Swift writes account and container databases (rows, tombstones, three
    timestamp components, several policies, metadata, sync points and
    unflushed .pending entries); `dbreplctl info/items/syncs` must report
    exactly what Swift's brokers report.
  * `dbreplctl create/put` writes databases (directly and through .pending);
    Swift's brokers must read them (get_info, list_*_iter,
    get_replication_info) and agree with dbreplctl, and keep agreeing after
    Swift merges more rows into them.

Usage: swift_compat_test.py DBREPLCTL  (run with /usr/bin/python3; only the
standard library and python3-swift are used).
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

DBREPLCTL = None
SCRATCH = tempfile.mkdtemp(dir=os.environ.get('TEST_TMPDIR'))

# Swift reads its cluster secrets from swift.conf at import time.
with open(os.path.join(SCRATCH, 'swift.conf'), 'w') as f:
    f.write('[swift-hash]\nswift_hash_path_suffix = dbrepl-compat\n')
os.environ['SWIFT_CONF_FILE'] = os.path.join(SCRATCH, 'swift.conf')

from swift.account.backend import AccountBroker  # noqa: E402
from swift.common.db import chexor  # noqa: E402
from swift.common.utils import Timestamp, encode_timestamps  # noqa: E402
from swift.container.backend import ContainerBroker  # noqa: E402


def T(seconds):
    return Timestamp(seconds).internal


_counter = [0]


def db_path(kind, device='sda'):
    """A fresh <root>/srv/node/<device>/<kind>s/<part>/<suffix>/<hash>/<hash>.db."""
    _counter[0] += 1
    h = '%032x' % (0xabc000 + _counter[0])
    root = os.path.join(SCRATCH, 'r%d' % _counter[0])
    return os.path.join(root, 'srv/node', device, kind + 's', '7', h[-3:], h, h + '.db')


def ctl(*args):
    proc = subprocess.run([DBREPLCTL] + list(args), capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError('dbreplctl %s failed (%d): %s' % (' '.join(args), proc.returncode, proc.stderr))
    return proc.stdout


def ctl_json(*args):
    return json.loads(ctl(*args))


def ctl_items(db):
    return [json.loads(line) for line in ctl('items', db).splitlines() if line.strip()]


def copy_db_dir(db):
    """A copy of db's hash directory (pending file included) at the same depth."""
    src = os.path.dirname(db)
    dst = db_path('container' if '/containers/' in db else 'account')
    shutil.copytree(src, os.path.dirname(dst))
    os.rename(os.path.join(os.path.dirname(dst), os.path.basename(db)), dst)
    if os.path.exists(os.path.join(os.path.dirname(dst), os.path.basename(db) + '.pending')):
        os.rename(os.path.join(os.path.dirname(dst), os.path.basename(db) + '.pending'), dst + '.pending')
    return dst


def schema(db):
    conn = sqlite3.connect(db)
    try:
        return conn.execute('SELECT type, name, tbl_name, sql FROM sqlite_master').fetchall()
    finally:
        conn.close()


def rows_hash(rows, account):
    h = '0' * 32
    for r in rows:
        if account:
            h = chexor(h, r['name'], '%s-%s-%s-%s' % (r['put_timestamp'], r['delete_timestamp'],
                                                      r['object_count'], r['bytes_used']))
        else:
            h = chexor(h, r['name'], r['created_at'])
    return h


def obj(name, created_at, size=0, ctype='text/plain', etag='e', deleted=0, spi=0, rowid=1):
    return {'name': name, 'created_at': created_at, 'size': size, 'content_type': ctype, 'etag': etag,
            'deleted': deleted, 'storage_policy_index': spi, 'ROWID': rowid}


class SwiftWritesDbreplReads(unittest.TestCase):

    def make_swift_container(self):
        db = db_path('container')
        os.makedirs(os.path.dirname(db))
        b = ContainerBroker(db, account='AUTH_test', container='c\u00e9')
        b.initialize(T(1), 0)
        t1, t2, t3 = Timestamp(1700000001), Timestamp(1700000002), Timestamp(1700000003)
        b.merge_items([
            obj('a', t1.internal, 10, rowid=1),
            obj('b\u00fc', t2.internal, 20, 'text/plain;swift_bytes=99', rowid=2),
            obj('c', encode_timestamps(t1, t2, t3), 30, 'image/png', rowid=3),
            obj('d', t1.internal, 0, deleted=1, rowid=4),
            obj('e', t1.internal, 40, spi=1, rowid=5),
            obj('a', t2.internal, 11, rowid=6),  # Replaces "a".
        ], source='remote-a')
        b.merge_syncs([{'remote_id': 'remote-b', 'sync_point': 17}])
        b.merge_syncs([{'remote_id': 'remote-c', 'sync_point': 4}], incoming=False)
        b.update_metadata({'X-Container-Meta-Color': ['bl\u00fc "x"', t2.internal],
                           'X-Container-Meta-Gone': ['', t1.internal]})
        b.reported(t1.internal, '0', 3, 60)
        b.set_x_container_sync_points(5, 6)
        # Left in <db>.pending, unflushed: Swift's servers write these.
        b.put_object('p1', T(1700000004), 7, 'text/html', 'etag-p1')
        b.put_object('p2', T(1700000004), 8, 'text/plain;swift_bytes=3', 'etag-p2', storage_policy_index=2)
        b.delete_object('b\u00fc', T(1700000005))
        b.put_object('c', t1.internal, 0, 'image/gif', 'x', ctype_timestamp=T(1700000006),
                     meta_timestamp=T(1700000007))
        b.put_object('p1', T(1700000004), 9, 'text/html', 'etag-dup')  # Same time: the first wins.
        self.assertGreater(os.path.getsize(db + '.pending'), 0)
        return db

    def test_container(self):
        db = self.make_swift_container()
        swift_copy = copy_db_dir(db)
        # Swift's own view (it flushes the copy's pending file).
        want_info = ContainerBroker(swift_copy).get_replication_info()
        want_rows = ContainerBroker(swift_copy).get_items_since(-1, 1000)
        want_in = ContainerBroker(swift_copy).get_syncs()
        want_out = ContainerBroker(swift_copy).get_syncs(incoming=False)

        got_info = ctl_json('info', db)
        self.assertEqual(got_info, want_info)
        self.assertEqual(list(got_info), list(want_info))  # Same keys, same order.
        self.assertEqual(ctl_items(db), want_rows)
        syncs = ctl_json('syncs', db)
        self.assertEqual([{'remote_id': s['remote_id'], 'sync_point': s['sync_point']} for s in syncs['incoming']],
                         want_in)
        self.assertEqual([{'remote_id': s['remote_id'], 'sync_point': s['sync_point']} for s in syncs['outgoing']],
                         want_out)
        self.assertEqual(got_info['hash'], rows_hash(want_rows, account=False))
        self.assertEqual(os.path.getsize(db + '.pending'), 0)  # dbreplctl flushed it.
        # What dbrepl merged from the pending file is what Swift merged.
        self.assertEqual(ContainerBroker(db).get_replication_info(), want_info)
        self.assertEqual(ctl_items(db)[-1]['ROWID'], want_info['max_row'])
        # A window of rows.
        window = [json.loads(line) for line in ctl('items', db, '--since', '3', '--limit', '2').splitlines()]
        self.assertEqual(window, ContainerBroker(swift_copy).get_items_since(3, 2))

    def test_account(self):
        db = db_path('account')
        os.makedirs(os.path.dirname(db))
        a = AccountBroker(db, account='AUTH_test')
        a.initialize(T(1))
        a.merge_items([
            {'name': 'c1', 'put_timestamp': T(1700000002), 'delete_timestamp': '0', 'object_count': 5,
             'bytes_used': 50, 'deleted': 0, 'storage_policy_index': 0, 'ROWID': 1},
            {'name': 'c2', 'put_timestamp': T(1700000001), 'delete_timestamp': T(1700000002), 'object_count': 0,
             'bytes_used': 0, 'deleted': 1, 'storage_policy_index': 1, 'ROWID': 2},
        ], source='remote-a')
        a.update_metadata({'X-Account-Meta-Quota': ['10', T(1700000003)]})
        # The account server passes header strings.
        a.put_container('c3', T(1700000004), '0', '7', '70', 1)
        a.put_container('c1', T(1700000001), '0', '3', '30', 0)  # Older put, new counts.
        a.put_container('c2', '0', T(1700000005), '0', '0', 1)
        swift_copy = copy_db_dir(db)
        want_info = AccountBroker(swift_copy).get_replication_info()
        want_rows = AccountBroker(swift_copy).get_items_since(-1, 1000)

        got_info = ctl_json('info', db)
        self.assertEqual(got_info, want_info)
        self.assertEqual(list(got_info), list(want_info))
        self.assertEqual(ctl_items(db), want_rows)
        self.assertEqual(got_info['hash'], rows_hash(want_rows, account=True))
        self.assertEqual(AccountBroker(db).get_replication_info(), want_info)
        syncs = ctl_json('syncs', db)
        self.assertEqual([(s['remote_id'], s['sync_point']) for s in syncs['incoming']], [('remote-a', 2)])


class DbreplWritesSwiftReads(unittest.TestCase):

    def test_container(self):
        db = db_path('container', device='sdq')
        created = ctl_json('create', db, '--account', 'AUTH_x', '--container', 'cont', '--put-timestamp',
                           '1700000000', '--policy-index', '1')
        self.assertTrue(created['id'].endswith('-sdq'))
        ctl('put', db, 'o1', '--timestamp', '1700000001', '--size', '100', '--content-type', 'text/plain',
            '--etag', 'e1', '--storage-policy-index', '1')
        ctl('put', db, 'o2', '--timestamp', '1700000002', '--size', '5', '--storage-policy-index', '1',
            '--pending')
        ctl('put', db, 'o3\u00e9', '--timestamp', '1700000002', '--size', '6', '--storage-policy-index', '1',
            '--content-type', 'a/b;swift_bytes=12', '--pending')
        ctl('put', db, 'o1', '--timestamp', '1700000001', '--storage-policy-index', '1', '--content-type',
            'image/png', '--ctype-timestamp', '1700000003', '--meta-timestamp', '1700000004', '--pending')
        ctl('put', db, 'gone', '--timestamp', '1700000002', '--deleted', '--storage-policy-index', '1',
            '--pending')
        ctl('put', db, 'other-policy', '--timestamp', '1700000002', '--size', '9', '--pending')
        self.assertGreater(os.path.getsize(db + '.pending'), 0)

        # Swift reads our pending entries and merges them.
        b = ContainerBroker(db)
        info = b.get_info()
        self.assertEqual(os.path.getsize(db + '.pending'), 0)
        self.assertEqual((info['account'], info['container']), ('AUTH_x', 'cont'))
        self.assertEqual(info['put_timestamp'], T(1700000000))
        self.assertEqual(info['storage_policy_index'], 1)
        self.assertEqual(info['object_count'], 3)
        self.assertEqual(info['bytes_used'], 111)
        listing = list(b.list_objects_iter(100, '', None, None, None, storage_policy_index=1))
        self.assertEqual(listing, [
            ('o1', T(1700000004), 100, 'image/png', 'e1'),
            ('o2', T(1700000002), 5, 'application/octet-stream', 'd41d8cd98f00b204e9800998ecf8427e'),
            ('o3\u00e9', T(1700000002), 6, 'a/b;swift_bytes=12', 'd41d8cd98f00b204e9800998ecf8427e'),
        ])
        self.assertEqual(ctl_json('info', db), ContainerBroker(db).get_replication_info())
        self.assertEqual(ctl_items(db), ContainerBroker(db).get_items_since(-1, 100))

        # Swift writes into our file; we still agree.
        b.merge_items([obj('o2', T(1700000009), 50, spi=1, rowid=40),
                       obj('z', T(1700000009), 1, spi=1, rowid=41)], source='swift-peer')
        b.update_metadata({'X-Container-Meta-A': ['\u00e9', T(1700000009)]})
        want = ContainerBroker(db).get_replication_info()
        self.assertEqual(ctl_json('info', db), want)
        self.assertEqual(want['hash'], rows_hash(ContainerBroker(db).get_items_since(-1, 100), account=False))
        self.assertEqual(ctl_json('syncs', db)['incoming'][0]['sync_point'], 41)

    def test_schema_matches_swift(self):
        ours = db_path('container')
        ctl('create', ours, '--account', 'a', '--container', 'c')
        theirs = db_path('container')
        os.makedirs(os.path.dirname(theirs))
        ContainerBroker(theirs, account='a', container='c').initialize(T(1), 0)
        self.assertEqual(schema(ours), schema(theirs))
        ours_a = db_path('account')
        ctl('create', ours_a, '--account', 'a')
        theirs_a = db_path('account')
        os.makedirs(os.path.dirname(theirs_a))
        AccountBroker(theirs_a, account='a').initialize(T(1))
        self.assertEqual(schema(ours_a), schema(theirs_a))

    def test_account(self):
        db = db_path('account')
        ctl('create', db, '--account', 'AUTH_y', '--put-timestamp', '1700000000')
        ctl('put', db, 'c1', '--timestamp', '1700000001', '--object-count', '3', '--bytes-used', '30')
        ctl('put', db, 'c2', '--timestamp', '1700000001', '--object-count', '1', '--bytes-used', '10',
            '--pending', '--storage-policy-index', '2')
        ctl('put', db, 'c2', '--timestamp', '1700000002', '--deleted', '--pending')
        ctl('put', db, 'c3', '--timestamp', '1700000003', '--object-count', '4', '--bytes-used', '40', '--pending')
        a = AccountBroker(db)
        info = a.get_info()
        self.assertEqual(info['account'], 'AUTH_y')
        self.assertEqual(info['container_count'], 2)
        self.assertEqual(info['object_count'], 7)
        self.assertEqual(info['bytes_used'], 70)
        names = [c[0] for c in a.list_containers_iter(100, '', None, None, None)]
        self.assertEqual(names, ['c1', 'c3'])
        self.assertEqual(ctl_json('info', db), AccountBroker(db).get_replication_info())
        self.assertEqual(ctl_items(db), AccountBroker(db).get_items_since(-1, 100))
        a.put_container('c4', T(1700000005), '0', '2', '20', 0)
        want = AccountBroker(db).get_replication_info()
        self.assertEqual(ctl_json('info', db), want)
        self.assertEqual(want['hash'], rows_hash(AccountBroker(db).get_items_since(-1, 100), account=True))


if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit('usage: swift_compat_test.py DBREPLCTL')
    DBREPLCTL = os.path.abspath(sys.argv.pop(1))
    try:
        unittest.main(verbosity=2)
    finally:
        shutil.rmtree(SCRATCH, ignore_errors=True)
