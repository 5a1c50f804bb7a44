"""OpenAPI v3 building blocks of the ccp.openstack.org structural schemas.

The CRDs in crds/ are generated from these (hack/gen-crds.py); a unit test keeps them equal, so
the schema exists once and every field the operator reads is validated by the API server.
"""

from __future__ import annotations

import typing
from typing import Any

Schema = dict[str, Any]

RELEASE_PATTERN = r"^20[2-9][0-9]\.[12]$"
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
IP_PATTERN = r"^([0-9]{1,3}\.){3}[0-9]{1,3}$|^[0-9a-fA-F:]+$"


def string(description: str, **extra: Any) -> Schema:
    return {"type": "string", "description": description, **extra}


def integer(description: str, minimum: int | None = None, maximum: int | None = None, **extra: Any) -> Schema:
    schema: Schema = {"type": "integer", "description": description, **extra}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    return schema


def boolean(description: str, **extra: Any) -> Schema:
    return {"type": "boolean", "description": description, **extra}


def string_map(description: str) -> Schema:
    return {"type": "object", "description": description, "additionalProperties": {"type": "string"}}


def obj(description: str, properties: dict[str, Schema], required: list[str] | None = None, **extra: Any) -> Schema:
    schema: Schema = {"type": "object", "description": description, "properties": properties, **extra}
    if required:
        schema["required"] = required
    return schema


QUANTITY: Schema = {
    "anyOf": [{"type": "integer"}, {"type": "string"}],
    "x-kubernetes-int-or-string": True,
    "pattern": r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$",
}

RESOURCES = obj(
    "Compute resources of each container (requests and limits), as in a pod spec.",
    {
        "requests": {"type": "object", "additionalProperties": QUANTITY, "description": "Minimum resources."},
        "limits": {"type": "object", "additionalProperties": QUANTITY, "description": "Maximum resources."},
    },
)

RELEASE = string("OpenStack release (series), e.g. 2026.1.", pattern=RELEASE_PATTERN)

IMAGES = obj("Where default images come from.", {
    "registry": string("Registry and namespace of the Kolla images.", minLength=1),
    "distro": string("Base distribution part of the Kolla image tags, e.g. ubuntu-noble or rocky-10.",
                     pattern=r"^[a-z0-9]+-[a-z0-9.]+$"),
})


OSLO_CUSTOM_CONFIG = "oslo.config snippet (INI) layered after the rendered configuration file."


def common_fields(custom_config: str | None = OSLO_CUSTOM_CONFIG, versioned: bool = True) -> dict[str, Schema]:
    """Fields every service and every component accepts; a component's win over its service's.

    `custom_config` describes what customConfig layers (None: the program reads no config file);
    `versioned`: the image follows an OpenStack release.
    """
    fields = {
        "image": string("Container image, replacing the default image of the release.", minLength=1, maxLength=512),
        "resources": RESOURCES,
        "nodeSelector": string_map("Labels the nodes must carry, added to the control plane's."),
    }
    if custom_config:
        fields["customConfig"] = string(custom_config, maxLength=65536)
    if versioned:
        fields["version"] = string("This service's own OpenStack release, for upgrading it alone "
                                   "(defaults to the control plane's release).", pattern=RELEASE_PATTERN)
    return fields


LOAD_BALANCER = obj(
    "A LoadBalancer Service in front of the API, beside the ClusterIP Service.",
    {
        "enabled": boolean("Create the LoadBalancer Service.", default=False),
        "ip": string("Fixed virtual IP of the load balancer.", pattern=IP_PATTERN),
        "annotations": string_map("Annotations of the LoadBalancer Service (for the load-balancer implementation)."),
    },
)


def component(description: str, replicas: int, *, dedicated: bool = False, api: bool = False,
              max_replicas: int = 64, custom_config: str | None = OSLO_CUSTOM_CONFIG,
              versioned: bool = True) -> Schema:
    """A component: a Deployment (or StatefulSet) with its replicas and placement."""
    properties = {
        "replicas": integer("Number of pods.", minimum=1, maximum=max_replicas, default=replicas),
        "dedicated": boolean(
            "Run at most one pod per node, on nodes no other dedicated component uses.", default=dedicated),
        **common_fields(custom_config, versioned),
    }
    if api:
        properties["loadBalancer"] = LOAD_BALANCER
    return obj(description, properties, default={})


