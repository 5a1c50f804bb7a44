"""The test guest: Debian's cloud kernel with a busybox initramfs, small enough to boot under qemu's
emulation (TCG) in seconds, that reports on its serial console what a VM test must see.

Its init prints lines beginning with `ccp-guest:`: the kernel it runs, the address neutron's DHCP
gave it, the instance id it read from the metadata service (through neutron's metadata proxy and
nova's metadata API), every disk it has, as it appears (an attached volume), and its uptime
every HEARTBEAT_SECONDS. Built from
Debian's packages (the kernel of linux-image-cloud-amd64, busybox-static), which apt downloads,
into a cache; glance gets it as a kernel, a ramdisk and a small raw root disk that nova boots with
the kernel directly.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from .paths import CACHE_ROOT

CACHE = CACHE_ROOT / "guest"
KERNEL_PACKAGE = "linux-image-cloud-amd64"
# The kernel's drivers the guest loads (with what they depend on, from modules.dep): its NIC and
# disks are virtio devices on PCI.
MODULES = ("virtio_pci", "virtio_net", "virtio_blk")
MARKER = "ccp-guest:"
T = TypeVar("T")
ROOT_DISK_BYTES = 1 << 20
# The guest says how long it has been up this often: a console whose uptime only grows shows a
# guest that kept running (through an upgrade of its hypervisor) and was never restarted.
HEARTBEAT_SECONDS = 20
# The guest asks for a lease this many times, about 10 s each (5 requests 2 s apart), then says
# "address none"; a test waiting for its address waits longer than that to hear which it was.
DHCP_ATTEMPTS = 30
DHCP_SECONDS = DHCP_ATTEMPTS * 10

INIT = """#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say() { echo "@MARKER@ $*" > /dev/console; }
say "kernel $(uname -r)"
for module in @MODULES@; do insmod "/lib/modules/$module.ko"; done
ip link set lo up
ip link set eth0 up
address=""
for attempt in $(seq @DHCP_ATTEMPTS@); do
    udhcpc -i eth0 -n -q -t 5 -T 2 -s /bin/dhcp-script >/dev/null 2>&1 && address="$(cat /run/address)" && break
    say "dhcp attempt $attempt: no lease"
done
say "address ${address:-none}"
for attempt in $(seq 30); do
    # busybox's own timeout: its wget's -T crashes the static build (1.35).
    id="$(timeout 10 wget -q -O - http://169.254.169.254/openstack/latest/meta_data.json 2>/dev/null \\
          | sed -n 's/.*"uuid": *"\\([^"]*\\)".*/\\1/p')"
    if [ -n "$id" ]; then say "instance-id $id"; break; fi
    sleep 2
done
seen=""
beat=0
while true; do
    for disk in /sys/block/vd*; do
        name="${disk##*/}"
        case " $seen " in *" $name "*) ;; *) seen="$seen $name"; say "disk $name $(cat "$disk/size") sectors";; esac
    done
    [ $((beat % @BEAT@)) -eq 0 ] && say "uptime $(cut -d. -f1 /proc/uptime)"
    beat=$((beat + 1))
    sleep 1
done
"""

# udhcpc's script: the lease's address, prefix and router.
DHCP_SCRIPT = """#!/bin/busybox sh
case "$1" in
    bound|renew)
        ip addr flush dev "$interface"
        ip addr add "$ip/$mask" dev "$interface"
        [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
        echo "$ip" > /run/address;;
esac
"""


@dataclass(frozen=True)
class GuestFiles:
    kernel: Path
    ramdisk: Path
    root_disk: Path
    kernel_version: str


def build(cache: Path = CACHE) -> GuestFiles:
    """The guest's kernel, initramfs and root disk, built once per kernel version and init."""
    package = kernel_package()
    version = package.removeprefix("linux-image-")
    recipe = hashlib.sha256("\0".join((init_script(MODULES), DHCP_SCRIPT)).encode()).hexdigest()[:12]
    target = cache / f"{version}-{recipe}"  # a changed init makes a new initramfs
    files = GuestFiles(target / "vmlinuz", target / "initramfs.gz", target / "root.raw", version)
    if all(path.exists() for path in (files.kernel, files.ramdisk, files.root_disk)):
        return files
    with tempfile.TemporaryDirectory(prefix="ccp-guest-") as work:
        work_dir = Path(work)
        subprocess.run(["apt-get", "download", package, "busybox-static"], cwd=work_dir, check=True,
                       capture_output=True, timeout=600)
        tree = work_dir / "tree"
        for deb in work_dir.glob("*.deb"):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(tree)], check=True, timeout=300)
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tree / "boot" / f"vmlinuz-{version}", files.kernel)
        modules_dir = tree / "lib" / "modules" / version
        entries = initramfs_entries(tree / "bin" / "busybox", modules_dir)
        files.ramdisk.write_bytes(gzip.compress(newc_archive(entries)))
        with open(files.root_disk, "wb") as disk:
            disk.truncate(ROOT_DISK_BYTES)
    return files


