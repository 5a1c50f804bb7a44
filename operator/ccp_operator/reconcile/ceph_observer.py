"""The Ceph cluster as it sees itself, for the resource's status: which monitors are in the
quorum, the health, and the health checks raised.

Read from the active manager's prometheus module (`ceph_mon_quorum_status`,
`ceph_health_status`, `ceph_health_detail`), the metrics the monitoring tier scrapes as well;
standby managers serve no metrics, so every manager is asked until one answers.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

log = logging.getLogger(__name__)

HEALTH = {0: "HEALTH_OK", 1: "HEALTH_WARN", 2: "HEALTH_ERR"}


def summarize(monitor_ids: list[str], metrics_text: str) -> dict[str, Any] | None:
    """Status fields from the manager's metrics; None when they are not a cluster's (a standby's)."""
    health = None
    in_quorum: dict[str, bool] = {}
    checks: list[str] = []
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "ceph_health_status":
                health = HEALTH.get(int(sample.value), "HEALTH_UNKNOWN")
            elif sample.name == "ceph_mon_quorum_status":
                daemon = sample.labels.get("ceph_daemon", "")
                in_quorum[daemon.removeprefix("mon.")] = sample.value == 1
            elif sample.name == "ceph_health_detail" and sample.value == 1:
                checks.append(sample.labels.get("name", "?"))
    if health is None:
        return None
    monitors = [{"name": mon_id, "inQuorum": in_quorum.get(mon_id, False)} for mon_id in monitor_ids]
    quorate = sum(1 for monitor in monitors if monitor["inQuorum"])
    return {"monitors": monitors, "quorum": f"{quorate}/{len(monitor_ids)}", "health": health,
            "healthChecks": ", ".join(sorted(checks)) or "none", "clusterObservation": "ok"}


def observe(urls: list[str], monitor_ids: list[str], timeout: float = 5.0) -> dict[str, Any]:
    """The first summary a manager gives; otherwise only why none could be read."""
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                text = response.read().decode()
        except (OSError, urllib.error.URLError, ValueError) as exc:
            log.debug("no metrics from %s: %s", url, exc)
            continue
        summary = summarize(monitor_ids, text)
        if summary:
            return summary
    # A stable message: the status is written once, not at every attempt.
    return {"clusterObservation": "no Ceph manager's metrics reachable from the operator"}
