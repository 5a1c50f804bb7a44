"""Three real MariaDB/galera-4 members with their agents and a real etcd, on loopback ports or,
for partition tests, each in its own network namespace."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pymysql

from ccp_operator.services.galera import etcd_prefix, provider_options

from .etcd_server import EtcdCluster, free_port
from .netns import Network

PROVIDER = "/usr/lib/galera/libgalera_smm.so"
ROOT_PASSWORD = "root-Pa55"
SST_PASSWORD = "sst-Pa55"
APP_USER, APP_PASSWORD = "app", "app-Pa55"


@dataclass
class Member:
    name: str
    root: Path
    host: str
    port: int
    galera_port: int
    ist_port: int
    sst_port: int
    exec_prefix: tuple[str, ...] = ()  # runs the agent (and so mysqld) inside a network namespace
    agent: subprocess.Popen | None = None

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def tmpdir(self) -> Path:
        """Members share /tmp on this machine, but not in their pods: each gets its own."""
        return self.root / "tmp"

    @property
    def socket(self) -> str:
        return str(self.root / "mysqld.sock")

    @property
    def address(self) -> str:
        return f"{self.host}:{self.galera_port}"

    def mysqld_argv(self) -> list[str]:
        """The operator's galera.cnf settings that matter here (group timeouts, flushing), with a
        small gcache and buffer pool, and loopback or namespace addresses."""
        return ["mariadbd", "--no-defaults", f"--datadir={self.datadir}", f"--socket={self.socket}",
                f"--tmpdir={self.tmpdir}",
                f"--port={self.port}", f"--bind-address={self.host}", "--user=root",
                f"--log-error={self.root / 'mysqld.err'}", f"--pid-file={self.root / 'mysqld.pid'}",
                "--binlog-format=ROW", "--default-storage-engine=InnoDB", "--innodb-autoinc-lock-mode=2",
                "--innodb-flush-log-at-trx-commit=2", "--skip-name-resolve",
                "--wsrep-on=ON", f"--wsrep-provider={PROVIDER}", "--wsrep-cluster-name=ccp-test",
                "--wsrep-node-address={address}",
                f"--wsrep-provider-options=gmcast.listen_addr=tcp://{self.address};"
                f"ist.recv_addr={self.host}:{self.ist_port};{provider_options('128M')}",
                f"--wsrep-sst-receive-address={self.host}:{self.sst_port}", "--wsrep-sst-method=mariabackup"]

    def mysqld_pid(self) -> int | None:
        try:
            pid = int((self.root / "mysqld.pid").read_text().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None


class GaleraCluster:
    # The keys the operator would give a Galera "db" in namespace "test".
    NAMESPACE, INSTANCE = "test", "db"

    def __init__(self, root: Path, etcd: EtcdCluster, size: int = 3, network: Network | None = None):
        self.etcd = etcd
        self.prefix = etcd_prefix(self.NAMESPACE, self.INSTANCE)
        self.members = []
        for i in range(size):
            host = network.addresses[i] if network else "127.0.0.1"
            prefix_argv = tuple(network.exec_prefix(i)) if network else ()
            self.members.append(Member(f"galera-{i}", root / f"galera-{i}", host, free_port(), free_port(),
                                       free_port(), free_port(), prefix_argv))
        for member in self.members:
            member.tmpdir.mkdir(parents=True, exist_ok=True)
        self.client = etcd.client()

    def config(self, member: Member) -> Path:
        path = member.root / "agent.json"
        path.write_text(json.dumps({
            "name": member.name, "members": {m.name: m.address for m in self.members},
            "etcd": {"endpoints": self.etcd.endpoints}, "prefix": self.prefix,
            "datadir": str(member.datadir), "socket": member.socket, "mysqld": member.mysqld_argv(),
            "root_password": ROOT_PASSWORD, "sst_password": SST_PASSWORD, "writer_ttl": 5, "fence_margin": 2.0,
            "force_bootstrap_file": str(member.root / "force-bootstrap"),
            # The tests run as root; in the image the agent and mysqld run as the mysql user.
            "extra": {"install_db_args": ["--user=root", f"--tmpdir={member.tmpdir}"]},
        }))
        return path

    def start(self, member: Member) -> None:
        log = open(member.root / "agent.log", "ab")
        member.agent = subprocess.Popen([*member.exec_prefix, sys.executable, "-m", "ccp_galera_agent.main",
                                         str(self.config(member))],
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def start_all(self) -> None:
        for member in self.members:
            self.start(member)

    def kill(self, member: Member) -> None:
        """kill -9 of the member's mysqld and agent (the pod dies)."""
        for pid in (member.mysqld_pid(), member.agent.pid if member.agent else None):
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if member.agent:
            member.agent.wait(timeout=10)
        self._wait_gone(member)

    def _wait_gone(self, member: Member, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while member.mysqld_pid() and time.monotonic() < deadline:
            time.sleep(0.1)

    def stop_all(self) -> None:
        for member in self.members:
            if member.agent and member.agent.poll() is None:
                member.agent.terminate()
        for member in self.members:
            if member.agent:
                try:
                    member.agent.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    member.agent.kill()
            pid = member.mysqld_pid()
            if pid:
                os.kill(pid, signal.SIGKILL)
            self._wait_gone(member)

    def writer(self) -> str | None:
        values = self.client.get(f"{self.prefix}/writer")
        return values[0].decode() if values else None

    def member(self, name: str) -> Member:
        return next(m for m in self.members if m.name == name)

    def root(self, member: Member) -> pymysql.connections.Connection:
        return pymysql.connect(unix_socket=member.socket, user="root", password=ROOT_PASSWORD, autocommit=True,
                               connect_timeout=3, read_timeout=5)

    def status(self, member: Member) -> dict[str, str] | None:
        try:
            with self.root(member) as connection, connection.cursor() as cursor:
                cursor.execute("SHOW GLOBAL STATUS LIKE 'wsrep_%'")
                return dict(cursor.fetchall())
        except pymysql.MySQLError:
            return None

    def create_ledger(self) -> None:
        """The table the test clients write to, and their unprivileged user (read_only binds it)."""
        with self.root(self.member(self.writer())) as connection, connection.cursor() as cursor:
            cursor.execute("CREATE DATABASE ledger")
            cursor.execute("CREATE TABLE ledger.entries (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
                           "sequence BIGINT NOT NULL UNIQUE, node VARCHAR(64) NOT NULL)")
            cursor.execute(f"CREATE USER '{APP_USER}'@'%' IDENTIFIED BY '{APP_PASSWORD}'")
            cursor.execute(f"GRANT ALL PRIVILEGES ON ledger.* TO '{APP_USER}'@'%'")

    def check_agents(self) -> None:
        for member in self.members:
            if member.agent and member.agent.poll() is not None:
                raise AssertionError(f"the agent of {member.name} exited {member.agent.returncode}:\n"
                                     f"{self.log(member)}")

    def synced(self) -> list[str]:
        result = []
        for member in self.members:
            status = self.status(member) or {}
            if status.get("wsrep_local_state_comment") == "Synced" and status.get("wsrep_cluster_status") == "Primary":
                result.append(member.name)
        return result

    def log(self, member: Member, lines: int = 30) -> str:
        text = (member.root / "agent.log").read_text(errors="replace") if (member.root / "agent.log").exists() else ""
        return "\n".join(text.splitlines()[-lines:])
