"""The main job: a local cluster of the reference architecture's size, the operator, and the
example control plane reaching Ready, with a table of where every component runs; then the lab
control plane running for real on the cluster's real node, answering real API calls.

    python -m localcluster.demo [--profile ra-1000] [--example examples/controlplane-1000.yaml] [--no-real-plane]

What is simulated and what is real: the 1000-node plane's pods run on KWOK's nodes (scheduled by
the real scheduler, never started); the lab plane's pods run on the real node (containerd, runc),
from images built on this machine, and are called through their load balancers' IPs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ccp_operator.kube.client import Kube

from . import nodes, realplane
from .cluster import ClusterError, LocalCluster
from .controlplane import apply_plane, placement_table, wait_plane_ready
from .operator import LEASE, NAMESPACE, PROCESS, RELEASE, install_and_start, install_in_cluster

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="ra-1000")
    parser.add_argument("--example", type=lambda p: Path(p).resolve(), default=ROOT / "examples" / "controlplane-1000.yaml")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--no-real-plane", action="store_true",
                        help="only the simulated plane: no real node, no lab plane running for real")
    args = parser.parse_args()

    started = time.monotonic()
    cluster = LocalCluster(progress=lambda message: print(f"  {message}", flush=True))
    try:
        print(f"== local cluster ({args.profile}{'' if args.no_real_plane else ', with a real node'})", flush=True)
        cluster.up(args.profile, timeout=args.timeout, real_nodes=0 if args.no_real_plane else 1)
        print(nodes.summary_table(nodes.node_summaries(cluster.core_api())), flush=True)
        print("== operator", flush=True)
        if args.no_real_plane:
            pid, port = install_and_start(cluster)
            print(f"  chart {RELEASE} installed in namespace {NAMESPACE}; the operator runs with its ServiceAccount's "
                  f"token as pid {pid} (Lease {NAMESPACE}/{LEASE})", flush=True)
            print(f"  log: {cluster.processes.log_path(PROCESS)}; metrics: http://127.0.0.1:{port}/metrics", flush=True)
        else:
            image = install_in_cluster(cluster)
            print(f"  chart {RELEASE} installed in namespace {NAMESPACE}: two pods of {image} on the real node, "
                  f"one leading (Lease {NAMESPACE}/{LEASE})", flush=True)
        print(f"== control plane ({args.example.relative_to(ROOT)}, simulated: its pods run on KWOK nodes)", flush=True)
        body = apply_plane(cluster, args.example)
        namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
        kube = Kube(cluster.api_client())
        seconds = wait_plane_ready(kube, namespace, name, args.timeout, lambda m: print(m, flush=True))
        print(f"== OpenStackControlPlane {namespace}/{name} Ready in {seconds:.0f}s "
              f"({time.monotonic() - started:.0f}s in all)", flush=True)
        print(placement_table(kube, namespace), flush=True)
        if not args.no_real_plane:
            real_plane(cluster, kube, args.timeout)
        print(f"\nexport KUBECONFIG={cluster.kubeconfig}   # then: kubectl get oscp -A; make down stops it all")
    except (ClusterError, TimeoutError) as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        return 1
    return 0


def real_plane(cluster: LocalCluster, kube: Kube, timeout: float) -> None:
    """The lab plane on the real node, then a token, the catalog, an image and a volume."""
    body = realplane.lab_manifest()
    namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
    print(f"== control plane ({realplane.LAB_EXAMPLE.relative_to(ROOT)}, real: its pods run on the real node)",
          flush=True)
    timings = realplane.deploy(cluster, timeout=timeout, progress=lambda m: print(m, flush=True))
    print(f"== OpenStackControlPlane {namespace}/{name} Ready in {timings['ready']:.0f}s "
          f"(images loaded in {timings['images']:.0f}s)", flush=True)
    cloud = realplane.connect(realplane.keystone_url(body), "admin", realplane.admin_password(kube, namespace, name),
                              "admin")
    print(f"  token for admin from {realplane.keystone_url(body)}: {cloud.auth_token[:24]}...")
    print("  catalog:")
    for entry in sorted(cloud.session.auth.get_access(cloud.session).service_catalog.catalog,
                        key=lambda entry: entry["type"]):
        public = next((e["url"] for e in entry["endpoints"] if e["interface"] == "public"), "")
        print(f"    {entry['type']:<14} {entry['name']:<10} {public}")
    image = cloud.image.create_image(name="demo-image", data=b"ccp demo image\n" * 4096, disk_format="raw",
                                     container_format="bare")
    image = cloud.image.wait_for_status(image, "active", wait=300)
    print(f"  image {image.id}: {image.status}, {image.size} bytes, stored in Ceph (pool images)")
    volume = cloud.block_storage.create_volume(size=1, name="demo-volume")
    volume = cloud.block_storage.wait_for_status(volume, "available", wait=300)
    print(f"  volume {volume.id}: {volume.status}, {volume.size} GiB, an RBD image in pool volumes")


if __name__ == "__main__":
    sys.exit(main())
