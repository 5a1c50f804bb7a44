"""ccp-localcluster up|down|status|nodes: manage the local cluster from the command line."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from . import nodes
from .cluster import ClusterError, LocalCluster, default_state_dir
from . import images
from .images import ImageError
from .realnode import RealNodeError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ccp-localcluster", description=__doc__)
    parser.add_argument("--state-dir", type=Path, default=None,
                        help=f"cluster state directory (default: $CCP_CLUSTER_DIR or {default_state_dir()})")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the cluster (whatever is not running) and its nodes")
    up.add_argument("--profile", default="small", choices=nodes.available_profiles())
    up.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the nodes")
    up.add_argument("--real-nodes", type=int, default=0, choices=(0, 1),
                    help="real nodes beside KWOK's: a kubelet on this machine that runs pods for real (needs root)")
    commands.add_parser("down", help="stop the processes 'up' started and remove the state")
    commands.add_parser("status", help="which of the cluster's processes run")
    commands.add_parser("nodes", help="a summary of the nodes by role")
    commands.add_parser("kubeconfig", help="print the admin kubeconfig's path")
    build = commands.add_parser("images", help="build the images the operator deploys, on this machine (docker)")
    build.add_argument("--release", default=images.DEFAULT_RELEASE, choices=sorted(images.KOLLA_PACKAGES))
    build.add_argument("names", nargs="*", default=list(images.DEFAULT_IMAGES), metavar="IMAGE",
                       help=f"images to build with their bases (default: all the operator deploys; known: "
                            f"{', '.join(images.RECIPES)})")
    args = parser.parse_args(argv)

    cluster = LocalCluster(args.state_dir)
    try:
        if args.command == "up":
            cluster.up(args.profile, timeout=args.timeout, real_nodes=args.real_nodes)
            print(nodes.summary_table(nodes.node_summaries(cluster.core_api())))
        elif args.command == "down":
            start = time.monotonic()
            stopped = cluster.down()
            print(f"stopped {', '.join(stopped) or 'nothing'}; removed {cluster.state_dir} "
                  f"in {time.monotonic() - start:.1f}s")
        elif args.command == "status":
            for name, alive in cluster.running().items():
                print(f"{name:<24} {'running' if alive else 'stopped'}")
            return 0 if all(cluster.running().values()) else 1
        elif args.command == "nodes":
            print(nodes.summary_table(nodes.node_summaries(cluster.core_api())))
        elif args.command == "kubeconfig":
            print(cluster.kubeconfig)
        elif args.command == "images":
            images.build_all(args.names, args.release)
    except (ClusterError, RealNodeError, ImageError, TimeoutError, ValueError, subprocess.TimeoutExpired) as exc:
        print(f"ccp-localcluster: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
