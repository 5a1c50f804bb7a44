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
