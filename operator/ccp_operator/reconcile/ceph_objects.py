"""A Ceph resource as Kubernetes objects, without the API: its spec with defaults, its names, its
rendered files, and the manifests of monitors, managers, radosgw and the admin Jobs (pure: the
same input gives the same objects). reconcile/ceph.py applies them in order and waits."""

from __future__ import annotations

from typing import Any

from .. import labels, placement, render, secrets, workloads
from ..endpoints import CephClientEndpoint, CephEndpoint
from ..errors import Waiting
from ..hashing import short_hash
from ..services import ceph
from ..services.base import Endpoint
from ..workloads import Owner

SERVICE = "ceph"
MON, MGR, RGW = "ceph-mon", "ceph-mgr", "radosgw"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
CONFIG_DIR = "/etc/ceph"
SCRIPTS_DIR = "/usr/local/share/ccp-ceph"
# The daemons run as Ceph's own user; mounted keys are readable by its group (the volumes'
# group is fsGroup), by no one else.
KEY_MODE = 0o440
RGW_ENDPOINT = Endpoint("object-store", "swift", RGW, ceph.RGW_SWIFT_PATH, "Ceph radosgw (Swift and S3)")
MON_PORTS = {"msgr2": ceph.MON_V2_PORT, "msgr1": ceph.MON_V1_PORT}


def rook_mon_host(endpoints: str) -> str:
    """mon_host from Rook's mon-endpoints ConfigMap (`a=10.0.0.1:6789,b=10.0.0.2:6789`)."""
    addresses = [entry.split("=", 1)[1] for entry in endpoints.split(",") if "=" in entry]
    if not addresses:
        raise Waiting("ExternalCephIncomplete", f"Rook's mon endpoints list no monitor: {endpoints!r}")
    return ",".join(addresses)


def client_files(user: str, client: dict[str, str], cluster: dict[str, Any]) -> dict[str, str]:
    """A service user's client Secret: ceph.conf and its keyring (and the libvirt secret, for the
    user the hypervisors' libvirt holds)."""
    keyring = client.get("keyring") or ceph.keyring(f"client.{client['user']}", client["key"])
    files = {"ceph.conf": client["conf"], f"ceph.client.{client['user']}.keyring": keyring}
    if ceph.CLIENTS[user].libvirt_secret:
        files["libvirt-secret.xml"] = ceph.libvirt_secret_xml(cluster["uuid"], client["user"])
        files["libvirt-secret-uuid"] = cluster["uuid"]
        files["libvirt-secret.base64"] = client["key"]  # libvirt's secret value file: the cephx key
    return files


