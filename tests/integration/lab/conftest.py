"""The lab plane (examples/controlplane-lab.yaml) on a cluster of its own with one real node, shared
by the modules of this package; CCP_KEEP_REAL_PLANE=1 leaves it running afterwards."""

from __future__ import annotations

import os

import pytest

from localcluster import realplane
from support.lab_plane import STATE_DIR, admin_password, connect
from support.real_cluster import RealCluster


@pytest.fixture(scope="package")
def lab():
    cluster = RealCluster(STATE_DIR)
    try:
        cluster.local.up("small", real_nodes=1)
        cluster.timings = realplane.deploy(cluster.local, timeout=2700,
                                           progress=lambda message: print(message, flush=True))
        yield cluster
    finally:
        if not os.environ.get("CCP_KEEP_REAL_PLANE"):
            cluster.local.down()


@pytest.fixture(scope="package")
def cloud(lab):
    return connect("admin", admin_password(lab), "admin")
