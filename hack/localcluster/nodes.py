"""Fake nodes of a cluster profile: their manifests, creation, and readiness."""

from __future__ import annotations

import functools
import ipaddress
import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

KWOK_ANNOTATION = {"kwok.x-k8s.io/node": "fake"}
ROLE_LABEL = "ccp.openstack.org/node-role"
RACK_LABEL = "topology.kubernetes.io/zone"


def _profile_data(name: str) -> dict[str, Any]:
    return yaml.safe_load(resources.files("localcluster").joinpath("profiles", name).read_text())


LOCAL_STORAGE_CLASS = "local-disk"


@dataclass(frozen=True)
class Profile:
    name: str
    nodes: tuple[dict[str, Any], ...]
    volumes: tuple[dict[str, Any], ...] = ()
    # The role and local volumes of a real node (`up --real-nodes`), from the profile's realNode.
    real_node: dict[str, Any] | None = None

    @property
    def node_names(self) -> list[str]:
        return [node["metadata"]["name"] for node in self.nodes]


def available_profiles() -> list[str]:
    folder = resources.files("localcluster").joinpath("profiles")
    helpers = {"servers.yaml", "roles.yaml"}
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name not in helpers)


def load_profile(name: str) -> Profile:
    """Expands a profile's node groups into Node manifests, spread round-robin over its racks."""
    if name not in available_profiles():
        raise ValueError(f"unknown profile {name!r} (known: {', '.join(available_profiles())})")
    spec = _profile_data(f"{name}.yaml")
    servers = _profile_data("servers.yaml")
    nodes, volumes = [], []
    index = 0
    for group in spec["nodeGroups"]:
        capacity = servers[group["server"]]
        for number in range(1, group["count"] + 1):
            node_name = f"{group['namePrefix']}-{number:04d}"
            rack = f"rack-{index % spec['racks'] + 1:02d}"
            labels = {
                "kubernetes.io/hostname": node_name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
                **role_labels(group["role"], rack),
                **group.get("labels", {}),  # a group's own (the network nodes among the control-plane ones)
            }
            nodes.append({
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": node_name, "labels": labels, "annotations": dict(KWOK_ANNOTATION)},
                "status": {"capacity": dict(capacity), "allocatable": dict(capacity),
                           "addresses": [{"type": "InternalIP", "address": fake_node_address(index)},
                                         {"type": "Hostname", "address": node_name}]},
            })
            index += 1
            local = group.get("localVolumes") or {}
            volumes += [local_volume(node_name, disk, local["size"]) for disk in range(local.get("count", 0))]
    return Profile(name, tuple(nodes), tuple(volumes), spec.get("realNode"))


# The fake nodes' own addresses, apart from kwok's pod range (kwok.yaml) and the real node's.
FAKE_NODE_NETWORK = ipaddress.ip_network("10.64.0.0/16")


def fake_node_address(index: int) -> str:
    """The InternalIP of the profile's `index`th node. Host-network pods take their node's
    address, as on real nodes; without one, kwok re-patches every such pod forever."""
    return str(FAKE_NODE_NETWORK[index + 1])


@functools.cache
def _roles() -> dict[str, dict[str, str]]:
    return _profile_data("roles.yaml")


def role_labels(role: str, rack: str) -> dict[str, str]:
    """The labels a node of `role` in `rack` carries, besides the well-known ones."""
    return {ROLE_LABEL: role, RACK_LABEL: rack, **_roles()[role]}


