"""Reconciliation of a Galera resource: members, their configuration, Services and budget."""

from __future__ import annotations

from typing import Any

from .. import images, render, secrets, workloads
from ..services import galera
from .base import Outcome
from .members import MembersReconciler

SERVICE = "galera"


def haproxy_config(members: list[tuple[str, str]], bind: str,
                   admin_socket: str = galera.HAPROXY_ADMIN_SOCKET) -> str:
    """The writer endpoint's HAProxy configuration; `members` are (name, host:port) pairs."""
    return render.render_file(galera.HAPROXY_CONFIG, {
        "members": [{"name": name, "address": address} for name, address in members], "bind": bind,
        "admin_socket": admin_socket, "backend": galera.WRITER_BACKEND,
        "max_connections": galera.HAPROXY_MAX_CONNECTIONS})


class GaleraReconciler(MembersReconciler):
    kind = galera.KIND
    service = SERVICE
    default_replicas = galera.DEFAULT_REPLICAS
    default_storage = galera.DEFAULT_STORAGE

    def reconcile(self) -> Outcome:
        self.validate()
        name, ns = self.owner.name, self.namespace
        root_secret = f"{name}-galera-root"
        self.step("CredentialsReady", "Generated", lambda: secrets.ensure(
            self.kube, ns, root_secret, [galera.ROOT_PASSWORD_KEY], service=SERVICE, instance=name))
        components = self.step("MembersReady", "Available", lambda: self._apply_members(root_secret))
        endpoint = {"host": f"{self.client_service}.{ns}.svc", "port": galera.PORT, "adminSecret": root_secret,
                    "adminPasswordKey": galera.ROOT_PASSWORD_KEY}
        return Outcome(components, endpoint, "")

    def _apply_members(self, root_secret: str) -> dict[str, Any]:
        owner, spec, name, ns = self.owner, self.spec, self.owner.name, self.namespace
        peers = [f"{name}-galera-{i}.{self.peers_service}.{ns}.svc" for i in range(self.replicas)]
        config = render.render_file(galera.CONFIG_FILE, {
            "port": galera.PORT, "cluster_name": f"{ns}-{name}", "peers": peers,
            "max_connections": galera.MAX_CONNECTIONS, "buffer_pool_size": galera.BUFFER_POOL_SIZE,
            "gcache_size": galera.GCACHE_SIZE, "applier_threads": galera.APPLIER_THREADS})
        custom = spec.get("customConfig") or ""
        self.kube.apply({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": workloads.metadata(owner, f"{name}-galera-config", SERVICE, SERVICE),
                         "data": {"galera.cnf": config, "zz-custom.cnf": custom}})
        image = spec.get("image") or images.MARIADB
        container = {
            "name": "mariadb",
            "image": image,
            "imagePullPolicy": "IfNotPresent",
            "env": [{"name": "MARIADB_ROOT_PASSWORD", "valueFrom": {"secretKeyRef": {
                "name": root_secret, "key": galera.ROOT_PASSWORD_KEY}}}],
            "ports": [{"name": "mysql", "containerPort": galera.PORT},
                      {"name": "replication", "containerPort": galera.REPLICATION_PORT},
                      {"name": "ist", "containerPort": galera.IST_PORT},
                      {"name": "sst", "containerPort": galera.SST_PORT}],
            "resources": spec.get("resources") or {"requests": {"cpu": galera.CPU, "memory": galera.MEMORY}},
            "readinessProbe": {"tcpSocket": {"port": galera.PORT}, "periodSeconds": 10},
            "livenessProbe": {"tcpSocket": {"port": galera.PORT}, "initialDelaySeconds": 120, "periodSeconds": 15},
            "volumeMounts": [{"name": "data", "mountPath": "/var/lib/mysql"},
                             {"name": "config", "mountPath": galera.CONFIG_FILE.dest, "subPath": "galera.cnf"},
                             # Read after galera.cnf: option files of a directory load in name order.
                             {"name": "config", "mountPath": "/etc/mysql/conf.d/zz-custom.cnf",
                              "subPath": "zz-custom.cnf"}],
        }
        return self.apply_members(
            image=image, containers=[container],
            volumes=[{"name": "config", "configMap": {"name": f"{name}-galera-config"}}],
            inputs=workloads.inputs_hash(config, custom, image),
            peer_ports={"mysql": galera.PORT, "replication": galera.REPLICATION_PORT, "ist": galera.IST_PORT,
                        "sst": galera.SST_PORT},
            client_ports={"mysql": galera.PORT})
