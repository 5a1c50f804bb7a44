"""An in-memory API server behind the operator's own client, for unit tests of one pass.

It answers the requests `Kube` sends (GET of an object or of a collection by label, server-side apply,
merge patch of an object or its status, create, delete) from a dict of objects keyed by their
path, bumps resourceVersion on every write, and records every request, so a test checks what a
pass wrote as well as the status it left. Everything above `Kube.request` is the real client.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

from kubernetes.client.exceptions import ApiException

from ccp_operator.api.kinds import register_api_types
from ccp_operator.kube import client
from ccp_operator.kube.client import Kube, resource_type

READ_METHODS = ("GET",)
register_api_types()


def known_plurals() -> set[str]:
    return {rtype.plural for rtype in client._TYPES.values()}


def merged(old: Any, patch: Any) -> Any:
    """RFC 7386: a JSON merge patch applied to `old`."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(old) if isinstance(old, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merged(result.get(key), value)
    return result


class FakeKube(Kube):
    def __init__(self, objects: list[dict[str, Any]] = ()):
        super().__init__(api_client=None)
        self.objects: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.version = 0
        for obj in objects:
            self.put(obj)

    # -- the store ------------------------------------------------------------------------------

    @staticmethod
    def object_path(obj: dict[str, Any]) -> str:
        meta = obj["metadata"]
        return resource_type(obj["apiVersion"], obj["kind"]).path(meta.get("namespace"), meta["name"])

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.version += 1
        stored = copy.deepcopy(obj)
        if "stringData" in stored:  # as the API server does: stringData lands base64-encoded in data
            encoded = {key: base64.b64encode(value.encode()).decode() for key, value in stored.pop("stringData").items()}
            stored["data"] = {**(stored.get("data") or {}), **encoded}
        stored["metadata"]["resourceVersion"] = str(self.version)
        stored["metadata"].setdefault("generation", 1)
        stored["metadata"].setdefault("uid", f"uid-{stored['metadata']['name']}")
        self.objects[self.object_path(stored)] = stored
        return copy.deepcopy(stored)

    def writes(self) -> list[tuple[str, str]]:
        return [(method, path) for method, path in self.requests if method not in READ_METHODS]

    # -- the API ----------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, query: list[tuple[str, str]] | None = None,
                body: Any = None, content_type: str = "application/json") -> dict[str, Any]:
        self.requests.append((method, path))
        status = path.endswith("/status")
        object_path = path[: -len("/status")] if status else path
        live = self.objects.get(object_path)
        if method == "GET":
            if live is not None:
                return copy.deepcopy(live)
            if path.rsplit("/", 1)[-1] in known_plurals():
                selector = dict(pair.split("=", 1) for key, value in query or () if key == "labelSelector"
                                for pair in value.split(","))
                return {"items": [copy.deepcopy(obj) for key, obj in sorted(self.objects.items())
                                  if key.rsplit("/", 1)[0] == path
                                  and selector.items() <= (obj["metadata"].get("labels") or {}).items()]}
            raise ApiException(status=404, reason="Not Found")
        if method == "POST":
            key = f"{path}/{body['metadata']['name']}"
            if key in self.objects:
                raise ApiException(status=409, reason="AlreadyExists")
            return self.put(body)
        if method == "DELETE":
            if self.objects.pop(object_path, None) is None:
                raise ApiException(status=404, reason="Not Found")
            return {}
        if method == "PATCH":
            if content_type == "application/apply-patch+yaml":
                applied = copy.deepcopy(body)
                if live is not None:
                    applied["status"] = live.get("status", {})
                    spec_changed = live.get("spec") != applied.get("spec")
                    applied["metadata"]["generation"] = live["metadata"]["generation"] + int(spec_changed)
                return self.put(applied)
            if live is None:
                raise ApiException(status=404, reason="Not Found")
            if status:
                updated = {**copy.deepcopy(live), "status": merged(live.get("status"), body.get("status"))}
            else:
                updated = merged(live, {key: value for key, value in body.items() if key != "status"})
                if updated.get("spec") != live.get("spec"):
                    updated["metadata"]["generation"] = live["metadata"]["generation"] + 1
            return self.put(updated)
        raise AssertionError(f"the fake API server does not answer {method} {path}")
