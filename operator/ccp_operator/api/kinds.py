"""The kinds of the ccp.openstack.org API and their spec schemas.

A service's schema follows from its ServiceDefinition: a single-component service (keystone)
takes its component's fields at the top of its section, a multi-component service (nova) has
one sub-section per component. The umbrella OpenStackControlPlane has one section per service.
"""

from __future__ import annotations

from typing import Any

from .. import endpoints
from ..dependencies import REFERENCE_FIELDS
from ..kube.client import ResourceType, register_type
from . import API_VERSION
from ..releases import DEFAULT_RELEASE
from ..services import catalog, ceph, galera, rabbitmq
from ..services.base import InfrastructureDefinition, ServiceDefinition
from . import schema as s
from .sections import SECTIONS, SERVICE_FIELDS
from .crds import crd

IMAGES = s.IMAGES


WORKERS = s.integer("Worker processes of each API and RPC server of the service (uWSGI or Apache processes, "
                    "oslo.service workers); default 4, the reference architecture's. A small lab sets 1.",
                    minimum=1, maximum=64)
PAUSED = s.boolean("Stop an upgrade after its current step (and start none) until set to false.", default=False)
UPGRADE_STATUS = s.obj("The last or current move to another release.", {
    "fromVersion": s.string("The release the service ran."),
    "toVersion": s.string("The release it moves to."),
    "step": s.string("The step in progress (or the one that failed); empty between steps, e.g. while paused."),
    "stepsDone": {"type": "array", "items": {"type": "string"}, "description": "Completed steps, in order."},
    "state": s.string("Running, Paused, Failed, Completed or Reverted."),
})


def service_section(definition: ServiceDefinition) -> dict[str, s.Schema]:
    """The fields of a service's section: its own settings and one per component."""
    custom_config = s.OSLO_CUSTOM_CONFIG if definition.custom_config_dir else None
    if definition.single_component:
        component = definition.components[0]
        properties = s.component(definition.description, component.replicas, dedicated=component.dedicated,
                                 api=component.api, custom_config=custom_config)["properties"]
        return {**properties, "paused": PAUSED, "workers": WORKERS}
    properties = dict(s.common_fields(custom_config))
    properties["paused"] = PAUSED
    properties["workers"] = WORKERS
    for component in definition.components:
        if component.per_node:
            if component.replaced_when_drained:
                properties[component.key] = s.per_node_component(
                    f"The {component.name} component, on every node of each node set. A node's pod takes a new "
                    "image or configuration only when deleted, once the node is drained of guests (never by a "
                    "rolling update: the guests would die with it).", custom_config, paced=False)
            else:
                properties[component.key] = s.per_node_component(f"The {component.name} component, on every node "
                                                                 "of each node set.", custom_config)
            continue
        properties[component.key] = s.component(f"The {component.name} component.", component.replicas,
                                                dedicated=component.dedicated, api=component.api,
                                                custom_config=custom_config)
    if definition.kind in SERVICE_FIELDS:
        properties.update(SERVICE_FIELDS[definition.kind]())
    return properties


def service_spec(definition: ServiceDefinition) -> s.Schema:
    """The spec of a service's own resource: its section plus release, placement and wiring."""
    properties = {
        "release": {**s.RELEASE, "default": DEFAULT_RELEASE},
        "images": IMAGES,
        "debug": s.boolean("Debug logging.", default=False),
        **service_section(definition),
    }
    if definition.single_component:
        properties["nodeSelector"] = s.string_map("Labels the nodes must carry.")
    for kind in definition.needs:
        field = REFERENCE_FIELDS[kind]
        properties[field] = s.reference(f"The {kind} this service uses (default: the one of the same name).")
    return s.obj(f"Desired state of {definition.kind}.", properties)


