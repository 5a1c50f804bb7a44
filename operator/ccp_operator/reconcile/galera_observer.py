"""The Galera cluster as its agents see it, for the resource's status: every member's state, the
writer, and when the writer last changed after a failure.

The agents keep this in etcd (see images/galera): a report per member under a lease, the writer
key, and a record of the last writer change. The operator reads those keys every few seconds and
writes the status only when the summary changes (positions are left out: they move on every
commit).
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import os
import tempfile
from typing import Any

from etcd3gw import exceptions as etcd_errors
from etcd3gw.client import Etcd3Client

from ..galera_contract import MEMBERS, WRITER, WRITER_CHANGED
from ..kube.client import Kube
from ..services import galera

log = logging.getLogger(__name__)
STATES = {"1": "Joining", "2": "Donor", "3": "Joined", "4": "Synced"}
UNREACHABLE = (etcd_errors.ConnectionFailedError, etcd_errors.ConnectionTimeoutError, OSError)


def member_state(report: dict[str, Any] | None) -> str:
    if report is None:
        return "Down"  # no agent reports: its lease expired
    if not report.get("running"):
        return "Empty" if report.get("empty") else "Starting"
    wsrep = report.get("wsrep") or {}
    if wsrep.get("cluster_status") != "Primary":
        return "NonPrimary"
    return STATES.get(str(wsrep.get("local_state")), "Unknown")


def rfc3339(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def summarize(members: list[str], reports: dict[str, dict[str, Any]], writer: str | None,
              change: dict[str, Any] | None) -> dict[str, Any]:
    """The status fields: members with state and role, how many are Synced, writer, last failover."""
    entries = [{"name": name, "state": member_state(reports.get(name)),
                "role": "writer" if name == writer else "standby"} for name in members]
    synced = sum(1 for entry in entries if entry["state"] == "Synced")
    summary: dict[str, Any] = {"members": entries, "membersSynced": f"{synced}/{len(members)}",
                               "writer": writer or "", "clusterObservation": "ok"}
    if change and change.get("previous") and change.get("at"):
        summary["lastFailoverTime"] = rfc3339(float(change["at"]))
        summary["lastFailover"] = f"{change['previous']} -> {change.get('writer')}"
    return summary


def _client_files(kube: Kube, namespace: str, secret_name: str, directory: str) -> dict[str, str]:
    secret = kube.get("v1", "Secret", namespace, secret_name) or {}
    paths = {}
    for key, argument in (("ca.crt", "ca_cert"), ("tls.crt", "cert_cert"), ("tls.key", "cert_key")):
        path = os.path.join(directory, key)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
            handle.write(base64.b64decode((secret.get("data") or {}).get(key, "")))
        paths[argument] = path
    return paths


def read_keys(kube: Kube, namespace: str, etcd_endpoint: dict[str, Any], prefix: str) -> dict[str, bytes]:
    """Every key under `prefix` (relative names), from the first etcd member that answers."""
    last: Exception | None = None
    with tempfile.TemporaryDirectory() as directory:
        tls = (_client_files(kube, namespace, etcd_endpoint["clientSecret"], directory)
               if etcd_endpoint.get("tls") else {})
        for endpoint in etcd_endpoint.get("endpoints") or ():
            host, _, port = endpoint.rpartition(":")
            client = Etcd3Client(host=host, port=int(port), protocol="https" if tls else "http", timeout=2,
                                 api_path="/v3/", **tls)
            try:
                return {meta["key"].decode()[len(prefix) + 1:]: value
                        for value, meta in client.get_prefix(prefix + "/")}
            except UNREACHABLE as exc:
                last = exc
    raise ConnectionError(f"no etcd member answered: {last}")


def observe(kube: Kube, namespace: str, instance: str, members: list[str],
            etcd_endpoint: dict[str, Any]) -> dict[str, Any]:
    try:
        keys = read_keys(kube, namespace, etcd_endpoint, galera.etcd_prefix(namespace, instance))
    except (ConnectionError, etcd_errors.Etcd3Exception) as exc:
        # The message stays the same from one attempt to the next, so the status is written once.
        log.info("cannot read the Galera state of %s/%s from etcd: %s", namespace, instance, exc)
        return {"clusterObservation": f"etcd unreachable from the operator ({', '.join(etcd_endpoint['endpoints'])})"}
    reports = {name.removeprefix(MEMBERS): json.loads(value) for name, value in keys.items()
               if name.startswith(MEMBERS)}
    writer = keys[WRITER].decode() if WRITER in keys else None
    change = json.loads(keys[WRITER_CHANGED]) if WRITER_CHANGED in keys else None
    return summarize(members, reports, writer, change)
