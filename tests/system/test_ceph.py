"""Ceph monitors, managers and client keys from the operator's rendered files, with the real
daemons: quorum, loss of one and of two monitors, a lost monitor store, least privilege of
every service's key (checked against a real OSD), and the health the status is built from."""

from __future__ import annotations

import json
import shutil

import pytest

from ccp_operator.reconcile import ceph_observer
from ccp_operator.services import ceph
from support.ceph_cluster import CEPH_MON, MGR_ADDRESS, MGR_PORT, CephCluster
from support.waiting import wait_for

MONITORS = ["a", "b", "c"]


@pytest.fixture
def cluster(tmp_path):
    if not shutil.which(CEPH_MON):
        pytest.fail("ceph-mon is not installed: run hack/install-system-deps.sh")
    cluster = CephCluster(tmp_path / "ceph")
    try:
        for mon_id in MONITORS:
            cluster.start_monitor(mon_id)
        wait_for(lambda: cluster.quorum() == MONITORS, timeout=90, what="a quorum of a, b and c")
        yield cluster
    except AssertionError:
        print(cluster.logs())
        raise
    finally:
        cluster.stop_all()


def test_monitors_form_a_quorum_from_the_rendered_files(cluster):
    status = cluster.ceph("status", "-f", "json")
    assert status.returncode == 0, status.stderr
    assert '"fsid": "%s"' % cluster.cluster["fsid"] in status.stdout.replace('":"', '": "')
    monmap = cluster.ceph("mon", "dump", "-f", "json")
    addresses = {mon["name"]: mon["public_addrs"]["addrvec"] for mon in json.loads(monmap.stdout)["mons"]}
    # Each monitor is at its own address (its Service's ClusterIP), both protocols.
    assert {name: sorted(a["addr"] for a in vector) for name, vector in addresses.items()} == {
        mon_id: sorted([f"{ip}:3300", f"{ip}:6789"]) for mon_id, ip in cluster.monitors}
    assert all(cluster.monitor_ready(mon_id) for mon_id in MONITORS)


def test_quorum_holds_with_one_monitor_down_and_returns_after_two(cluster):
    cluster.stop("mon.c")
    wait_for(lambda: cluster.quorum() == ["a", "b"], timeout=60, what="a quorum of a and b")
    assert not cluster.monitor_ready("c")
    written = cluster.ceph("config-key", "set", "ccp-test/one-down", "still-writable")
    assert written.returncode == 0, written.stderr

    cluster.stop("mon.b")
    # One monitor of three: it leaves the quorum (once its lease runs out) and commands cannot
    # complete; they fail within their timeout.
    wait_for(lambda: not cluster.monitor_ready("a"), timeout=60, what="a out of the quorum")
    refused = cluster.ceph("config-key", "get", "ccp-test/one-down", timeout=30)
    assert refused.returncode != 0

    cluster.start_monitor("b")
    cluster.start_monitor("c")
    wait_for(lambda: cluster.quorum() == MONITORS, timeout=120, what="the quorum of three back")
    read = cluster.ceph("config-key", "get", "ccp-test/one-down")
    assert read.stdout.strip() == "still-writable"


def test_a_monitor_with_a_lost_store_rejoins_and_an_existing_store_is_never_replaced(cluster):
    store_a = cluster.root / "mon" / "ceph-a"
    inode_before = store_a.stat().st_ino
    cluster.stop("mon.a")
    cluster.start_monitor("a")  # mkfs runs again and must leave the store alone
    assert store_a.stat().st_ino == inode_before
    wait_for(lambda: cluster.quorum() == MONITORS, timeout=60, what="a back in the quorum")

    cluster.ceph("config-key", "set", "ccp-test/before-loss", "kept")
    cluster.stop("mon.c")
    shutil.rmtree(cluster.root / "mon" / "ceph-c")
    cluster.start_monitor("c")  # a new store from the initial monmap; it syncs from its peers
    wait_for(lambda: cluster.quorum() == MONITORS, timeout=120, what="c rejoining with a new store")
    cluster.stop("mon.a")
    cluster.stop("mon.b")
    cluster.start_monitor("a")
    wait_for(lambda: cluster.quorum() == ["a", "c"], timeout=120, what="a quorum of a and the rebuilt c")
    assert cluster.ceph("config-key", "get", "ccp-test/before-loss").stdout.strip() == "kept"


def rbd_ok(cluster, user, *args):
    result = cluster.rbd(*args, user=user)
    return result.returncode == 0, result.stderr


