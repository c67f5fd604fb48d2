"""Prints, with Swift's own Ring class, the nodes of ring partitions in the
format of swift-get-nodes (and of `dbreplctl ring nodes --all`):

    /usr/bin/python3 ring_compat_dump.py RING_FILE PART [PART...]

Used by ring_compat_test.sh; run with Debian's /usr/bin/python3 (Swift
2.30.1). Prints the ring's devices first, one line each."""
import sys

from swift.common.ring import Ring

ring = Ring(sys.argv[1])
for dev in ring.devs:
    if dev is None:
        print('Device\tNone')
        continue
    print('Device\t%(id)d %(region)d %(zone)d %(ip)s %(port)d '
          '%(replication_ip)s %(replication_port)d %(device)s %(weight)r '
          '%(meta)s' % dev)
for part in (int(p) for p in sys.argv[2:]):
    print('Partition\t%d' % part)
    for node in ring.get_part_nodes(part):
        print('Server:Port Device\t%s:%s %s' % (node['ip'], node['port'], node['device']))
    for node in ring.get_more_nodes(part):
        print('Server:Port Device\t%s:%s %s\t [Handoff]' % (node['ip'], node['port'], node['device']))
