"""Three real Galera members with their agents and a real etcd: bootstrap, one writer, failover."""

from __future__ import annotations

import pytest

from ccp_operator.reconcile.galera_observer import observe
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


def test_killing_the_writer_elects_another(cluster):
    old = cluster.member(cluster.writer())
    cluster.kill(old)
    new = wait_for(lambda: (w := cluster.writer()) not in (None, old.name) and w, timeout=30, interval=0.2,
                   what="a new writer")
    # The new writer leaves read-only right after it took the key (never before: it must hold the role first).
    wait_for(lambda: not read_only(cluster, cluster.member(new)), timeout=10, interval=0.2,
             what=f"{new} to accept writes")


def observed(cluster):
    """The status fields the operator computes from what the agents put into etcd."""
    return observe(None, cluster.NAMESPACE, cluster.INSTANCE, [m.name for m in cluster.members],
                   {"endpoints": cluster.etcd.endpoints})


def test_the_operator_sees_members_writer_and_failover_through_etcd(cluster):
    # The agents report every second: their view catches up with mysqld's within a few.
    status = wait_for(lambda: (s := observed(cluster))["membersSynced"] == "3/3" and s, timeout=30, interval=0.5,
                      what="the agents to report three Synced members")
    writer = cluster.writer()
    assert status["clusterObservation"] == "ok" and status["writer"] == writer
    before = status.get("lastFailoverTime")  # the bootstrap may already have moved the writer once
    assert {m["name"]: m["role"] for m in status["members"]} == {
        m.name: "writer" if m.name == writer else "standby" for m in cluster.members}
    old = cluster.member(writer)
    cluster.kill(old)
    wait_for(lambda: observed(cluster)["writer"] not in ("", old.name), timeout=30, interval=0.5,
             what="the operator to see a new writer")
    status = wait_for(lambda: (s := observed(cluster))["members"][cluster.members.index(old)]["state"] == "Down" and s,
                      timeout=30, interval=0.5, what="the killed member's reports to expire")
    assert status["lastFailover"] == f"{old.name} -> {status['writer']}"
    assert status["lastFailoverTime"].endswith("Z") and status["lastFailoverTime"] != before
