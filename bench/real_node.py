"""The real node and the images built here: how long they take and what the node's programs use.

    python bench/real_node.py [--cold] [--release 2026.1] [--settle 20]

Prints, per image and in all, the build time (with --cold, first from an empty cache: the
project's images and docker's build cache are removed, so the debootstrap base is made again),
then a warm rebuild; the seconds from `up --profile small --real-nodes 1` to the real node Ready
with CoreDNS answering, the time to load an image into the node, and the resident memory of the
node's programs (containerd, kubelet, kube-proxy, containerd's shims, and the processes of its
pods: CoreDNS here). Uses its own state directory, so another cluster is left alone (but a real
node of another cluster refuses to start beside it).
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path

from localcluster import LocalCluster, images, realnode
from localcluster.cluster import CACHE_ROOT


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def build_times(names: list[str], release: str) -> dict[str, float]:
    """Each image's own build time (its bases are timed as images of their own)."""
    images._BUILT.clear()
    times: dict[str, float] = {}

    def record(message: str) -> None:
        # "image <reference>: built in 12.3s" (or "debootstrap and import in ..."), not the summary
        if message.startswith("image "):
            reference, _, rest = message.removeprefix("image ").partition(": ")
            times[reference] = float(rest.rsplit(" ", 1)[1].rstrip("s"))

    images.build_all(names, release, progress=record)
    return times


def purge() -> None:
    listed = subprocess.run([images.DOCKER, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"],
                            capture_output=True, text=True, check=True).stdout.split()
    ours = [image for image in listed if image.startswith(images.LOCAL_REGISTRY + "/")]
    if ours:
        subprocess.run([images.DOCKER, "image", "rm", "--force", *ours], capture_output=True, check=True)
    subprocess.run([images.DOCKER, "builder", "prune", "--all", "--force"], capture_output=True, check=True)


def node_memory(node: realnode.RealNode) -> dict[str, float]:
    memory = {name: rss_mib(record.pid) for name, record in node.processes.records().items()
              if name in realnode.PROCESSES}
    shims = sum(rss_mib(pid) for pid in node.shim_pids())
    pods = sum(rss_mib(pid) for pid in realnode.pod_pids())
    memory["containerd-shims"] = shims
    memory["pods' processes"] = pods
    return memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold", action="store_true", help="remove the project's images and docker's build cache first")
    parser.add_argument("--release", default=images.DEFAULT_RELEASE, choices=sorted(images.KOLLA_PACKAGES))
    parser.add_argument("--settle", type=float, default=20.0, help="seconds to let the node settle before reading memory")
    args = parser.parse_args()
    names = list(images.DEFAULT_IMAGES)

    images.ensure_daemon()
    passes = []
    if args.cold:
        purge()
        passes.append(("cold", build_times(names, args.release)))
    passes.append(("warm", build_times(names, args.release)))
    print(f"\nimage builds ({args.release}), seconds per image:")
    references = sorted(set().union(*(times for _, times in passes)))
    header = "".join(f"{label:>8}" for label, _ in passes)
    print(f"  {'image':<64}{header}")
    for reference in references:
        print(f"  {reference:<64}" + "".join(f"{times.get(reference, 0.0):8.1f}" for _, times in passes))
    print(f"  {'all':<64}" + "".join(f"{sum(times.values()):8.1f}" for _, times in passes))

    cluster = LocalCluster(CACHE_ROOT / "bench-real-node", progress=lambda message: print(f"  {message}", flush=True))
    if cluster.state_dir.exists():
        cluster.down()
    start = time.monotonic()
    try:
        cluster.up("small", real_nodes=1)
        up_seconds = time.monotonic() - start
        node = cluster.real_node()
        start = time.monotonic()
        node.load_images(["memcached"])
        load_seconds = time.monotonic() - start
        time.sleep(args.settle)
        memory = node_memory(node)
    finally:
        start = time.monotonic()
        cluster.down()
        down_seconds = time.monotonic() - start
    print(f"\nreal node: up (small, 1 real node, CoreDNS answering) {up_seconds:.1f}s; "
          f"memcached image loaded in {load_seconds:.1f}s; down {down_seconds:.1f}s")
    print("resident memory of the node's programs (MiB):")
    for name, value in memory.items():
        print(f"  {name:<20}{value:8.1f}")
    print(f"  {'total':<20}{sum(memory.values()):8.1f}")


if __name__ == "__main__":
    main()
