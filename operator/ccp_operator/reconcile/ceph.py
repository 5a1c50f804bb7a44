"""Reconciliation of a Ceph resource: monitors, managers, pools and users, radosgw, and one client
Secret per OpenStack service (ceph.conf and its keyring), or the same Secrets from an external
cluster."""

from __future__ import annotations

from typing import Any

from .. import dependencies, images, labels, placement, render, secrets, workloads
from ..api import API_VERSION
from ..endpoints import CephClientEndpoint, CephEndpoint
from ..errors import InvalidSpec, Waiting, require_odd
from ..hashing import short_hash
from ..kube.client import Kube
from ..releases import DEFAULT_RELEASE
from ..services import ceph
from ..services.base import KEYSTONE, Endpoint, JobStep
from . import ceph_observer, jobs
from . import status as status_writer
from .base import Event, Outcome, Reconciler
from .identity import keystone_admin_env, registration_script
from .jobs import from_secret

SERVICE = "ceph"
MON, MGR, RGW = "ceph-mon", "ceph-mgr", "radosgw"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
CONFIG_DIR = "/etc/ceph"
SCRIPTS_DIR = "/usr/local/share/ccp-ceph"
# The daemons run as Ceph's own user; mounted keys are readable by its group (the volumes'
# group is fsGroup), by no one else.
KEY_MODE = 0o440
RGW_ENDPOINT = Endpoint("object-store", "swift", RGW, ceph.RGW_SWIFT_PATH, "Ceph radosgw (Swift and S3)")


def rook_mon_host(endpoints: str) -> str:
    """mon_host from Rook's mon-endpoints ConfigMap (`a=10.0.0.1:6789,b=10.0.0.2:6789`)."""
    addresses = [entry.split("=", 1)[1] for entry in endpoints.split(",") if "=" in entry]
    if not addresses:
        raise Waiting("ExternalCephIncomplete", f"Rook's mon endpoints list no monitor: {endpoints!r}")
    return ",".join(addresses)


