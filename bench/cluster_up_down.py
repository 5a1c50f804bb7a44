"""Times `up` of a local cluster profile (until every node is Ready) and `down`, and reports the
memory of the control-plane processes once all nodes are Ready.

    python bench/cluster_up_down.py --profile ra-1000 [--settle 60]

Uses its own state directory, so a running demo cluster is left alone.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from localcluster import LocalCluster, nodes
from localcluster.cluster import CACHE_ROOT, COMPONENTS


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="ra-1000")
    parser.add_argument("--settle", type=float, default=30.0,
                        help="seconds to let heartbeats run before reading memory")
    args = parser.parse_args()

    cluster = LocalCluster(CACHE_ROOT / "bench-cluster", progress=lambda msg: print(f"  {msg}", flush=True))
    cluster.down()
    start = time.monotonic()
    profile = cluster.up(args.profile, timeout=1800)
    up_seconds = time.monotonic() - start
    ready = sum(s["ready"] for s in nodes.node_summaries(cluster.core_api()))
    time.sleep(args.settle)
    memory = {name: rss_mib(rec.pid) for name, rec in cluster.processes.records().items()}
    start = time.monotonic()
    cluster.down()
    down_seconds = time.monotonic() - start

    print(f"profile                     {profile.name} ({len(profile.nodes)} nodes, {ready} Ready)")
    print(f"up (to all Ready)           {up_seconds:.1f} s")
    print(f"down                        {down_seconds:.1f} s")
    for name in COMPONENTS:
        print(f"rss {name:<24}{memory.get(name, float('nan')):.0f} MiB (after {args.settle:.0f}s settled)")


if __name__ == "__main__":
    main()
