"""A real node beside KWOK's: a kubelet built from the pinned Kubernetes that runs pods for real.

The node has its own containerd instance (socket and state under the cluster's state directory,
never the docker daemon's; its root, the images, in a cache shared by the clusters this machine
starts one after another, so that each does not import them again), Debian's runc and CNI plugins on a bridge of its own with
a pod range, kube-proxy in iptables mode so ClusterIP Services work, and CoreDNS as a Deployment
on it with the kubelet's clusterDNS pointing at its Service. Its serving certificate is signed by
the cluster CA, so `kubectl logs`, `exec` and `port-forward` work; its local volumes are
directories under the state directory.

Nothing leaves this machine: the node's address is the bridge's own (the API server advertises
it to pods through the `kubernetes` Service), CoreDNS answers only for the cluster domain, pod
traffic is never masqueraded, and a guard chain rejects forwarded pod traffic to any address
outside the pod range. `teardown` undoes every change to the host: containers, processes,
mounts, cgroups, the bridge, iptables chains and the forwarding switch.

Settings measured on this kind of machine (cgroup v1, no negative oom_score_adj, loopback
addresses unusable as node addresses) are explained where they are made.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import grpc
import yaml

from . import images, pki
from .paths import CACHE_ROOT
from .processes import ProcessTable

# The pod network of the cluster and of its one real node. Apart from KWOK's (10.128.0.0/12),
# the Service range (10.96.0.0/16) and the network-namespace tests' bridges (10.231.0.0/16).
CLUSTER_POD_CIDR = "10.244.0.0/16"
NODE_POD_SUBNET = "10.244.0.0/24"
# The bridge's address, and so the node's: a loopback address leaves a node without an address
# (the kubelet skips it), and this machine offers no dummy interfaces.
NODE_IP = "10.244.0.1"
BRIDGE = "ccp-cni0"
GUARD_CHAIN = "CCP-POD-EGRESS"
DNS_SERVICE_IP = "10.96.0.10"
# Load balancers' IPs (localcluster.loadbalancer), routed to the bridge so that they never leave
# the machine: kube-proxy forwards each to its Service.
LOAD_BALANCER_RANGE = "10.245.0.0/24"
CLUSTER_DOMAIN = "cluster.local"
CNI_BIN_DIR = "/usr/lib/cni"
RUNC = "/usr/sbin/runc"
# The programs the node runs, in the order they start (and stop in reverse).
PROCESSES = ("containerd", "kubelet", "kube-proxy", "load-balancer")
# Chains made by the node's programs: kube-proxy's and the kubelet's (KUBE-), the portmap
# plugin's (CNI-) and this module's guard (CCP-).
CHAIN_PREFIXES = ("KUBE-", "CNI-", "CCP-")
IPTABLES_TABLES = ("filter", "nat", "mangle", "raw")
KUBELET_PORT, KUBELET_HEALTHZ_PORT = 10250, 10248
KUBE_PROXY_HEALTHZ_PORT, KUBE_PROXY_METRICS_PORT = 10256, 10249
HEALTH_URLS = {"kubelet": f"http://127.0.0.1:{KUBELET_HEALTHZ_PORT}/healthz",
               "kube-proxy": f"http://127.0.0.1:{KUBE_PROXY_HEALTHZ_PORT}/healthz"}
CGROUP_ROOT = Path("/sys/fs/cgroup")
# containerd's root (content, snapshots, metadata) and the record of the images imported into it.
# Only one real node runs on a machine at a time (its bridge is the machine's), and a node leaves
# no container in it when it stops.
IMAGE_STORE = Path(os.environ.get("CCP_NODE_IMAGE_STORE", CACHE_ROOT / "real-node-images"))
KUBEPODS = "kubepods"
# What the operator's per-node components leave on the node beyond their containers: neutron's
# agents' network namespaces, the tun devices of Open vSwitch's userspace datapath (its bridges,
# and the ports neutron and os-vif name), and the host directories they write.
AGENT_NAMESPACE_PREFIXES = ("qdhcp-", "qrouter-", "snat-", "fip-")
SWITCH_DEVICES = ("br-int", "br-tun", "br-ex", "ovs-netdev")
SWITCH_PORT_PREFIXES = ("tap", "qr-", "qg-", "ha-", "sg-", "fg-")
# Host directories those components mount that are the host's own, never removed.
HOST_OWN_PATHS = frozenset({"/dev", "/sys/fs/cgroup", "/lib/modules", "/run/netns", "/run/systemd/machines"})
HOST_PATHS_RECORD = "host-paths.json"  # the pods' host directories that did not exist before the node
# Where network namespaces are named (`ip netns`). The agents' pods mount it with Bidirectional
# propagation, which the kubelet allows only on a shared mount; `ip netns` makes it one, so the
# node does as it does when the host has none.
NETNS_DIR = Path("/run/netns")
NETNS_RECORD = "netns-mount.json"  # the node made NETNS_DIR a shared mount (and undoes it)


class RealNodeError(RuntimeError):
    """The real node could not be set up on this machine."""


@dataclass(frozen=True)
class NodeSpec:
    """The real node of a profile: its name, the labels of its role, and its local volumes."""

    name: str
    labels: dict[str, str]
    volume_count: int
    volume_size: str


def run(*argv: str, check: bool = True, timeout: float = 60, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout)
    if check and done.returncode != 0:
        raise RealNodeError(f"{' '.join(argv)}: {done.stderr.decode(errors='replace').strip()}")
    return done


class RealNode:
    def __init__(self, state_dir: Path, spec: NodeSpec, processes: ProcessTable, binary: Callable[[str], str],
                 progress: Callable[[str], None] = print):
        self.spec = spec
        self.dir = state_dir / "realnode"
        self.pki = state_dir / "pki"
        self.admin_kubeconfig = state_dir / "kubeconfig"
        self.processes = processes
        self.binary = binary
        self.progress = progress

    # -- paths -------------------------------------------------------------------------------

    @property
    def socket(self) -> Path:
        return self.dir / "containerd" / "containerd.sock"

    @property
    def kubelet_dir(self) -> Path:
        return self.dir / "kubelet"

    def volume_path(self, disk: int) -> Path:
        return self.dir / "disks" / f"disk{disk}"

    def ctr(self, *args: str, timeout: float = 120, stdin: bytes | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
        return run("ctr", "--address", str(self.socket), "--namespace", "k8s.io", *args, timeout=timeout,
                   stdin=stdin, check=check)

    # -- start -------------------------------------------------------------------------------

    def check_host(self) -> None:
        """Refuses, with the reason, a machine where the node cannot run."""
        if os.geteuid() != 0:
            raise RealNodeError("a real node needs root (containerd, network and cgroups)")
        for program in ("containerd", "ctr", "containerd-shim-runc-v2", "iptables", "iptables-save", "conntrack"):
            if run("sh", "-c", f"command -v {program}", check=False).returncode != 0:
                raise RealNodeError(f"{program} is missing: run hack/install-system-deps.sh")
        for path in (RUNC, f"{CNI_BIN_DIR}/bridge", f"{CNI_BIN_DIR}/host-local", f"{CNI_BIN_DIR}/loopback"):
            if not Path(path).exists():
                raise RealNodeError(f"{path} is missing: run hack/install-system-deps.sh")
        if Path(f"/sys/class/net/{BRIDGE}").exists() and not (self.dir / "network.json").exists():
            raise RealNodeError(f"bridge {BRIDGE} exists already: another local cluster with a real node runs "
                                "on this machine (stop it with its `ccp-localcluster down`)")

    def prepare(self, apiserver_port: int) -> None:
        """Credentials, configuration files and the node's network, before the API server starts
        (it advertises the node's address)."""
        self.check_host()
        pki.create_node(self.pki, self.spec.name, NODE_IP)
        IMAGE_STORE.mkdir(parents=True, exist_ok=True)
        for directory in ("containerd", "kubelet", "pod-logs", "cni/net.d", "cni/ipam", "disks"):
            (self.dir / directory).mkdir(parents=True, exist_ok=True)
        for disk in range(self.spec.volume_count):
            self.volume_path(disk).mkdir(parents=True, exist_ok=True)
        self._write_configs(apiserver_port)
        record = self.dir / HOST_PATHS_RECORD
        if not record.exists():  # a node started again keeps its first record
            record.write_text(json.dumps([path for path in pod_state_dirs() if not Path(path).exists()]))
        self._network_up()
        self._share_netns_dir()

    def start(self) -> None:
        """Starts containerd, loads the node's images, then the kubelet and kube-proxy."""
        for name in PROCESSES:
            if self.processes.alive(name):
                self.progress(f"{name}: already running")
                continue
            step = time.monotonic()
            self.processes.start(name, self._argv(name), cwd=self.dir)
            if name == "containerd":
                self._wait_containerd()
                if self._forget_containers():
                    # CRI loaded them when it started: it must start again without them.
                    self.processes.stop_all(["containerd"])
                    self.processes.start(name, self._argv(name), cwd=self.dir)
                    self._wait_containerd()
                self.load_images([images.PAUSE, images.COREDNS])
            elif name in HEALTH_URLS:
                self._wait_healthy(name)
            self.progress(f"{name}: started in {time.monotonic() - step:.1f}s")

    def _wait_healthy(self, name: str, timeout: float = 120) -> None:
        problem = self.processes.wait_http(name, HEALTH_URLS[name], timeout)
        if problem:
            raise RealNodeError(problem)

    def _wait_containerd(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        problem = "no socket yet"
        while time.monotonic() < deadline:
            if self.processes.exited("containerd"):
                raise RealNodeError(f"containerd exited during start-up:\n{self.processes.log_tail('containerd')}")
            if self.socket.exists():
                problem = cri_problem(self.socket)
                if problem is None:
                    return
            time.sleep(0.2)
        raise RealNodeError(f"containerd's CRI did not answer on {self.socket} within {timeout:.0f}s ({problem})")

    def _forget_containers(self) -> list[str]:
        """Removes from the shared store the containers (and their snapshots) an earlier node
        left in it; returns their ids. Its images stay."""
        ids = self.ctr("containers", "list", "--quiet").stdout.decode().split()
        for container in ids:
            self.ctr("containers", "delete", container, check=False)
        return ids

    def load_images(self, names: list[str], release: str = images.DEFAULT_RELEASE) -> list[str]:
        """Builds the named images (docker's cache makes an unchanged one quick) and imports into
        the node's containerd, in one stream, those it does not hold at the same image id (the
        layers they share are sent once); returns their references."""
        record = IMAGE_STORE / "images.json"
        loaded = json.loads(record.read_text()) if record.exists() else {}
        held = set(self._held_images())
        loaded = {reference: image_id for reference, image_id in loaded.items() if reference in held}
        references = [images.build(name, release, progress=self.progress) for name in names]
        ids = {reference: images.image_id(reference) for reference in references}
        missing = {reference: image_id for reference, image_id in ids.items() if loaded.get(reference) != image_id}
        if missing:
            step = time.monotonic()
            self._import(sorted(missing))
            loaded.update(missing)
            record.write_text(json.dumps(loaded, indent=2))
            self.progress(f"{len(missing)} image(s) loaded into the node in {time.monotonic() - step:.1f}s")
        return references

    def _held_images(self) -> list[str]:
        """The references the node's containerd holds now (a record of loads can outlive an image)."""
        listed = subprocess.run(["ctr", "--address", str(self.socket), "--namespace", "k8s.io", "images", "list",
                                 "--quiet"], capture_output=True, text=True, timeout=60)
        if listed.returncode != 0:
            raise RealNodeError(f"listing the node's images: {listed.stderr.strip()}")
        return listed.stdout.split()

    def _import(self, references: list[str]) -> None:
        """`docker save` streamed into the node's containerd."""
        save = subprocess.Popen([images.DOCKER, "save", *references], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        imported = subprocess.run(["ctr", "--address", str(self.socket), "--namespace", "k8s.io", "images", "import",
                                   "-"], stdin=save.stdout, capture_output=True, timeout=1800)
        save.stdout.close()
        saved = save.wait(timeout=60)
        if saved != 0 or imported.returncode != 0:
            raise RealNodeError(f"loading {', '.join(references)} into the node: "
                                f"{save.stderr.read().decode(errors='replace')}"
                                f"{imported.stderr.decode(errors='replace')}".strip())

    # -- configuration -----------------------------------------------------------------------

    def _write_configs(self, apiserver_port: int) -> None:
        server = f"https://127.0.0.1:{apiserver_port}"
        for stem, identity in (("kubelet", pki.node_identity(self.spec.name)), ("kube-proxy", pki.KUBE_PROXY)):
            pki.write_kubeconfig(self.dir / f"{stem}.kubeconfig", server, self.pki, identity)
        (self.dir / "containerd" / "config.toml").write_text(containerd_config(self.dir, IMAGE_STORE / "root",
                                                                                images.reference(images.PAUSE)))
        (self.dir / "cni" / "net.d" / "10-ccp-pods.conflist").write_text(json.dumps(cni_config(self.dir), indent=2))
        # Pods of dnsPolicy Default get no nameserver: nothing resolves names outside the cluster.
        (self.dir / "resolv.conf").write_text("")
        (self.dir / "kubelet.yaml").write_text(yaml.safe_dump(kubelet_config(self.dir, self.pki, self.spec.name,
                                                                             self.socket), sort_keys=False))
        (self.dir / "kube-proxy.yaml").write_text(yaml.safe_dump(kube_proxy_config(self.dir, self.spec.name),
                                                                 sort_keys=False))

    def _argv(self, name: str) -> list[str]:
        if name == "containerd":
            return ["/usr/bin/containerd", f"--config={self.dir / 'containerd' / 'config.toml'}", "--log-level=warn"]
        if name == "kubelet":
            labels = ",".join(f"{key}={value}" for key, value in sorted(self.spec.labels.items()))
            return [self.binary("kubelet"), f"--config={self.dir / 'kubelet.yaml'}",
                    f"--kubeconfig={self.dir / 'kubelet.kubeconfig'}", f"--root-dir={self.kubelet_dir}",
                    f"--cert-dir={self.kubelet_dir / 'pki'}", f"--hostname-override={self.spec.name}",
                    f"--node-ip={NODE_IP}", f"--node-labels={labels}", "--v=1"]
        if name == "kube-proxy":
            return [self.binary("kube-proxy"), f"--config={self.dir / 'kube-proxy.yaml'}", "--v=1"]
        if name == "load-balancer":
            return [sys.executable, "-m", "localcluster.loadbalancer", f"--kubeconfig={self.admin_kubeconfig}",
                    f"--range={LOAD_BALANCER_RANGE}"]
        raise ValueError(name)

    # -- network -----------------------------------------------------------------------------

    def _network_up(self) -> None:
        """The bridge with the node's address, forwarding on (recorded, to restore it), and the
        guard chain that keeps pod traffic on this machine."""
        record = self.dir / "network.json"
        if not record.exists():
            forwarding = Path("/proc/sys/net/ipv4/ip_forward").read_text().strip()
            record.write_text(json.dumps({"ip_forward": forwarding}))
        if not Path(f"/sys/class/net/{BRIDGE}").exists():
            run("ip", "link", "add", BRIDGE, "type", "bridge")
        if NODE_IP not in run("ip", "-4", "-o", "addr", "show", "dev", BRIDGE).stdout.decode():
            run("ip", "addr", "add", f"{NODE_IP}/24", "dev", BRIDGE)
        run("ip", "link", "set", BRIDGE, "up")
        run("ip", "route", "replace", LOAD_BALANCER_RANGE, "dev", BRIDGE)  # gone with the bridge
        Path("/proc/sys/net/ipv4/ip_forward").write_text("1")
        if run("iptables", "-w", "-n", "-L", GUARD_CHAIN, check=False).returncode != 0:
            run("iptables", "-w", "-N", GUARD_CHAIN)
            run("iptables", "-w", "-A", GUARD_CHAIN, "-s", CLUSTER_POD_CIDR, "!", "-d", CLUSTER_POD_CIDR,
                "-j", "REJECT", "--reject-with", "icmp-net-prohibited")
        if run("iptables", "-w", "-C", "FORWARD", "-j", GUARD_CHAIN, check=False).returncode != 0:
            run("iptables", "-w", "-I", "FORWARD", "1", "-j", GUARD_CHAIN)

    # -- teardown ----------------------------------------------------------------------------

    def teardown(self) -> list[str]:
        """Stops the node and undoes its changes to the host; returns the programs stopped."""
        stopped = self.processes.stop_all(["load-balancer", "kubelet"])
        # Pods first (containerd would only ask them to stop, one by one), then their shims.
        self._kill_leftovers()
        if self.processes.alive("containerd"):
            self._forget_containers()
        stopped += self.processes.stop_all(["kube-proxy", "containerd"])
        if (self.dir / "kube-proxy.yaml").exists():
            # Its own removal of its rules; remove_chains below sweeps whatever is left.
            run(self.binary("kube-proxy"), "--cleanup", f"--config={self.dir / 'kube-proxy.yaml'}", check=False)
        self._kill_leftovers()
        self._remove_pod_host_state()
        self._unmount_all()
        self._remove_cgroups()
        self._network_down()
        return stopped

    def _share_netns_dir(self) -> None:
        if is_shared_mount(NETNS_DIR):
            return
        NETNS_DIR.mkdir(parents=True, exist_ok=True)
        if str(NETNS_DIR) not in _mount_points():
            run("mount", "--bind", str(NETNS_DIR), str(NETNS_DIR))
            (self.dir / NETNS_RECORD).write_text(json.dumps({"mounted": str(NETNS_DIR)}))
        run("mount", "--make-shared", str(NETNS_DIR))

    def _remove_pod_host_state(self) -> None:
        """Removes what the pods made on the host outside their containers: neutron's namespaces,
        the switch's tun devices, and the host directories that did not exist before the node (a
        stale Open vSwitch database would give the next node the old switch's ports)."""
        for namespace in agent_namespaces():
            run("ip", "netns", "delete", namespace, check=False)
        netns_record = self.dir / NETNS_RECORD
        if netns_record.exists() and run("umount", str(NETNS_DIR), check=False).returncode == 0:
            netns_record.unlink()
        for device in switch_devices():
            run("ip", "link", "del", device, check=False)
        record = self.dir / HOST_PATHS_RECORD
        if record.exists():
            paths = json.loads(record.read_text())
            for path in paths:
                shutil.rmtree(path, ignore_errors=True)
            if not any(Path(path).exists() for path in paths):
                record.unlink()

    def shim_pids(self) -> set[int]:
        """containerd's shims of this node: they name its socket."""
        address = str(self.socket).encode()
        return {pid for pid, argv in _command_lines() if address in argv}

    def _kill_leftovers(self) -> None:
        """Kills every process in the node's pod cgroups (containers and sandboxes) and
        containerd's shims."""
        victims = self.shim_pids() | pod_pids()
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in victims):
            for pid in victims:
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
            time.sleep(0.1)

    def _unmount_all(self) -> None:
        """Unmounts everything mounted under the node's directory, deepest first."""
        prefix = str(self.dir) + "/"
        for _ in range(5):
            mounts = [point for point in _mount_points() if point.startswith(prefix)]
            if not mounts:
                return
            for point in sorted(mounts, key=len, reverse=True):
                if run("umount", point, check=False).returncode != 0:
                    run("umount", "-l", point, check=False)
        left = [point for point in _mount_points() if point.startswith(prefix)]
        if left:
            raise RealNodeError(f"cannot unmount {left[:3]}")

    def _remove_cgroups(self) -> None:
        for directory in sorted(_kubepods_dirs(), key=lambda path: len(path.parts), reverse=True):
            try:
                directory.rmdir()
            except OSError:
                pass

    def _network_down(self) -> None:
        remove_chains(CHAIN_PREFIXES)
        if Path(f"/sys/class/net/{BRIDGE}").exists():
            run("ip", "link", "del", BRIDGE, check=False)
        record = self.dir / "network.json"
        if record.exists():
            Path("/proc/sys/net/ipv4/ip_forward").write_text(json.loads(record.read_text())["ip_forward"])
            record.unlink()


# -- host helpers --------------------------------------------------------------------------------

def is_shared_mount(path: Path, mountinfo: str | None = None) -> bool:
    """Whether `path` is a mount point with shared propagation (mountinfo's `shared:` tag)."""
    mountinfo = Path("/proc/self/mountinfo").read_text() if mountinfo is None else mountinfo
    for line in mountinfo.splitlines():
        fields = line.split()
        if fields[4] == str(path):
            optional = fields[6:fields.index("-")]
            return any(tag.startswith("shared:") for tag in optional)
    return False


def _mount_points() -> list[str]:
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4]
        points.append(point.encode().decode("unicode_escape"))
    return points


def _command_lines():
    """(pid, argv) of every process, each argument as bytes."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                yield int(entry.name), (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue


def pod_pids() -> set[int]:
    """The processes in the kubelet's pod cgroups."""
    pids: set[int] = set()
    for directory in _kubepods_dirs():
        try:
            pids.update(int(pid) for pid in (directory / "cgroup.procs").read_text().split())
        except OSError:
            continue
    return pids


def _kubepods_dirs() -> list[Path]:
    """The kubelet's pod cgroups in every cgroup v1 hierarchy (and the unified one)."""
    found = []
    if not CGROUP_ROOT.exists():
        return found
    roots = [CGROUP_ROOT / KUBEPODS] + [hierarchy / KUBEPODS for hierarchy in CGROUP_ROOT.iterdir()]
    for root in roots:
        if root.is_dir():
            found += [Path(directory) for directory, _, _ in os.walk(root)]
    return found


def iptables_chains(binary: str, table: str) -> list[str]:
    done = run(binary + "-save", "-t", table, check=False)
    return [line[1:].split()[0] for line in done.stdout.decode().splitlines() if line.startswith(":")]


def remove_chains(prefixes: tuple[str, ...]) -> None:
    """Removes every chain whose name has one of `prefixes`, and the rules that jump to them, in
    every table of iptables and ip6tables."""
    for binary in ("iptables", "ip6tables"):
        for table in IPTABLES_TABLES:
            chains = iptables_chains(binary, table)
            ours = [chain for chain in chains if chain.startswith(prefixes)]
            if not ours:
                continue
            for chain in chains:
                if chain in ours:
                    continue
                for rule in run(binary, "-w", "-t", table, "-S", chain, check=False).stdout.decode().splitlines():
                    words = rule.split()
                    if "-j" in words and words[words.index("-j") + 1] in ours:
                        run(binary, "-w", "-t", table, "-D", *words[1:], check=False)
            for chain in ours:
                run(binary, "-w", "-t", table, "-F", chain, check=False)
            for chain in ours:
                run(binary, "-w", "-t", table, "-X", chain, check=False)


def leftovers(state_dir: Path) -> list[str]:
    """What of a real node is still on the host (for tests of `down`): processes naming the state
    directory, mounts under it, the bridge, chains of the node's programs, pod cgroups."""
    marker = str(state_dir).encode()
    found = [f"process {pid}: {b' '.join(argv).decode(errors='replace')[:120]}"
             for pid, argv in _command_lines() if pid != os.getpid() and marker in b"\0".join(argv)]
    found += [f"mount {point}" for point in _mount_points() if point.startswith(str(state_dir) + "/")]
    if Path(f"/sys/class/net/{BRIDGE}").exists():
        found.append(f"bridge {BRIDGE}")
    for binary in ("iptables", "ip6tables"):
        for table in IPTABLES_TABLES:
            found += [f"{binary} chain {table}/{chain}" for chain in iptables_chains(binary, table)
                      if chain.startswith(CHAIN_PREFIXES)]
    found += [f"cgroup {directory}" for directory in _kubepods_dirs()]
    found += [f"network namespace {namespace}" for namespace in agent_namespaces()]
    found += [f"switch device {device}" for device in switch_devices()]
    if (state_dir / "realnode" / NETNS_RECORD).exists():
        found.append(f"mount {NETNS_DIR}")
    record = state_dir / "realnode" / HOST_PATHS_RECORD
    if record.exists():
        found += [f"host directory {path}" for path in json.loads(record.read_text()) if Path(path).exists()]
    return found


def pod_state_dirs() -> list[str]:
    """The host directories the operator's per-node components write, but the host's own."""
    from ccp_operator.services import catalog
    paths = {host_path.path for definition in catalog.SERVICES for component in definition.components
             for host_path in component.host_paths if not host_path.read_only}
    return sorted(paths - HOST_OWN_PATHS)


def agent_namespaces() -> list[str]:
    netns = Path("/run/netns")
    return sorted(entry.name for entry in netns.iterdir()
                  if entry.name.startswith(AGENT_NAMESPACE_PREFIXES)) if netns.is_dir() else []


def is_switch_device(name: str, is_tun: bool) -> bool:
    """A tun device of Open vSwitch's userspace datapath (its bridges' and ports' own)."""
    return is_tun and (name in SWITCH_DEVICES or name.startswith(SWITCH_PORT_PREFIXES))


def switch_devices() -> list[str]:
    net = Path("/sys/class/net")
    return sorted(device.name for device in net.iterdir()
                  if is_switch_device(device.name, (device / "tun_flags").exists()))


# -- pure builders -------------------------------------------------------------------------------

def cri_problem(socket: Path) -> str | None:
    """None once containerd's CRI answers the kubelet's first call (RuntimeService.Version), else
    what it said. containerd serves its own API before its CRI plugin has loaded its state, and a
    kubelet started in between exits ("server is not initialized yet")."""
    with grpc.insecure_channel(f"unix://{socket}") as channel:
        version = channel.unary_unary("/runtime.v1.RuntimeService/Version",
                                      request_serializer=bytes, response_deserializer=bytes)
        try:
            version(b"", timeout=5)  # an empty VersionRequest
        except grpc.RpcError as error:
            return f"{error.code().name}: {error.details()}"
    return None


def containerd_config(node_dir: Path, root: Path, sandbox_image: str) -> str:
    """containerd 1.6's configuration (version 2) for the node's own instance."""
    base = node_dir / "containerd"
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return f"""version = 2
root = "{root}"
state = "{base / 'state'}"
# This machine refuses a negative oom_score_adj.
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
                    "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "{base / 'containerd.sock'}"

[ttrpc]
  address = "{base / 'containerd.sock.ttrpc'}"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{base / 'opt'}"

[{cri}]
  # No registry serves it here: the project's own pause program, built and loaded by `up`.
  sandbox_image = "{sandbox_image}"
  # Without it every sandbox fails ("can't get final child's PID from pipe: EOF"): this
  # machine refuses negative oom_score_adj, which containers of Guaranteed pods ask for.
  restrict_oom_score_adj = true
  # Pod network namespaces under the state directory, where teardown finds them.
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  max_container_log_line_size = 16384

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  BinaryName = "{RUNC}"
  Root = "{base / 'runc'}"
  SystemdCgroup = false

[{cri}.cni]
  bin_dir = "{CNI_BIN_DIR}"
  conf_dir = "{node_dir / 'cni' / 'net.d'}"
  max_conf_num = 1
"""


def cni_config(node_dir: Path) -> dict[str, Any]:
    """Bridge networking for the node's pods: a /24 of the cluster's pod range, the bridge as
    their gateway, hairpin so a pod reaches itself through a Service, and no masquerading."""
    return {
        "cniVersion": "1.0.0",
        "name": "ccp-pods",
        "plugins": [
            {"type": "bridge", "bridge": BRIDGE, "isGateway": True, "ipMasq": False, "hairpinMode": True,
             "ipam": {"type": "host-local", "dataDir": str(node_dir / "cni" / "ipam"),
                      "ranges": [[{"subnet": NODE_POD_SUBNET, "gateway": NODE_IP}]],
                      "routes": [{"dst": "0.0.0.0/0"}]}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }


def kubelet_config(node_dir: Path, pki_dir: Path, node: str, socket: Path) -> dict[str, Any]:
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        # This machine has cgroup v1, supported with a warning until Kubernetes 1.38, and
        # containerd is set up with cgroupfs (no systemd here).
        "failCgroupV1": False,
        "cgroupDriver": "cgroupfs",
        "containerRuntimeEndpoint": f"unix://{socket}",
        "address": NODE_IP,
        "port": KUBELET_PORT,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": KUBELET_HEALTHZ_PORT,
        "tlsCertFile": str(pki_dir / f"node-{node}-serving.crt"),
        "tlsPrivateKeyFile": str(pki_dir / f"node-{node}-serving.key"),
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                           "x509": {"clientCAFile": str(pki_dir / "ca.crt")}},
        "authorization": {"mode": "Webhook"},
        "clusterDomain": CLUSTER_DOMAIN,
        "clusterDNS": [DNS_SERVICE_IP],
        "resolvConf": str(node_dir / "resolv.conf"),
        "podLogsDir": str(node_dir / "pod-logs"),
        "staticPodPath": "",
        "oomScoreAdj": 0,
        # Images come from `docker save`, not from a registry: none may be collected. Nor may the
        # eviction manager reclaim disk, which it does by deleting images first (a full disk here
        # took the pause image with it): memory is the only eviction signal (the others unset
        # are off, not defaulted).
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {"memory.available": "200Mi"},
        "serializeImagePulls": False,
        "maxPods": 110,
        "failSwapOn": False,
    }


def kube_proxy_config(node_dir: Path, node: str) -> dict[str, Any]:
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(node_dir / "kube-proxy.kubeconfig")},
        "mode": "iptables",
        "hostnameOverride": node,
        "clusterCIDR": CLUSTER_POD_CIDR,
        "healthzBindAddress": f"127.0.0.1:{KUBE_PROXY_HEALTHZ_PORT}",
        "metricsBindAddress": f"127.0.0.1:{KUBE_PROXY_METRICS_PORT}",
        # NodePorts on the node's address only: never on loopback (that would need
        # route_localnet) nor on this machine's outside address.
        "nodePortAddresses": [f"{NODE_IP}/32"],
        "iptables": {"localhostNodePorts": False},
        "oomScoreAdj": 0,
        # Leave the host's conntrack settings as they are.
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
    }


