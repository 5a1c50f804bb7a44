"""Render every file of a service as the operator would, from realistic published endpoints."""

from __future__ import annotations

from typing import Any

from ccp_operator.reconcile.service import component_files, component_settings, service_context
from ccp_operator.services import ceph
from ccp_operator.services.base import ServiceDefinition

NAMESPACE, INSTANCE = "openstack", "cloud"

ENDPOINTS = {
    "Galera": {"host": "cloud-galera.openstack.svc", "port": 3306, "adminSecret": "cloud-galera-root",
               "adminPasswordKey": "root-password", "clientImage": "ccp.local/galera:11.8"},
    "RabbitMQ": {"hosts": [f"cloud-rabbitmq-{i}.cloud-rabbitmq-nodes.openstack.svc" for i in range(3)],
                 "port": 5672, "rpcVhost": "openstack", "notificationsVhost": "notifications",
                 "notificationsTransportOptions": "rabbit_quorum_queue=true", "brokerVersion": "4.1",
                 "adminSecret": "cloud-rabbitmq-admin", "userSecrets": {}},
    "Memcached": {"servers": [f"cloud-memcached-{i}.cloud-memcached.openstack.svc:11211" for i in range(3)]},
    "Keystone": {"internalURL": "http://cloud-keystone.openstack.svc:5000", "publicURL": "http://10.0.0.10:5000",
                 "region": "RegionOne", "adminSecret": "cloud-keystone-credentials",
                 "adminPasswordKey": "admin-password"},
    "Placement": {"internalURLs": {"placement": "http://cloud-placement-api.openstack.svc:8780"}},
    "Nova": {"internalURLs": {"compute": "http://cloud-nova-api.openstack.svc:8774/v2.1"},
             "publicURLs": {"nova-api": "http://10.0.0.15:8774", "nova-novncproxy": "http://10.0.0.16:6080"}},
    "Etcd": {"endpoints": [f"cloud-etcd-{i}.cloud-etcd-peers.openstack.svc:2379" for i in range(3)],
             "service": "cloud-etcd.openstack.svc:2379", "tls": False},
    "Ceph": {"mode": "managed", "pools": {role: role for role in ceph.POOL_ROLES},
             "libvirtSecretUUID": "457eb676-33da-42ec-9a8c-9293d545c337",
             "clients": {user: {"secret": f"cloud-ceph-client-{user}", "user": user} for user in ceph.CLIENTS}},
}
CEPH_CONF = ("[global]\nfsid = 1b7e1a4e-36a4-4a0b-8a5e-7cf0f3b8f7a2\n"
             "mon_host = [v2:10.96.0.11:3300,v1:10.96.0.11:6789],[v2:10.96.0.12:3300,v1:10.96.0.12:6789]\n")
CEPH_KEY = "AQCWhAFr0O95HRAAgJZOV8pRIO6aD9QkMByZZA=="

CREDENTIALS = {"database-password": "db-Pa55word_x", "keystone-password": "ks-Pa55word_y",
               "admin-password": "admin-Pa55word", "secret-key": "django-secret-key-value"}


def context(definition: ServiceDefinition, spec: dict[str, Any] | None = None,
            endpoints: dict[str, dict[str, Any]] | None = None,
            messaging_password: str = "rabbit-Pa55word") -> dict[str, Any]:
    """The service's template context; `endpoints` replace the realistic defaults per kind."""
    spec = {"release": "2026.1", **(spec or {})}
    published = {**ENDPOINTS, **(endpoints or {})}
    deps = {kind: published[kind] for kind in definition.needs}
    # Its own generated secrets as long as the operator makes them (32 characters).
    credentials = {**{name: f"{name}-{'x' * 32}"[:32] for name in definition.passwords}, **CREDENTIALS}
    result = service_context(definition, spec, INSTANCE, NAMESPACE, deps, credentials, messaging_password,
                             {name: f"{name}-shared-secret" for name in definition.shared_secrets})
    if "Ceph" in deps:
        # What the Ceph client Secrets hold (the service reconciler reads them into the context).
        result["ceph"]["files"] = {user: {"ceph.conf": CEPH_CONF,
                                          f"ceph.client.{user}.keyring": ceph.keyring(f"client.{user}", CEPH_KEY)}
                                   for user in ceph.CLIENTS}
        held = [user for component in definition.components for user in component.ceph_users
                if ceph.CLIENTS[user].libvirt_secret]
        if held:  # the hypervisors' libvirt holds this user's key
            result["ceph"]["libvirt"] = {"xml": ceph.libvirt_secret_xml(published["Ceph"]["libvirtSecretUUID"], held[0]),
                                         "key": CEPH_KEY}
    return result


def node_set_context(definition: ServiceDefinition, spec: dict[str, Any]) -> dict[str, Any]:
    """A per-node component's extra template variables: its service's first node set."""
    node_set = definition.node_sets(spec)[0]
    return {"node_set": {"name": node_set.name, **node_set.values}}


def all_files(definition: ServiceDefinition, spec: dict[str, Any] | None = None,
              endpoints: dict[str, dict[str, Any]] | None = None,
              messaging_password: str = "rabbit-Pa55word") -> dict[str, dict[str, str]]:
    """{component name: {file name: content}} for every component of the service."""
    spec = {"release": "2026.1", **(spec or {})}
    ctx = context(definition, spec, endpoints, messaging_password)
    if definition.node_sets:
        ctx.update(node_set_context(definition, spec))
    return {component.name: component_files(definition, component,
                                             component_settings(definition, component, spec), ctx, spec)
            for component in definition.components}
