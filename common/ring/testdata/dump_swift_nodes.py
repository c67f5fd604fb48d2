"""Prints, with Swift's own Ring class, the primaries and handoffs that
ring_test.cc expects. Run: /usr/bin/python3 dump_swift_nodes.py"""
import os
import tempfile

from swift.common import utils
from swift.common.ring import Ring

utils.HASH_PATH_PREFIX = b''
utils.HASH_PATH_SUFFIX = b'changeme'

for name, parts in (('swift_container', (0, 1, 17, 100, 255)),
                    ('swift_fractional', (0, 31, 32, 63))):
    ring = Ring(name + '.ring.gz')
    print(name, 'replica_count', ring.replica_count,
          'partitions', ring.partition_count)
    for part in parts:
        primaries = [n['id'] for n in ring.get_part_nodes(part)]
        handoffs = [n['id'] for n in ring.get_more_nodes(part)]
        print('  part %d primaries %s handoffs %s' % (part, primaries, handoffs))
    for acct, cont in (('a', 'c'), ('AUTH_test', None), ('AUTH_test', 'photos')):
        print('  get_part(%r, %r) = %d' % (acct, cont, ring.get_part(acct, cont)))
