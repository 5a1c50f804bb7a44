"""Where pods may run: every placement rule of the control plane, in one place.

- A dedicated component gets at most one pod per node and shares no node with a pod of any other
  dedicated component: all dedicated pods carry one label and repel each other with one required
  anti-affinity rule over every namespace.
- Every component spreads its own pods over nodes and racks, preferably (so a small lab still
  schedules).
- A component may require nodes that run another component (neutron's RPC servers beside
  neutron-server) or prefer them (nova-scheduler beside nova-api or nova-conductor), or prefer the
  nodes of a node set (neutron-server on the network nodes, where its agents run).
- All pods honour the merged nodeSelector of the control plane, the service and the component.
- A per-node component (a DaemonSet: libvirt, nova-compute) runs on every node that matches any
  selector of its node set, and on no other; a compute node group's selector is its own, not
  merged with the control plane's.
"""

from __future__ import annotations

from typing import Any

from . import labels

DEDICATED_LABEL = "ccp.openstack.org/dedicated"
NODE_SET_LABEL = "ccp.openstack.org/node-set"  # a per-node component's node set (compute node group)
HOSTNAME = "kubernetes.io/hostname"
RACK = "topology.kubernetes.io/zone"


def merged_node_selector(*layers: dict[str, str] | None) -> dict[str, str]:
    """Later layers win: control plane, then service, then component."""
    merged: dict[str, str] = {}
    for layer in layers:
        merged.update(layer or {})
    return merged


def pod_labels(dedicated: bool) -> dict[str, str]:
    return {DEDICATED_LABEL: "true"} if dedicated else {}


def _components_term(instance: str, components: tuple[str, ...]) -> dict[str, Any]:
    return {
        "labelSelector": {"matchLabels": {labels.INSTANCE: instance}, "matchExpressions": [
            {"key": labels.COMPONENT, "operator": "In", "values": list(components)}]},
        "topologyKey": HOSTNAME,
    }


def affinity(*, service: str, instance: str, component: str, dedicated: bool,
             co_locate_with: tuple[str, ...] = (), prefer_near: tuple[str, ...] = (),
             prefer_nodes: tuple[dict[str, str], ...] = ()) -> dict[str, Any]:
    own = {"labelSelector": {"matchLabels": labels.selector(service, instance, component)},
           "topologyKey": HOSTNAME}
    anti: dict[str, Any] = {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 100, "podAffinityTerm": own}]}
    if dedicated:
        anti["requiredDuringSchedulingIgnoredDuringExecution"] = [{
            "labelSelector": {"matchLabels": {DEDICATED_LABEL: "true"}},
            "namespaceSelector": {},
            "topologyKey": HOSTNAME,
        }]
    result: dict[str, Any] = {"podAntiAffinity": anti}
    pod_affinity: dict[str, Any] = {}
    if co_locate_with:
        pod_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = [_components_term(instance, co_locate_with)]
    if prefer_near:
        pod_affinity["preferredDuringSchedulingIgnoredDuringExecution"] = [
            {"weight": 50, "podAffinityTerm": _components_term(instance, prefer_near)}]
    if pod_affinity:
        result["podAffinity"] = pod_affinity
    if prefer_nodes:
        result["nodeAffinity"] = {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "preference": _node_selector_term(selector)} for selector in prefer_nodes]}
    return result


def rack_spread(service: str, instance: str, component: str) -> list[dict[str, Any]]:
    """Spread a component's pods over racks when the nodes say which rack they are in."""
    return [{
        "maxSkew": 1,
        "topologyKey": RACK,
        "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": {"matchLabels": labels.selector(service, instance, component)},
    }]


def _node_selector_term(selector: dict[str, str]) -> dict[str, Any]:
    """The nodes carrying every label of `selector`."""
    return {"matchExpressions": [{"key": key, "operator": "In", "values": [value]}
                                 for key, value in sorted(selector.items())]}


def node_set_affinity(selectors: tuple[dict[str, str], ...]) -> dict[str, Any]:
    """Required node affinity to the nodes matching any of `selectors` (each a set of labels)."""
    terms = [_node_selector_term(selector) for selector in selectors]
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}