def local_volume(node_name: str, disk: int, size: str, path: str | None = None) -> dict[str, Any]:
    """A local persistent volume on one node's disk, like those of real database nodes."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": f"local-{node_name}-{disk}", "labels": {"kubernetes.io/hostname": node_name}},
        "spec": {
            "capacity": {"storage": size},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": LOCAL_STORAGE_CLASS,
            "local": {"path": path or f"/mnt/disks/disk{disk}"},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": [node_name]}]}]}},
        },
    }


LOCAL_STORAGE_CLASS_MANIFEST = {
    "apiVersion": "storage.k8s.io/v1",
    "kind": "StorageClass",
    "metadata": {"name": LOCAL_STORAGE_CLASS,
                 "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
    "provisioner": "kubernetes.io/no-provisioner",
    # Bind when the pod is scheduled, so the scheduler picks a node and a disk together.
    "volumeBindingMode": "WaitForFirstConsumer",
    "reclaimPolicy": "Retain",
}


def _created(call, body: dict[str, Any]) -> bool:
    """Creates `body`; False when it exists already."""
    try:
        call(body)
        return True
    except ApiException as exc:
        if exc.status == 409:
            return False
        raise


def ensure_nodes(api_client: client.ApiClient, profile: Profile, parallelism: int = 16) -> int:
    """Creates the profile's nodes, local volumes and their storage class where missing;
    returns how many nodes it created."""
    core = client.CoreV1Api(api_client)
    with ThreadPoolExecutor(parallelism) as pool:
        nodes_created = sum(pool.map(lambda node: _created(core.create_node, node), profile.nodes))
    ensure_volumes(api_client, list(profile.volumes), parallelism)
    return nodes_created


def ensure_volumes(api_client: client.ApiClient, volumes: list[dict[str, Any]], parallelism: int = 16) -> None:
    """Creates the local persistent volumes that are missing (and their storage class)."""
    if not volumes:
        return
    core, storage = client.CoreV1Api(api_client), client.StorageV1Api(api_client)
    _created(storage.create_storage_class, LOCAL_STORAGE_CLASS_MANIFEST)
    with ThreadPoolExecutor(parallelism) as pool:
        list(pool.map(lambda volume: _created(core.create_persistent_volume, volume), volumes))


def node_summaries(api: client.CoreV1Api) -> list[dict[str, Any]]:
    """Name, role, rack, readiness and labels of every node (raw JSON: fast for 1000+ nodes)."""
    response = api.list_node(_preload_content=False)
    items = json.loads(response.data)["items"]
    summaries = []
    for item in items:
        conditions = item.get("status", {}).get("conditions", [])
        ready = any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
        labels = item["metadata"].get("labels", {})
        summaries.append({
            "name": item["metadata"]["name"],
            "role": labels.get(ROLE_LABEL, "other"),
            "rack": labels.get(RACK_LABEL, ""),
            "ready": ready,
            "labels": labels,
            "capacity": item.get("status", {}).get("capacity", {}),
        })
    return summaries


def wait_ready(api: client.CoreV1Api, names: list[str], timeout: float, progress=None) -> float:
    """Waits until every named node is Ready; returns the seconds it took."""
    start = time.monotonic()
    wanted = set(names)
    last_reported = -1
    while True:
        ready = {s["name"] for s in node_summaries(api) if s["ready"]} & wanted
        if len(ready) != last_reported and progress:
            progress(f"{len(ready)}/{len(wanted)} nodes Ready")
            last_reported = len(ready)
        if ready == wanted:
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            missing = sorted(wanted - ready)
            raise TimeoutError(f"{len(missing)} nodes not Ready after {timeout:.0f}s, e.g. {missing[:5]}")
        time.sleep(1.0)


def summary_table(summaries: list[dict[str, Any]]) -> str:
    """Nodes by role: counts, readiness, racks and per-node capacity."""
    by_role: dict[str, list[dict[str, Any]]] = {}
    for s in summaries:
        by_role.setdefault(s["role"], []).append(s)
    rows = [("ROLE", "NODES", "READY", "RACKS", "CPU/NODE", "MEMORY/NODE", "ROLE LABEL")]
    roles = _roles()
    for role in sorted(by_role):
        members = by_role[role]
        capacities = Counter((m["capacity"].get("cpu", "?"), m["capacity"].get("memory", "?")) for m in members)
        cpu, memory = capacities.most_common(1)[0][0]
        label = ",".join(f"{k}={v}" for k, v in roles.get(role, {}).items())
        rows.append((role, str(len(members)), str(sum(m["ready"] for m in members)),
                     str(len({m["rack"] for m in members})), cpu, memory, label))
    rows.append(("total", str(len(summaries)), str(sum(s["ready"] for s in summaries)), "", "", "", ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)
