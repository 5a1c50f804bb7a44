"""A whole-release upgrade of the lab plane for real, 2026.1 to 2026.2, while a tenant keeps using
it: how long it takes, each service's steps, the API calls that failed (and under which service's
upgrade), the longest gap between two successful calls of each kind, and whether the tenant's VM
stayed up.

    python bench/real_upgrade.py [--state-dir DIR] [--keep]

On its own cluster (`small` with one real node) it deploys examples/controlplane-lab.yaml at 2026.1
as the end-to-end test does, or, with --state-dir, uses a lab already up and Ready at 2026.1 there.
It scales the API services the load calls to two replicas, loads the 2026.2 images into the node,
boots the test guest, and runs localcluster.realplane.upgrade_under_load (tokens, lists of images,
networks, servers and volumes, a volume created and deleted, the server shown) around the
control plane's `spec.release` change. The VM counts as up when its console's uptime kept growing
and it is ACTIVE after the upgrade.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from pathlib import Path

from ccp_operator.api import API_VERSION
from ccp_operator.kube.client import Kube
from localcluster import guest, realplane
from localcluster.cluster import CACHE_ROOT

STATE_DIR = CACHE_ROOT / "bench-real-plane"
TARGET = "2026.2"


def say(message: str) -> None:
    print(message, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, help="a lab already up and Ready at 2026.1 (not stopped afterwards)")
    parser.add_argument("--keep", action="store_true", help="leave the bench's own cluster up")
    args = parser.parse_args()
    body = realplane.lab_manifest()
    namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
    with realplane.bench_lab(args.state_dir, STATE_DIR, args.keep, progress=say) as cluster:
        kube = Kube(cluster.api_client())
        kube.merge_patch(API_VERSION, "OpenStackControlPlane", namespace, name,
                         {"spec": realplane.TWO_API_REPLICAS})
        time.sleep(5)
        realplane.wait_plane_ready(kube, namespace, name, 900, progress=say)
        cluster.real_node().load_images(list(realplane.PLANE_IMAGES), release=TARGET)

        def connect():
            return realplane.connect(realplane.keystone_url(body), "admin",
                                     realplane.admin_password(kube, namespace, name), "admin")

        cloud = connect()
        guest.wait_for_hypervisor(cloud)
        tag = f"bench-upgrade-{uuid.uuid4().hex[:6]}"
        server = guest.boot(cloud, guest.set_up(cloud, tag, cidr="192.168.94.0/24"), tag).server
        before = guest.poll(lambda: guest.uptimes(cloud, server) or None, 300, 5, lambda: "no uptime line")
        report, start = realplane.upgrade_under_load(kube, namespace, name, TARGET, connect, server.id, progress=say)
        time.sleep(2 * guest.HEARTBEAT_SECONDS)
        cloud = connect()
        after = guest.uptimes(cloud, server)
        figures = report.as_dict(start)
        figures["vmStayedUp"] = (cloud.compute.get_server(server.id).status == "ACTIVE" and after == sorted(after)
                                 and after[-1] > before[-1] + report.seconds)
        figures["vmUptimeSeconds"] = {"beforeUpgrade": before[-1], "afterUpgrade": after[-1]}
        print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