MAX_UNAVAILABLE: Schema = {
    "x-kubernetes-int-or-string": True,
    "anyOf": [{"type": "integer"}, {"type": "string"}],
    "minimum": 1,                           # a count (numbers only)
    "pattern": r"^[1-9][0-9]?%$|^100%$",    # a percentage (strings only)
    "description": "Nodes whose pod a rolling update replaces at once: a count, or a percentage of the node set "
                   "(default 10%).",
}


def per_node_component(description: str, custom_config: str | None = OSLO_CUSTOM_CONFIG,
                       paced: bool = True) -> Schema:
    """A per-node component: a DaemonSet on each node set of its service, rolled at a set pace
    (`paced`), or replaced pod by pod as nodes are drained."""
    properties = {key: value for key, value in common_fields(custom_config).items() if key != "nodeSelector"}
    if paced:
        properties["maxUnavailable"] = MAX_UNAVAILABLE
    return obj(description, properties, default={})


def members_section(description: str, replicas: int, storage_size: str, storage_what: str,
                    custom_config: str | None, dedicated: bool = True) -> dict[str, Schema]:
    """The section of a quorum service (etcd, Galera, RabbitMQ): members with a volume each."""
    component_schema = component(description, replicas, dedicated=dedicated, max_replicas=9, versioned=False,
                                 custom_config=custom_config)
    component_schema["properties"]["storage"] = obj(storage_what, {
        "size": string("Size of each member's volume.", default=storage_size, pattern=r"^[0-9]+(Mi|Gi|Ti)$"),
        "storageClassName": string("Storage class of the volumes (default: the cluster's default class)."),
    }, default={})
    return component_schema["properties"]


def reference(description: str) -> Schema:
    return obj(description, {"name": string("Name of the resource in this namespace.", pattern=DNS_LABEL_PATTERN,
                                            maxLength=40)}, required=["name"])


CONDITIONS: Schema = {
    "type": "array",
    "description": "Observations of the resource's state, in the Kubernetes API conventions.",
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["type"],
    "items": obj("A condition.", {
        "type": string("Type of the condition."),
        "status": string("True, False or Unknown.", enum=["True", "False", "Unknown"]),
        "reason": string("One-word CamelCase reason."),
        "message": string("Human-readable details."),
        "lastTransitionTime": string("When status last changed.", format="date-time"),
        "observedGeneration": integer("Generation the condition was computed for.", minimum=0),
    }, required=["type", "status"]),
}


def status_schema(extra: dict[str, Schema] | None = None) -> Schema:
    return obj("Observed state, written by the operator.", {
        "observedGeneration": integer("The generation whose reconciliation completed.", minimum=0),
        "conditions": CONDITIONS,
        # kopf's own bookkeeping (handler progress and the last handled spec) lives here rather
        # than in annotations, which are limited to 256 KiB in total.
        "kopf": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                 "description": "The operator framework's bookkeeping."},
        **(extra or {}),
    })


def typed(contract: type, description: str) -> Schema:
    """The structural schema of a TypedDict contract (endpoints.py): its fields' types and the
    descriptions their Annotated types carry; NotRequired fields are optional."""
    hints = typing.get_type_hints(contract, include_extras=True)
    properties = {name: _typed_field(hint) for name, hint in hints.items()}
    return obj(description, properties, required=sorted(contract.__required_keys__))


def _typed_field(hint: Any, description: str = "") -> Schema:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.NotRequired or origin is typing.Required:
        return _typed_field(args[0], description)
    if origin is typing.Annotated:
        return _typed_field(args[0], args[1])
    if typing.is_typeddict(hint):
        return typed(hint, description or (hint.__doc__ or "").strip())
    described = {"description": description} if description else {}
    if origin is list:
        return {"type": "array", "items": _typed_field(args[0]), **described}
    if origin is dict:
        return {"type": "object", "additionalProperties": _typed_field(args[1]), **described}
    return {"type": {str: "string", int: "integer", bool: "boolean"}[hint], **described}
