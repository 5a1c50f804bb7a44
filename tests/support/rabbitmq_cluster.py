"""Three real RabbitMQ brokers (Debian's rabbitmq-server) on one host, clustered, configured as
the operator configures them: its definitions.json (vhosts, users, permissions, policies) and its
rabbitmq.conf, with the Kubernetes-specific lines (peer discovery, listeners) replaced.

Each broker listens on its own loopback address (127.0.0.2, .3, .4) with one AMQP port, so a
transport URL rendered by the operator for "hosts on one port" reaches them as it is.

Two generations: the host's broker (Debian 12: 3.10) and Debian 13's (4.0), installed by
hack/install-rabbitmq4.sh into a trixie directory and run there with chroot, in a private mount
namespace with its own /proc mount (the broker reads its memory use from /proc).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ccp_operator.reconcile.rabbitmq import ADMIN_USER, RabbitMQReconciler, definitions
from ccp_operator.services import rabbitmq

from .etcd_server import free_port

ADMIN_PASSWORD = "admin-Pa55"
PASSWORDS = {user: f"{user}-Pa55" for user in (*rabbitmq.USERS, *rabbitmq.CONSUMERS)}
COOKIE = "CCPTESTCOOKIEFORRABBITMQ"
K8S_ONLY = ("cluster_formation.", "listeners.", "management.tcp.port", "load_definitions")


TRIXIE = Path(os.environ.get("CCP_RABBITMQ4_ROOT", Path.home() / ".cache/openstack-ccp/debian-trixie-rabbitmq"))


@dataclass(frozen=True)
class Runtime:
    """Where a broker generation's programs are: the host (root None) or a Debian directory."""

    root: Path | None = None

    def host_path(self, inner: str) -> Path:
        return Path(inner) if self.root is None else self.root / inner.lstrip("/")

    def sbin(self) -> str:
        """The broker's sbin directory, as seen by the broker."""
        found = sorted(glob.glob(str(self.host_path("/usr/lib/rabbitmq/lib")) + "/rabbitmq_server-*/sbin"))
        if not found:
            where = "hack/install-system-deps.sh" if self.root is None else "hack/install-rabbitmq4.sh"
            raise RuntimeError(f"rabbitmq-server is not installed: run {where}")
        return found[-1] if self.root is None else "/" + str(Path(found[-1]).relative_to(self.root))

    def version(self) -> str:
        """major.minor of the broker, from its directory name."""
        return ".".join(Path(self.sbin()).parent.name.removeprefix("rabbitmq_server-").split(".")[:2])

    def command(self, program: str, *args: str) -> list[str]:
        argv = [f"{self.sbin()}/{program}", *args]
        if self.root is None:
            return argv
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                f'mount -t proc proc "{self.root}/proc" && exec chroot "{self.root}" "$@"', "sh", *argv]


HOST, DEBIAN_13 = Runtime(), Runtime(TRIXIE)


@dataclass
class Broker:
    index: int
    root: Path
    host: str
    dist_port: int
    management_port: int
    process: subprocess.Popen | None = None

    @property
    def node(self) -> str:
        return f"rabbit{self.index}@localhost"


