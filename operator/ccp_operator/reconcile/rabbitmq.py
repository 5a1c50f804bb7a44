"""Reconciliation of a RabbitMQ resource: brokers, users and vhosts, Services and budget."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from .. import render, secrets, workloads
from ..endpoints import RabbitMQEndpoint
from ..errors import InvalidSpec
from ..kube.client import Kube
from ..services import rabbitmq
from . import rabbitmq_observer
from . import status as status_writer
from .base import Event, Outcome
from .members import MembersReconciler

SERVICE = "rabbitmq"
ADMIN_USER = "admin"


def password_hash(user: str, password: str) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password)).

    The 4-byte salt is derived from the user and password rather than drawn at random, so the
    same credentials always render the same definitions and nothing rolls without a change.
    """
    salt = hashlib.sha256(f"ccp-operator:{user}:{password}".encode()).digest()[:4]
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def definitions(admin_password: str, user_passwords: dict[str, str], replication: str) -> str:
    """definitions.json, loaded by every broker at boot: vhosts, users, permissions, policies."""
    notifications_type = rabbitmq.QUORUM if replication == rabbitmq.QUORUM else "classic"
    vhosts = [{"name": rabbitmq.RPC_VHOST, "metadata": {"description": "OpenStack RPC (never replicated)",
                                                         "default_queue_type": "classic", "tags": []}},
              {"name": rabbitmq.NOTIFICATIONS_VHOST, "metadata": {"description": "OpenStack notifications",
                                                                   "default_queue_type": notifications_type,
                                                                   "tags": []}}]
    users = [{"name": ADMIN_USER, "password_hash": password_hash(ADMIN_USER, admin_password),
              "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"]}]
    permissions = [{"user": ADMIN_USER, "vhost": vhost["name"], "configure": ".*", "write": ".*", "read": ".*"}
                   for vhost in vhosts]
    for user, password in sorted(user_passwords.items()):
        users.append({"name": user, "password_hash": password_hash(user, password),
                      "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []})
        permissions.extend(rabbitmq.permissions(user))
    return json.dumps({"users": users, "vhosts": vhosts, "permissions": permissions,
                       "policies": [rabbitmq.notification_policy(replication)]}, indent=2, sort_keys=True) + "\n"


class RabbitMQReconciler(MembersReconciler):
    definition = rabbitmq.DEFINITION
    service = SERVICE
    default_storage = rabbitmq.DEFAULT_STORAGE

    @property
    def peers_service(self) -> str:
        return f"{self.owner.name}-rabbitmq-nodes"

    def user_secret(self, user: str) -> str:
        return f"{self.owner.name}-rabbitmq-user-{user}"

    @property
    def broker_version(self) -> str:
        return self.spec.get("brokerVersion") or rabbitmq.DEFAULT_BROKER_VERSION

    @property
    def replication(self) -> str:
        return self.spec.get("notificationReplication") or rabbitmq.QUORUM

    def validate(self) -> None:
        super().validate()
        if self.replication == rabbitmq.MIRRORED and rabbitmq.major(self.broker_version) >= 4:
            raise InvalidSpec("spec.notificationReplication", f"RabbitMQ {self.broker_version} has no classic queue "
                                                              "mirroring (removed in 4.0): use quorum")

    @property
    def node_names(self) -> list[str]:
        """The brokers' Erlang node names (long names: their stable DNS names)."""
        return [f"rabbit@{self.owner.name}-rabbitmq-{i}.{self.peers_service}.{self.namespace}.svc"
                for i in range(self.replicas)]

    def reconcile(self) -> Outcome:
        self.validate()
        credentials = self.step("CredentialsReady", "Generated", self._ensure_credentials)
        components = self.step("BrokersReady", "Available", lambda: self._apply_brokers(credentials))
        name, ns = self.owner.name, self.namespace
        endpoint = RabbitMQEndpoint(
            hosts=[f"{name}-rabbitmq-{i}.{self.peers_service}.{ns}.svc" for i in range(self.replicas)],
            port=rabbitmq.PORT, rpcVhost=rabbitmq.RPC_VHOST, notificationsVhost=rabbitmq.NOTIFICATIONS_VHOST,
            notificationsTransportOptions=rabbitmq.notifications_transport_options(self.replication),
            brokerVersion=self.broker_version, adminSecret=f"{name}-rabbitmq-admin",
            userSecrets={user: self.user_secret(user) for user in (*rabbitmq.USERS, *rabbitmq.CONSUMERS)})
        return Outcome(components, endpoint, "")

    def _ensure_credentials(self) -> dict[str, Any]:
        name, ns = self.owner.name, self.namespace
        admin = secrets.ensure(self.kube, ns, f"{name}-rabbitmq-admin", ["password", "erlang-cookie"],
                               service=SERVICE, instance=name)
        users = {user: secrets.ensure(self.kube, ns, self.user_secret(user), ["password"], service=SERVICE,
                                      instance=name)["password"] for user in (*rabbitmq.USERS, *rabbitmq.CONSUMERS)}
        return {"admin": admin, "users": users}

    def config_file(self) -> str:
        """rabbitmq.conf (plus the user's customConfig lines, which win)."""
        config = render.render_file(rabbitmq.CONFIG_FILE, {
            "peers_service": self.peers_service, "namespace": self.namespace, "replicas": self.replicas,
            "port": rabbitmq.PORT, "management_port": rabbitmq.MANAGEMENT_PORT,
            "broker": tuple(int(part) for part in self.broker_version.split("."))})
        if self.spec.get("customConfig"):
            config += "\n# customConfig\n" + self.spec["customConfig"].rstrip("\n") + "\n"
        return config

    @property
    def service_account(self) -> str:
        return f"{self.owner.name}-rabbitmq"

    def peer_discovery_access(self) -> list[dict[str, Any]]:
        """What the brokers' Kubernetes peer discovery reads: the endpoints of their peers Service
        (a broker that cannot read them forms a cluster of its own)."""
        return workloads.api_reader(self.owner, SERVICE, self.service_account, [
            {"apiGroups": [""], "resources": ["endpoints"], "resourceNames": [self.peers_service],
             "verbs": ["get"]}])

    def pre_stop(self) -> str:
        """Before a broker stops: wait until every quorum queue keeps its majority without it
        (and, with mirroring, until its mirrors are in sync), then hand its leaders over."""
        timeout = rabbitmq.PRE_STOP_TIMEOUT
        steps = [f"rabbitmq-upgrade await_online_quorum_plus_one -t {timeout}"]
        if self.replication == rabbitmq.MIRRORED:
            steps.append(f"rabbitmq-upgrade await_online_synchronized_mirror -t {timeout}")
        steps.append("rabbitmq-upgrade drain")
        return " && ".join(steps)

    def _apply_brokers(self, credentials: dict[str, Any]) -> dict[str, Any]:
        owner, spec, name, ns = self.owner, self.spec, self.owner.name, self.namespace
        peers_service = self.peers_service
        config = self.config_file()
        self.kube.apply({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": workloads.metadata(owner, f"{name}-rabbitmq-config", SERVICE, SERVICE),
                         "data": {"rabbitmq.conf": config, "enabled_plugins": rabbitmq.ENABLED_PLUGINS}})
        defs = definitions(credentials["admin"]["password"], credentials["users"], self.replication)
        self.kube.apply(workloads.secret(owner, f"{name}-rabbitmq-definitions", SERVICE, SERVICE,
                                         {"definitions.json": defs}))
        for access in self.peer_discovery_access():
            self.kube.apply(access)
        image = spec.get("image") or rabbitmq.default_image(self.broker_version)
        node_name = f"rabbit@$(POD_NAME).{peers_service}.{ns}.svc"
        cookie = {"name": "cookie", "secret": {"secretName": f"{name}-rabbitmq-admin", "items": [
            {"key": "erlang-cookie", "path": ".erlang.cookie"}], "defaultMode": 0o400}}
        init = {
            "name": "erlang-cookie", "image": image, "imagePullPolicy": "IfNotPresent",
            # Removed first: a cookie an earlier image wrote as another user stays unwritable.
            "command": ["sh", "-c", "rm -f /var/lib/rabbitmq/.erlang.cookie && "
                                    "cp /cookie/.erlang.cookie /var/lib/rabbitmq/.erlang.cookie && "
                                    "chmod 600 /var/lib/rabbitmq/.erlang.cookie"],
            "volumeMounts": [{"name": "cookie", "mountPath": "/cookie"},
                             {"name": "data", "mountPath": "/var/lib/rabbitmq"}],
        }
        container = {
            "name": "rabbitmq", "image": image, "imagePullPolicy": "IfNotPresent",
            "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "RABBITMQ_USE_LONGNAME", "value": "true"},
                    {"name": "RABBITMQ_NODENAME", "value": node_name}],
            "ports": [{"name": "amqp", "containerPort": rabbitmq.PORT},
                      {"name": "management", "containerPort": rabbitmq.MANAGEMENT_PORT},
                      {"name": "epmd", "containerPort": rabbitmq.EPMD_PORT},
                      {"name": "distribution", "containerPort": rabbitmq.DISTRIBUTION_PORT}],
            # The memory limit is what the broker sizes its watermark from (it reads its cgroup).
            "resources": spec.get("resources") or {"requests": {"cpu": rabbitmq.CPU, "memory": rabbitmq.MEMORY},
                                                   "limits": {"memory": rabbitmq.MEMORY}},
            "lifecycle": {"preStop": {"exec": {"command": ["sh", "-c", self.pre_stop()]}}},
            "readinessProbe": {"tcpSocket": {"port": rabbitmq.PORT}, "periodSeconds": 10},
            "livenessProbe": {"exec": {"command": ["rabbitmq-diagnostics", "-q", "ping"]},
                              "initialDelaySeconds": 60, "periodSeconds": 30, "timeoutSeconds": 15},
            "volumeMounts": [
                {"name": "data", "mountPath": "/var/lib/rabbitmq"},
                {"name": "config", "mountPath": "/etc/rabbitmq/rabbitmq.conf", "subPath": "rabbitmq.conf"},
                {"name": "config", "mountPath": "/etc/rabbitmq/enabled_plugins", "subPath": "enabled_plugins"},
                {"name": "definitions", "mountPath": "/etc/rabbitmq/definitions", "readOnly": True}],
        }
        return self.apply_members(
            image=image, containers=[container], init_containers=[init],
            termination_grace=rabbitmq.PRE_STOP_TIMEOUT + 60, run_as=rabbitmq.UID,
            service_account=self.service_account,
            volumes=[{"name": "config", "configMap": {"name": f"{name}-rabbitmq-config"}},
                     {"name": "definitions", "secret": {"secretName": f"{name}-rabbitmq-definitions"}}, cookie],
            inputs=workloads.inputs_hash(config, defs, image),
            peer_ports={"epmd": rabbitmq.EPMD_PORT, "distribution": rabbitmq.DISTRIBUTION_PORT, "amqp": rabbitmq.PORT},
            client_ports={"amqp": rabbitmq.PORT, "management": rabbitmq.MANAGEMENT_PORT})


def refresh_broker_status(kube: Kube, body: dict[str, Any]) -> dict[str, Any]:
    """Writes the brokers' own view (members running, alarms, partitions) into the status; only
    the fields that changed."""
    reconciler = RabbitMQReconciler(kube, body)
    name, ns = reconciler.owner.name, reconciler.namespace
    admin = kube.get("v1", "Secret", ns, f"{name}-rabbitmq-admin")
    if admin is None:
        return {}  # not created yet: the reconciler's conditions say why
    password = secrets.decoded(admin)["password"]
    url = f"http://{reconciler.client_service}.{ns}.svc:{rabbitmq.MANAGEMENT_PORT}"
    summary = rabbitmq_observer.observe(url, ADMIN_USER, password, reconciler.node_names)
    if "members" not in summary:  # unreachable: keep the last known state, say why
        summary = {"brokerObservation": summary["brokerObservation"]}
    return status_writer.patch_fields(kube, body, summary)


def observe(kube: Kube, body: dict[str, Any]) -> list[Event]:
    """The RabbitMQ observer's pass: the brokers' view into the status, an Event on an alarm."""
    changed = refresh_broker_status(kube, body)
    if changed.get("alarms") not in (None, "none"):
        return [Event("Warning", "BrokerAlarm", changed["alarms"])]
    return []