class CephReconciler(Reconciler):
    definition = ceph.DEFINITION
    kind = definition.kind

    # -- the spec, with defaults ---------------------------------------------------------------

    @property
    def external(self) -> bool:
        return self.spec.get("mode", ceph.MANAGED) == ceph.EXTERNAL

    def _count(self, section: str, default: int) -> int:
        return (self.spec.get(section) or {}).get("replicas", default)

    @property
    def monitor_ids(self) -> list[str]:
        return list(ceph.DAEMON_IDS[:self._count("monitors", ceph.DEFAULT_MONITORS)])

    @property
    def manager_ids(self) -> list[str]:
        return list(ceph.DAEMON_IDS[:self._count("managers", ceph.DEFAULT_MANAGERS)])

    @property
    def radosgw_replicas(self) -> int:
        return self._count("radosgw", ceph.DEFAULT_RADOSGW)

    @property
    def pools(self) -> dict[str, str]:
        names = self.spec.get("pools") or {}
        return {role: names.get(role) or role for role in ceph.POOL_ROLES}

    @property
    def pool_size(self) -> int:
        return self.spec.get("poolSize", ceph.DEFAULT_POOL_SIZE)

    @property
    def image(self) -> str:
        return self.spec.get("image") or ceph.IMAGE

    def name(self, suffix: str) -> str:
        return f"{self.owner.name}-{suffix}"

    def client_secret(self, user: str) -> str:
        return self.name(f"ceph-client-{user}")

    @property
    def rgw_entity(self) -> str:
        return f"client.rgw.{self.owner.name}"

    # -- the pass ------------------------------------------------------------------------------

    def validate(self) -> None:
        if self.external:
            if not self.spec.get("external"):
                raise InvalidSpec("spec.external", "mode external needs external.rook or external.secret")
            return
        require_odd("spec.monitors.replicas", len(self.monitor_ids), "monitors", "a quorum")

    def reconcile(self) -> Outcome:
        self.validate()
        cluster = self.step("CredentialsReady", "Generated", self._ensure_cluster_secrets)
        if self.external:
            clients = self.step("ExternalCephReady", "Found", lambda: self._external_clients(cluster))
            self.step("ClientsReady", "Published", lambda: self._publish_clients(clients, cluster))
            return Outcome({}, self._endpoint(cluster, clients, monitors=None, radosgw=None), "")
        keys = cluster["keys"]
        monitors = self.step("MonitorAddressesReady", "Allocated", self._monitor_addresses)
        mon_host = ",".join(ceph.mon_address(ip) for _, ip in monitors)
        files = self.daemon_files(cluster, monitors)
        self.step("MonitorMembershipReady", "Current", lambda: self._monitor_membership(cluster, monitors, files))
        components = self.step("MonitorsReady", "Available", lambda: self._apply_monitors(cluster, files))
        # The managers authenticate with keys the bootstrap imports: it runs first.
        self.step("PoolsAndUsersReady", "Completed", lambda: self._bootstrap(cluster, files))
        components.update(self.step("ManagersReady", "Available", lambda: self._apply_managers(cluster, files)))
        clients = {user: {"user": user, "key": keys[f"client.{user}"],
                          "conf": self.ceph_conf(cluster, mon_host, "client")} for user in ceph.CLIENTS}
        self.step("ClientsReady", "Published", lambda: self._publish_clients(clients, cluster))
        radosgw = None
        if not self.radosgw_replicas:
            self._remove_radosgw()
        else:
            radosgw = self._radosgw_url()
            deps = self.step("DependenciesReady", "Ready", lambda: dependencies.resolve(
                self.kube, self.namespace, self.spec, ceph.DEFINITION.dependencies, self.owner.name))
            password = self._rgw_password()
            self.step("KeystoneRegistered", "Registered", lambda: self._register_radosgw(deps[KEYSTONE]))
            components.update(self.step("RadosgwReady", "Available",
                                        lambda: self._apply_radosgw(cluster, mon_host, deps[KEYSTONE], password)))
        return Outcome(components, self._endpoint(cluster, clients, monitors, radosgw), "")

    # -- generated once --------------------------------------------------------------------------

    def entities(self) -> list[str]:
        """Every cephx entity of a managed cluster."""
        return (["mon.", "client.admin", "client.bootstrap-osd", self.rgw_entity]
                + [f"mgr.{mgr}" for mgr in self.manager_ids] + [f"client.{user}" for user in ceph.CLIENTS])

    def _ensure_cluster_secrets(self) -> dict[str, Any]:
        """fsid and the libvirt secret uuid, and (managed) every key: generated once, kept on deletion."""
        ids = secrets.ensure(self.kube, self.namespace, self.name("ceph-cluster"), ["fsid", "libvirt-secret-uuid"],
                             service=SERVICE, instance=self.owner.name, generate=secrets.new_uuid)
        result: dict[str, Any] = {"fsid": ids["fsid"], "uuid": ids["libvirt-secret-uuid"], "keys": {}}
        if not self.external:
            result["keys"] = secrets.ensure(self.kube, self.namespace, self.name("ceph-keys"),
                                            [ceph.key_name(e) for e in self.entities()], service=SERVICE,
                                            instance=self.owner.name, generate=secrets.new_cephx_key)
            result["keys"]["mon."] = result["keys"]["mon"]
        return result

    def _monitor_addresses(self) -> list[tuple[str, str]]:
        """One Service per monitor; its ClusterIP is the monitor's address for good.

        The addresses are recorded in a ConfigMap without owner, so a re-created resource asks
        for the same ClusterIPs and the monitors' stores (whose monmap holds them) still fit."""
        record_name = self.name("ceph-mon-addresses")
        record = self.kube.get("v1", "ConfigMap", self.namespace, record_name)
        recorded = dict((record or {}).get("data") or {})
        result = []
        for ordinal, mon_id in enumerate(self.monitor_ids):
            manifest = workloads.plain_service(self.owner, SERVICE, MON, self.name(f"ceph-mon-{mon_id}"),
                                               {"msgr2": ceph.MON_V2_PORT, "msgr1": ceph.MON_V1_PORT})
            manifest["spec"]["selector"] = {POD_NAME_LABEL: self.name(f"ceph-mon-{ordinal}")}
            # The monitor answers before it is in the quorum: peers and `ceph` need it then.
            manifest["spec"]["publishNotReadyAddresses"] = True
            if mon_id in recorded:
                manifest["spec"]["clusterIP"] = recorded[mon_id]
            live = self.kube.apply(manifest)
            address = (live.get("spec") or {}).get("clusterIP")
            if not address or address == "None":
                raise Waiting("AllocatingAddresses", f"waiting for the ClusterIP of monitor {mon_id}", soon=True)
            if mon_id not in recorded:
                # Applied once more with the address it got, as every later pass applies it: the
                # applied manifest stays the same from now on (no write when nothing changes).
                manifest["spec"]["clusterIP"] = address
                self.kube.apply(manifest)
            result.append((mon_id, address))
        for mon_id in ceph.DAEMON_IDS[len(result):]:  # monitors removed from the monmap
            if self.kube.get("v1", "Service", self.namespace, self.name(f"ceph-mon-{mon_id}")) is not None:
                self.kube.delete("v1", "Service", self.namespace, self.name(f"ceph-mon-{mon_id}"))
        new = {mon_id: address for mon_id, address in result if mon_id not in recorded}
        if new and record is None:
            self.kube.create({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": record_name, "namespace": self.namespace,
                                           "labels": {**labels.standard(SERVICE, self.owner.name, MON),
                                                      secrets.GENERATED_LABEL: "true"}},
                              "data": new})
        elif new:
            self.kube.merge_patch("v1", "ConfigMap", self.namespace, record_name, {"data": new})
        return result

    def _monitor_membership(self, cluster: dict[str, Any], monitors: list[tuple[str, str]],
                            files: dict[str, str]) -> None:
        """A changed monitor count goes into the monmap before the StatefulSet changes size:
        new monitors are added (they then join with a store from the full monmap and sync),
        removed ones leave the quorum's monmap before their pods go."""
        live = self.kube.get("apps/v1", "StatefulSet", self.namespace, self.name(MON))
        current = (live or {}).get("spec", {}).get("replicas")
        if current is None or current == len(monitors):
            return
        script = self.membership_script(monitors, current)
        self.run_job(self._admin_job("mon-membership", script, cluster, files), "mon-membership", SERVICE,
                     "MonitorMembershipReady")

    def membership_script(self, monitors: list[tuple[str, str]], current: int) -> str:
        added = [{"id": mon_id, "ip": ip} for mon_id, ip in monitors[current:]]
        removed = list(ceph.DAEMON_IDS[len(monitors):current])
        return render.render_file(ceph.MEMBERSHIP_SCRIPT, {"instance": self.owner.name, "added": added,
                                                           "removed": removed})

    # -- rendering -------------------------------------------------------------------------------

    def ceph_conf(self, cluster: dict[str, Any], mon_host: str, role: str,
              radosgw: dict[str, Any] | None = None) -> str:
        return render.render_file(ceph.CEPH_CONF, {
            "instance": self.owner.name, "role": role, "fsid": cluster["fsid"], "mon_host": mon_host,
            "monitor_ids": self.monitor_ids, "pool_size": self.pool_size,
            "pool_min_size": self.pool_size // 2 + 1 if self.pool_size > 1 else 1, "radosgw": radosgw})

    def scripts(self, cluster: dict[str, Any], monitors: list[tuple[str, str]]) -> dict[str, str]:
        """The monitor, manager and bootstrap scripts (the system tests run these same files)."""
        context = {"instance": self.owner.name, "fsid": cluster["fsid"], "manager_ids": self.manager_ids,
                   "monitors": [{"id": mon_id, "ip": ip, "address": ceph.mon_address(ip)} for mon_id, ip in monitors],
                   "pools": [self.pools[role] for role in ceph.POOL_ROLES], "pool_size": self.pool_size}
        return {name: render.render_file(template, context) for name, template in ceph.SCRIPTS.items()}

    def daemon_conf(self, cluster: dict[str, Any], monitors: list[tuple[str, str]]) -> str:
        return self.ceph_conf(cluster, ",".join(ceph.mon_address(ip) for _, ip in monitors), "daemon")

    def daemon_files(self, cluster: dict[str, Any], monitors: list[tuple[str, str]]) -> dict[str, str]:
        """The daemons' ceph.conf and the scripts, rendered once per pass."""
        return {"ceph.conf": self.daemon_conf(cluster, monitors), **self.scripts(cluster, monitors)}

    def import_keyring(self, keys: dict[str, str]) -> str:
        """Every entity the bootstrap Job imports: managers, radosgw, OSD bootstrap, services."""
        caps = {"client.bootstrap-osd": ceph.BOOTSTRAP_OSD_CAPS, self.rgw_entity: ceph.RGW_CAPS,
                **{f"mgr.{mgr}": ceph.MGR_CAPS for mgr in self.manager_ids},
                **{f"client.{user}": ceph.client_caps(user, self.pools) for user in ceph.CLIENTS}}
        return "".join(ceph.keyring(entity, keys[ceph.key_name(entity)], caps[entity]) for entity in caps)

    # -- monitors and managers -------------------------------------------------------------------

    def pod_template(self, component: str, containers: list[dict[str, Any]], volumes: list[dict[str, Any]], inputs: str,
             *, dedicated: bool, co_locate: bool) -> dict[str, Any]:
        template = workloads.infrastructure_pod(
            self.owner, SERVICE, component, dedicated=dedicated,
            node_selector=placement.merged_node_selector(self.spec.get("nodeSelector")), containers=containers,
            volumes=volumes, inputs=inputs)
        if co_locate:
            template["spec"]["affinity"] = placement.affinity(
                service=SERVICE, instance=self.owner.name, component=component, dedicated=False,
                co_locate_with=(MON,))
        template["spec"]["securityContext"] = workloads.run_as(ceph.CEPH_UID)
        return template

    def _container(self, name: str, command: list[str], resources: dict[str, Any], mounts: list[dict[str, Any]],
                   env: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return {"name": name, "image": self.image, "imagePullPolicy": "IfNotPresent", "command": command,
                "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                        *(env or [])],
                "resources": resources, "volumeMounts": mounts}

    def _apply_monitors(self, cluster: dict[str, Any], files: dict[str, str]) -> dict[str, Any]:
        # The daemons' files (the bootstrap script runs from its Job's own Secret).
        self.kube.apply({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": workloads.metadata(self.owner, self.name("ceph-config"), SERVICE, None),
                         "data": {name: files[name] for name in ("ceph.conf", "mon.sh", "mgr.sh")}})
        keys = cluster["keys"]
        mon_keyring = (ceph.keyring("mon.", keys["mon"], {"mon": "allow *"})
                       + ceph.keyring("client.admin", keys["client.admin"], ceph.ADMIN_CAPS))
        self.kube.apply(workloads.secret(self.owner, self.name("ceph-mon-keyring"), SERVICE, MON,
                                         {"keyring": mon_keyring}))
        spec = self.spec.get("monitors") or {}
        mounts = [{"name": "config", "mountPath": f"{CONFIG_DIR}/ceph.conf", "subPath": "ceph.conf"},
                  {"name": "config", "mountPath": SCRIPTS_DIR},
                  {"name": "keyring", "mountPath": "/etc/ceph-mon", "readOnly": True},
                  {"name": "data", "mountPath": "/var/lib/ceph/mon"},
                  {"name": "run", "mountPath": "/var/run/ceph"}]
        script = f"{SCRIPTS_DIR}/mon.sh"
        resources = spec.get("resources") or {"requests": {"cpu": ceph.MON_CPU, "memory": ceph.MON_MEMORY}}
        bind = [{"name": "BIND_ADDRESS", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]
        mon = self._container("ceph-mon", ["/bin/sh", script, "run"], resources, mounts, bind)
        mon["ports"] = [{"name": "msgr2", "containerPort": ceph.MON_V2_PORT},
                        {"name": "msgr1", "containerPort": ceph.MON_V1_PORT}]
        mon["readinessProbe"] = {"exec": {"command": ["/bin/sh", script, "ready"]},
                                 "periodSeconds": 10, "timeoutSeconds": 5}
        mon["livenessProbe"] = {"exec": {"command": ["/bin/sh", script, "alive"]}, "initialDelaySeconds": 30,
                                "periodSeconds": 15, "timeoutSeconds": 10, "failureThreshold": 4}
        init = self._container("mkfs", ["/bin/sh", script, "mkfs"], resources, mounts)
        volumes = [{"name": "config", "configMap": {"name": self.name("ceph-config")}},
                   {"name": "keyring", "secret": {"secretName": self.name("ceph-mon-keyring"), "defaultMode": KEY_MODE}},
                   {"name": "run", "emptyDir": {}}]
        inputs = workloads.inputs_hash(files["ceph.conf"], files["mon.sh"], mon_keyring, self.image)
        template = self.pod_template(MON, [mon], volumes, inputs, dedicated=spec.get("dedicated", True), co_locate=False)
        template["spec"]["initContainers"] = [init]
        replicas = len(self.monitor_ids)
        peers = self.name("ceph-mon-peers")
        self.kube.apply(workloads.plain_service(self.owner, SERVICE, MON, peers,
                                                {"msgr2": ceph.MON_V2_PORT, "msgr1": ceph.MON_V1_PORT}, headless=True))
        if replicas > 1:
            self.kube.apply(workloads.budget(self.owner, SERVICE, MON, self.name("ceph-mon")))
        live = self.kube.apply(workloads.stateful_set(
            self.owner, SERVICE, MON, replicas=replicas, template=template, peers_service=peers,
            storage=spec.get("storage") or {"size": ceph.MON_STORAGE}))
        return self._rolled_out(live, MON, replicas)

    def _apply_managers(self, cluster: dict[str, Any], files: dict[str, str]) -> dict[str, Any]:
        keys = cluster["keys"]
        keyrings = {f"mgr.{mgr}.keyring": ceph.keyring(f"mgr.{mgr}", keys[f"mgr.{mgr}"]) for mgr in self.manager_ids}
        self.kube.apply(workloads.secret(self.owner, self.name("ceph-mgr-keyrings"), SERVICE, MGR, keyrings))
        spec = self.spec.get("managers") or {}
        script = f"{SCRIPTS_DIR}/mgr.sh"
        mounts = [{"name": "config", "mountPath": f"{CONFIG_DIR}/ceph.conf", "subPath": "ceph.conf"},
                  {"name": "config", "mountPath": SCRIPTS_DIR},
                  {"name": "keyrings", "mountPath": "/etc/ceph-mgr", "readOnly": True},
                  {"name": "data", "mountPath": "/var/lib/ceph/mgr"},
                  {"name": "run", "mountPath": "/var/run/ceph"}]
        resources = spec.get("resources") or {"requests": {"cpu": ceph.MGR_CPU, "memory": ceph.MGR_MEMORY}}
        mgr = self._container("ceph-mgr", ["/bin/sh", script, "run"], resources, mounts)
        mgr["ports"] = [{"name": "metrics", "containerPort": ceph.MGR_METRICS_PORT}]
        mgr["livenessProbe"] = {"exec": {"command": ["/bin/sh", script, "alive"]}, "initialDelaySeconds": 30,
                                "periodSeconds": 15, "timeoutSeconds": 10, "failureThreshold": 4}
        volumes = [{"name": "config", "configMap": {"name": self.name("ceph-config")}},
                   {"name": "keyrings", "secret": {"secretName": self.name("ceph-mgr-keyrings"),
                                                   "defaultMode": KEY_MODE}},
                   {"name": "data", "emptyDir": {}}, {"name": "run", "emptyDir": {}}]
        inputs = workloads.inputs_hash(files["ceph.conf"], files["mgr.sh"], keyrings, self.image)
        template = self.pod_template(MGR, [mgr], volumes, inputs, dedicated=False, co_locate=True)
        replicas = len(self.manager_ids)
        # Headless: the operator reads each manager's metrics by its own name (only the active
        # one serves them).
        self.kube.apply(workloads.plain_service(self.owner, SERVICE, MGR, self.name("ceph-mgr"),
                                                {"metrics": ceph.MGR_METRICS_PORT}, headless=True))
        if replicas > 1:
            self.kube.apply(workloads.budget(self.owner, SERVICE, MGR, self.name("ceph-mgr")))
        live = self.kube.apply(workloads.stateful_set(
            self.owner, SERVICE, MGR, replicas=replicas, template=template, peers_service=self.name("ceph-mgr"),
            storage=None))
        return self._rolled_out(live, MGR, replicas)

    def _rolled_out(self, live: dict[str, Any], component: str, replicas: int) -> dict[str, Any]:
        return {component: self.rolled_out(live, replicas, self.image, component)}

    # -- pools and users -------------------------------------------------------------------------

    def _apply_admin(self, keys: dict[str, str]) -> dict[str, str]:
        """The admin keyring and the keys the bootstrap Job imports, for the Jobs that run `ceph`."""
        files = {"ceph.client.admin.keyring": ceph.keyring("client.admin", keys["client.admin"]),
                 "import.keyring": self.import_keyring(keys)}
        self.kube.apply(workloads.secret(self.owner, self.name("ceph-admin"), SERVICE, None, files))
        return files

    def _admin_job(self, step: str, script: str, cluster: dict[str, Any], files: dict[str, str]) -> dict[str, Any]:
        """A Job running `script` with the admin key, named by the hash of what it reads."""
        self.kube.apply(workloads.secret(self.owner, self.name(f"ceph-{step}"), SERVICE, None, {"script.sh": script}))
        container = self._container(step, ["/bin/sh", "/usr/local/share/ccp-ceph-job/script.sh"],
                                    {"requests": {"cpu": "100m", "memory": "256Mi"}},
                                    [{"name": "config", "mountPath": f"{CONFIG_DIR}/ceph.conf", "subPath": "ceph.conf"},
                                     {"name": "script", "mountPath": "/usr/local/share/ccp-ceph-job"},
                                     {"name": "admin", "mountPath": "/etc/ceph-admin", "readOnly": True}])
        pod_spec = {"restartPolicy": "Never", "enableServiceLinks": False, "containers": [container],
                    "securityContext": workloads.run_as(ceph.CEPH_UID),
                    "volumes": [{"name": "config", "configMap": {"name": self.name("ceph-config")}},
                                {"name": "script", "secret": {"secretName": self.name(f"ceph-{step}"),
                                                              "defaultMode": KEY_MODE}},
                                {"name": "admin", "secret": {"secretName": self.name("ceph-admin"),
                                                             "defaultMode": KEY_MODE}}]}
        if self.spec.get("nodeSelector"):
            pod_spec["nodeSelector"] = dict(sorted(self.spec["nodeSelector"].items()))
        admin = self._apply_admin(cluster["keys"])
        return workloads.step_job(self.owner, SERVICE, step, pod_spec,
                                  workloads.inputs_hash(admin, script, files["ceph.conf"]))

    def _bootstrap(self, cluster: dict[str, Any], files: dict[str, str]) -> None:
        self.run_job(self._admin_job("bootstrap", files["bootstrap.sh"], cluster, files), "bootstrap", SERVICE,
                     "PoolsAndUsersReady")

    # -- clients ---------------------------------------------------------------------------------

    def _external_clients(self, cluster: dict[str, Any]) -> dict[str, dict[str, str]]:
        """ceph.conf, user and key per service, read from the external cluster's objects."""
        external = self.spec["external"]
        if external.get("secret"):
            name = external["secret"]
            secret = self.kube.get("v1", "Secret", self.namespace, name)
            if secret is None:
                raise Waiting("ExternalCephIncomplete", f"waiting for Secret {name} (ceph.conf and keyrings)")
            data = secrets.decoded(secret)
            wanted = ["ceph.conf"] + [f"ceph.client.{user}.keyring" for user in ceph.CLIENTS]
            missing = [key for key in wanted if key not in data]
            if missing:
                raise Waiting("ExternalCephIncomplete", f"Secret {name} lacks " + ", ".join(missing))
            return {user: {"user": user, "keyring": data[f"ceph.client.{user}.keyring"], "conf": data["ceph.conf"]}
                    for user in ceph.CLIENTS}
        rook = external["rook"]
        namespace = rook["namespace"]
        map_name = rook.get("monEndpointsConfigMap") or "rook-ceph-mon-endpoints"
        endpoints = self.kube.get("v1", "ConfigMap", namespace, map_name)
        if endpoints is None or not (endpoints.get("data") or {}).get("data"):
            raise Waiting("ExternalCephIncomplete", f"waiting for Rook's ConfigMap {namespace}/{map_name}")
        conf = self.ceph_conf({"fsid": ""}, rook_mon_host(endpoints["data"]["data"]), "client")
        clients = {}
        for user in ceph.CLIENTS:
            name = rook["clientSecrets"][user]
            secret = self.kube.get("v1", "Secret", namespace, name)
            data = secrets.decoded(secret) if secret else {}
            if len(data) != 1:
                raise Waiting("ExternalCephIncomplete", f"waiting for the CephClient Secret {namespace}/{name} "
                                                        "(one key: the client's name)")
            (client, key), = data.items()
            clients[user] = {"user": client, "key": key, "conf": conf}
        return clients

    def _publish_clients(self, clients: dict[str, dict[str, str]], cluster: dict[str, Any]) -> None:
        """One Secret per cephx user: its ceph.conf and keyring (and the libvirt secret, for the user
        the hypervisors' libvirt holds)."""
        for user, client in clients.items():
            self.kube.apply(workloads.secret(self.owner, self.client_secret(user), SERVICE, f"ceph-client-{user}",
                                             self.client_files(user, client, cluster)))

    @staticmethod
    def client_files(user: str, client: dict[str, str], cluster: dict[str, Any]) -> dict[str, str]:
        keyring = client.get("keyring") or ceph.keyring(f"client.{client['user']}", client["key"])
        files = {"ceph.conf": client["conf"], f"ceph.client.{client['user']}.keyring": keyring}
        if ceph.CLIENTS[user].libvirt_secret:
            files["libvirt-secret.xml"] = ceph.libvirt_secret_xml(cluster["uuid"], client["user"])
            files["libvirt-secret-uuid"] = cluster["uuid"]
        return files

    def _endpoint(self, cluster: dict[str, Any], clients: dict[str, dict[str, str]],
                  monitors: list[tuple[str, str]] | None, radosgw: str | None) -> CephEndpoint:
        endpoint = CephEndpoint(
            mode=ceph.EXTERNAL if self.external else ceph.MANAGED,
            pools=self.pools,
            libvirtSecretUUID=cluster["uuid"],
            # The revision changes with the files, so the services using a client learn of a new key.
            clients={user: CephClientEndpoint(secret=self.client_secret(user), user=client["user"],
                                              revision=short_hash(self.client_files(user, client, cluster)))
                     for user, client in clients.items()},
        )
        if monitors:
            endpoint["fsid"] = cluster["fsid"]
            endpoint["monitors"] = {mon_id: ip for mon_id, ip in monitors}
        if radosgw:
            endpoint["radosgwURL"] = radosgw
        return endpoint

    # -- radosgw ---------------------------------------------------------------------------------

    def _radosgw_url(self) -> str:
        return f"http://{self.name(RGW)}.{self.namespace}.svc:{ceph.RGW_PORT}"

    def _rgw_password(self) -> str:
        """radosgw's keystone password (generated once; the registration Job reads its Secret)."""
        return secrets.ensure(self.kube, self.namespace, self.name("radosgw-credentials"), ["keystone-password"],
                              service=SERVICE, instance=self.owner.name)["keystone-password"]

    def _register_radosgw(self, keystone: dict[str, Any]) -> None:
        urls = {"internal": self._radosgw_url() + ceph.RGW_SWIFT_PATH,
                "public": workloads.public_url(self._radosgw_url(), ceph.RGW_PORT,
                                               (self.spec.get("radosgw") or {}).get("loadBalancer") or {})
                + ceph.RGW_SWIFT_PATH}
        script = registration_script(ceph.RGW_KEYSTONE_USER, [(RGW_ENDPOINT, urls)])
        step = JobStep("keystone-register", image=images.KOLLA_TOOLBOX, user="ansible", command=script)
        release = self.spec.get("release") or DEFAULT_RELEASE
        env = [*keystone_admin_env(keystone),
               from_secret("SERVICE_PASSWORD", self.name("radosgw-credentials"), "keystone-password")]
        self.run_step(SERVICE, step, image=images.kolla(step.image, release, self.spec.get("images")),
                      files=jobs.step_files(script, step.user), env=env, condition="KeystoneRegistered")

    def _remove_radosgw(self) -> None:
        """radosgw switched off (replicas 0): its workload, budget and Services go; its pools stay."""
        name = self.name(RGW)
        for api_version, kind, object_name in (("apps/v1", "Deployment", name),
                                               ("policy/v1", "PodDisruptionBudget", name),
                                               ("v1", "Service", name), ("v1", "Service", f"{name}-lb")):
            if self.kube.get(api_version, kind, self.namespace, object_name) is not None:
                self.kube.delete(api_version, kind, self.namespace, object_name)

    def _apply_radosgw(self, cluster: dict[str, Any], mon_host: str, keystone: dict[str, Any],
                       password: str) -> dict[str, Any]:
        spec = self.spec.get("radosgw") or {}
        entity = self.rgw_entity
        conf = self.ceph_conf(cluster, mon_host, "daemon", radosgw={
            "entity": entity[len("client."):], "port": ceph.RGW_PORT, "host": f"{self.name(RGW)}.{self.namespace}.svc",
            "keystone_url": keystone["internalURL"], "keystone_user": ceph.RGW_KEYSTONE_USER,
            "keystone_password": password})
        files = {"ceph.conf": conf, "keyring": ceph.keyring(entity, cluster["keys"][entity])}
        self.kube.apply(workloads.secret(self.owner, self.name("radosgw-config"), SERVICE, RGW, files))
        resources = spec.get("resources") or {"requests": {"cpu": ceph.RGW_CPU, "memory": ceph.RGW_MEMORY}}
        container = self._container(RGW, ["radosgw", "--foreground", "-c", f"{CONFIG_DIR}/ceph.conf", "-n", entity,
                                          "--keyring", "/etc/ceph-radosgw/keyring"], resources,
                                    [{"name": "config", "mountPath": f"{CONFIG_DIR}/ceph.conf", "subPath": "ceph.conf"},
                                     {"name": "config", "mountPath": "/etc/ceph-radosgw/keyring", "subPath": "keyring"},
                                     {"name": "run", "mountPath": "/var/run/ceph"}])
        container["ports"] = [{"name": "api", "containerPort": ceph.RGW_PORT}]
        container.update(workloads.http_probes(ceph.RGW_PORT, "/swift/healthcheck", "/swift/healthcheck",
                                               live_after=30))
        volumes = [{"name": "config", "secret": {"secretName": self.name("radosgw-config"), "defaultMode": KEY_MODE}},
                   {"name": "run", "emptyDir": {}}]
        template = self.pod_template(RGW, [container], volumes, workloads.inputs_hash(files, self.image),
                             dedicated=False, co_locate=True)
        for manifest in workloads.api_services(self.owner, SERVICE, RGW, self.name(RGW), ceph.RGW_PORT,
                                               spec.get("loadBalancer") or {}):
            self.kube.apply(manifest)
        replicas = self.radosgw_replicas
        if replicas > 1:
            self.kube.apply(workloads.budget(self.owner, SERVICE, RGW, self.name(RGW)))
        live = self.kube.apply(workloads.deployment(self.owner, SERVICE, RGW, self.name(RGW), replicas, template))
        return self._rolled_out(live, RGW, replicas)


KEYS_ANNOTATION = "ccp.openstack.org/key-sources"


def key_sources_digest(kube: Kube, reconciler: CephReconciler) -> str | None:
    """A digest of what the client keys come from: the generated keys Secret, or the external
    cluster's Secret / Rook objects (None while they do not exist)."""
    ns = reconciler.namespace
    if not reconciler.external:
        sources = [kube.get("v1", "Secret", ns, reconciler.name("ceph-keys"))]
    elif (reconciler.spec.get("external") or {}).get("secret"):
        sources = [kube.get("v1", "Secret", ns, reconciler.spec["external"]["secret"])]
    else:
        rook = reconciler.spec["external"]["rook"]
        sources = [kube.get("v1", "ConfigMap", rook["namespace"],
                            rook.get("monEndpointsConfigMap") or "rook-ceph-mon-endpoints")]
        sources += [kube.get("v1", "Secret", rook["namespace"], name)
                    for _, name in sorted(rook["clientSecrets"].items())]
    if any(source is None for source in sources):
        return None
    return short_hash([source.get("data") for source in sources])


def refresh_key_sources(kube: Kube, body: dict[str, Any]) -> bool:
    """Marks the resource when its key sources changed, so that it reconciles (and, through the
    client revisions in its endpoint, the services using a changed key roll). True if marked."""
    reconciler = CephReconciler(kube, body)
    if reconciler.external and not reconciler.spec.get("external"):
        return False
    digest = key_sources_digest(kube, reconciler)
    meta = body["metadata"]
    if digest is None or (meta.get("annotations") or {}).get(KEYS_ANNOTATION) == digest:
        return False
    kube.merge_patch(API_VERSION, ceph.DEFINITION.kind, reconciler.namespace, meta["name"],
                     {"metadata": {"annotations": {KEYS_ANNOTATION: digest}}})
    return True


def refresh_cluster_status(kube: Kube, body: dict[str, Any]) -> dict[str, Any]:
    """Writes the cluster's own view (quorum, health) into the status; only the fields that changed."""
    reconciler = CephReconciler(kube, body)
    if reconciler.external:
        return {}
    ns = reconciler.namespace
    urls = [f"http://{reconciler.name(f'ceph-mgr-{i}')}.{reconciler.name('ceph-mgr')}.{ns}.svc:"
            f"{ceph.MGR_METRICS_PORT}/metrics" for i in range(len(reconciler.manager_ids))]
    summary = ceph_observer.observe(urls, reconciler.monitor_ids)
    if "monitors" not in summary:  # unreachable: keep the last known state, say why
        summary = {"clusterObservation": summary["clusterObservation"]}
    return status_writer.patch_fields(kube, body, summary)


def observe(kube: Kube, body: dict[str, Any]) -> list[Event]:
    """The Ceph observer's pass: changed key sources reconcile the resource (an Event says so);
    the cluster's own view goes into the status, and a health other than OK is an Event."""
    events = []
    if refresh_key_sources(kube, body):
        events.append(Event("Normal", "KeysChanged", "the Ceph keys changed; reconciling"))
    changed = refresh_cluster_status(kube, body)
    if changed.get("health") not in (None, "HEALTH_OK"):
        checks = changed.get("healthChecks") or (body.get("status") or {}).get("healthChecks", "")
        events.append(Event("Warning", "CephHealth", f"{changed['health']}: {checks}"))
    return events