def coredns_manifests(image: str, node: str) -> list[dict[str, Any]]:
    """CoreDNS on the real node: its account and permissions, its Corefile (the cluster domain
    only: no forwarding, so no query leaves this machine), the Deployment and the kube-dns Service
    at the kubelet's clusterDNS address."""
    labels = {"k8s-app": "kube-dns", "app.kubernetes.io/name": "coredns"}
    namespace = "kube-system"
    corefile = (".:53 {\n    errors\n    health {\n        lameduck 5s\n    }\n    ready\n"
                f"    kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{\n        pods insecure\n"
                "        fallthrough in-addr.arpa ip6.arpa\n        ttl 30\n    }\n"
                "    prometheus :9153\n    cache 30\n    reload\n    loadbalance\n}\n")
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "coredns", "namespace": namespace}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "system:coredns"},
         "rules": [{"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"],
                    "verbs": ["list", "watch"]},
                   {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "system:coredns"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:coredns"},
         "subjects": [{"kind": "ServiceAccount", "name": "coredns", "namespace": namespace}]},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": namespace},
         "data": {"Corefile": corefile}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "coredns", "namespace": namespace, "labels": labels},
         "spec": {
             "replicas": 1,
             "selector": {"matchLabels": {"k8s-app": "kube-dns"}},
             "template": {
                 "metadata": {"labels": labels},
                 "spec": {
                     "serviceAccountName": "coredns",
                     "priorityClassName": "system-cluster-critical",
                     "nodeSelector": {"kubernetes.io/hostname": node},
                     "dnsPolicy": "Default",
                     "containers": [{
                         "name": "coredns", "image": image, "imagePullPolicy": "Never",
                         "args": ["-conf", "/etc/coredns/Corefile"],
                         "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
                                   {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                                   {"name": "metrics", "containerPort": 9153, "protocol": "TCP"}],
                         "resources": {"requests": {"cpu": "50m", "memory": "70Mi"}, "limits": {"memory": "170Mi"}},
                         "volumeMounts": [{"name": "config", "mountPath": "/etc/coredns", "readOnly": True}],
                         "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}, "initialDelaySeconds": 10,
                                           "periodSeconds": 10, "failureThreshold": 5},
                         "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181}, "periodSeconds": 2},
                         "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                             "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}},
                     }],
                     "volumes": [{"name": "config", "configMap": {"name": "coredns"}}],
                 },
             },
         }},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "kube-dns", "namespace": namespace, "labels": labels},
         "spec": {"clusterIP": DNS_SERVICE_IP, "selector": {"k8s-app": "kube-dns"},
                  "ports": [{"name": "dns", "port": 53, "protocol": "UDP"},
                            {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                            {"name": "metrics", "port": 9153, "protocol": "TCP"}]}},
    ]
