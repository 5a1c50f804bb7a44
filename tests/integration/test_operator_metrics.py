"""The operator's metrics, scraped from its endpoint while it works: reconciliations and their
duration per kind, readiness, upgrade progress, and the Galera writer and last failover as the
agents' election code writes them into a real etcd that the operator reads."""

from __future__ import annotations

import json
import time

import pytest
import yaml

from ccp_galera_agent.election import WriterLease
from ccp_galera_agent.recovery import Report
from ccp_operator.api import API_VERSION
from ccp_operator.services import galera, memcached
from support.etcd_server import ETCD, EtcdCluster
from support.scrape import value
from support.waiting import wait_for

RELEASE, NEXT_RELEASE = "2026.1", "2026.2"


@pytest.fixture
def etcd(tmp_path):
    """A real etcd (Debian's) on 127.0.0.1, standing for an external one: the operator reads it."""
    if not ETCD:
        pytest.fail("etcd is not installed: run hack/install-system-deps.sh")
    cluster = EtcdCluster(tmp_path / "etcd", size=1)
    cluster.start()
    yield cluster
    cluster.stop()


def apply(kube, *bodies):
    kube.kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(bodies))


def status(kube, kind, namespace, name):
    return (kube.kube.get(API_VERSION, kind, namespace, name) or {}).get("status") or {}


def test_metrics_follow_reconciliation_readiness_and_upgrade(kube, operator, namespace):
    apply(kube, {"apiVersion": API_VERSION, "kind": "Memcached", "metadata": {"name": "cache", "namespace": namespace},
                 "spec": {"replicas": 1, "release": RELEASE}})
    ours = {"kind": "Memcached", "namespace": namespace, "name": "cache"}

    def ready_metric():
        return value(operator.get("/metrics")[1], "ccp_resource_ready", **ours) == 1
    wait_for(ready_metric, timeout=120, interval=1, what="ccp_resource_ready of the Memcached at 1")
    text = operator.get("/metrics")[1]
    assert value(text, "ccp_operator_leader") == 1
    assert value(text, "ccp_resource_release", **ours, release=RELEASE) == 1
    assert value(text, "ccp_reconciliations_total", kind="Memcached", outcome="ready") >= 1
    assert value(text, "ccp_reconcile_duration_seconds_count", kind="Memcached") >= 1
    assert value(text, "ccp_upgrade_state", **ours) is None  # never upgraded

    kube.kubectl("patch", "memcached", "cache", "-n", namespace, "--type=merge", "-p",
                 json.dumps({"spec": {"release": NEXT_RELEASE}}))
    wait_for(lambda: (status(kube, "Memcached", namespace, "cache").get("upgrade") or {}).get("state") == "Completed",
             timeout=180, interval=1, what="the Memcached upgrade Completed")

    def upgrade_metrics():
        text = operator.get("/metrics")[1]
        return (value(text, "ccp_upgrade_state", **ours, from_release=RELEASE, to_release=NEXT_RELEASE,
                      state="Completed") == 1 and text)
    text = wait_for(upgrade_metrics, timeout=30, interval=1, what="ccp_upgrade_state Completed")
    assert value(text, "ccp_upgrade_steps", **ours) == len(memcached.SERVICE.upgrade)
    assert value(text, "ccp_upgrade_steps_done", **ours) == len(memcached.SERVICE.upgrade)
    assert value(text, "ccp_resource_release", **ours, release=NEXT_RELEASE) == 1

    kube.kubectl("delete", "memcached", "cache", "-n", namespace)
    wait_for(lambda: value(operator.get("/metrics")[1], "ccp_resource_ready", **ours) is None, timeout=60,
             interval=1, what="the deleted Memcached's series gone")


def test_metrics_show_the_galera_writer_and_the_last_failover(kube, operator, namespace, etcd):
    host, port = etcd.endpoints[0].rsplit(":", 1)
    apply(kube,
          {"apiVersion": API_VERSION, "kind": "Etcd", "metadata": {"name": "db", "namespace": namespace},
           "spec": {"external": {"endpoints": [f"{host}:{port}"]}}},
          {"apiVersion": API_VERSION, "kind": "Galera", "metadata": {"name": "db", "namespace": namespace},
           "spec": {}})
    prefix = galera.etcd_prefix(namespace, "db")
    members = [f"db-galera-{i}" for i in range(3)]
    client = etcd.client()
    for member in members:  # each agent's report: running, Synced in the Primary component
        report = Report(member=member, empty=False, running=True, updated=time.time(),
                        wsrep={"cluster_status": "Primary", "local_state": "4", "ready": "ON"})
        client.put(f"{prefix}/members/{member}", json.dumps(report.to_json()))
    first = WriterLease(client, prefix, members[0], ttl=600, margin=5)
    assert first.acquire()
    cluster = {"namespace": namespace, "name": "db"}

    def writer_metrics(member):
        text = operator.get("/metrics")[1]
        return value(text, "ccp_galera_writer", **cluster, member=member) == 1 and text
    # The operator reads etcd every 15 s.
    text = wait_for(lambda: writer_metrics(members[0]), timeout=90, interval=2, what="the first writer in /metrics")
    assert value(text, "ccp_galera_writer_present", **cluster) == 1
    assert value(text, "ccp_cluster_members_healthy", kind="Galera", **cluster) == 3
    assert value(text, "ccp_cluster_members", kind="Galera", **cluster) == 3
    assert value(text, "ccp_cluster_observed", kind="Galera", **cluster) == 1
    assert value(text, "ccp_galera_last_failover_timestamp_seconds", **cluster) is None

    before = time.time()
    second = WriterLease(client, prefix, members[1], ttl=600, margin=5)
    assert second.take_over(members[0])  # the failover of a writer put outside the Primary component
    text = wait_for(lambda: writer_metrics(members[1]), timeout=90, interval=2, what="the new writer in /metrics")
    assert value(text, "ccp_galera_writer", **cluster, member=members[0]) is None
    # The status keeps whole seconds.
    assert before - 1 <= value(text, "ccp_galera_last_failover_timestamp_seconds", **cluster) <= time.time()

    second.release()
    text = wait_for(lambda: value(operator.get("/metrics")[1], "ccp_galera_writer_present", **cluster) == 0
                    and operator.get("/metrics")[1], timeout=90, interval=2, what="no writer in /metrics")
    assert value(text, "ccp_galera_writer", **cluster, member=members[1]) is None


def test_probes_answer_on_the_active_operator(operator):
    assert operator.probe("/healthz") == {"status": 200, "ok": True, "role": "leader", "problems": []}
    assert operator.probe("/readyz") == {"status": 200, "ok": True, "role": "leader", "watching": True}
