"""The main job: a local cluster of the reference architecture's size, the operator, and the
example control plane reaching Ready, with a table of where every component runs.

    python -m localcluster.demo [--profile ra-1000] [--example examples/controlplane-1000.yaml]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ccp_operator.kube.client import Kube

from . import nodes
from .cluster import ClusterError, LocalCluster
from .controlplane import apply_plane, placement_table, wait_plane_ready
from .operator import LEASE, NAMESPACE, PROCESS, RELEASE, install_and_start

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="ra-1000")
    parser.add_argument("--example", type=lambda p: Path(p).resolve(), default=ROOT / "examples" / "controlplane-1000.yaml")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()

    started = time.monotonic()
    cluster = LocalCluster(progress=lambda message: print(f"  {message}", flush=True))
    try:
        print(f"== local cluster ({args.profile})", flush=True)
        cluster.up(args.profile, timeout=args.timeout)
        print(nodes.summary_table(nodes.node_summaries(cluster.core_api())), flush=True)
        print("== operator", flush=True)
        pid, port = install_and_start(cluster)
        print(f"  chart {RELEASE} installed in namespace {NAMESPACE}; the operator runs with its ServiceAccount's "
              f"token as pid {pid} (Lease {NAMESPACE}/{LEASE})", flush=True)
        print(f"  log: {cluster.processes.log_path(PROCESS)}; metrics: http://127.0.0.1:{port}/metrics", flush=True)
        print(f"== control plane ({args.example.relative_to(ROOT)})", flush=True)
        body = apply_plane(cluster, args.example)
        namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
        kube = Kube(cluster.api_client())
        seconds = wait_plane_ready(kube, namespace, name, args.timeout, lambda m: print(m, flush=True))
        print(f"== OpenStackControlPlane {namespace}/{name} Ready in {seconds:.0f}s "
              f"({time.monotonic() - started:.0f}s in all)", flush=True)
        print(placement_table(kube, namespace), flush=True)
        print(f"\nexport KUBECONFIG={cluster.kubeconfig}   # then: kubectl get oscp -A; make down stops it all")
    except (ClusterError, TimeoutError) as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
