"""Default container images: the public Kolla images, tagged by OpenStack release and distro.

Infrastructure that Kolla does not do best is the exception: Galera and RabbitMQ run the
official MariaDB and RabbitMQ images (their issues explain why).
"""

from __future__ import annotations

from typing import Any

KOLLA_REGISTRY = "quay.io/openstack.kolla"
KOLLA_DISTRO = "ubuntu-noble"
KOLLA_TOOLBOX = "kolla-toolbox"
MARIADB = "mariadb:11.4"
RABBITMQ = "rabbitmq:4.1-management"


def apache(images_spec: dict[str, Any] | None = None) -> dict[str, str]:
    """Apache's program and site directory in Kolla images of the configured distro family."""
    distro = (images_spec or {}).get("distro") or KOLLA_DISTRO
    if distro.startswith(("ubuntu", "debian")):
        return {"binary": "apache2", "sites": "/etc/apache2/conf-enabled"}
    return {"binary": "httpd", "sites": "/etc/httpd/conf.d"}


def kolla(image: str, release: str, images_spec: dict[str, Any] | None = None) -> str:
    """The Kolla image `image` of `release`, e.g. quay.io/openstack.kolla/keystone:2026.1-ubuntu-noble."""
    spec = images_spec or {}
    registry = spec.get("registry") or KOLLA_REGISTRY
    distro = spec.get("distro") or KOLLA_DISTRO
    return f"{registry}/{image}:{release}-{distro}"
