"""Every kind the operator runs: the OpenStack services, in the order a control plane brings
them up and upgrades them, and the infrastructure they stand on."""

from __future__ import annotations

from . import cinder, compute, glance, heat, horizon, keystone, memcached, neutron, nova, placement
from .base import InfrastructureDefinition, ServiceDefinition

SERVICES: tuple[ServiceDefinition, ...] = (
    memcached.SERVICE,
    keystone.SERVICE,
    placement.SERVICE,
    glance.SERVICE,
    cinder.SERVICE,
    neutron.SERVICE,
    nova.SERVICE,
    compute.SERVICE,
    heat.SERVICE,
    horizon.SERVICE,
)

BY_KIND = {definition.kind: definition for definition in SERVICES}

# Imported once SERVICES exists: RabbitMQ's users and Ceph's clients are read from it.
from . import ceph, etcd, galera, rabbitmq  # noqa: E402

# The quorum services first; an infrastructure kind that waits for a service (Ceph's radosgw
# for keystone) comes up just before the first service that uses it.
INFRASTRUCTURE: tuple[InfrastructureDefinition, ...] = (
    etcd.DEFINITION,
    galera.DEFINITION,
    rabbitmq.DEFINITION,
    ceph.DEFINITION,
)

INFRASTRUCTURE_BY_KIND = {definition.kind: definition for definition in INFRASTRUCTURE}


def section(definition: ServiceDefinition) -> str:
    """The service's section name in the OpenStackControlPlane spec."""
    return definition.name
