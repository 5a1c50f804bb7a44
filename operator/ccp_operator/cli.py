"""ccp-operator: runs the operator, as the one active replica or as a standby.

    ccp-operator [--namespace NS ...] [--leader-election] [--http-address HOST:PORT] ...

Without --namespace it watches every namespace. With --leader-election the process first waits
as a standby until it holds the Lease, and exits at once when it loses it (its pod restarts as a
standby). /metrics, /healthz and /readyz are served from the start, on every replica.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import threading
import time
import uuid
from importlib import metadata

import kopf

from . import kube as kube_access
from . import main as _kopf_module  # noqa: F401  (registers the handlers and the settings)
from . import dns, metrics
from .api import API_VERSION
from .api.kinds import all_kinds
from .health import Health, WatchFreshness, check_watches, serve
from .leadership import LeaderElector, LeaseTimings, exit_on_lost
from .watched import WATCHED

log = logging.getLogger("ccp_operator")
LOG_LEVELS = ("debug", "info", "warning", "error")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ccp-operator", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--namespace", "-n", action="append", default=[], dest="namespaces",
                        help="watch only this namespace (repeatable); default: every namespace")
    parser.add_argument("--all-namespaces", "-A", action="store_true",
                        help="watch every namespace (the default; for symmetry with kubectl)")
    parser.add_argument("--log-level", choices=LOG_LEVELS, default=os.environ.get("CCP_LOG_LEVEL", "info"))
    parser.add_argument("--http-address", default="0.0.0.0:8080", help="where /metrics, /healthz, /readyz listen")
    parser.add_argument("--cluster-domain", default=dns.DEFAULT_CLUSTER_DOMAIN,
                        help="the cluster's DNS domain (for clients that resolve names without search domains)")
    parser.add_argument("--watch-stale-after", type=float, default=120.0,
                        help="seconds a change may go undelivered by the watches before the replica counts as dead")
    election = parser.add_argument_group("leader election (one active replica)")
    election.add_argument("--leader-election", action="store_true", help="wait for the Lease before acting")
    election.add_argument("--lease-name", default="ccp-operator")
    election.add_argument("--lease-namespace", default=os.environ.get("POD_NAMESPACE", "default"))
    election.add_argument("--identity", default=None, help="this replica's name in the Lease (default: $POD_NAME "
                          "or the host name, with a random suffix)")
    election.add_argument("--lease-duration", type=float, default=LeaseTimings.lease_duration)
    election.add_argument("--renew-deadline", type=float, default=LeaseTimings.renew_deadline)
    election.add_argument("--retry-period", type=float, default=LeaseTimings.retry_period)
    options = parser.parse_args(argv)
    if options.all_namespaces and options.namespaces:
        parser.error("--all-namespaces and --namespace exclude each other")
    try:
        options.timings = LeaseTimings(options.lease_duration, options.renew_deadline, options.retry_period)
    except ValueError as exc:
        parser.error(str(exc))
    return options


def wait_for_api(kube: kube_access.Kube, namespace: str | None, stop: threading.Event) -> bool:
    """Waits until the API server serves every kind of ours (the CRDs are installed, established
    and their storage ready): kopf only watches what it finds when it starts."""
    delay = 1.0
    while not stop.is_set():
        waiting_for = []
        for kind, plural in all_kinds():
            try:
                kube.list(API_VERSION, kind, namespace, limit=1)
            except Exception as exc:
                waiting_for.append(f"{plural} ({getattr(exc, 'status', None) or exc})")
        if not waiting_for:
            return True
        log.warning("waiting for the CRDs to be served: %s", ", ".join(waiting_for))
        stop.wait(delay)
        delay = min(delay * 2, 30.0)
    return False


def _stop_on_signals(stop: threading.Event) -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())


async def _operate(options: argparse.Namespace, health: Health, identity: str) -> None:
    async def beat() -> None:
        while True:
            health.loop_beat = time.monotonic()
            await asyncio.sleep(1.0)

    beating = asyncio.create_task(beat())
    try:
        # kopf would otherwise name itself after the user, and the image's numeric user has no
        # passwd entry (getpass fails).
        await kopf.operator(clusterwide=not options.namespaces, namespaces=options.namespaces, standalone=True,
                            ready_flag=health.watching, identity=identity)
    finally:
        beating.cancel()


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    kopf.configure(debug=options.log_level == "debug", log_prefix=True)  # lines name their object
    logging.getLogger().setLevel(options.log_level.upper())
    dns.set_cluster_domain(options.cluster_domain)
    try:
        version = metadata.version("openstack-ccp-operator")
    except metadata.PackageNotFoundError:
        version = "unknown"
    metrics.register(version)

    stop = threading.Event()
    _stop_on_signals(stop)
    elector = None
    identity = options.identity or f"{os.environ.get('POD_NAME') or os.uname().nodename}_{uuid.uuid4().hex[:8]}"
    if options.leader_election:
        elector = LeaderElector(kube_access.connect((options.timings.retry_period, options.timings.renew_deadline)),
                                options.lease_namespace, options.lease_name, identity, options.timings,
                                on_lost=exit_on_lost)
    freshness = WatchFreshness(WATCHED, options.watch_stale_after)
    health = Health(freshness, elector)
    serve(options.http_address, health)
    metrics.LEADER.set(0)
    log.info("ccp-operator %s starting (%s)", version,
             f"namespaces {', '.join(options.namespaces)}" if options.namespaces else "every namespace")

    if elector is not None:
        if not elector.wait_for_leadership(stop):
            return 0
        elector.keep_leading()
        kube_access.guard_writes(elector.ensure_leading)
        metrics.LEADER_SINCE.set(elector.leading_since or time.time())
    if not wait_for_api(kube_access.connect(), (options.namespaces or [None])[0], stop):
        if elector is not None:
            elector.release()
        return 0
    metrics.LEADER.set(1)
    health.reconciling.set()
    threading.Thread(target=check_watches, name="watch-check", daemon=True, args=(
        freshness, lambda: kube_access.connect((5, 15)), all_kinds(), API_VERSION, options.namespaces or [None],
        max(5.0, options.watch_stale_after / 4), stop)).start()
    # kopf installs its own SIGTERM/SIGINT handlers for a graceful stop of the handlers.
    if not stop.is_set():
        asyncio.run(_operate(options, health, identity))
    stop.set()
    if elector is not None:
        elector.release()
    return 0
