"""HAProxy configured exactly as the operator renders it, with the writer router beside it, and a
client that keeps writing through it and remembers every acknowledged commit."""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pymysql

from ccp_galera_agent.router import HAProxyAdmin, Router
from ccp_operator.reconcile.galera import haproxy_config
from ccp_operator.services import galera

from .etcd_server import free_port


class WriterProxy:
    def __init__(self, root: Path, cluster):
        self.root = root
        self.cluster = cluster
        self.port = free_port()
        self.socket = str(root / "haproxy.sock")
        self.process: subprocess.Popen | None = None
        self.stop_router = threading.Event()
        self.router_thread: threading.Thread | None = None

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        config = haproxy_config([(m.name, f"{m.host}:{m.port}") for m in self.cluster.members],
                                bind=f"127.0.0.1:{self.port}", admin_socket=self.socket)
        (self.root / "haproxy.cfg").write_text(config)
        log = open(self.root / "haproxy.log", "ab")
        self.process = subprocess.Popen(["haproxy", "-db", "-f", str(self.root / "haproxy.cfg")],
                                        stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 10
        while not Path(self.socket).exists() and time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"haproxy exited: {(self.root / 'haproxy.log').read_text()}")
            time.sleep(0.05)
        router = Router(self.cluster.client, self.cluster.prefix, HAProxyAdmin(self.socket),
                        galera.WRITER_BACKEND, [m.name for m in self.cluster.members])
        self.router_thread = threading.Thread(target=router.run, kwargs={"stop": self.stop_router}, daemon=True)
        self.router_thread.start()

    def stop(self) -> None:
        self.stop_router.set()
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@dataclass
class Write:
    sequence: int
    node: str
    at: float


@dataclass
class Writer:
    """Inserts one row per transaction through the proxy as an unprivileged user; an insert counts
    as acknowledged only once COMMIT returned."""

    port: int
    user: str
    password: str
    acknowledged: list[Write] = field(default_factory=list)
    errors: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def _connect(self):
        return pymysql.connect(host="127.0.0.1", port=self.port, user=self.user, password=self.password,
                               database="ledger", connect_timeout=2, read_timeout=5, write_timeout=5)

    def run(self) -> None:
        sequence = 0
        connection = None
        while not self.stop.is_set():
            try:
                if connection is None:
                    connection = self._connect()
                sequence += 1
                with connection.cursor() as cursor:
                    cursor.execute("INSERT INTO entries (sequence, node) VALUES (%s, @@wsrep_node_name)", (sequence,))
                    cursor.execute("SELECT @@wsrep_node_name")
                    node = cursor.fetchone()[0]
                connection.commit()
                self.acknowledged.append(Write(sequence, node, time.monotonic()))
            except pymysql.MySQLError:
                self.errors += 1
                try:
                    if connection is not None:
                        connection.close()
                except pymysql.MySQLError:
                    pass
                connection = None
                self.stop.wait(0.05)
            else:
                self.stop.wait(0.01)

    def start(self) -> "Writer":
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self

    def finish(self) -> None:
        self.stop.set()
        if self.thread:
            self.thread.join(timeout=30)

    def first_write_after(self, moment: float, not_by: str | None = None) -> Write | None:
        """The first commit acknowledged after `moment` (by a member other than `not_by`): a commit
        already on its way when the writer was killed may still be acknowledged by it."""
        return next((w for w in self.acknowledged if w.at > moment and w.node != not_by), None)
