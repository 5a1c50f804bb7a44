"""The RabbitMQ brokers as they see themselves, for the resource's status: which members run,
which raise a memory or disk alarm, and which see a partition.

Read from the management API (`GET /api/nodes`) with the generated admin credentials; the
status is written only when this summary changes.
"""

from __future__ import annotations

import base64
import json
import logging
import urllib.error
import urllib.request
from typing import Any

log = logging.getLogger(__name__)


def summarize(members: list[str], nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """Status fields from the management API's node list; `members` are the expected node names."""
    by_name = {node.get("name"): node for node in nodes}
    entries, alarms = [], []
    for name in members:
        node = by_name.get(name) or {}
        running = bool(node.get("running"))
        raised = [kind for kind, key in (("memory", "mem_alarm"), ("disk", "disk_free_alarm")) if node.get(key)]
        entry: dict[str, Any] = {"name": name, "running": running}
        if raised:
            entry["alarms"] = raised
            alarms.extend(f"{kind} on {name}" for kind in raised)
        if node.get("partitions"):
            entry["partitionedFrom"] = sorted(node["partitions"])
            alarms.append(f"{name} sees a partition")
        entries.append(entry)
    running = sum(1 for entry in entries if entry["running"])
    return {"members": entries, "membersRunning": f"{running}/{len(members)}",
            "alarms": ", ".join(alarms) or "none", "brokerObservation": "ok"}


def observe(management_url: str, user: str, password: str, members: list[str],
            timeout: float = 5.0) -> dict[str, Any]:
    request = urllib.request.Request(f"{management_url.rstrip('/')}/api/nodes", headers={
        "Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            nodes = json.loads(response.read())
    except (OSError, urllib.error.URLError, ValueError) as exc:
        # A stable message: the status is written once, not at every attempt.
        log.info("cannot read the brokers' state from %s: %s", management_url, exc)
        return {"brokerObservation": f"management API unreachable from the operator ({management_url})"}
    return summarize(members, nodes)