class CephCluster:
    """The objects of one Ceph resource. `cluster` arguments are its generated identity: fsid,
    the libvirt secret's uuid and every cephx key; `monitors` are (id, address) pairs."""

    def __init__(self, owner: Owner, spec: dict[str, Any]):
        self.owner = owner
        self.spec = spec
        self.namespace = owner.namespace

    # -- the spec, with defaults ---------------------------------------------------------------

    @property
    def external(self) -> bool:
        return self.spec.get("mode", ceph.MANAGED) == ceph.EXTERNAL

    def _count(self, section: str, default: int) -> int:
        return (self.spec.get(section) or {}).get("replicas", default)

    @property
    def monitor_ids(self) -> list[str]:
        return list(ceph.DAEMON_IDS[:ceph.DEFINITION.member_count(self.spec)])

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
    def monitor_storage(self) -> dict[str, Any]:
        """The monitors' volume settings, with the defaults the schema gives."""
        return {"size": ceph.MON_STORAGE, "minFreePercent": ceph.MON_MIN_FREE_PERCENT,
                **((self.spec.get("monitors") or {}).get("storage") or {})}

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

    @property
    def radosgw_url(self) -> str:
        return f"http://{self.name(RGW)}.{self.namespace}.svc:{ceph.RGW_PORT}"

    def entities(self) -> list[str]:
        """Every cephx entity of a managed cluster."""
        return (["mon.", "client.admin", "client.bootstrap-osd", self.rgw_entity]
                + [f"mgr.{mgr}" for mgr in self.manager_ids] + [f"client.{user}" for user in ceph.CLIENTS])

    # -- rendering -------------------------------------------------------------------------------

    def ceph_conf(self, cluster: dict[str, Any], mon_host: str, role: str,
                  radosgw: dict[str, Any] | None = None) -> str:
        return render.render_file(ceph.CEPH_CONF, {
            "instance": self.owner.name, "role": role, "fsid": cluster["fsid"], "mon_host": mon_host,
            "monitor_ids": self.monitor_ids, "pool_size": self.pool_size,
            "mon_min_free_percent": self.monitor_storage["minFreePercent"],
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

    def membership_script(self, monitors: list[tuple[str, str]], current: int) -> str:
        """The monmap change from `current` monitors to `monitors`."""
        added = [{"id": mon_id, "ip": ip} for mon_id, ip in monitors[current:]]
        removed = list(ceph.DAEMON_IDS[len(monitors):current])
        return render.render_file(ceph.MEMBERSHIP_SCRIPT, {"instance": self.owner.name, "added": added,
                                                           "removed": removed})

    # -- pods ------------------------------------------------------------------------------------

    def pod_template(self, component: str, containers: list[dict[str, Any]], volumes: list[dict[str, Any]],
                     inputs: str, *, dedicated: bool, co_locate: bool) -> dict[str, Any]:
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

    def container(self, name: str, command: list[str], resources: dict[str, Any], mounts: list[dict[str, Any]],
                  env: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return {"name": name, "image": self.image, "imagePullPolicy": "IfNotPresent", "command": command,
                "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                        *(env or [])],
                "resources": resources, "volumeMounts": mounts}

    # -- monitors and managers -------------------------------------------------------------------

    def monitor_service(self, ordinal: int, mon_id: str, address: str | None) -> dict[str, Any]:
        """A monitor's own Service, whose ClusterIP is its address for good (`address`: the one it got)."""
        manifest = workloads.plain_service(self.owner, SERVICE, MON, self.name(f"ceph-mon-{mon_id}"), MON_PORTS)
        manifest["spec"]["selector"] = {POD_NAME_LABEL: self.name(f"ceph-mon-{ordinal}")}
        # The monitor answers before it is in the quorum: peers and `ceph` need it then.
        manifest["spec"]["publishNotReadyAddresses"] = True
        if address:
            manifest["spec"]["clusterIP"] = address
        return manifest

    def address_record(self, addresses: dict[str, str]) -> dict[str, Any]:
        """The monitors' addresses, kept without owner: a re-created resource asks for the same
        ClusterIPs, so the monitors' stores (whose monmap holds them) still fit."""
        return {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": self.name("ceph-mon-addresses"), "namespace": self.namespace,
                             "labels": {**labels.standard(SERVICE, self.owner.name, MON),
                                        secrets.GENERATED_LABEL: "true"}},
                "data": addresses}

    def daemon_config(self, files: dict[str, str]) -> dict[str, Any]:
        """The daemons' files (the bootstrap script runs from its Job's own Secret)."""
        return {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": workloads.metadata(self.owner, self.name("ceph-config"), SERVICE, None),
                "data": {name: files[name] for name in ("ceph.conf", "mon.sh", "mgr.sh")}}

    def monitor_objects(self, cluster: dict[str, Any], files: dict[str, str]) -> list[dict[str, Any]]:
        """The monitors' keyring, peers Service, budget and StatefulSet, in the order to apply them
        (the StatefulSet last)."""
        keys = cluster["keys"]
        mon_keyring = (ceph.keyring("mon.", keys["mon"], {"mon": "allow *"})
                       + ceph.keyring("client.admin", keys["client.admin"], ceph.ADMIN_CAPS))
        objects = [workloads.secret(self.owner, self.name("ceph-mon-keyring"), SERVICE, MON, {"keyring": mon_keyring})]
        spec = self.spec.get("monitors") or {}
        mounts = [{"name": "config", "mountPath": f"{CONFIG_DIR}/ceph.conf", "subPath": "ceph.conf"},
                  {"name": "config", "mountPath": SCRIPTS_DIR},
                  {"name": "keyring", "mountPath": "/etc/ceph-mon", "readOnly": True},
                  {"name": "data", "mountPath": "/var/lib/ceph/mon"},
                  {"name": "run", "mountPath": "/var/run/ceph"}]
        script = f"{SCRIPTS_DIR}/mon.sh"
        resources = spec.get("resources") or {"requests": {"cpu": ceph.MON_CPU, "memory": ceph.MON_MEMORY}}
        bind = [{"name": "BIND_ADDRESS", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]
        mon = self.container("ceph-mon", ["/bin/sh", script, "run"], resources, mounts, bind)
        mon["ports"] = [{"name": "msgr2", "containerPort": ceph.MON_V2_PORT},
                        {"name": "msgr1", "containerPort": ceph.MON_V1_PORT}]
        mon["readinessProbe"] = {"exec": {"command": ["/bin/sh", script, "ready"]},
                                 "periodSeconds": 10, "timeoutSeconds": 5}
        mon["livenessProbe"] = {"exec": {"command": ["/bin/sh", script, "alive"]}, "initialDelaySeconds": 30,
                                "periodSeconds": 15, "timeoutSeconds": 10, "failureThreshold": 4}
        init = self.container("mkfs", ["/bin/sh", script, "mkfs"], resources, mounts)
        volumes = [{"name": "config", "configMap": {"name": self.name("ceph-config")}},
                   {"name": "keyring", "secret": {"secretName": self.name("ceph-mon-keyring"), "defaultMode": KEY_MODE}},
                   {"name": "run", "emptyDir": {}}]
        inputs = workloads.inputs_hash(files["ceph.conf"], files["mon.sh"], mon_keyring, self.image)
        template = self.pod_template(MON, [mon], volumes, inputs, dedicated=spec.get("dedicated", True),
                                     co_locate=False)
        template["spec"]["initContainers"] = [init]
        replicas = len(self.monitor_ids)
        peers = self.name("ceph-mon-peers")
        objects.append(workloads.plain_service(self.owner, SERVICE, MON, peers, MON_PORTS, headless=True))
        if replicas > 1:
            objects.append(workloads.budget(self.owner, SERVICE, MON, self.name("ceph-mon")))
        objects.append(workloads.stateful_set(
            self.owner, SERVICE, MON, replicas=replicas, template=template, peers_service=peers,
            storage=self.monitor_storage))
        return objects

    def manager_objects(self, cluster: dict[str, Any], files: dict[str, str]) -> list[dict[str, Any]]:
        """The managers' keyrings, Service, budget and StatefulSet (last)."""
        keys = cluster["keys"]
        keyrings = {f"mgr.{mgr}.keyring": ceph.keyring(f"mgr.{mgr}", keys[f"mgr.{mgr}"]) for mgr in self.manager_ids}
        objects = [workloads.secret(self.owner, self.name("ceph-mgr-keyrings"), SERVICE, MGR, keyrings)]
        spec = self.spec.get("managers") or {}
        script = f"{SCRIPTS_DIR}/mgr.sh"
        mounts = [{"name": "config", "mountPath": f"{CONFIG_DIR}/ceph.conf", "subPath": "ceph.conf"},
                  {"name": "config", "mountPath": SCRIPTS_DIR},
                  {"name": "keyrings", "mountPath": "/etc/ceph-mgr", "readOnly": True},
                  {"name": "data", "mountPath": "/var/lib/ceph/mgr"},
                  {"name": "run", "mountPath": "/var/run/ceph"}]
        resources = spec.get("resources") or {"requests": {"cpu": ceph.MGR_CPU, "memory": ceph.MGR_MEMORY}}
        mgr = self.container("ceph-mgr", ["/bin/sh", script, "run"], resources, mounts)
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
        objects.append(workloads.plain_service(self.owner, SERVICE, MGR, self.name("ceph-mgr"),
                                               {"metrics": ceph.MGR_METRICS_PORT}, headless=True))
        if replicas > 1:
            objects.append(workloads.budget(self.owner, SERVICE, MGR, self.name("ceph-mgr")))
        objects.append(workloads.stateful_set(
            self.owner, SERVICE, MGR, replicas=replicas, template=template, peers_service=self.name("ceph-mgr"),
            storage=None))
        return objects

    # -- pools and users -------------------------------------------------------------------------

    def admin_files(self, keys: dict[str, str]) -> dict[str, str]:
        """The admin keyring and the keys the bootstrap Job imports, for the Jobs that run `ceph`."""
        return {"ceph.client.admin.keyring": ceph.keyring("client.admin", keys["client.admin"]),
                "import.keyring": self.import_keyring(keys)}

    def admin_job(self, step: str, script: str, admin: dict[str, str], files: dict[str, str]) -> dict[str, Any]:
        """A Job running `script` (from the Secret ceph-<step>) with the admin key (`admin`:
        admin_files), named by the hash of what it reads."""
        container = self.container(step, ["/bin/sh", "/usr/local/share/ccp-ceph-job/script.sh"],
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
        return workloads.step_job(self.owner, SERVICE, step, pod_spec,
                                  workloads.inputs_hash(admin, script, files["ceph.conf"]))

    # -- clients ---------------------------------------------------------------------------------

    def endpoint(self, cluster: dict[str, Any], clients: dict[str, dict[str, str]],
                 monitors: list[tuple[str, str]] | None, radosgw: str | None) -> CephEndpoint:
        endpoint = CephEndpoint(
            mode=ceph.EXTERNAL if self.external else ceph.MANAGED,
            pools=self.pools,
            libvirtSecretUUID=cluster["uuid"],
            # The revision changes with the files, so the services using a client learn of a new key.
            clients={user: CephClientEndpoint(secret=self.client_secret(user), user=client["user"],
                                              revision=short_hash(client_files(user, client, cluster)))
                     for user, client in clients.items()},
        )
        if monitors:
            endpoint["fsid"] = cluster["fsid"]
            endpoint["monitors"] = {mon_id: ip for mon_id, ip in monitors}
        if radosgw:
            endpoint["radosgwURL"] = radosgw
        return endpoint

    # -- radosgw ---------------------------------------------------------------------------------

    def radosgw_urls(self) -> dict[str, str]:
        """Its catalog entry's internal and public URL (public: its load balancer's IP)."""
        public = workloads.public_url(self.radosgw_url, ceph.RGW_PORT,
                                      (self.spec.get("radosgw") or {}).get("loadBalancer") or {})
        return {"internal": self.radosgw_url + ceph.RGW_SWIFT_PATH, "public": public + ceph.RGW_SWIFT_PATH}

    def radosgw_objects(self, cluster: dict[str, Any], mon_host: str, keystone_url: str,
                        password: str) -> list[dict[str, Any]]:
        """radosgw's config Secret, Services, budget and Deployment (last)."""
        spec = self.spec.get("radosgw") or {}
        entity = self.rgw_entity
        conf = self.ceph_conf(cluster, mon_host, "daemon", radosgw={
            "entity": entity[len("client."):], "port": ceph.RGW_PORT, "host": f"{self.name(RGW)}.{self.namespace}.svc",
            "keystone_url": keystone_url, "keystone_user": ceph.RGW_KEYSTONE_USER, "keystone_password": password})
        files = {"ceph.conf": conf, "keyring": ceph.keyring(entity, cluster["keys"][entity])}
        objects = [workloads.secret(self.owner, self.name("radosgw-config"), SERVICE, RGW, files)]
        resources = spec.get("resources") or {"requests": {"cpu": ceph.RGW_CPU, "memory": ceph.RGW_MEMORY}}
        container = self.container(RGW, ["radosgw", "--foreground", "-c", f"{CONFIG_DIR}/ceph.conf", "-n", entity,
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
        objects += workloads.api_services(self.owner, SERVICE, RGW, self.name(RGW), ceph.RGW_PORT,
                                          spec.get("loadBalancer") or {})
        replicas = self.radosgw_replicas
        if replicas > 1:
            objects.append(workloads.budget(self.owner, SERVICE, RGW, self.name(RGW)))
        objects.append(workloads.deployment(self.owner, SERVICE, RGW, self.name(RGW), replicas, template))
        return objects

    def radosgw_object_names(self) -> list[tuple[str, str, str]]:
        """(apiVersion, kind, name) of what radosgw runs on, for when it is switched off."""
        name = self.name(RGW)
        return [("apps/v1", "Deployment", name), ("policy/v1", "PodDisruptionBudget", name),
                ("v1", "Service", name), ("v1", "Service", f"{name}-lb")]
