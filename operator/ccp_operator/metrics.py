"""The operator's Prometheus metrics.

Counters and histograms of its own work (reconciliations per kind and outcome, their duration,
leadership), and gauges of the state it manages, computed at scrape time from the statuses its
watches delivered: readiness of every resource, the Galera writer and last failover, members in
quorum, broker alarms, upgrade progress. Only the active replica has watches, so only it exports
the state gauges; every replica exports `ccp_operator_leader`.
"""

from __future__ import annotations

import contextlib
import datetime
import time
from typing import Iterable, Iterator

import kopf
from prometheus_client import Counter, Gauge, Histogram, Info, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from . import conditions
from .errors import Waiting
from .services import catalog
from .watched import WATCHED, WatchedObject, WatchedObjects

RECONCILIATIONS = Counter(
    "ccp_reconciliations", "Reconciliation passes by kind and outcome: ready, waiting, invalid (bad input), "
    "error (the API server or the operator failed).", ["kind", "outcome"])
RECONCILE_SECONDS = Histogram(
    "ccp_reconcile_duration_seconds", "Time of one reconciliation pass, by kind.", ["kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
LEADER = Gauge("ccp_operator_leader", "1 on the replica that holds the Lease and reconciles, 0 on standbys.")
LEADER_SINCE = Gauge("ccp_operator_leader_since_timestamp_seconds", "When this replica took the Lease.")
BUILD = Info("ccp_operator_build", "The operator's version.")

STEPS_BY_KIND = {definition.kind: len(definition.upgrade) for definition in catalog.SERVICES}
QUORUM_FIELD = {"Galera": "membersSynced", "RabbitMQ": "membersRunning", "Ceph": "quorum"}
OBSERVATION_FIELD = {"Galera": "clusterObservation", "RabbitMQ": "brokerObservation", "Ceph": "clusterObservation"}
OBJECT = ["kind", "namespace", "name"]
CLUSTER = ["namespace", "name"]


def fraction(text: str | None) -> tuple[int, int] | None:
    """"2/3" -> (2, 3); None for anything else."""
    try:
        have, want = (int(part) for part in (text or "").split("/"))
        return have, want
    except ValueError:
        return None


def timestamp(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class StateCollector(Collector):
    """Gauges of the managed resources, from the last status each watch delivered."""

    def __init__(self, watched: WatchedObjects):
        self.watched = watched

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return []  # computed at scrape time from objects that come and go

    def collect(self) -> Iterable[GaugeMetricFamily]:
        families = {
            "ready": GaugeMetricFamily("ccp_resource_ready", "1 when the resource's Ready condition is True.",
                                       labels=OBJECT),
            "version": GaugeMetricFamily("ccp_resource_release", "The OpenStack release a service runs (value 1).",
                                         labels=[*OBJECT, "release"]),
            "upgrade_state": GaugeMetricFamily(
                "ccp_upgrade_state", "The state of a service's last or current upgrade (value 1).",
                labels=[*OBJECT, "from_release", "to_release", "state"]),
            "upgrade_done": GaugeMetricFamily("ccp_upgrade_steps_done", "Upgrade steps completed.", labels=OBJECT),
            "upgrade_total": GaugeMetricFamily("ccp_upgrade_steps", "Upgrade steps of the service.", labels=OBJECT),
            "writer": GaugeMetricFamily("ccp_galera_writer", "The Galera member that takes writes (value 1).",
                                        labels=[*CLUSTER, "member"]),
            "has_writer": GaugeMetricFamily("ccp_galera_writer_present", "1 when Galera has a writer.",
                                            labels=CLUSTER),
            "failover": GaugeMetricFamily("ccp_galera_last_failover_timestamp_seconds",
                                          "When the Galera writer last changed.", labels=CLUSTER),
            "members": GaugeMetricFamily("ccp_cluster_members", "Members a quorum cluster should have.",
                                         labels=OBJECT),
            "healthy": GaugeMetricFamily(
                "ccp_cluster_members_healthy", "Members that count for the quorum: Galera members Synced, "
                "RabbitMQ brokers running, Ceph monitors in quorum.", labels=OBJECT),
            "alarms": GaugeMetricFamily("ccp_rabbitmq_alarms", "Memory, disk and partition alarms the brokers raise.",
                                        labels=CLUSTER),
            "observed": GaugeMetricFamily(
                "ccp_cluster_observed", "1 when the operator could read the cluster's own state (Galera through "
                "etcd, RabbitMQ's management API, Ceph's manager); 0 when it could not.", labels=OBJECT),
            "ceph_health": GaugeMetricFamily("ccp_ceph_health", "Ceph's health status (value 1).",
                                             labels=[*CLUSTER, "status"]),
        }
        for item in self.watched.snapshot():
            self._add(families, item)
        return families.values()

    @staticmethod
    def _add(families: dict[str, GaugeMetricFamily], item: WatchedObject) -> None:
        status, ident, cluster = item.status, [item.kind, item.namespace, item.name], [item.namespace, item.name]
        families["ready"].add_metric(ident, 1.0 if conditions.is_true(status.get("conditions")) else 0.0)
        if status.get("version"):
            families["version"].add_metric([*ident, status["version"]], 1.0)
        upgrade = status.get("upgrade")
        if upgrade:
            families["upgrade_state"].add_metric(
                [*ident, upgrade.get("fromVersion", ""), upgrade.get("toVersion", ""), upgrade.get("state", "")], 1.0)
            families["upgrade_done"].add_metric(ident, float(len(upgrade.get("stepsDone") or [])))
            families["upgrade_total"].add_metric(ident, float(STEPS_BY_KIND.get(item.kind, 0)))
        observation = OBSERVATION_FIELD.get(item.kind)
        if observation and status.get(observation):
            families["observed"].add_metric(ident, 1.0 if status[observation] == "ok" else 0.0)
        quorum_field = QUORUM_FIELD.get(item.kind)
        counted = fraction(status.get(quorum_field)) if quorum_field else None
        if counted:
            families["healthy"].add_metric(ident, float(counted[0]))
            families["members"].add_metric(ident, float(counted[1]))
        if item.kind == "Galera" and status.get(OBSERVATION_FIELD["Galera"]) == "ok":
            writer = status.get("writer") or ""
            families["has_writer"].add_metric(cluster, 1.0 if writer else 0.0)
            if writer:
                families["writer"].add_metric([*cluster, writer], 1.0)
        if item.kind == "Galera" and timestamp(status.get("lastFailoverTime")) is not None:
            families["failover"].add_metric(cluster, timestamp(status["lastFailoverTime"]))
        if item.kind == "RabbitMQ" and status.get(OBSERVATION_FIELD["RabbitMQ"]) == "ok":
            raised = sum(len(member.get("alarms") or []) + (1 if member.get("partitionedFrom") else 0)
                         for member in status.get("members") or [])
            families["alarms"].add_metric(cluster, float(raised))
        if item.kind == "Ceph" and status.get("health"):
            families["ceph_health"].add_metric([*cluster, status["health"]], 1.0)


@contextlib.contextmanager
def timed_reconciliation(kind: str) -> Iterator[None]:
    """Counts one pass of `kind` by its outcome (from the error kopf gets) and times it."""
    started, outcome = time.perf_counter(), "error"
    try:
        yield
        outcome = "ready"
    except kopf.PermanentError:
        outcome = "invalid"
        raise
    except kopf.TemporaryError as exc:
        outcome = "waiting" if isinstance(exc.__cause__, Waiting) else "error"
        raise
    finally:
        RECONCILIATIONS.labels(kind, outcome).inc()
        RECONCILE_SECONDS.labels(kind).observe(time.perf_counter() - started)


def register(version: str) -> None:
    disable_created_metrics()  # the *_created series only add noise to every counter
    BUILD.info({"version": version})
    REGISTRY.register(StateCollector(WATCHED))
