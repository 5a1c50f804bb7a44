"""Liveness and readiness of one operator replica, and the HTTP server of its probes and metrics.

Alive means the replica is doing its job: a standby keeps looking at the Lease; the leader's
event loop turns, and its watches deliver what changed. The last is checked against the API
server itself: every so often each kind is listed, and an object whose listed version the watch
has not delivered, while the watch delivered nothing new for that object for `stale_after`
seconds, means a stuck watch, so the kubelet restarts the pod. Ready means a standby that reads
the Lease (one that cannot reach the API server could not take over), or a leader whose watches
have started.
"""

from __future__ import annotations

import json
import logging
import socketserver
import threading
import time
from typing import Any, Callable, Iterable
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app

from .kube.client import Kube
from .leadership import LeaderElector
from .watched import Key, WatchedObjects

log = logging.getLogger(__name__)

LOOP_STALE_AFTER = 30.0


class WatchFreshness:
    """Tells objects whose newest version the watch has not delivered for too long."""

    def __init__(self, watched: WatchedObjects, stale_after: float, clock: Callable[[], float] = time.monotonic):
        self.watched = watched
        self.stale_after = stale_after
        self.clock = clock
        # key -> (the version the watch had delivered when the listing first disagreed, since when)
        self._lagging: dict[Key, tuple[str | None, float]] = {}
        self.last_check: float | None = None

    def compare(self, listed: Iterable[tuple[Key, str]]) -> None:
        """Takes a fresh listing: (key, resourceVersion) of every object the watches should know."""
        now = self.clock()
        lagging: dict[Key, tuple[str | None, float]] = {}
        for key, version in listed:
            delivered = self.watched.version(key)
            if delivered == version:
                continue
            previous = self._lagging.get(key)
            # The watch delivered something since the lag was first seen: it moves, only behind.
            lagging[key] = previous if previous and previous[0] == delivered else (delivered, now)
        self._lagging = lagging
        self.last_check = now

    def stale(self) -> list[str]:
        now = self.clock()
        return sorted(f"{kind} {namespace}/{name}" for (kind, namespace, name), (_, since) in self._lagging.items()
                      if now - since > self.stale_after)


class Health:
    def __init__(self, freshness: WatchFreshness, elector: LeaderElector | None,
                 clock: Callable[[], float] = time.monotonic):
        self.freshness = freshness
        self.elector = elector
        self.clock = clock
        self.reconciling = threading.Event()  # set once this replica runs the handlers
        self.watching = threading.Event()  # set by kopf once its watches started
        self.loop_beat: float | None = None

    @property
    def role(self) -> str:
        if not self.reconciling.is_set():
            return "standby"
        return "leader" if self.elector else "single"

    def liveness(self) -> tuple[bool, dict[str, Any]]:
        now = self.clock()
        details: dict[str, Any] = {"role": self.role}
        problems = []
        if not self.reconciling.is_set():
            if self.elector is not None:
                since = now - self.elector.last_attempt
                if since > self._standby_patience:
                    problems.append(f"the standby has not looked at the Lease for {since:.0f}s")
        elif self.watching.is_set():
            if self.loop_beat is None or now - self.loop_beat > LOOP_STALE_AFTER:
                problems.append("the event loop does not turn")
            stale = self.freshness.stale()
            if stale:
                problems.append(f"watches did not deliver changes to {len(stale)} object(s) for "
                                f"{self.freshness.stale_after:.0f}s")
                details["staleObjects"] = stale
        details["problems"] = problems
        return not problems, details

    @property
    def _standby_patience(self) -> float:
        return max(30.0, 5 * self.elector.timings.retry_period)

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        if self.reconciling.is_set():
            ready = self.watching.is_set()
        elif self.elector is not None:
            read = self.elector.last_read
            ready = read is not None and self.clock() - read <= self._standby_patience
        else:
            ready = True
        return ready, {"role": self.role, "watching": self.watching.is_set()}


def check_watches(freshness: WatchFreshness, connect: Callable[[], Kube], kinds: list[tuple[str, str]],
                  api_version: str, namespaces: list[str | None], every: float, stop: threading.Event) -> None:
    """The freshness loop (a thread of the leader): lists every kind, compares with the watches.

    Each round opens connections of its own: a connection that went silent, as the watches'
    may have, must not silence the check too."""
    while not stop.wait(every):
        kube = connect()
        try:
            listed = []
            for kind, _plural in kinds:
                for namespace in namespaces:
                    for item in kube.list(api_version, kind, namespace):
                        meta = item["metadata"]
                        listed.append(((kind, meta["namespace"], meta["name"]), meta["resourceVersion"]))
            freshness.compare(listed)
        except Exception as exc:  # the API server unreachable: the watches cannot be judged now
            log.warning("cannot list the operator's objects to check its watches: %s", exc)
        finally:
            kube.api_client.close()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        pass


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


def serve(address: str, health: Health) -> WSGIServer:
    """Starts /metrics, /healthz and /readyz on `address` (host:port) in a background thread."""
    metrics_app = make_wsgi_app()

    def app(environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        if path in ("/healthz", "/readyz"):
            ok, details = (health.liveness if path == "/healthz" else health.readiness)()
            start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "application/json")])
            return [json.dumps({"ok": ok, **details}).encode()]
        if path == "/metrics":
            return metrics_app(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found: try /metrics, /healthz or /readyz\n"]

    host, _, port = address.rpartition(":")
    server = make_server(host or "0.0.0.0", int(port), app, server_class=_ThreadingServer,
                         handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    log.info("metrics and probes on http://%s:%s (/metrics, /healthz, /readyz)", host or "0.0.0.0", port)
    return server
