"""System tests: the agent and its neighbours against the real programs (etcd, MariaDB, HAProxy)."""

import shutil

import pytest

from support.etcd_server import ETCD, EtcdServer


@pytest.fixture
def etcd(tmp_path):
    if not shutil.which(ETCD):
        pytest.fail("etcd is not installed: run hack/install-system-deps.sh")
    server = EtcdServer(tmp_path / "etcd")
    server.start()
    yield server
    server.stop()
