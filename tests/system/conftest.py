"""System tests: the agent and its neighbours against the real programs (etcd, MariaDB, HAProxy)."""

import shutil

import pytest

from support.etcd_server import ETCD, EtcdCluster
from support.galera_cluster import GaleraCluster
from support.netns import Network
from support.waiting import wait_for
from support.writer_proxy import WriterProxy


@pytest.fixture
def etcd(tmp_path):
    """A three-member etcd cluster, as the Etcd resource runs it."""
    if not shutil.which(ETCD):
        pytest.fail("etcd is not installed: run hack/install-system-deps.sh")
    cluster = EtcdCluster(tmp_path / "etcd", size=3)
    cluster.start()
    yield cluster
    cluster.stop()


def running_stack(cluster: GaleraCluster, proxy: WriterProxy):
    cluster.start_all()
    try:
        wait_for(lambda: cluster.check_agents() or (len(cluster.synced()) == 3 and cluster.writer()),
                 timeout=180, what="three Synced members and a writer")
        cluster.create_ledger()
        proxy.start()
        yield cluster, proxy
    except AssertionError:
        for member in cluster.members:
            print(f"--- {member.name}\n{cluster.log(member)}")
        raise
    finally:
        proxy.stop()
        cluster.stop_all()


@pytest.fixture
def stack(tmp_path, etcd):
    """Three members with their agents, etcd, and the writer endpoint, with a ledger to write to."""
    cluster = GaleraCluster(tmp_path / "galera", etcd)
    yield from running_stack(cluster, WriterProxy(tmp_path / "haproxy", cluster))


@pytest.fixture
def network():
    """One network namespace per Galera member, linked to a bridge in the test's namespace."""
    network = Network(3)
    try:
        network.create()
    except RuntimeError as exc:
        network.destroy()
        pytest.fail(f"cannot create network namespaces (root and iproute2 are needed): {exc}")
    yield network
    network.destroy()


@pytest.fixture
def separated_stack(tmp_path, network):
    """The stack with each member in its own network namespace; etcd listens on the bridge."""
    etcd = EtcdCluster(tmp_path / "etcd", size=3, host=network.gateway)
    etcd.start()
    try:
        cluster = GaleraCluster(tmp_path / "galera", etcd, network=network)
        yield from running_stack(cluster, WriterProxy(tmp_path / "haproxy", cluster))
    finally:
        etcd.stop()
