"""The operator's only way to the Kubernetes API: reads, and writes by server-side apply.

Every object the operator owns is written with server-side apply under one field manager. The
applied manifest's hash is kept in an annotation, and an apply whose hash equals the live
object's is not sent: with nothing changed, the operator sends no write requests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import quote

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ..hashing import content_hash

FIELD_MANAGER = "ccp-operator"
APPLIED_HASH_ANNOTATION = "ccp.openstack.org/applied-hash"


@dataclass(frozen=True)
class ResourceType:
    api_version: str
    kind: str
    plural: str
    namespaced: bool = True

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
        root = f"/api/{self.api_version}" if "/" not in self.api_version else f"/apis/{self.api_version}"
        parts = [root]
        if self.namespaced and namespace:
            parts.append(f"namespaces/{quote(namespace)}")
        parts.append(self.plural)
        if name:
            parts.append(quote(name))
        if subresource:
            parts.append(subresource)
        return "/".join(parts)


_BUILTIN_TYPES = [
    ResourceType("v1", "Secret", "secrets"),
    ResourceType("v1", "ConfigMap", "configmaps"),
    ResourceType("v1", "Service", "services"),
    ResourceType("v1", "Pod", "pods"),
    ResourceType("v1", "ServiceAccount", "serviceaccounts"),
    ResourceType("rbac.authorization.k8s.io/v1", "Role", "roles"),
    ResourceType("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings"),
    ResourceType("v1", "PersistentVolumeClaim", "persistentvolumeclaims"),
    ResourceType("v1", "Node", "nodes", namespaced=False),
    ResourceType("apps/v1", "Deployment", "deployments"),
    ResourceType("apps/v1", "StatefulSet", "statefulsets"),
    ResourceType("apps/v1", "DaemonSet", "daemonsets"),
    ResourceType("batch/v1", "Job", "jobs"),
    ResourceType("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets"),
]
_TYPES: dict[tuple[str, str], ResourceType] = {(t.api_version, t.kind): t for t in _BUILTIN_TYPES}


def register_type(resource_type: ResourceType) -> None:
    """Makes a custom resource type known to the client (the operator's own kinds)."""
    _TYPES[(resource_type.api_version, resource_type.kind)] = resource_type


def resource_type(api_version: str, kind: str) -> ResourceType:
    try:
        return _TYPES[(api_version, kind)]
    except KeyError:
        raise ValueError(f"unknown resource type {api_version} {kind}") from None


def applied_hash(manifest: dict[str, Any]) -> str:
    """The hash of a manifest as the operator applies it (without the hash annotation itself)."""
    stripped = json.loads(json.dumps(manifest))
    stripped.get("metadata", {}).get("annotations", {}).pop(APPLIED_HASH_ANNOTATION, None)
    return content_hash(stripped)


class Kube:
    """Synchronous JSON calls to the API server through the official client's connection.

    `before_write`, when set, is called before every request that is not a read: the leader
    election's check that this operator still holds its Lease.
    """

    def __init__(self, api_client: client.ApiClient, timeout: tuple[float, float] = (10, 60),
                 before_write: Callable[[], None] | None = None):
        self.api_client = api_client
        self.timeout = timeout
        self.before_write = before_write

    def request(self, method: str, path: str, *, query: list[tuple[str, str]] | None = None,
                body: Any = None, content_type: str = "application/json") -> dict[str, Any]:
        data = self._call(method, path, query=query, body=body, content_type=content_type)
        return json.loads(data) if data else {}

    def logs(self, namespace: str, pod: str, lines: int) -> str:
        """The last `lines` lines of a pod's (only) container. The log is plain text, but the API
        server refuses an Accept of text/plain (406: it lists only its object encodings)."""
        return self._call("GET", f"/api/v1/namespaces/{namespace}/pods/{pod}/log",
                          query=[("tailLines", str(lines))], accept="*/*").decode(errors="replace")

    def _call(self, method: str, path: str, *, query: list[tuple[str, str]] | None = None, body: Any = None,
              content_type: str = "application/json", accept: str = "application/json") -> bytes:
        if method != "GET" and self.before_write is not None:
            self.before_write()
        headers = {"Accept": accept, "Content-Type": content_type}
        _, url, headers, body, _ = self.api_client.param_serialize(
            method, path, query_params=query or [], header_params=headers, body=body,
            auth_settings=["BearerToken"],
        )
        # The client serialises dict bodies itself for JSON and structured-YAML content types.
        response = self.api_client.call_api(method, url, header_params=headers, body=body,
                                            _request_timeout=self.timeout)
        data = response.read()
        if not 200 <= response.status < 300:
            raise ApiException(status=response.status, reason=response.reason, body=data.decode(errors="replace"))
        return data

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        try:
            return self.request("GET", resource_type(api_version, kind).path(namespace, name))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def list(self, api_version: str, kind: str, namespace: str | None,
             labels: dict[str, str] | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        query = []
        if labels:
            query.append(("labelSelector", ",".join(f"{k}={v}" for k, v in sorted(labels.items()))))
        if limit:
            query.append(("limit", str(limit)))
        return self.request("GET", resource_type(api_version, kind).path(namespace), query=query)["items"]

    def apply(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Server-side applies `manifest` unless the live object already carries its hash."""
        return self.apply_changed(manifest)[0]

    def apply_changed(self, manifest: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Like apply; also tells whether a request was sent (the object was new or differed)."""
        meta = manifest["metadata"]
        rtype = resource_type(manifest["apiVersion"], manifest["kind"])
        digest = applied_hash(manifest)
        live = self.get(rtype.api_version, rtype.kind, meta.get("namespace"), meta["name"])
        if live and live["metadata"].get("annotations", {}).get(APPLIED_HASH_ANNOTATION) == digest:
            return live, False
        body = json.loads(json.dumps(manifest))
        body["metadata"].setdefault("annotations", {})[APPLIED_HASH_ANNOTATION] = digest
        return self.request(
            "PATCH", rtype.path(meta.get("namespace"), meta["name"]),
            query=[("fieldManager", FIELD_MANAGER), ("force", "true")],
            body=body, content_type="application/apply-patch+yaml",
        ), True

    def create(self, manifest: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Creates `manifest` unless an object of that name exists; returns (object, created)."""
        meta = manifest["metadata"]
        rtype = resource_type(manifest["apiVersion"], manifest["kind"])
        try:
            return self.request("POST", rtype.path(meta.get("namespace")), body=manifest), True
        except ApiException as exc:
            if exc.status != 409:
                raise
        existing = self.get(rtype.api_version, rtype.kind, meta.get("namespace"), meta["name"])
        if existing is None:
            raise ApiException(status=409, reason=f"{rtype.kind} {meta['name']} conflicts but cannot be read")
        return existing, False

    def delete(self, api_version: str, kind: str, namespace: str | None, name: str) -> bool:
        """Deletes an object and, in the background, what it owns; False when it was not there."""
        try:
            self.request("DELETE", resource_type(api_version, kind).path(namespace, name),
                         body={"propagationPolicy": "Background"})
            return True
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise

    def merge_patch(self, api_version: str, kind: str, namespace: str | None, name: str, body: dict[str, Any],
                    subresource: str | None = None) -> dict[str, Any]:
        """A JSON merge patch: for fields no other writer owns (annotations, added keys, status)."""
        return self.request("PATCH", resource_type(api_version, kind).path(namespace, name, subresource),
                            body=body, content_type="application/merge-patch+json")

    def patch_status(self, api_version: str, kind: str, namespace: str, name: str,
                     status: dict[str, Any]) -> dict[str, Any]:
        """Merge-patches the status subresource (only status is the operator's to write there)."""
        return self.merge_patch(api_version, kind, namespace, name, {"status": status}, "status")
