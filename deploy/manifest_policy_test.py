"""Offline policy checks of deploy/k8s (no cluster needed): every long-running
dbrepl container has gRPC probes on numeric ports, the peer is a native
sidecar, the rings volume is never mounted with subPath, pods run as non-root
with fsGroupChangePolicy set, and a PodDisruptionBudget exists."""
import os
import unittest

import yaml

K8S = os.path.join(os.path.dirname(os.path.abspath(__file__)), "k8s")


def load_all():
    docs = []
    for name in sorted(os.listdir(K8S)):
        if name.endswith(".yaml") and name != "kustomization.yaml":
            with open(os.path.join(K8S, name)) as f:
                docs.extend(d for d in yaml.safe_load_all(f) if d)
    return docs


class ManifestPolicyTest(unittest.TestCase):
    def setUp(self):
        self.docs = load_all()
        self.sts = next(d for d in self.docs if d["kind"] == "StatefulSet")
        self.pod = self.sts["spec"]["template"]["spec"]

    def test_kustomization_lists_every_manifest(self):
        with open(os.path.join(K8S, "kustomization.yaml")) as f:
            listed = set(yaml.safe_load(f)["resources"])
        present = {n for n in os.listdir(K8S) if n.endswith(".yaml") and n != "kustomization.yaml"}
        self.assertEqual(listed, present)

    def test_peer_is_a_native_sidecar_with_grpc_probes(self):
        peer = next(c for c in self.pod["initContainers"] if c["name"] == "dbrepl-peer")
        self.assertEqual(peer.get("restartPolicy"), "Always")
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            self.assertIn("grpc", peer[probe], probe)
            self.assertIsInstance(peer[probe]["grpc"]["port"], int, probe)
        self.assertEqual(peer["livenessProbe"]["grpc"]["service"], "liveness")
        self.assertEqual(peer["readinessProbe"]["grpc"]["service"], "readiness")

    def test_every_dbrepl_container_has_probes_and_a_tight_security_context(self):
        for c in self.pod["initContainers"] + self.pod["containers"]:
            if not c["name"].startswith("dbrepl"):
                continue
            self.assertIn("readinessProbe", c, c["name"])
            self.assertIn("livenessProbe", c, c["name"])
            sc = c["securityContext"]
            self.assertFalse(sc["allowPrivilegeEscalation"], c["name"])
            self.assertTrue(sc["readOnlyRootFilesystem"], c["name"])
            self.assertIn("ALL", sc["capabilities"]["drop"], c["name"])

    def test_config_volume_is_never_mounted_with_subpath(self):
        for c in self.pod["initContainers"] + self.pod["containers"]:
            for m in c.get("volumeMounts", []):
                if m["name"] == "swift-conf":
                    self.assertNotIn("subPath", m, c["name"])

    def test_pod_security(self):
        sc = self.pod["securityContext"]
        self.assertTrue(sc["runAsNonRoot"])
        self.assertEqual(sc["fsGroupChangePolicy"], "OnRootMismatch")
        self.assertEqual(sc["seccompProfile"]["type"], "RuntimeDefault")

    def test_disruption_budget_and_headless_service(self):
        pdb = next(d for d in self.docs if d["kind"] == "PodDisruptionBudget")
        self.assertEqual(pdb["spec"]["maxUnavailable"], 1)
        svc = next(d for d in self.docs if d["kind"] == "Service")
        self.assertEqual(svc["spec"]["clusterIP"], "None")
        self.assertEqual(svc["spec"]["selector"], self.sts["spec"]["selector"]["matchLabels"])

    def test_every_flag_in_the_manifests_exists(self):
        # Every --flag given to a dbrepl binary must be one it defines, so a
        # typo cannot ship. The wrapper script lists them from --helpxml.
        known = {
            "dbrepl-peer": set(os.environ["PEER_FLAGS"].split()),
            "dbrepl-agent": set(os.environ["AGENT_FLAGS"].split()),
        }
        self.assertIn("bind_port", known["dbrepl-peer"])
        for c in self.pod["initContainers"] + self.pod["containers"]:
            binary = os.path.basename(c["command"][0])
            if binary not in known:
                continue
            for arg in c.get("args", []):
                self.assertTrue(arg.startswith("--"), arg)
                name = arg[2:].split("=", 1)[0]
                self.assertIn(name, known[binary], "%s has no flag --%s" % (binary, name))


if __name__ == "__main__":
    unittest.main()
