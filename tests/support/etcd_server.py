"""A real etcd cluster (Debian's etcd-server) of one or more members on free ports, for the system
tests; members can be killed and restarted, and the leader found."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ccp_galera_agent.etcd import EtcdSettings, MultiEndpointClient
from localcluster.cluster import free_port

ETCD = shutil.which("etcd") or "/usr/bin/etcd"


@dataclass
class EtcdMember:
    name: str
    data_dir: Path
    host: str
    client_port: int
    peer_port: int
    process: subprocess.Popen | None = None

    @property
    def client_url(self) -> str:
        return f"http://{self.host}:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"http://{self.host}:{self.peer_port}"

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.client_port}"

    def status(self) -> dict | None:
        """The member's own view (its id, the leader's id), or None when it does not answer."""
        request = urllib.request.Request(f"{self.client_url}/v3/maintenance/status", data=b"{}", method="POST")
        try:
            with urllib.request.urlopen(request, timeout=1) as response:
                return json.loads(response.read())
        except OSError:
            return None


class EtcdCluster:
    def __init__(self, root: Path, size: int = 1, host: str = "127.0.0.1"):
        self.members = [EtcdMember(f"etcd-{i}", root / f"etcd-{i}", host, free_port(), free_port())
                        for i in range(size)]

    @property
    def endpoints(self) -> list[str]:
        return [member.endpoint for member in self.members]

    def settings(self) -> EtcdSettings:
        return EtcdSettings(tuple(self.endpoints))

    def client(self) -> MultiEndpointClient:
        return MultiEndpointClient(self.settings())

    def start_member(self, member: EtcdMember) -> None:
        initial = ",".join(f"{m.name}={m.peer_url}" for m in self.members)
        log = open(member.data_dir.parent / f"{member.name}.log", "ab")
        member.process = subprocess.Popen(
            [ETCD, f"--name={member.name}", f"--data-dir={member.data_dir}",
             f"--listen-client-urls={member.client_url}", f"--advertise-client-urls={member.client_url}",
             f"--listen-peer-urls={member.peer_url}", f"--initial-advertise-peer-urls={member.peer_url}",
             f"--initial-cluster={initial}", "--initial-cluster-state=new", "--initial-cluster-token=ccp-test",
             "--log-level=error"],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def start(self, timeout: float = 30) -> None:
        for member in self.members:
            member.data_dir.parent.mkdir(parents=True, exist_ok=True)
            self.start_member(member)
        self.wait_healthy(timeout)

    def wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.leader() is not None and all(m.status() for m in self.members if m.process):
                return
            time.sleep(0.1)
        raise RuntimeError("etcd did not become healthy")

    def leader(self) -> EtcdMember | None:
        for member in self.members:
            status = member.status() if member.process else None
            if status and status.get("leader") and status["leader"] == status["header"]["member_id"]:
                return member
        return None

    def kill(self, member: EtcdMember) -> None:
        if member.process and member.process.poll() is None:
            os.kill(member.process.pid, signal.SIGKILL)
            member.process.wait(timeout=10)
        member.process = None

    def stop(self) -> None:
        for member in self.members:
            if member.process and member.process.poll() is None:
                member.process.terminate()
                member.process.wait(timeout=15)
            member.process = None
