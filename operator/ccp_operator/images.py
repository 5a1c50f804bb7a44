"""Default container images: the public Kolla images, tagged by OpenStack release and distro.

Infrastructure that Kolla does not do best is the exception: RabbitMQ, etcd and HAProxy run
their official images; Galera runs this project's image (images/galera: the official MariaDB
image with the Galera agent), whose router also runs beside HAProxy.
"""

from __future__ import annotations

from typing import Any

KOLLA_REGISTRY = "quay.io/openstack.kolla"
KOLLA_DISTRO = "ubuntu-noble"
KOLLA_TOOLBOX = "kolla-toolbox"
GALERA = "ghcr.io/openstack-ccp/galera:0.1.0-mariadb-11.4"
HAPROXY = "haproxy:3.2"
ETCD = "quay.io/coreos/etcd:v3.6.16"


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


def toolbox_python(program: str) -> str:
    """A Job step that runs `program` with the Kolla toolbox's python3 and its openstacksdk, in
    one process (the openstack CLI paid its start-up and a token per command, ~4 s apiece on a
    small node). A quoted here-document: the shell expands nothing in the program."""
    return f"exec python3 - <<'PROGRAM'\n{program.strip(chr(10))}\nPROGRAM"
