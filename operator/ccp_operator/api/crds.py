"""CustomResourceDefinition documents, built from the schemas the service modules declare."""

from __future__ import annotations

from typing import Any

from . import GROUP, VERSION
from .schema import Schema, status_schema

READY_COLUMN = {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'}
REASON_COLUMN = {"name": "Reason", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].reason',
                 "priority": 1}
AGE_COLUMN = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}


def crd(*, kind: str, plural: str, short_names: list[str], description: str, spec: Schema,
        status: dict[str, Schema] | None = None, columns: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}", "labels": {"app.kubernetes.io/part-of": "openstack-ccp-operator"}},
        "spec": {
            "group": GROUP,
            "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower(),
                      "shortNames": short_names, "categories": ["openstack"]},
            "scope": "Namespaced",
            "versions": [{
                "name": VERSION,
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [READY_COLUMN, *(columns or []), REASON_COLUMN, AGE_COLUMN],
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "description": description,
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "metadata": {"type": "object"},
                        "spec": spec,
                        "status": status_schema(status),
                    },
                    "required": ["spec"],
                }},
            }],
        },
    }