def test_every_service_key_can_do_what_it_needs_and_nothing_else(cluster):
    first = cluster.bootstrap()
    assert first.returncode == 0, first.stdout + first.stderr
    again = cluster.bootstrap()  # re-runnable: the Job runs again when keys change
    assert again.returncode == 0, again.stdout + again.stderr
    pools = cluster.ceph("osd", "pool", "ls", "detail", "-f", "json")
    assert {pool["pool_name"]: pool["application_metadata"] for pool in json.loads(pools.stdout)} == {
        name: {"rbd": {}} for name in ("images", "volumes", "vms", "backups")}
    cluster.start_memstore_osd()
    wait_for(lambda: '"num_up_osds":1' in cluster.ceph("osd", "stat", "-f", "json").stdout.replace(" ", ""),
             timeout=60, what="the OSD up")

    allowed = {  # user -> (pool, may write)
        "glance": {"images": True},
        "cinder": {"volumes": True, "vms": True, "images": False},
        "cinder-backup": {"backups": True},
    }
    assert set(allowed) == set(ceph.CLIENTS)
    assert rbd_ok(cluster, "admin", "create", "--size", "4", "images/base")[0]
    for user, pools_of_user in allowed.items():
        for pool in ("images", "volumes", "vms", "backups"):
            created, error = rbd_ok(cluster, user, "create", "--size", "4", f"{pool}/by-{user}")
            listed, _ = rbd_ok(cluster, user, "ls", pool)
            may_write = pools_of_user.get(pool)
            assert created == bool(may_write), f"{user} creating in {pool}: {error}"
            assert listed == (may_write is not None), f"{user} listing {pool}"
            if may_write is None and not created:
                assert "Operation not permitted" in error or "permission" in error.lower(), error
        # Nothing beyond RBD: no user management, no pool changes.
        assert cluster.ceph("auth", "ls", user=user).returncode != 0
        assert cluster.ceph("osd", "pool", "create", f"by-{user}", user=user).returncode != 0
    assert "base" in cluster.rbd("ls", "images", user="cinder").stdout  # the hypervisors clone images as cinder


def test_the_status_reads_quorum_and_health_from_the_manager(cluster):
    for option, value in (("mgr/prometheus/server_addr", MGR_ADDRESS), ("mgr/prometheus/server_port", MGR_PORT)):
        assert cluster.ceph("config", "set", "mgr", option, str(value), "--force").returncode == 0
    assert cluster.bootstrap().returncode == 0  # enables the prometheus module
    cluster.start_manager()
    url = f"http://{MGR_ADDRESS}:{MGR_PORT}/metrics"

    def summary(expected_quorum):
        observed = ceph_observer.observe([f"http://{MGR_ADDRESS}:1/metrics", url], MONITORS)
        return observed if observed.get("quorum") == expected_quorum else None

    healthy = wait_for(lambda: summary("3/3"), timeout=120, what="the manager's metrics")
    assert healthy["monitors"] == [{"name": m, "inQuorum": True} for m in MONITORS]
    assert healthy["health"] in ("HEALTH_OK", "HEALTH_WARN") and healthy["clusterObservation"] == "ok"

    cluster.stop("mon.b")
    degraded = wait_for(lambda: summary("2/3"), timeout=120, what="the manager reporting b out of the quorum")
    assert {"name": "b", "inQuorum": False} in degraded["monitors"]
    wait_for(lambda: "MON_DOWN" in ceph_observer.observe([url], MONITORS).get("healthChecks", ""), timeout=60,
             what="the MON_DOWN health check")
    assert ceph_observer.observe([f"http://{MGR_ADDRESS}:1/metrics"], MONITORS) == {
        "clusterObservation": "no Ceph manager's metrics reachable from the operator"}


def test_monitors_are_added_and_removed_through_the_monmap(cluster):
    cluster.ceph("config-key", "set", "ccp-test/before-growth", "kept")
    grown = cluster.resize(5)
    assert grown.returncode == 0, grown.stdout + grown.stderr
    # d and e are in the monmap before their pods exist, at both protocols' ports; a, b, c keep
    # the quorum (3 of 5).
    monmap = json.loads(cluster.ceph("mon", "dump", "-f", "json").stdout)
    added = {mon["name"]: sorted(a["addr"] for a in mon["public_addrs"]["addrvec"]) for mon in monmap["mons"]}
    assert added["d"] == ["127.0.71.4:3300", "127.0.71.4:6789"]
    assert cluster.quorum() == MONITORS
    for mon_id in ("d", "e"):
        cluster.start_monitor(mon_id)
    five = MONITORS + ["d", "e"]
    wait_for(lambda: cluster.quorum() == five, timeout=120, what="a quorum of five")
    again = cluster.resize(5)  # re-runnable: nothing to add
    assert again.returncode == 0 and "mon add" not in again.stderr
    # Two monitors may now fail.
    cluster.stop("mon.a")
    cluster.stop("mon.b")
    wait_for(lambda: cluster.quorum() == ["c", "d", "e"], timeout=90, what="a quorum of c, d and e")
    assert cluster.ceph("config-key", "get", "ccp-test/before-growth").stdout.strip() == "kept"
    cluster.start_monitor("a")
    cluster.start_monitor("b")
    wait_for(lambda: cluster.quorum() == five, timeout=120, what="the quorum of five back")

    shrunk = cluster.resize(3)
    assert shrunk.returncode == 0, shrunk.stdout + shrunk.stderr
    cluster.stop("mon.d")
    cluster.stop("mon.e")
    wait_for(lambda: cluster.quorum() == MONITORS, timeout=90, what="the quorum of a, b and c")
    monmap = json.loads(cluster.ceph("mon", "dump", "-f", "json").stdout)
    assert [mon["name"] for mon in monmap["mons"]] == MONITORS