def service_crd(definition: ServiceDefinition) -> dict[str, Any]:
    return crd(
        kind=definition.kind, plural=definition.plural, short_names=list(definition.short_names),
        description=definition.description, spec=service_spec(definition),
        status={
            "version": s.string("The release the service runs."),
            "endpoint": s.typed(endpoints.SERVICES[definition.publishes], "What dependent services connect to."),
            "components": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                           "description": "Per component: replicas, ready and updated replicas, image."},
            "upgrade": UPGRADE_STATUS,
        },
        columns=[{"name": "Version", "type": "string", "jsonPath": ".status.version"},
                 {"name": "Upgrade", "type": "string", "jsonPath": ".status.upgrade.toVersion"},
                 {"name": "Step", "type": "string", "jsonPath": ".status.upgrade.step"},
                 {"name": "Upgrade-State", "type": "string", "jsonPath": ".status.upgrade.state"}],
    )


MEMBERS_COLUMN = {"name": "Members", "type": "integer", "jsonPath": ".spec.replicas"}
GALERA_STATUS = {
    "members": {"type": "array", "description": "Every member as its agent reports it through etcd.",
                "items": s.obj("A member.", {
                    "name": s.string("Pod name."),
                    "state": s.string("Synced, Donor, Joining, Joined, NonPrimary, Starting, Empty or Down."),
                    "role": s.string("writer or standby."),
                })},
    "membersSynced": s.string("Synced members out of all, as n/m."),
    "writer": s.string("The member that accepts writes (empty while none does)."),
    "lastFailoverTime": s.string("When another member last took over as the writer.", format="date-time"),
    "lastFailover": s.string("The last change of writer, as old -> new."),
    "clusterObservation": s.string("ok, or why the operator cannot read the agents' state from etcd."),
}
RABBITMQ_STATUS = {
    "members": {"type": "array", "description": "Every broker as the management API reports it.",
                "items": s.obj("A broker.", {
                    "name": s.string("Erlang node name."),
                    "running": s.boolean("The node runs and is part of the cluster."),
                    "alarms": {"type": "array", "items": {"type": "string"}, "description": "memory, disk."},
                    "partitionedFrom": {"type": "array", "items": {"type": "string"},
                                        "description": "Nodes this one sees on the other side of a partition."},
                })},
    "membersRunning": s.string("Running brokers out of all, as n/m."),
    "alarms": s.string("Raised alarms and partitions, or none."),
    "brokerObservation": s.string("ok, or why the operator cannot read the brokers' management API."),
}
CEPH_STATUS = {
    "monitors": {"type": "array", "description": "Every monitor as the active manager reports it.",
                 "items": s.obj("A monitor.", {"name": s.string("Monitor id."),
                                               "inQuorum": s.boolean("The monitor is in the quorum.")})},
    "quorum": s.string("Monitors in the quorum out of all, as n/m."),
    "health": s.string("HEALTH_OK, HEALTH_WARN or HEALTH_ERR."),
    "healthChecks": s.string("The health checks raised (e.g. MON_DOWN), or none."),
    "clusterObservation": s.string("ok, or why the operator cannot read the cluster's health."),
}
# Per kind: extra status fields and printer columns beside the common ones.
INFRASTRUCTURE_STATUS = {galera.DEFINITION.kind: GALERA_STATUS, rabbitmq.DEFINITION.kind: RABBITMQ_STATUS,
                         ceph.DEFINITION.kind: CEPH_STATUS}
INFRASTRUCTURE_COLUMNS = {
    galera.DEFINITION.kind: [MEMBERS_COLUMN,
             {"name": "Synced", "type": "string", "jsonPath": ".status.membersSynced"},
             {"name": "Writer", "type": "string", "jsonPath": ".status.writer"},
             {"name": "Last-Failover", "type": "date", "jsonPath": ".status.lastFailoverTime"}],
    rabbitmq.DEFINITION.kind: [MEMBERS_COLUMN,
               {"name": "Running", "type": "string", "jsonPath": ".status.membersRunning"},
               {"name": "Alarms", "type": "string", "jsonPath": ".status.alarms"},
               {"name": "Broker", "type": "string", "jsonPath": ".spec.brokerVersion"}],
    ceph.DEFINITION.kind: [{"name": "Mode", "type": "string", "jsonPath": ".spec.mode"},
           {"name": "Monitors", "type": "integer", "jsonPath": ".spec.monitors.replicas"},
           {"name": "Quorum", "type": "string", "jsonPath": ".status.quorum"},
           {"name": "Health", "type": "string", "jsonPath": ".status.health"}],
}