def kernel_package() -> str:
    """The kernel package the cloud kernel's metapackage depends on (linux-image-<version>)."""
    done = subprocess.run(["apt-cache", "depends", KERNEL_PACKAGE], check=True, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        words = line.split()
        if words[:1] == ["Depends:"] and words[1].startswith("linux-image-"):
            return words[1]
    raise RuntimeError(f"{KERNEL_PACKAGE} depends on no kernel package: {done.stdout!r}")


def module_depends(module: bytes) -> list[str]:
    """The modules a kernel module needs first: its modinfo's `depends=` (the package ships no
    modules.dep, which its installation would make)."""
    marker = b"\0depends="
    at = module.find(marker)
    if at < 0:
        return []
    value = module[at + len(marker):module.index(b"\0", at + 1)].decode()
    return [name for name in value.split(",") if name]


def module_order(files: dict[str, bytes], wanted: tuple[str, ...]) -> list[str]:
    """Module names to load for `wanted`, each after what it depends on; `files`: module name ->
    its file's content."""
    order: list[str] = []

    def visit(name: str) -> None:
        for dependency in module_depends(files[name]):
            visit(dependency.replace("-", "_"))
        if name not in order:
            order.append(name)

    for name in wanted:
        visit(name)
    return order


def initramfs_entries(busybox: Path, modules_dir: Path) -> list[tuple[str, int, bytes]]:
    """(path, mode, content) of the initramfs; directories have empty content."""
    paths = {path.name.removesuffix(".ko").replace("-", "_"): path for path in modules_dir.rglob("*.ko")}
    files: dict[str, bytes] = {}

    def content(name: str) -> bytes:
        if name not in files:
            files[name] = paths[name].read_bytes()
            for dependency in module_depends(files[name]):
                content(dependency.replace("-", "_"))
        return files[name]

    for name in MODULES:
        content(name)
    names = module_order(files, MODULES)
    entries = [(directory, 0o040755, b"") for directory in ("bin", "dev", "proc", "sys", "run", "lib", "lib/modules")]
    entries.append(("bin/busybox", 0o100755, busybox.read_bytes()))
    entries.append(("bin/dhcp-script", 0o100755, DHCP_SCRIPT.encode()))
    for name in names:
        entries.append((f"lib/modules/{name}.ko", 0o100644, files[name]))
    entries.append(("init", 0o100755, init_script(names).encode()))
    return entries


def init_script(modules: Iterable[str]) -> str:
    """The guest's init, loading `modules` in that order."""
    return (INIT.replace("@MARKER@", MARKER).replace("@MODULES@", " ".join(modules))
            .replace("@BEAT@", str(HEARTBEAT_SECONDS)).replace("@DHCP_ATTEMPTS@", str(DHCP_ATTEMPTS)))


def newc_archive(entries: list[tuple[str, int, bytes]]) -> bytes:
    """A cpio archive in the kernel's initramfs format (newc)."""
    out = io.BytesIO()

    def member(number: int, name: str, mode: int, data: bytes) -> None:
        encoded = name.encode() + b"\0"
        fields = (number, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(encoded), 0)
        out.write(b"070701" + b"".join(f"{value:08X}".encode() for value in fields) + encoded)
        out.write(b"\0" * (-(110 + len(encoded)) % 4))
        out.write(data)
        out.write(b"\0" * (-len(data) % 4))

    for number, (name, mode, data) in enumerate(entries, start=1):
        member(number, name, mode, data)
    member(0, "TRAILER!!!", 0, b"")
    return out.getvalue()


def upload(cloud: Any, name: str, files: GuestFiles | None = None) -> Any:
    """The guest in glance: its kernel and ramdisk, and the root disk image that names them."""
    files = files or build()
    kernel = cloud.create_image(f"{name}-kernel", filename=str(files.kernel), disk_format="aki",
                                container_format="aki", wait=True)
    ramdisk = cloud.create_image(f"{name}-ramdisk", filename=str(files.ramdisk), disk_format="ari",
                                 container_format="ari", wait=True)
    return cloud.create_image(name, filename=str(files.root_disk), disk_format="raw", container_format="bare",
                              wait=True, meta={"kernel_id": kernel.id, "ramdisk_id": ramdisk.id,
                                               "os_command_line": "console=ttyS0"})


def console_lines(cloud: Any, server: Any) -> list[str]:
    """The guest's own lines of the server's console log (what its init printed)."""
    output = cloud.compute.get_server_console_output(server)["output"] or ""
    return [line.split(MARKER, 1)[1].strip() for line in output.splitlines() if MARKER in line]


def uptimes(cloud: Any, server: Any) -> list[int]:
    """The seconds of uptime the guest has reported on its console, oldest first."""
    return [int(line.split()[1]) for line in console_lines(cloud, server) if line.startswith("uptime ")]


def poll(check: Callable[[], T | None], timeout: float, interval: float, failure: Callable[[], str]) -> T:
    """`check`'s first result that is not None; after `timeout` seconds, TimeoutError saying `failure()`."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"after {timeout:.0f} s: {failure()}")
        time.sleep(interval)


def wait_for_line(cloud: Any, server: Any, prefix: str, timeout: float) -> tuple[str, float]:
    """The guest's first console line starting with `prefix`, and when it was seen (monotonic)."""
    line = poll(lambda: next((line for line in console_lines(cloud, server) if line.startswith(prefix)), None),
                timeout, 2, lambda: f"no console line {prefix!r}; the guest said: {console_lines(cloud, server)}")
    return line, time.monotonic()


def fixed_address(server: Any) -> str:
    """The one fixed IP neutron gave the server (as nova shows it)."""
    (address,) = [address["addr"] for addresses in server.addresses.values() for address in addresses]
    return address


def wait_for_address(cloud: Any, server: Any, node_report: Callable[[str, list[str]], str] | None = None) -> str:
    """The address the guest's DHCP client got; when it got none, an AssertionError with what it
    said, neutron's view of its port and network, and `node_report(network_id, port_ids)`: what the
    hypervisor holds for them, where the caller can look."""
    def report() -> str:
        said = network_report(cloud, server)
        if node_report is None:
            return said
        for port in cloud.network.ports(device_id=server.id):
            dhcp = [p.id for p in cloud.network.ports(network_id=port.network_id, device_owner="network:dhcp")]
            said += "\n" + node_report(port.network_id, [port.id, *dhcp])
        return said

    try:
        line, _ = wait_for_line(cloud, server, "address ", DHCP_SECONDS * 1.5)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n{report()}") from exc
    if line == "address none":
        raise AssertionError(f"the guest got no DHCP lease; it said {console_lines(cloud, server)}\n{report()}")
    return line.removeprefix("address ")


def network_report(cloud: Any, server: Any) -> str:
    """The server's ports, the DHCP agents and ports of their networks, and every agent's state."""
    lines = []
    for port in cloud.network.ports(device_id=server.id):
        lines.append(f"port {port.id}: {port.status} on {port.binding_host_id} ({port.binding_vif_type}), "
                     f"{port.fixed_ips}")
        hosting = [f"{agent.host} alive={agent.is_alive}"
                   for agent in cloud.network.network_hosting_dhcp_agents(port.network_id)]
        lines.append(f"DHCP agents of network {port.network_id}: {', '.join(hosting) or 'none'}")
        lines += [f"DHCP port {dhcp.id}: {dhcp.status}, {dhcp.fixed_ips}"
                  for dhcp in cloud.network.ports(network_id=port.network_id, device_owner="network:dhcp")]
    lines += [f"agent {agent.agent_type} on {agent.host}: alive={agent.is_alive}" for agent in cloud.network.agents()]
    return "\n".join(lines)


@dataclass(frozen=True)
class BootSetup:
    """What servers of the guest boot from: its image, a flavor, and a tenant network behind a router."""

    image_id: str
    flavor_id: str
    network_id: str


def set_up(cloud: Any, name: str, cidr: str = "192.168.90.0/24") -> BootSetup:
    image = upload(cloud, name)
    flavor = cloud.compute.create_flavor(name=name, ram=256, vcpus=1, disk=1)
    network = cloud.network.create_network(name=name)
    subnet = cloud.network.create_subnet(name=name, network_id=network.id, ip_version=4, cidr=cidr)
    router = cloud.network.create_router(name=name)
    cloud.network.add_interface_to_router(router, subnet=subnet.id)
    return BootSetup(image.id, flavor.id, network.id)


def wait_for_hypervisor(cloud: Any, timeout: float = 600) -> str:
    """The name of a hypervisor that nova lists and placement has a resource provider for, once
    there is one (nova-scheduler maps new hosts into the cell periodically)."""
    def mapped() -> str | None:
        hypervisors = [h.name for h in cloud.compute.hypervisors() if h.state == "up" and h.status == "enabled"]
        providers = {p.name for p in cloud.placement.resource_providers()}
        return next((name for name in hypervisors if name in providers), None)

    return poll(mapped, timeout, 5, lambda: f"no hypervisor: nova lists {list(cloud.compute.hypervisors())}, "
                                            f"placement has {[p.name for p in cloud.placement.resource_providers()]}")


@dataclass(frozen=True)
class Boot:
    server: Any
    active_seconds: float       # create -> ACTIVE
    first_line_seconds: float   # create -> the guest's first console line


def boot(cloud: Any, setup: BootSetup, name: str, timeout: float = 600) -> Boot:
    start = time.monotonic()
    server = cloud.compute.create_server(name=name, image_id=setup.image_id, flavor_id=setup.flavor_id,
                                         networks=[{"uuid": setup.network_id}])
    server = cloud.compute.wait_for_server(server, status="ACTIVE", failures=["ERROR"], interval=1, wait=timeout)
    active = time.monotonic() - start
    _, seen = wait_for_line(cloud, server, "kernel ", timeout)
    return Boot(server, active, seen - start)
