"""The hypervisors at the reference architecture's scale (ra-1000: 1000 compute nodes, KWOK):

- the per-node pods, by component: libvirt, virtlogd, nova-compute on every compute node, Open
  vSwitch and its L2 agent on every compute and network node, the DHCP, L3 and metadata agents
  on every network node;
- seconds from applying examples/controlplane-1000.yaml to every per-node pod Ready;
- seconds of a whole-fleet rolling update of nova-compute at the default pace (a change of its
  configuration: every nova-compute pod replaced, maxUnavailable nodes at a time);
- the operator's write requests during an idle period afterwards, and its peak memory.

    python bench/compute_fleet.py [--idle 300]

Uses its own state directory, so a running demo cluster is left alone.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from ccp_operator.api import API_VERSION
from ccp_operator.kube.client import Kube
from ccp_operator.services import catalog
from localcluster import LocalCluster
from localcluster.cluster import CACHE_ROOT
from localcluster.controlplane import apply_plane, kubectl, wait_plane_ready
from localcluster.operator import install_and_start
from measure import idle_writes, memory_mib

ROOT = Path(__file__).resolve().parents[1]
COMPONENTS = tuple(component.name for definition in catalog.SERVICES for component in definition.components
                   if component.per_node)
ROLES = {"compute": "openstack-compute-node", "network": "openstack-network-node"}
# A change of nova-compute's configuration alone: it rolls nova-compute and nothing else.
ROLL_CONFIG = "[DEFAULT]\nreport_interval = 11\n"


def hypervisor_sets(kube: Kube, namespace: str) -> list[dict]:
    return [ds for ds in kube.list("apps/v1", "DaemonSet", namespace)
            if ds["metadata"]["labels"].get("app.kubernetes.io/component") in COMPONENTS]


def rolled_out(daemon_set: dict) -> bool:
    status = daemon_set.get("status") or {}
    desired = status.get("desiredNumberScheduled", -1)
    return (status.get("observedGeneration", 0) >= daemon_set["metadata"]["generation"] and desired > 0
            and status.get("updatedNumberScheduled") == desired and status.get("numberAvailable") == desired)


def wait(what: str, done, timeout: float) -> float:
    start = time.monotonic()
    while not done():
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"{what} after {timeout:.0f}s")
        time.sleep(2)
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle", type=float, default=300.0, help="seconds of idleness to count writes over")
    args = parser.parse_args()

    cluster = LocalCluster(CACHE_ROOT / "bench-cluster", progress=lambda m: print(f"  {m}", flush=True))
    cluster.down()
    try:
        cluster.up("ra-1000", timeout=1200)
        pid, _ = install_and_start(cluster)
        kube = Kube(cluster.api_client())
        body = apply_plane(cluster, ROOT / "examples" / "controlplane-1000.yaml")
        namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
        applied = time.monotonic()
        wait_plane_ready(kube, namespace, name, 1800, lambda m: print(m, flush=True))
        wait("per-node pods not Ready", lambda: (sets := hypervisor_sets(kube, namespace))
             and len(sets) == len(COMPONENTS) and all(rolled_out(ds) for ds in sets), 1800)
        to_hypervisors = time.monotonic() - applied
        pods = Counter(pod["metadata"]["labels"]["app.kubernetes.io/component"]
                       for pod in kube.list("v1", "Pod", namespace)
                       if pod["metadata"]["labels"].get("app.kubernetes.io/component") in COMPONENTS)
        role_of = {node["metadata"]["name"]: role for node in kube.list("v1", "Node", None)
                   for role, label in ROLES.items() if node["metadata"]["labels"].get(label) == "enabled"}
        nodes = {component: Counter(role_of.get(pod["spec"]["nodeName"], "other") for pod in kube.list(
            "v1", "Pod", namespace, {"app.kubernetes.io/component": component})) for component in COMPONENTS}

        plane = kube.get(API_VERSION, "OpenStackControlPlane", namespace, name)
        pace = (plane["spec"].get("compute") or {}).get("maxUnavailable", "10%")
        kubectl(cluster, "-n", namespace, "patch", "openstackcontrolplane", name, "--type", "merge", "-p",
                json.dumps({"spec": {"compute": {"compute": {"customConfig": ROLL_CONFIG}}}}))
        workload = f"{name}-nova-compute-default"

        def rolled() -> bool:
            live = kube.get("apps/v1", "DaemonSet", namespace, workload)
            return live is not None and live["metadata"]["generation"] > 1 and rolled_out(live)

        roll_seconds = wait("nova-compute not rolled", rolled, 3600)
        wait_plane_ready(kube, namespace, name, 600, lambda m: print(m, flush=True))
        idle = idle_writes(cluster.audit_log, args.idle)
        memory = memory_mib(pid)
    finally:
        cluster.down()

    for component in COMPONENTS:
        where = ", ".join(f"{count} {role}" for role, count in sorted(nodes[component].items()))
        print(f"{component + ' pods':<37}{pods[component]} on nodes: {where}")
    print(f"apply -> every per-node pod Ready    {to_hypervisors:.1f} s")
    print(f"nova-compute fleet roll at {pace:<10}{roll_seconds:.1f} s")
    print(f"operator writes in {args.idle:.0f}s idle           {sum(idle.values())} {dict(idle) if idle else ''}")
    print(f"operator memory                      peak {memory['VmHWM']:.0f} MiB, now {memory['VmRSS']:.0f} MiB")


if __name__ == "__main__":
    main()
