"""Every service the operator runs, in the order a control plane brings them up."""

from __future__ import annotations

from . import cinder, glance, heat, horizon, keystone, memcached, neutron, nova, placement
from .base import ServiceDefinition

SERVICES: tuple[ServiceDefinition, ...] = (
    memcached.SERVICE,
    keystone.SERVICE,
    placement.SERVICE,
    glance.SERVICE,
    cinder.SERVICE,
    neutron.SERVICE,
    nova.SERVICE,
    heat.SERVICE,
    horizon.SERVICE,
)

BY_KIND = {definition.kind: definition for definition in SERVICES}


def section(definition: ServiceDefinition) -> str:
    """The service's section name in the OpenStackControlPlane spec."""
    return definition.name
