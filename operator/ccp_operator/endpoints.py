"""The contracts between providers and their dependents: what each kind publishes in its
`status.endpoint` once Ready. Producers build these, consumers read them, the CRDs' status
schema is generated from them (api/kinds.py) and the tests' realistic endpoints are checked
against them, so a field renamed on one side fails on the other at once.
"""

from typing import Annotated, NotRequired, TypedDict

from .services.base import CACHE_SERVERS, CATALOG_URLS, IDENTITY


class EtcdEndpoint(TypedDict):
    """An etcd cluster, deployed or external."""

    endpoints: Annotated[list[str], "Every member's client address, host:port."]
    service: Annotated[str, "One address for all of them (the client Service), host:port."]
    tls: Annotated[bool, "Clients authenticate with certificates (external only)."]
    clientSecret: NotRequired[Annotated[str, "The Secret of ca.crt, tls.crt and tls.key (with tls)."]]


class GaleraEndpoint(TypedDict):
    """The database: its one writer, behind HAProxy."""

    host: Annotated[str, "The writer endpoint's host (its Service)."]
    port: Annotated[int, "Its port."]
    adminSecret: Annotated[str, "The Secret of the root password."]
    adminPasswordKey: Annotated[str, "Its key there."]
    clientImage: Annotated[str, "The image whose mariadb client the services' database Jobs run."]


class RabbitMQEndpoint(TypedDict):
    """The brokers: RPC and notifications vhosts, and a user per service."""

    hosts: Annotated[list[str], "Every broker's host."]
    port: Annotated[int, "The AMQP port."]
    rpcVhost: Annotated[str, "The vhost of RPC."]
    notificationsVhost: Annotated[str, "The vhost of notifications."]
    notificationsTransportOptions: Annotated[str, "The query of the notifications transport URL."]
    brokerVersion: Annotated[str, "The brokers' major.minor."]
    adminSecret: Annotated[str, "The Secret of the admin user."]
    userSecrets: Annotated[dict[str, str], "The Secret of each service's user, by service."]


class CephClientEndpoint(TypedDict):
    """One service user's Ceph client."""

    secret: Annotated[str, "The Secret of ceph.conf and the user's keyring."]
    user: Annotated[str, "The cephx user (without 'client.')."]
    revision: Annotated[str, "Changes with the Secret's files: its users roll on a new key."]


class CephEndpoint(TypedDict):
    """A Ceph cluster, deployed or external: pools, and one cephx client per service user."""

    mode: Annotated[str, "managed or external."]
    pools: Annotated[dict[str, str], "Pool name by role (images, volumes, vms, backups)."]
    libvirtSecretUUID: Annotated[str, "The uuid of the libvirt secret holding, on the hypervisors, the key of the user qemu opens disks as (cinder's)."]
    clients: Annotated[dict[str, CephClientEndpoint], "Each service user's client, by user."]
    fsid: NotRequired[Annotated[str, "Managed: the cluster's id."]]
    monitors: NotRequired[Annotated[dict[str, str], "Managed: each monitor's address, by id."]]
    radosgwURL: NotRequired[Annotated[str, "Managed, with radosgw: its internal URL."]]


class IdentityEndpoint(TypedDict):
    """Keystone: where to authenticate, and its admin's password."""

    internalURL: Annotated[str, "The identity API inside the cluster."]
    publicURL: Annotated[str, "The identity API as clients outside reach it."]
    region: Annotated[str, "The region of the catalog."]
    adminSecret: Annotated[str, "The Secret of the admin user's password."]
    adminPasswordKey: Annotated[str, "Its key there."]


class CacheEndpoint(TypedDict):
    """Memcached: every server, by stable pod name."""

    servers: Annotated[list[str], "Every server, host:port."]


class CatalogEndpoint(TypedDict):
    """An OpenStack service: the internal URL of each of its catalog entries."""

    internalURLs: Annotated[dict[str, str], "The internal URL of each catalog entry, by service type."]
    publicURLs: NotRequired[Annotated[dict[str, str], "The public URL of each component with a port, by component "
                                                      "(nova-novncproxy's, for the hypervisors' consoles)."]]


# What each infrastructure kind publishes, and an OpenStack service by its `publishes`.
INFRASTRUCTURE: dict[str, type] = {"Etcd": EtcdEndpoint, "Galera": GaleraEndpoint, "RabbitMQ": RabbitMQEndpoint,
                                   "Ceph": CephEndpoint}
SERVICES: dict[str, type] = {IDENTITY: IdentityEndpoint, CACHE_SERVERS: CacheEndpoint, CATALOG_URLS: CatalogEndpoint}


def fields(contract: type) -> tuple[frozenset[str], frozenset[str]]:
    """The required and the optional fields of a contract."""
    return contract.__required_keys__, contract.__optional_keys__


def check(contract: type, endpoint: dict) -> list[str]:
    """What in `endpoint` breaks the contract (top-level fields): missing or unknown ones."""
    required, optional = fields(contract)
    problems = [f"{contract.__name__} without {name}" for name in sorted(required - set(endpoint))]
    problems += [f"{contract.__name__} has no field {name}" for name in sorted(set(endpoint) - required - optional)]
    return problems
