"""System tests: the agent and its neighbours against the real programs (etcd, MariaDB, HAProxy)."""

import shutil

import pytest

from support.etcd_server import ETCD, EtcdServer
from support.galera_cluster import GaleraCluster
from support.waiting import wait_for
from support.writer_proxy import WriterProxy


@pytest.fixture
def etcd(tmp_path):
    if not shutil.which(ETCD):
        pytest.fail("etcd is not installed: run hack/install-system-deps.sh")
    server = EtcdServer(tmp_path / "etcd")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stack(tmp_path, etcd):
    """Three members with their agents, etcd, and the writer endpoint, with a ledger to write to."""
    cluster = GaleraCluster(tmp_path / "galera", etcd)
    proxy = WriterProxy(tmp_path / "haproxy", cluster)
    cluster.start_all()
    try:
        wait_for(lambda: cluster.check_agents() or (len(cluster.synced()) == 3 and cluster.writer()),
                 timeout=180, what="three Synced members and a writer")
        cluster.create_ledger()
        proxy.start()
        yield cluster, proxy
    finally:
        proxy.stop()
        cluster.stop_all()
