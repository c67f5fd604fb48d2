"""The small dbrepl cluster with Swift's brokers that sharding_test,
policy_test and check_test run on: fault_soak.py's cluster harness (nodes on
loopback addresses, rings, peers with their rsync daemons, agent argv),
loaded with its settings for one test.

    soak, Swift = swift_cluster.load('policy', ip_base=60, policies=3)
    cluster = soak.Cluster(); cluster.setup()

Usage of a test built on it: TEST.py PEER AGENT DBREPLCTL (Debian's python3,
which has python3-swift), as swift_cluster_test.sh runs it.
"""

import importlib.util
import os
import sys
import tempfile

POLICY_NAMES = ['gold', 'silver', 'bronze', 'tin']


def load(name, ip_base, devices=1, part_power=2, policies=1):
    """fault_soak with 3 nodes of `devices` devices on 127.0.<ip_base + pid % 30>.*,
    a work dir and a swift.conf of `policies` storage policies; Swift imported."""
    os.environ.setdefault('SOAK_NODES', '3')
    os.environ.setdefault('SOAK_DEVICES', str(devices))
    os.environ.setdefault('SOAK_PART_POWER', str(part_power))
    os.environ['SOAK_IP_PREFIX'] = '127.0.%d' % (ip_base + os.getpid() % 30)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fault_soak.py')
    spec = importlib.util.spec_from_file_location('fault_soak', path)
    soak = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(soak)
    soak.PEER, soak.AGENT, soak.CTL = [os.path.abspath(a) for a in sys.argv[1:4]]
    soak.WORK = tempfile.mkdtemp(prefix='dbrepl-%s-' % name, dir=os.environ.get('TEST_TMPDIR'))
    soak.SWIFT_DIR = os.path.join(soak.WORK, 'etc', 'swift')
    os.makedirs(soak.SWIFT_DIR)
    with open(os.path.join(soak.SWIFT_DIR, 'swift.conf'), 'w') as f:
        f.write('[swift-hash]\nswift_hash_path_prefix = soak-prefix\nswift_hash_path_suffix = soak-suffix\n')
        for k in range(policies if policies > 1 else 0):
            f.write('[storage-policy:%d]\nname = %s\n%s' % (k, POLICY_NAMES[k], 'default = yes\n' if k == 0 else ''))
    soak.import_swift()
    return soak, soak.Swift


class Checks:
    """Failures collected (each printed as it happens), for a summary exit."""

    def __init__(self):
        self.failures = []

    def __call__(self, cond, msg):
        if not cond:
            self.failures.append(msg)
            print('FAIL: ' + msg, flush=True)

    def __len__(self):
        return len(self.failures)