def infrastructure_crd(definition: InfrastructureDefinition) -> dict[str, Any]:
    """etcd, Galera, RabbitMQ and Ceph: stateful members with volumes, their own schema section."""
    return crd(
        kind=definition.kind, plural=definition.plural, short_names=list(definition.short_names),
        description=definition.description,
        spec=s.obj(f"Desired state of {definition.kind}.", SECTIONS[definition.kind]()),
        status={
            "endpoint": s.typed(endpoints.INFRASTRUCTURE[definition.kind], "What clients connect to."),
            "components": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                           "description": "Members: replicas, ready and updated replicas, image."},
            **INFRASTRUCTURE_STATUS.get(definition.kind, {}),
        },
        columns=INFRASTRUCTURE_COLUMNS.get(definition.kind, [MEMBERS_COLUMN]),
    )


def controlplane_spec() -> s.Schema:
    properties: dict[str, s.Schema] = {
        "release": {**s.RELEASE, "default": DEFAULT_RELEASE},
        "nodeSelector": s.string_map("Labels every control-plane node carries."),
        "images": IMAGES,
        "debug": s.boolean("Debug logging in every service.", default=False),
        "workers": {**WORKERS, "description": "Worker processes of every service that sets none of its own."},
        "paused": s.boolean("Stop every service's upgrade after its current step (and start none).",
                            default=False),
    }
    for definition in catalog.SERVICES:
        properties[catalog.section(definition)] = s.obj(
            definition.description, service_section(definition), default={})
    for definition in catalog.INFRASTRUCTURE:
        properties[definition.section] = s.obj(definition.description, SECTIONS[definition.kind](), default={})
    return s.obj("Desired state of the whole control plane.", properties, required=["release"])


def controlplane_crd() -> dict[str, Any]:
    return crd(
        kind="OpenStackControlPlane", plural="openstackcontrolplanes", short_names=["oscp", "controlplane"],
        description="An OpenStack control plane: one resource per service is created from its sections.",
        spec=controlplane_spec(),
        status={
            "release": s.string("The release every service runs (empty while they differ)."),
            "servicesReady": s.string("Ready services out of all, as n/m."),
            "upgrading": s.string("The service moving to another release, its step, or empty."),
            "services": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                         "description": "Per service: Ready, reason, version."},
        },
        columns=[{"name": "Services", "type": "string", "jsonPath": ".status.servicesReady"},
                 {"name": "Release", "type": "string", "jsonPath": ".status.release"},
                 {"name": "Upgrading", "type": "string", "jsonPath": ".status.upgrading"}],
    )


def all_kinds() -> list[tuple[str, str]]:
    """(kind, plural) of every kind of this API."""
    return [("OpenStackControlPlane", "openstackcontrolplanes"),
            *((definition.kind, definition.plural) for definition in catalog.SERVICES),
            *((definition.kind, definition.plural) for definition in catalog.INFRASTRUCTURE)]


def register_api_types() -> None:
    """Makes the API client know the plural of every kind of this API."""
    for kind, plural in all_kinds():
        register_type(ResourceType(API_VERSION, kind, plural))


def all_crds() -> list[dict[str, Any]]:
    return [controlplane_crd(), *(infrastructure_crd(d) for d in catalog.INFRASTRUCTURE),
            *(service_crd(d) for d in catalog.SERVICES)]
