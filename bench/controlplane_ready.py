"""On the ra-1000 profile: seconds from applying examples/controlplane-1000.yaml to Ready, the
write requests the operator sends while idle afterwards (from the API server's audit log, where
the operator has its own user), and the operator's peak memory.

    python bench/controlplane_ready.py [--idle 300]

Uses its own state directory, so a running demo cluster is left alone.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ccp_operator.kube.client import Kube
from localcluster import LocalCluster
from localcluster.cluster import CACHE_ROOT
from localcluster.controlplane import apply_plane, wait_plane_ready
from localcluster.operator import install_and_start
from measure import idle_writes, memory_mib, operator_writes

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle", type=float, default=300.0, help="seconds of idleness to count writes over")
    parser.add_argument("--profile", default="ra-1000")
    args = parser.parse_args()

    cluster = LocalCluster(CACHE_ROOT / "bench-cluster", progress=lambda m: print(f"  {m}", flush=True))
    cluster.down()
    try:
        cluster.up(args.profile, timeout=1200)
        pid, _ = install_and_start(cluster)
        kube = Kube(cluster.api_client())
        mark = cluster.audit_log.stat().st_size
        body = apply_plane(cluster, ROOT / "examples" / "controlplane-1000.yaml")
        ready_seconds = wait_plane_ready(kube, body["metadata"]["namespace"], body["metadata"]["name"], 1800,
                                         lambda m: print(m, flush=True))
        to_ready = operator_writes(cluster.audit_log, mark)
        idle = idle_writes(cluster.audit_log, args.idle)
        memory = memory_mib(pid)
    finally:
        cluster.down()

    print(f"profile                              {args.profile}")
    print(f"apply -> Ready                       {ready_seconds:.1f} s")
    print(f"operator writes until Ready          {sum(to_ready.values())}")
    print(f"operator writes in {args.idle:.0f}s idle           {sum(idle.values())} {dict(idle) if idle else ''}")
    print(f"operator memory                      peak {memory['VmHWM']:.0f} MiB, now {memory['VmRSS']:.0f} MiB")


if __name__ == "__main__":
    main()
