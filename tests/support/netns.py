"""Network namespaces for partition tests: one namespace per member, each linked by a veth pair to
a bridge in the test's own namespace (where etcd, HAProxy and the test client run).

Cutting a member's link (its veth end on the bridge) partitions it from everything at once: its
peers, etcd and the proxy. Names carry the test process id, so parallel runs do not collide, and
`destroy` removes everything it made.
"""

from __future__ import annotations

import os
import subprocess


def ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


class Network:
    def __init__(self, count: int):
        tag = os.getpid() % 10000
        self.bridge = f"ccpbr{tag}"
        self.subnet = f"10.231.{tag % 250}"
        self.gateway = f"{self.subnet}.1"
        self.namespaces = [f"ccp{tag}-m{i}" for i in range(count)]
        self.links = [f"ccp{tag}m{i}" for i in range(count)]  # the bridge-side veth ends
        self.addresses = [f"{self.subnet}.{10 + i}" for i in range(count)]

    def create(self) -> "Network":
        ip("link", "add", self.bridge, "type", "bridge")
        ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")
        for namespace, link, address in zip(self.namespaces, self.links, self.addresses):
            ip("netns", "add", namespace)
            ip("link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", namespace)
            ip("link", "set", link, "master", self.bridge, "up")
            ip("-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
            ip("-n", namespace, "link", "set", "eth0", "up")
            ip("-n", namespace, "link", "set", "lo", "up")
        return self

    def exec_prefix(self, index: int) -> list[str]:
        """The command prefix that runs a program inside member `index`'s namespace."""
        return ["ip", "netns", "exec", self.namespaces[index]]

    def cut(self, index: int) -> None:
        ip("link", "set", self.links[index], "down")

    def heal(self, index: int) -> None:
        ip("link", "set", self.links[index], "up")

    def destroy(self) -> None:
        for namespace in self.namespaces:
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=10)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, timeout=10)
