"""The Galera writer router beside HAProxy: the one active server is the member the writer key
in etcd names.

On a change of writer it first puts every other server into maintenance and shuts their sessions
(so no client can keep writing to a replaced writer), then makes the new writer ready. Without a
writer key no server is ready and clients wait: no write goes to a member that is not the writer.
"""

from __future__ import annotations

import json
import logging
import socket
import sys
import threading
import time
from pathlib import Path

from etcd3gw.client import Etcd3Client

from . import contract
from .etcd import EtcdSettings, MultiEndpointClient

log = logging.getLogger("ccp_galera_router")

REASSERT_EVERY = 5.0


class HAProxyAdmin:
    """HAProxy's runtime API over its admin socket."""

    def __init__(self, path: str):
        self.path = path

    def command(self, line: str) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(self.path)
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()


class Router:
    def __init__(self, etcd: Etcd3Client, prefix: str, admin: HAProxyAdmin, backend: str, servers: list[str]):
        self.etcd = etcd
        self.key = contract.key(prefix, contract.WRITER)
        self.admin = admin
        self.backend = backend
        self.servers = servers
        self.active: str | None = "?"  # unknown at start: the first pass sets every server
        self.asserted_at = 0.0

    def writer(self) -> str | None:
        values = self.etcd.get(self.key)
        return values[0].decode() if values else None

    def route(self, writer: str | None) -> None:
        if writer == self.active:
            if time.monotonic() - self.asserted_at >= REASSERT_EVERY:
                self.reassert(writer)
            return
        for server in self.servers:
            if server != writer:
                self.admin.command(f"set server {self.backend}/{server} state maint")
                self.admin.command(f"shutdown sessions server {self.backend}/{server}")
        if writer in self.servers:
            self.admin.command(f"set server {self.backend}/{writer} state ready")
        log.info("writer: %s (was %s)", writer, self.active)
        self.active = writer
        self.asserted_at = time.monotonic()

    def reassert(self, writer: str | None) -> None:
        """Sets the routing again without touching sessions: a restarted HAProxy starts with every
        server in maintenance, and must learn the writer it missed."""
        for server in self.servers:
            self.admin.command(f"set server {self.backend}/{server} state {'ready' if server == writer else 'maint'}")
        self.asserted_at = time.monotonic()

    def run(self, interval: float = 0.2, stop: threading.Event | None = None) -> None:
        stop = stop or threading.Event()
        while not stop.is_set():
            try:
                self.route(self.writer())
            except Exception as exc:  # noqa: BLE001 - etcd or HAProxy briefly unreachable: keep the last routing
                log.warning("routing failed: %s", exc)
            stop.wait(interval)


def main() -> int:
    """ccp-galera-router CONFIG.json (contract.RouterConfig): etcd (as the agent's), prefix, admin_socket,
    backend, servers."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if len(sys.argv) != 2:
        print(main.__doc__, file=sys.stderr)
        return 2
    config = json.loads(Path(sys.argv[1]).read_text())
    problems = contract.problems(contract.RouterConfig, config)
    if problems:
        print(f"{sys.argv[1]}: {', '.join(problems)}", file=sys.stderr)
        return 2
    router = Router(MultiEndpointClient(EtcdSettings.from_config(config["etcd"])), config["prefix"],
                    HAProxyAdmin(config["admin_socket"]), config["backend"], list(config["servers"]))
    router.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
