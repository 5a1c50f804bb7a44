"""One active operator among its replicas, elected through a coordination.k8s.io Lease.

The rules are client-go's leader election. A standby reads the Lease every retry period and
takes it over only when its record has not changed for a whole lease duration, timed by the
standby's own clock (clocks of different machines are never compared), or at once when the
holder released it. The leader renews every retry period; when it has not renewed for the renew
deadline, which is shorter than the lease duration, the process exits on the spot: the old
leader has stopped before any standby may take over, so no object is reconciled by two
operators at once. A clean shutdown releases the Lease, and a standby takes over within one
retry period.

Writes to the Lease are the operator's only periodic writes (one per retry period, by the leader).
"""

from __future__ import annotations

import datetime
import logging
import math
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from kubernetes.client.exceptions import ApiException

from .kube.client import Kube, ResourceType, register_type

LEASE = ResourceType("coordination.k8s.io/v1", "Lease", "leases")
register_type(LEASE)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeaseTimings:
    """Seconds: how long a record holds, how long the leader keeps trying, how often anyone looks."""
    lease_duration: float = 8.0
    renew_deadline: float = 5.0
    retry_period: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.retry_period < self.renew_deadline < self.lease_duration:
            raise ValueError("lease timings need 0 < retry period < renew deadline < lease duration "
                             f"(got {self.retry_period}, {self.renew_deadline}, {self.lease_duration})")


def micro_time(now: datetime.datetime | None = None) -> str:
    """A MicroTime as the API writes it."""
    moment = now or datetime.datetime.now(datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    """Acquires, keeps and releases one Lease for one identity.

    `on_lost` is called (from a background thread) when leadership can no longer be vouched
    for; the operator's is to exit the process at once.
    """

    def __init__(self, kube: Kube, namespace: str, name: str, identity: str, timings: LeaseTimings,
                 on_lost: Callable[[str], None], clock: Callable[[], float] = time.monotonic):
        self.kube = kube
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.timings = timings
        self.on_lost = on_lost
        self.clock = clock
        self.leading_since: float | None = None  # wall-clock time of the takeover, for metrics
        self._renewed_at: float | None = None  # our clock when the last successful write was sent
        self._observed_version: str | None = None
        self._observed_at = 0.0
        self._stop = threading.Event()
        self._lost = threading.Event()
        self.last_attempt = clock()
        self.last_read: float | None = None  # our clock when the Lease was last read

    # -- one attempt -------------------------------------------------------------------------

    def try_acquire_or_renew(self) -> bool:
        """One read and, when the Lease is ours to take or keep, one write; True when we hold it."""
        started = self.clock()
        self.last_attempt = started
        lease = self.kube.get(LEASE.api_version, LEASE.kind, self.namespace, self.name)
        self.last_read = started
        if lease is None:
            return self._write(started, None, {})
        spec = lease.get("spec") or {}
        version = lease["metadata"]["resourceVersion"]
        if version != self._observed_version:
            self._observed_version, self._observed_at = version, started
        holder = spec.get("holderIdentity") or ""
        if holder and holder != self.identity:
            if self.leading:
                self._lose(f"the Lease is held by {holder}")
                return False
            held_for = spec.get("leaseDurationSeconds") or self.timings.lease_duration
            if started < self._observed_at + held_for:
                return False
        return self._write(started, lease, spec)

    def _write(self, started: float, lease: dict[str, Any] | None, spec: dict[str, Any]) -> bool:
        now = micro_time()
        taking_over = spec.get("holderIdentity") != self.identity
        new_spec = {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": math.ceil(self.timings.lease_duration),
            "acquireTime": now if taking_over else spec.get("acquireTime", now),
            "renewTime": now,
            "leaseTransitions": (spec.get("leaseTransitions") or 0) + (1 if taking_over and lease else 0),
        }
        body = {"apiVersion": LEASE.api_version, "kind": LEASE.kind,
                "metadata": {"name": self.name, "namespace": self.namespace}, "spec": new_spec}
        try:
            if lease is None:
                written = self.kube.request("POST", LEASE.path(self.namespace), body=body)
            else:
                body["metadata"]["resourceVersion"] = lease["metadata"]["resourceVersion"]
                written = self.kube.request("PUT", LEASE.path(self.namespace, self.name), body=body)
        except ApiException as exc:
            if exc.status == 409:  # another replica wrote first
                return False
            raise
        self._observed_version, self._observed_at = written["metadata"]["resourceVersion"], started
        self._renewed_at = started
        if taking_over:
            self.leading_since = time.time()
            log.info("leader election: %s now holds Lease %s/%s", self.identity, self.namespace, self.name)
        return True

    # -- the standby and the leader ----------------------------------------------------------

    @property
    def leading(self) -> bool:
        return self._renewed_at is not None and not self._lost.is_set()

    def wait_for_leadership(self, stop: threading.Event) -> bool:
        """Blocks as a standby until the Lease is ours (True) or `stop` is set (False)."""
        log.info("leader election: %s waits for Lease %s/%s", self.identity, self.namespace, self.name)
        while not stop.is_set():
            try:
                if self.try_acquire_or_renew():
                    return True
            except Exception as exc:  # the API server unreachable: a standby just tries again
                log.warning("leader election: cannot read or take the Lease: %s", exc)
            stop.wait(self.timings.retry_period)
        return False

    def keep_leading(self) -> None:
        """Starts the renewing thread and the watchdog that gives up at the renew deadline."""
        threading.Thread(target=self._renew_loop, name="lease-renewer", daemon=True).start()
        threading.Thread(target=self._watchdog, name="lease-watchdog", daemon=True).start()

    def ensure_leading(self) -> None:
        """Called before every write of the operator: gives up when the Lease may have gone."""
        if not self._holds_by_own_clock():
            self._lose("the Lease was not renewed within the renew deadline")

    def _holds_by_own_clock(self) -> bool:
        return self.leading and self.clock() - self._renewed_at < self.timings.renew_deadline

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.timings.retry_period):
            try:
                self.try_acquire_or_renew()
            except Exception as exc:
                log.warning("leader election: renewing the Lease failed: %s", exc)

    def _watchdog(self) -> None:
        while not self._stop.wait(0.1):
            if self.leading and not self._holds_by_own_clock():
                self._lose("the Lease was not renewed within the renew deadline")

    def _lose(self, why: str) -> None:
        if not self._lost.is_set():
            self._lost.set()
            self._stop.set()
            self.on_lost(why)

    def release(self) -> None:
        """Gives the Lease up (a clean shutdown), so that a standby takes over at once."""
        self._stop.set()
        if not self._holds_by_own_clock():
            return
        try:
            lease = self.kube.get(LEASE.api_version, LEASE.kind, self.namespace, self.name)
            if lease is None or (lease.get("spec") or {}).get("holderIdentity") != self.identity:
                return
            lease["spec"].update({"holderIdentity": "", "leaseDurationSeconds": 1, "renewTime": micro_time()})
            self.kube.request("PUT", LEASE.path(self.namespace, self.name), body=lease)
            self._renewed_at = None
            log.info("leader election: %s released Lease %s/%s", self.identity, self.namespace, self.name)
        except Exception as exc:  # the standby takes over after the lease duration instead
            log.warning("leader election: releasing the Lease failed: %s", exc)


def exit_on_lost(why: str) -> None:
    """The leader can no longer vouch that it is the only one: stop every write by exiting now."""
    log.critical("leader election: leadership lost (%s); exiting so that only one operator acts", why)
    logging.shutdown()
    os._exit(75)
