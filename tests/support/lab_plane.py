"""What the lab plane's end-to-end tests share: its manifest, its clients, and how they look at
what it stores."""

from __future__ import annotations

import base64
import subprocess
import uuid

import openstack

from localcluster import realplane
from localcluster.cluster import CACHE_ROOT
from support.real_cluster import RealCluster

STATE_DIR = CACHE_ROOT / "test-real-plane"

PLANE = realplane.lab_manifest()
NAMESPACE, NAME = PLANE["metadata"]["namespace"], PLANE["metadata"]["name"]
KEYSTONE_URL = realplane.keystone_url(PLANE)


def admin_password(lab: RealCluster) -> str:
    return realplane.admin_password(lab.kube, NAMESPACE, NAME)


def galera_root_password(lab: RealCluster) -> str:
    secret = lab.get("-n", NAMESPACE, "secret", f"{NAME}-galera-root")
    return base64.b64decode(secret["data"]["root-password"]).decode()


def connect(username: str, password: str, project: str):
    return realplane.connect(KEYSTONE_URL, username, password, project)


def dhcp_namespace_rules(network_id: str, table: str) -> str:
    """The iptables rules of `table` in the network's DHCP namespace on the real node (this host)."""
    done = subprocess.run(["ip", "netns", "exec", f"qdhcp-{network_id}", "iptables-save", "-t", table],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"reading the DHCP namespace of network {network_id}: {done.stderr.strip()}"
    return done.stdout


# An ICMP echo from inside a namespace (the host has no ping): exit 0 once `address` answers.
PING = """
import socket, struct, sys
def checksum(data):
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF
address = sys.argv[1]
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
sock.settimeout(2)
for sequence in range(5):
    echo = struct.pack("!BBHHH", 8, 0, 0, 0x4343, sequence) + b"ccp-ping"
    sock.sendto(echo[:2] + struct.pack("!H", checksum(echo)) + echo[4:], (address, 0))
    try:
        while True:
            reply, (source, _) = sock.recvfrom(1500)
            if source == address and reply[20] == 0:
                sys.exit(0)
    except socket.timeout:
        pass
sys.exit(1)
"""


def answers_ping(namespace: str, address: str) -> bool:
    """Whether `address` answers an ICMP echo sent from the network namespace `namespace` on the
    real node: a namespace's port is alive in the switch, end to end."""
    done = subprocess.run(["ip", "netns", "exec", namespace, "python3", "-c", PING, address],
                          capture_output=True, text=True, timeout=30)
    return done.returncode == 0


def host_command(*command: str) -> str:
    """What a command on the real node (this host) printed, or why it failed: for reports only."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    return (done.stdout if done.returncode == 0 else f"({' '.join(command)}: {done.stderr.strip()})").strip()


def dhcp_datapath_report(lab: RealCluster, network_id: str, port_ids: list[str]) -> str:
    """Where a DHCP exchange stopped, as the real node sees it: the DHCP namespace's links with
    their packet counters and addresses, dnsmasq and the hosts it serves, and Open vSwitch's view
    of each port (local VLAN tag, ofport, error, counters); tap names are neutron's, tap + 11
    characters of the port's ID."""
    namespace = f"qdhcp-{network_id}"
    lines = [f"namespace {namespace} links:", host_command("ip", "netns", "exec", namespace, "ip", "-s", "link"),
             host_command("ip", "netns", "exec", namespace, "ip", "-br", "addr")]
    dnsmasq = [line for line in host_command("pgrep", "-af", "dnsmasq").splitlines() if network_id in line]
    lines.append(f"dnsmasq of the network: {dnsmasq or 'not running'}")
    lines.append(f"its hosts file: {host_command('cat', f'/var/lib/neutron/dhcp/{network_id}/host')}")
    switch = lab.get("-n", NAMESPACE, "pods", "-l", "app.kubernetes.io/component=openvswitch-vswitchd")["items"]
    for pod in switch:
        name = pod["metadata"]["name"]
        for port_id in port_ids:
            tap = f"tap{port_id[:11]}"
            shown = lab.kubectl("-n", NAMESPACE, "exec", name, "--", "sh", "-c",
                                f"ovs-vsctl get port {tap} tag; ovs-vsctl --columns=ofport,error,link_state,statistics"
                                f" list interface {tap}", check=False)
            lines.append(f"{tap} on {pod['spec'].get('nodeName')}: {(shown.stdout + shown.stderr).strip()}")
    for pod in lab.get("-n", NAMESPACE, "pods")["items"]:
        restarts = sum(status.get("restartCount", 0) for status in pod["status"].get("containerStatuses", []))
        if restarts:
            lines.append(f"pod {pod['metadata']['name']} restarted {restarts} times")
    return "\n".join(lines)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def rbd_names(lab: RealCluster, component: str, user: str, pool: str) -> list[str]:
    """The RBD images of `pool`, listed with the service's own cephx user from its own pod."""
    pod = lab.get("-n", NAMESPACE, "pods", "-l", f"app.kubernetes.io/component={component}")["items"][0]
    done = lab.kubectl("-n", NAMESPACE, "exec", pod["metadata"]["name"], "--", "rbd", "--id", user, "ls", pool)
    return done.stdout.split()


def available(storage, resource):
    """The volume, snapshot or backup once available; if it fails, what cinder told its user why."""
    try:
        return storage.wait_for_status(resource, "available", failures=["error"], wait=300)
    except openstack.exceptions.ResourceFailure as failure:
        said = [f"{m.event_id}: {m.user_message}" for m in storage.messages() if m.resource_uuid == resource.id]
        raise AssertionError(f"{failure}; cinder's messages: {said or 'none'}") from failure
