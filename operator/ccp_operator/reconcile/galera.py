"""Reconciliation of a Galera resource: credentials, the members with their agents, and the
writer endpoint (HAProxy with the router) behind the client Service."""

from __future__ import annotations

import json
from typing import Any

from .. import dependencies, dns, images, labels, placement, render, secrets, workloads
from ..endpoints import EtcdEndpoint, GaleraEndpoint
from ..galera_contract import AGENT_CONFIG, ROUTER_CONFIG, AgentConfig, EtcdConfig, RouterConfig
from ..errors import InvalidSpec, Waiting
from ..kube.client import Kube
from ..services import galera
from . import galera_observer
from . import status as status_writer
from .base import Event, Outcome
from .members import MembersReconciler

SERVICE = "galera"
HAPROXY = "galera-haproxy"


def haproxy_config(members: list[tuple[str, str]], bind: str,
                   admin_socket: str = galera.HAPROXY_ADMIN_SOCKET) -> str:
    """The writer endpoint's HAProxy configuration; `members` are (name, host:port) pairs."""
    return render.render_file(galera.HAPROXY_CONFIG, {
        "members": [{"name": name, "address": address} for name, address in members], "bind": bind,
        "admin_socket": admin_socket, "backend": galera.WRITER_BACKEND,
        "max_connections": galera.HAPROXY_MAX_CONNECTIONS})


def etcd_settings(endpoint: EtcdEndpoint) -> EtcdConfig:
    """The agent's and router's `etcd` settings from an Etcd resource's published endpoint."""
    settings = EtcdConfig(endpoints=list(endpoint["endpoints"]))
    if endpoint.get("tls"):
        settings.update(ca_file=f"{galera.ETCD_TLS_DIR}/ca.crt", cert_file=f"{galera.ETCD_TLS_DIR}/tls.crt",
                        key_file=f"{galera.ETCD_TLS_DIR}/tls.key")
    return settings


