"""On the ra-1000 profile: the time a whole-release upgrade of examples/controlplane-1000.yaml
takes (2026.1 -> 2026.2: every service through its declared steps, one service after the
other), and the largest number of pods of each component that were not Ready at one moment.

    python bench/upgrade_release.py [--profile ra-1000] [--to 2026.2]

Uses its own state directory, so a running demo cluster is left alone. Pods are simulated
(KWOK): the figure is the operator's sequencing and rolling, not the services' start-up time.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from kubernetes import client

from ccp_operator.api import API_VERSION
from ccp_operator.kube.client import Kube
from localcluster import LocalCluster
from localcluster.cluster import CACHE_ROOT
from localcluster.controlplane import apply_plane, kubectl, wait_plane_ready
from localcluster.operator import install_and_start
from localcluster.readiness import Unavailability

ROOT = Path(__file__).resolve().parents[1]


def replicas_by_component(kube: Kube, namespace: str) -> dict[str, int]:
    result = {}
    for kind in ("Deployment", "StatefulSet"):
        for workload in kube.list("apps/v1", kind, namespace):
            result[workload["metadata"]["labels"]["app.kubernetes.io/component"]] = workload["spec"]["replicas"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="ra-1000")
    parser.add_argument("--to", default="2026.2", help="the release to upgrade to")
    args = parser.parse_args()

    cluster = LocalCluster(CACHE_ROOT / "bench-cluster", progress=lambda m: print(f"  {m}", flush=True))
    cluster.down()
    try:
        cluster.up(args.profile, timeout=1200)
        install_and_start(cluster)
        kube = Kube(cluster.api_client())
        body = apply_plane(cluster, ROOT / "examples" / "controlplane-1000.yaml")
        namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
        wait_plane_ready(kube, namespace, name, 1800, lambda m: print(m, flush=True))
        with Unavailability(client.CoreV1Api(cluster.api_client()), namespace,
                            replicas_by_component(kube, namespace)) as watcher:
            start = time.monotonic()
            kubectl(cluster, "patch", "openstackcontrolplane", name, "-n", namespace, "--type=merge", "-p",
                    f'{{"spec": {{"release": "{args.to}"}}}}')
            while (kube.get(API_VERSION, "OpenStackControlPlane", namespace, name).get("status") or {}).get(
                    "release") != args.to:
                if time.monotonic() - start > 3600:
                    raise SystemExit("the upgrade did not finish within an hour")
                time.sleep(1)
            wait_plane_ready(kube, namespace, name, 600, lambda m: print(m, flush=True))
            seconds = time.monotonic() - start
    finally:
        cluster.down()

    print(f"profile                      {args.profile}")
    print(f"whole-release upgrade        {body['spec']['release']} -> {args.to}: {seconds:.1f} s")
    print("most pods not Ready at once, per component (replicas):")
    for component in sorted(watcher.replicas):
        print(f"  {component:28s} {watcher.worst.get(component, 0)} of {watcher.replicas[component]}")


if __name__ == "__main__":
    main()
