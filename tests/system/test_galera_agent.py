"""Three real Galera members with their agents and a real etcd: bootstrap, one writer, failover."""

from __future__ import annotations

import time

import pytest

from support.galera_cluster import GaleraCluster
from support.waiting import wait_for


@pytest.fixture
def cluster(tmp_path, etcd):
    cluster = GaleraCluster(tmp_path / "galera", etcd)
    cluster.start_all()
    try:
        wait_for(lambda: cluster.check_agents() or (len(cluster.synced()) == 3 and cluster.writer()),
                 timeout=180, interval=1,
                 what="three Synced members and a writer")
        yield cluster
    except AssertionError:
        for member in cluster.members:
            print(f"--- {member.name}\n{cluster.log(member)}")
        raise
    finally:
        cluster.stop_all()


def read_only(cluster, member) -> bool:
    with cluster.root(member) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT @@global.read_only")
        return bool(cursor.fetchone()[0])


def test_a_new_cluster_bootstraps_with_one_writer_and_read_only_standbys(cluster):
    writer = cluster.writer()
    assert writer in [m.name for m in cluster.members]
    for member in cluster.members:
        assert read_only(cluster, member) == (member.name != writer)


def test_killing_the_writer_elects_another_within_seconds(cluster):
    old = cluster.member(cluster.writer())
    killed_at = time.monotonic()
    cluster.kill(old)
    new = wait_for(lambda: (w := cluster.writer()) not in (None, old.name) and w, timeout=30, interval=0.2,
                   what="a new writer")
    took = time.monotonic() - killed_at
    assert not read_only(cluster, cluster.member(new))
    assert took < 15