class GaleraReconciler(MembersReconciler):
    definition = galera.DEFINITION
    service = SERVICE
    default_storage = galera.DEFAULT_STORAGE

    @property
    def member_names(self) -> list[str]:
        return [f"{self.owner.name}-galera-{i}" for i in range(self.replicas)]

    @property
    def image(self) -> str:
        return self.spec.get("image") or images.GALERA

    @property
    def prefix(self) -> str:
        return galera.etcd_prefix(self.namespace, self.owner.name)

    def validate(self) -> None:
        super().validate()
        forced = self.spec.get("forceBootstrap")
        if forced and forced not in self.member_names:
            raise InvalidSpec("spec.forceBootstrap", f"{forced} is not a member; members: "
                                                     f"{', '.join(self.member_names)}")

    def reconcile(self) -> Outcome:
        self.validate()
        name, ns = self.owner.name, self.namespace
        root_secret, sst_secret = f"{name}-galera-root", f"{name}-galera-sst"
        self.step("CredentialsReady", "Generated", lambda: self._ensure_credentials(root_secret, sst_secret))
        etcd_endpoint = self.step("EtcdReady", "Available", self.etcd_endpoint)
        components = self.step("MembersReady", "Available",
                               lambda: self._apply_members(root_secret, sst_secret, etcd_endpoint))
        components.update(self.step("WriterEndpointReady", "Available", lambda: self._apply_haproxy(etcd_endpoint)))
        # clientImage: the image whose mariadb client the services' database Jobs run.
        endpoint = GaleraEndpoint(host=f"{self.client_service}.{ns}.svc", port=galera.PORT, adminSecret=root_secret,
                                  adminPasswordKey=galera.ROOT_PASSWORD_KEY, clientImage=self.image)
        return Outcome(components, endpoint, "")

    def _ensure_credentials(self, root_secret: str, sst_secret: str) -> None:
        name, ns = self.owner.name, self.namespace
        secrets.ensure(self.kube, ns, root_secret, [galera.ROOT_PASSWORD_KEY], service=SERVICE, instance=name)
        secrets.ensure(self.kube, ns, sst_secret, [galera.SST_PASSWORD_KEY], service=SERVICE, instance=name)

    def etcd_endpoint(self) -> dict[str, Any]:
        """The endpoint the Etcd in use publishes (Waiting until it is Ready)."""
        return dependencies.resolve(self.kube, self.namespace, self.spec, galera.DEFINITION.dependencies, self.owner.name)["Etcd"]

    def _etcd_volume(self, etcd_endpoint: dict[str, Any]) -> tuple[list[dict], list[dict]]:
        if not etcd_endpoint.get("tls"):
            return [], []
        return ([{"name": "etcd-tls", "secret": {"secretName": etcd_endpoint["clientSecret"], "defaultMode": 0o440}}],
                [{"name": "etcd-tls", "mountPath": galera.ETCD_TLS_DIR, "readOnly": True}])

    def agent_config(self, etcd_endpoint: EtcdEndpoint) -> AgentConfig:
        ns = self.namespace
        return AgentConfig(
            members={member: f"{member}.{self.peers_service}.{ns}.svc:{galera.REPLICATION_PORT}"
                     for member in self.member_names},
            etcd=etcd_settings(etcd_endpoint),
            prefix=self.prefix,
            datadir=galera.DATA_DIR,
            socket=galera.SOCKET,
            # galera.cnf comes from /etc/mysql/conf.d; the node address (where peers and state
            # transfers reach the member) is the pod's own IP, which the agent expands.
            mysqld=["mariadbd", "--wsrep-node-address=${POD_IP}"],
            root_password_file=f"{galera.SECRETS_DIR}/root/{galera.ROOT_PASSWORD_KEY}",
            sst_password_file=f"{galera.SECRETS_DIR}/sst/{galera.SST_PASSWORD_KEY}",
            writer_ttl=galera.WRITER_TTL,
            fence_margin=galera.FENCE_MARGIN,
            health_port=galera.HEALTH_PORT,
            force_bootstrap_file=f"{galera.CONTROL_DIR}/force-bootstrap",
        )

    def _apply_members(self, root_secret: str, sst_secret: str, etcd_endpoint: dict[str, Any]) -> dict[str, Any]:
        owner, spec, name, ns = self.owner, self.spec, self.owner.name, self.namespace
        config = render.render_file(galera.CONFIG_FILE, {
            "port": galera.PORT, "cluster_name": f"{ns}-{name}", "max_connections": galera.MAX_CONNECTIONS,
            "buffer_pool_size": spec.get("bufferPoolSize") or galera.BUFFER_POOL_SIZE,
            "applier_threads": galera.APPLIER_THREADS,
            "provider_options": galera.provider_options(spec.get("gcacheSize") or galera.GCACHE_SIZE)})
        custom = spec.get("customConfig") or ""
        agent = json.dumps(self.agent_config(etcd_endpoint), indent=2, sort_keys=True) + "\n"
        self.kube.apply({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": workloads.metadata(owner, f"{name}-galera-config", SERVICE, SERVICE),
                         "data": {"galera.cnf": config, "zz-custom.cnf": custom, AGENT_CONFIG: agent}})
        # Read by the agent while it runs: a change takes effect without restarting any member.
        self.kube.apply({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": workloads.metadata(owner, f"{name}-galera-control", SERVICE, SERVICE),
                         "data": {"force-bootstrap": spec.get("forceBootstrap") or ""}})
        image = self.image
        etcd_volumes, etcd_mounts = self._etcd_volume(etcd_endpoint)
        container = {
            "name": "mariadb",
            "image": image,
            "imagePullPolicy": "IfNotPresent",
            "command": [galera.AGENT, f"{galera.AGENT_CONFIG_DIR}/{AGENT_CONFIG}"],
            "env": [{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
            "ports": [{"name": "mysql", "containerPort": galera.PORT},
                      {"name": "replication", "containerPort": galera.REPLICATION_PORT},
                      {"name": "ist", "containerPort": galera.IST_PORT},
                      {"name": "sst", "containerPort": galera.SST_PORT},
                      {"name": "health", "containerPort": galera.HEALTH_PORT}],
            "resources": spec.get("resources") or {"requests": {"cpu": galera.CPU, "memory": galera.MEMORY}},
            # Ready = Synced in the Primary component; live = not stuck outside it (the agent
            # restarts a crashed mysqld itself, and waiting for peers after an outage is alive).
            **workloads.http_probes(galera.HEALTH_PORT, "/ready", "/live", live_after=30),
            "volumeMounts": [{"name": "data", "mountPath": galera.DATA_DIR},
                             {"name": "config", "mountPath": galera.CONFIG_FILE.dest, "subPath": "galera.cnf"},
                             # Read after galera.cnf: option files of a directory load in name order.
                             {"name": "config", "mountPath": "/etc/mysql/conf.d/zz-custom.cnf",
                              "subPath": "zz-custom.cnf"},
                             {"name": "config", "mountPath": f"{galera.AGENT_CONFIG_DIR}/{AGENT_CONFIG}",
                              "subPath": AGENT_CONFIG},
                             {"name": "control", "mountPath": galera.CONTROL_DIR, "readOnly": True},
                             {"name": "root-password", "mountPath": f"{galera.SECRETS_DIR}/root", "readOnly": True},
                             {"name": "sst-password", "mountPath": f"{galera.SECRETS_DIR}/sst", "readOnly": True},
                             *etcd_mounts],
        }
        # Group-readable: the pod's fsGroup (the mysql group) owns the mounted files.
        volumes = [{"name": "config", "configMap": {"name": f"{name}-galera-config"}},
                   {"name": "control", "configMap": {"name": f"{name}-galera-control"}},
                   {"name": "root-password", "secret": {"secretName": root_secret, "defaultMode": 0o440}},
                   {"name": "sst-password", "secret": {"secretName": sst_secret, "defaultMode": 0o440}},
                   *etcd_volumes]
        return self.apply_members(
            image=image, containers=[container], volumes=volumes, run_as=galera.MYSQL_UID,
            inputs=workloads.inputs_hash(config, custom, agent, image),
            peer_ports={"mysql": galera.PORT, "replication": galera.REPLICATION_PORT, "ist": galera.IST_PORT,
                        "sst": galera.SST_PORT},
            client_ports=None)

    def haproxy_file(self) -> str:
        """haproxy.cfg of the writer endpoint: every member by its stable DNS name, fully
        qualified (HAProxy re-resolves it without search domains)."""
        return haproxy_config([(member, dns.fully_qualified(f"{member}.{self.peers_service}.{self.namespace}.svc")
                                + f":{galera.PORT}")
                               for member in self.member_names], bind=f"0.0.0.0:{galera.PORT}")

    def _apply_haproxy(self, etcd_endpoint: dict[str, Any]) -> dict[str, Any]:
        owner, spec, name = self.owner, self.spec, self.owner.name
        settings = spec.get("haproxy") or {}
        replicas = settings.get("replicas", galera.HAPROXY_REPLICAS)
        config = self.haproxy_file()
        router = json.dumps(RouterConfig(etcd=etcd_settings(etcd_endpoint), prefix=self.prefix,
                                         admin_socket=galera.HAPROXY_ADMIN_SOCKET, backend=galera.WRITER_BACKEND,
                                         servers=self.member_names), indent=2, sort_keys=True) + "\n"
        workload = f"{name}-{HAPROXY}"
        self.kube.apply({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": workloads.metadata(owner, f"{workload}-config", SERVICE, HAPROXY),
                         "data": {"haproxy.cfg": config, ROUTER_CONFIG: router}})
        haproxy_image = settings.get("image") or images.HAPROXY
        router_image = self.image
        etcd_volumes, etcd_mounts = self._etcd_volume(etcd_endpoint)
        socket_mount = {"name": "admin-socket", "mountPath": "/var/run/haproxy"}
        containers = [
            {"name": "haproxy", "image": haproxy_image, "imagePullPolicy": "IfNotPresent",
             "command": ["haproxy", "-W", "-db", "-f", galera.HAPROXY_CONFIG.dest],
             "ports": [{"name": "mysql", "containerPort": galera.PORT}],
             "resources": settings.get("resources") or {"requests": {"cpu": galera.HAPROXY_CPU,
                                                                     "memory": galera.HAPROXY_MEMORY}},
             "readinessProbe": {"tcpSocket": {"port": galera.PORT}, "periodSeconds": 5},
             "livenessProbe": {"tcpSocket": {"port": galera.PORT}, "initialDelaySeconds": 10, "periodSeconds": 10},
             "volumeMounts": [socket_mount, {"name": "config", "mountPath": galera.HAPROXY_CONFIG.dest,
                                             "subPath": "haproxy.cfg"}]},
            {"name": "router", "image": router_image, "imagePullPolicy": "IfNotPresent",
             "command": [galera.ROUTER, f"/etc/ccp-galera-router/{ROUTER_CONFIG}"],
             "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}},
             "volumeMounts": [socket_mount, {"name": "config", "mountPath": f"/etc/ccp-galera-router/{ROUTER_CONFIG}",
                                             "subPath": ROUTER_CONFIG}, *etcd_mounts]},
        ]
        template = workloads.infrastructure_pod(
            owner, SERVICE, HAPROXY, dedicated=False,
            node_selector=placement.merged_node_selector(spec.get("nodeSelector")), containers=containers,
            volumes=[{"name": "admin-socket", "emptyDir": {"medium": "Memory"}},
                     {"name": "config", "configMap": {"name": f"{workload}-config"}}, *etcd_volumes],
            inputs=workloads.inputs_hash(config, router, haproxy_image, router_image))
        # HAProxy's image runs as its own user; the router must own the same admin socket.
        template["spec"]["securityContext"] = {"runAsUser": galera.HAPROXY_UID, "runAsGroup": galera.HAPROXY_UID,
                                               "runAsNonRoot": True}
        template["spec"]["terminationGracePeriodSeconds"] = 30
        self.kube.apply(workloads.plain_service(owner, SERVICE, HAPROXY, self.client_service, {"mysql": galera.PORT}))
        self.kube.apply(workloads.budget(owner, SERVICE, HAPROXY, workload))
        live = self.kube.apply({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": workloads.metadata(owner, workload, SERVICE, HAPROXY),
            "spec": {"replicas": replicas, "revisionHistoryLimit": 5,
                     "selector": {"matchLabels": labels.selector(SERVICE, name, HAPROXY)},
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                     "template": template}})
        return {HAPROXY: self.rolled_out(live, replicas, haproxy_image, "the writer endpoint's HAProxy pods")}


def refresh_cluster_status(kube: Kube, body: dict[str, Any]) -> dict[str, Any]:
    """Writes what the agents report through etcd (members, writer, last failover) into the
    status, naming only those fields and only when they changed; returns what changed."""
    reconciler = GaleraReconciler(kube, body)
    try:
        etcd_endpoint = reconciler.etcd_endpoint()
    except Waiting:
        return {}  # no etcd yet: the reconciler's own conditions say so
    summary = galera_observer.observe(kube, reconciler.namespace, reconciler.owner.name, reconciler.member_names,
                                      etcd_endpoint)
    if "members" not in summary:  # etcd unreachable: keep the last known state, say why
        summary = {"clusterObservation": summary["clusterObservation"]}
    return status_writer.patch_fields(kube, body, summary)


def observe(kube: Kube, body: dict[str, Any]) -> list[Event]:
    """The Galera observer's pass: the agents' report into the status, an Event on a failover."""
    changed = refresh_cluster_status(kube, body)
    if "lastFailoverTime" in changed:
        return [Event("Warning", "Failover", f"the writer changed: {changed['lastFailover']}")]
    return []
