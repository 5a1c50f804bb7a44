"""Reconciliation of a Galera resource: members, their configuration, Services and budget."""

from __future__ import annotations

from typing import Any

from .. import images, placement, render, secrets, workloads
from ..errors import InvalidSpec, Waiting
from ..services import galera
from .base import Outcome, Reconciler
from .service import rollout_state

SERVICE = COMPONENT = "galera"


class GaleraReconciler(Reconciler):
    kind = galera.KIND

    @property
    def replicas(self) -> int:
        return self.spec.get("replicas", galera.DEFAULT_REPLICAS)

    def validate(self) -> None:
        if self.replicas % 2 == 0:
            raise InvalidSpec("spec.replicas", f"{self.replicas} members cannot keep a majority when half of them "
                                               "fail; use an odd number (1, 3, 5, ...)")

    def reconcile(self) -> Outcome:
        self.validate()
        name, ns = self.owner.name, self.namespace
        root_secret = f"{name}-galera-root"
        self.step("CredentialsReady", "Generated", lambda: secrets.ensure(
            self.kube, ns, root_secret, [galera.ROOT_PASSWORD_KEY], service=SERVICE, instance=name))
        components = self.step("MembersReady", "Available", lambda: self._apply_members(root_secret))
        endpoint = {"host": f"{name}-galera.{ns}.svc", "port": galera.PORT, "adminSecret": root_secret,
                    "adminPasswordKey": galera.ROOT_PASSWORD_KEY}
        return Outcome(components, endpoint, "")

    def _apply_members(self, root_secret: str) -> dict[str, Any]:
        owner, spec, name, ns = self.owner, self.spec, self.owner.name, self.namespace
        peers_service = f"{name}-galera-peers"
        peers = [f"{name}-galera-{i}.{peers_service}.{ns}.svc" for i in range(self.replicas)]
        config = render.render_file(galera.CONFIG_FILE, {
            "port": galera.PORT, "cluster_name": f"{ns}-{name}", "peers": peers,
            "max_connections": galera.MAX_CONNECTIONS, "buffer_pool_size": galera.BUFFER_POOL_SIZE,
            "gcache_size": galera.GCACHE_SIZE, "applier_threads": galera.APPLIER_THREADS})
        self.kube.apply({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": workloads.metadata(owner, f"{name}-galera-config", SERVICE, COMPONENT),
                         "data": {"galera.cnf": config}})
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
                             {"name": "config", "mountPath": galera.CONFIG_FILE.dest, "subPath": "galera.cnf"}],
        }
        template = workloads.infrastructure_pod(
            owner, SERVICE, COMPONENT, dedicated=spec.get("dedicated", True),
            node_selector=placement.merged_node_selector(spec.get("nodeSelector")), containers=[container],
            volumes=[{"name": "config", "configMap": {"name": f"{name}-galera-config"}}],
            inputs=workloads.inputs_hash(config, image))
        self.kube.apply(workloads.plain_service(owner, SERVICE, COMPONENT, peers_service, {
            "mysql": galera.PORT, "replication": galera.REPLICATION_PORT, "ist": galera.IST_PORT,
            "sst": galera.SST_PORT}, headless=True))
        self.kube.apply(workloads.plain_service(owner, SERVICE, COMPONENT, f"{name}-galera", {"mysql": galera.PORT}))
        if self.replicas > 1:
            self.kube.apply(workloads.budget(owner, SERVICE, COMPONENT, f"{name}-galera"))
        live = self.kube.apply(workloads.stateful_set(
            owner, SERVICE, COMPONENT, replicas=self.replicas, template=template, peers_service=peers_service,
            storage=spec.get("storage") or {"size": galera.DEFAULT_STORAGE}))
        state = rollout_state(live, self.replicas)
        if not state["done"]:
            raise Waiting("RollingOut", f"waiting for Galera members: {state['ready']}/{self.replicas} ready",
                          soon=True)
        return {COMPONENT: {"replicas": self.replicas, "readyReplicas": state["ready"],
                            "updatedReplicas": state["updated"], "image": image}}