class RabbitCluster:
    def __init__(self, root: Path, replication: str = rabbitmq.QUORUM, size: int = 3, runtime: Runtime = HOST):
        self.runtime = runtime
        # The brokers see their files at the same path inside their runtime.
        self.inner_root = str(root) if runtime.root is None else f"/tmp/ccp-rabbit-{uuid.uuid4().hex[:8]}"
        root = runtime.host_path(self.inner_root)
        self.root = root
        self.replication = replication
        self.port = free_port()
        self.brokers = [Broker(i, root / f"rabbit{i}", f"127.0.0.{i + 2}", free_port(), free_port())
                        for i in range(size)]
        self.home = root / "home"
        self.reconciler = RabbitMQReconciler(None, {
            "apiVersion": "ccp.openstack.org/v1alpha1", "kind": "RabbitMQ", "status": {},
            "spec": {"replicas": size, "brokerVersion": runtime.version(), "notificationReplication": replication},
            "metadata": {"name": "cloud", "namespace": "openstack", "uid": "u-1", "generation": 1}})

    @property
    def hosts(self) -> list[str]:
        return [broker.host for broker in self.brokers]

    def inner(self, path: Path) -> str:
        """A host path under the cluster's root, as the brokers see it."""
        return str(Path(self.inner_root) / path.relative_to(self.root))

    def env(self, broker: Broker) -> dict[str, str]:
        base = Path(self.inner(broker.root))
        return {**os.environ, "HOME": self.inner(self.home), "RABBITMQ_NODENAME": broker.node,
                "RABBITMQ_NODE_IP_ADDRESS": broker.host, "RABBITMQ_NODE_PORT": str(self.port),
                "RABBITMQ_DIST_PORT": str(broker.dist_port), "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
                "RABBITMQ_LOG_BASE": str(base / "log"), "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
                "RABBITMQ_PID_FILE": str(base / "pid"), "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
                "RABBITMQ_ADVANCED_CONFIG_FILE": str(base / "advanced.config")}

    def config(self, broker: Broker) -> str:
        rendered = [line for line in self.reconciler.config_file().splitlines()
                    if not line.startswith(K8S_ONLY)]
        nodes = [f"cluster_formation.classic_config.nodes.{b.index + 1} = {b.node}" for b in self.brokers]
        return "\n".join([*rendered, "cluster_formation.peer_discovery_backend = classic_config", *nodes,
                          f"listeners.tcp.default = {broker.host}:{self.port}",
                          f"management.tcp.ip = {broker.host}", f"management.tcp.port = {broker.management_port}",
                          f"load_definitions = {self.inner(self.root / 'definitions.json')}", ""])

    def prepare(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        cookie = self.home / ".erlang.cookie"
        cookie.write_text(COOKIE)
        cookie.chmod(0o400)
        (self.root / "definitions.json").write_text(definitions(ADMIN_PASSWORD, PASSWORDS, self.replication))
        for broker in self.brokers:
            broker.root.mkdir(parents=True, exist_ok=True)
            (broker.root / "rabbitmq.conf").write_text(self.config(broker))
            (broker.root / "enabled_plugins").write_text("[rabbitmq_management].\n")
            (broker.root / "rabbitmq-env.conf").write_text("")
            (broker.root / "advanced.config").write_text("[].\n")

    def start(self, broker: Broker) -> None:
        log = open(broker.root / "stdout.log", "ab")
        broker.process = subprocess.Popen(self.runtime.command("rabbitmq-server"), env=self.env(broker),
                                          stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def start_all(self, timeout: float = 180) -> None:
        self.prepare()
        for broker in self.brokers:
            self.start(broker)
        self.wait_running(len(self.brokers), timeout)

    def ctl(self, broker: Broker, *args: str, tool: str = "rabbitmqctl", timeout: float = 60,
            check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(self.runtime.command(tool, "-n", broker.node, *args), env=self.env(broker),
                              capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} on {broker.node}: {done.stdout}{done.stderr}")
        return done

    def running_nodes(self, via: Broker) -> list[str]:
        done = self.ctl(via, "eval", "rabbit_nodes:all_running().", check=False, timeout=30)
        if done.returncode != 0:
            return []
        return sorted(part.strip(" '[]\n") for part in done.stdout.split(",") if "@" in part)

    def wait_running(self, count: int, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        live = [b for b in self.brokers if b.process and b.process.poll() is None]
        restarted: set[int] = set()
        while time.monotonic() < deadline:
            for broker in live:
                if broker.process.poll() is not None:
                    # 3.10 sometimes fails its boot in file_handle_cache (ensure_working_fhc): one
                    # more start, and a second failure is an error.
                    if broker.index in restarted:
                        raise RuntimeError(f"{broker.node} exited:\n{self.log(broker)}")
                    restarted.add(broker.index)
                    self.start(broker)
            if live and len(self.running_nodes(live[0])) >= count:
                return
            time.sleep(1)
        raise RuntimeError(f"the brokers did not form a cluster of {count}:\n" +
                           "\n".join(self.log(b) for b in self.brokers))

    def queues(self, vhost: str) -> list[dict]:
        """The broker's own queue listing: name, type, durability, policy, quorum members and
        leader, classic mirrors."""
        broker = next(b for b in self.brokers if b.process and b.process.poll() is None)
        mirrors = ("slave_pids", "synchronised_slave_pids") if rabbitmq.major(self.runtime.version()) < 4 else ()
        done = self.ctl(broker, "list_queues", "-q", "-p", vhost, "--formatter", "json", "name", "type", "durable",
                        "policy", "members", "leader", "online", *mirrors)
        return json.loads(done.stdout or "[]")

    def broker_of(self, node: str) -> Broker:
        return next(b for b in self.brokers if b.node == node)

    def kill(self, broker: Broker) -> None:
        """kill -9 of the broker's Erlang VM (the pod dies)."""
        pid_file = broker.root / "pid"
        pids = {broker.process.pid} if broker.process else set()
        if pid_file.exists() and pid_file.read_text().strip().isdigit():
            pids.add(int(pid_file.read_text().strip()))
        for pid in pids:
            try:
                os.killpg(os.getpgid(pid), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if broker.process:
            broker.process.wait(timeout=30)
        broker.process = None

    def stop_all(self) -> None:
        for broker in self.brokers:
            if broker.process and broker.process.poll() is None:
                self.kill(broker)
        if self.runtime.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)  # not under the test's tmp_path

    def log(self, broker: Broker, lines: int = 30) -> str:
        text = ""
        for path in sorted((broker.root / "log").glob("*.log")) + [broker.root / "stdout.log"]:
            if path.exists():
                text += path.read_text(errors="replace")
        return f"--- {broker.node}\n" + "\n".join(text.splitlines()[-lines:])

    def admin(self) -> tuple[str, str]:
        return ADMIN_USER, ADMIN_PASSWORD
