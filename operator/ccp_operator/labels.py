"""The app.kubernetes.io labels every object carries, and the ones selectors may use."""

from __future__ import annotations

PART_OF = "openstack"
MANAGED_BY = "ccp-operator"

NAME = "app.kubernetes.io/name"
INSTANCE = "app.kubernetes.io/instance"
COMPONENT = "app.kubernetes.io/component"
VERSION = "app.kubernetes.io/version"


def selector(service: str, instance: str, component: str) -> dict[str, str]:
    """Labels that pick one component's pods; they never change, so selectors can use them."""
    return {NAME: service, INSTANCE: instance, COMPONENT: component}


def standard(service: str, instance: str, component: str | None = None, version: str | None = None) -> dict[str, str]:
    labels = {NAME: service, INSTANCE: instance, "app.kubernetes.io/part-of": PART_OF,
              "app.kubernetes.io/managed-by": MANAGED_BY}
    if component:
        labels[COMPONENT] = component
    if version:
        labels[VERSION] = version
    return labels
