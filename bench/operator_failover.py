"""How fast the operator's standby takes over: two replicas run with tokens of the chart's
ServiceAccount on the small local cluster; the leader is killed (kill -9) or stopped cleanly
(SIGTERM) in turn, a change is made at that moment, and the time until the standby holds the
Lease and until the change is reconciled is measured.

    python bench/operator_failover.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import threading
import time

from ccp_operator.api.kinds import register_api_types
from ccp_operator.kube.client import Kube
from ccp_operator.leadership import LEASE as LEASE_TYPE
from localcluster import LocalCluster
from localcluster.cluster import CACHE_ROOT
from localcluster.controlplane import kubectl
from localcluster.operator import LEASE, NAMESPACE, install_chart, operator_argv, free_port, service_account_kubeconfig

PLANE = "failover"


def holder(kube: Kube) -> str:
    lease = kube.get(LEASE_TYPE.api_version, LEASE_TYPE.kind, NAMESPACE, LEASE) or {}
    return (lease.get("spec") or {}).get("holderIdentity") or ""


def wait(check, timeout: float, what: str) -> float:
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"no {what} after {timeout:.0f}s")
        time.sleep(0.05)
    return time.monotonic() - start


def start_replica(cluster: LocalCluster, name: str) -> subprocess.Popen:
    kubeconfig = service_account_kubeconfig(cluster.kubeconfig, cluster.state_dir / f"{name}.kubeconfig")
    log = open(cluster.state_dir / f"{name}.log", "ab")
    return subprocess.Popen(operator_argv(free_port(), "--all-namespaces", f"--identity={name}"),
                            env={**os.environ, "KUBECONFIG": str(kubeconfig)}, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def set_replicas(cluster: LocalCluster, replicas: int) -> None:
    kubectl(cluster, "apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "ccp.openstack.org/v1alpha1", "kind": "Memcached",
        "metadata": {"name": "cache", "namespace": PLANE}, "spec": {"replicas": replicas}}))


def reconciled(kube: Kube, replicas: int) -> bool:
    workload = kube.get("apps/v1", "StatefulSet", PLANE, "cache-memcached") or {}
    return (workload.get("spec") or {}).get("replicas") == replicas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="kills and clean stops, each")
    args = parser.parse_args()
    register_api_types()

    cluster = LocalCluster(CACHE_ROOT / "bench-failover", progress=lambda m: print(f"  {m}", flush=True))
    cluster.down()
    processes: dict[str, subprocess.Popen] = {}
    results: dict[str, list[tuple[float, float]]] = {"kill -9": [], "SIGTERM": []}
    try:
        cluster.up("small", timeout=600)
        install_chart(cluster.kubeconfig)
        kube = Kube(cluster.api_client())
        kubectl(cluster, "create", "namespace", PLANE)
        processes["op-a"] = start_replica(cluster, "op-a")
        wait(lambda: holder(kube) == "op-a", 60, "leader")
        replicas = 1
        set_replicas(cluster, replicas)
        wait(lambda: reconciled(kube, replicas), 120, "first reconciliation")
        processes["op-b"] = start_replica(cluster, "op-b")
        time.sleep(3)
        for round_number in range(args.rounds):
            for mode, signum in (("kill -9", signal.SIGKILL), ("SIGTERM", signal.SIGTERM)):
                leader = holder(kube)
                standby = "op-b" if leader == "op-a" else "op-a"
                replicas = 3 - replicas  # 1 <-> 2
                processes[leader].send_signal(signum)
                started = time.monotonic()
                change = threading.Thread(target=set_replicas, args=(cluster, replicas))
                change.start()  # the change, made at the moment the leader goes
                taken = wait(lambda: holder(kube) == standby, 60, f"takeover by {standby}")
                change.join()
                wait(lambda: reconciled(kube, replicas), 60, "the change reconciled")
                done = time.monotonic() - started
                results[mode].append((taken, done))
                print(f"  round {round_number + 1} {mode:8} Lease taken {taken:5.1f}s, change reconciled {done:5.1f}s",
                      flush=True)
                processes[leader].wait(timeout=60)
                processes[leader] = start_replica(cluster, leader)  # back as the standby
                time.sleep(3)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
        cluster.down()

    print("operator failover (lease duration 8s, renew deadline 5s, retry period 1s)")
    for mode, samples in results.items():
        if samples:
            taken, done = zip(*samples)
            print(f"  {mode:8} Lease taken: median {statistics.median(taken):.1f}s, max {max(taken):.1f}s; "
                  f"change reconciled: median {statistics.median(done):.1f}s, max {max(done):.1f}s "
                  f"({len(samples)} times)")


if __name__ == "__main__":
    main()
