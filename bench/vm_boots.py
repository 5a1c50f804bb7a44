"""Real VMs on the lab plane's hypervisor: how long a server takes from create to ACTIVE, and to
the guest's first console line.

    python bench/vm_boots.py [--boots 5] [--state-dir DIR] [--keep]

On its own cluster (`small` with one real node) it deploys examples/controlplane-lab.yaml as the
end-to-end test does, or, with --state-dir, uses the lab already up and Ready there (for example
the end-to-end test's, kept with CCP_KEEP_REAL_PLANE=1). It boots the test guest
(localcluster.guest: Debian's cloud kernel and a busybox initramfs, under qemu's emulation) on a
tenant network behind a router, one server after another, deleting each, and prints per boot and
in all (min, median, max) the seconds from create to ACTIVE and to the guest's first line.
"""

from __future__ import annotations

import argparse
import statistics
import uuid
from pathlib import Path

from ccp_operator.kube.client import Kube
from localcluster import guest, realplane
from localcluster.cluster import CACHE_ROOT

STATE_DIR = CACHE_ROOT / "bench-real-plane"


def summary(label: str, values: list[float]) -> str:
    return (f"{label:<28} min {min(values):6.1f} s  median {statistics.median(values):6.1f} s  "
            f"max {max(values):6.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--boots", type=int, default=5)
    parser.add_argument("--state-dir", type=Path, help="a lab already up and Ready (not stopped afterwards)")
    parser.add_argument("--keep", action="store_true", help="leave the bench's own cluster up")
    args = parser.parse_args()
    body = realplane.lab_manifest()
    namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
    with realplane.bench_lab(args.state_dir, STATE_DIR, args.keep, progress=lambda m: print(m, flush=True)) as cluster:
        kube = Kube(cluster.api_client())
        cloud = realplane.connect(realplane.keystone_url(body), "admin",
                                  realplane.admin_password(kube, namespace, name), "admin")
        hypervisor = guest.wait_for_hypervisor(cloud)
        tag = f"bench-{uuid.uuid4().hex[:6]}"
        setup = guest.set_up(cloud, tag)
        active, first_line = [], []
        for number in range(1, args.boots + 1):
            booted = guest.boot(cloud, setup, f"{tag}-{number}")
            active.append(booted.active_seconds)
            first_line.append(booted.first_line_seconds)
            print(f"boot {number} on {hypervisor}: ACTIVE {booted.active_seconds:6.1f} s, "
                  f"first console line {booted.first_line_seconds:6.1f} s", flush=True)
            cloud.compute.delete_server(booted.server)
            cloud.compute.wait_for_delete(booted.server, interval=2, wait=300)
        print(summary("create -> ACTIVE", active))
        print(summary("create -> first console line", first_line))


if __name__ == "__main__":
    main()
