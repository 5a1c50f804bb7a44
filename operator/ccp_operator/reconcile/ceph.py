"""Reconciliation of a Ceph resource: monitors, managers, pools and users, radosgw, and one client
Secret per OpenStack service (ceph.conf and its keyring), or the same Secrets from an external
cluster. The objects themselves are built in ceph_objects.py; this applies them in order, waits,
and reads what only the API knows (addresses, generated keys, external clusters' Secrets)."""

from __future__ import annotations

from typing import Any

from .. import dependencies, images, secrets, workloads
from ..api import API_VERSION
from ..errors import InvalidSpec, Waiting, require_odd
from ..hashing import short_hash
from ..kube.client import Kube
from ..releases import DEFAULT_RELEASE
from ..services import ceph
from ..services.base import KEYSTONE, JobStep
from . import ceph_observer, jobs
from . import status as status_writer
from .base import Event, Outcome, Reconciler
from .ceph_objects import MGR, MON, RGW, RGW_ENDPOINT, SERVICE, CephCluster, client_files, rook_mon_host
from .identity import keystone_admin_env, registration_script
from .jobs import from_secret


class CephReconciler(Reconciler):
    definition = ceph.DEFINITION
    kind = definition.kind

    def __init__(self, kube: Kube, body: dict[str, Any]):
        super().__init__(kube, body)
        self.objects = CephCluster(self.owner, self.spec)

    # -- the pass ------------------------------------------------------------------------------

    def validate(self) -> None:
        if self.objects.external:
            if not self.spec.get("external"):
                raise InvalidSpec("spec.external", "mode external needs external.rook or external.secret")
            return
        require_odd("spec.monitors.replicas", len(self.objects.monitor_ids), "monitors", "a quorum")

    def reconcile(self) -> Outcome:
        self.validate()
        objects = self.objects
        cluster = self.step("CredentialsReady", "Generated", self._ensure_cluster_secrets)
        if objects.external:
            clients = self.step("ExternalCephReady", "Found", lambda: self._external_clients(cluster))
            self.step("ClientsReady", "Published", lambda: self._publish_clients(clients, cluster))
            return Outcome({}, objects.endpoint(cluster, clients, monitors=None, radosgw=None), "")
        keys = cluster["keys"]
        monitors = self.step("MonitorAddressesReady", "Allocated", self._monitor_addresses)
        mon_host = ",".join(ceph.mon_address(ip) for _, ip in monitors)
        files = objects.daemon_files(cluster, monitors)
        self.step("MonitorMembershipReady", "Current", lambda: self._monitor_membership(cluster, monitors, files))
        components = self.step("MonitorsReady", "Available", lambda: self._apply_monitors(cluster, files))
        # The managers authenticate with keys the bootstrap imports: it runs first.
        self.step("PoolsAndUsersReady", "Completed", lambda: self._run_admin_job(
            "bootstrap", files["bootstrap.sh"], cluster, files, "PoolsAndUsersReady"))
        components.update(self.step("ManagersReady", "Available", lambda: self._apply(
            objects.manager_objects(cluster, files), MGR, len(objects.manager_ids))))
        clients = {user: {"user": user, "key": keys[f"client.{user}"],
                          "conf": objects.ceph_conf(cluster, mon_host, "client")} for user in ceph.CLIENTS}
        self.step("ClientsReady", "Published", lambda: self._publish_clients(clients, cluster))
        radosgw = None
        if not objects.radosgw_replicas:
            self._remove_radosgw()
        else:
            radosgw = objects.radosgw_url
            deps = self.step("DependenciesReady", "Ready", lambda: dependencies.resolve(
                self.kube, self.namespace, self.spec, ceph.DEFINITION.dependencies, self.owner.name))
            password = self._rgw_password()
            self.step("KeystoneRegistered", "Registered", lambda: self._register_radosgw(deps[KEYSTONE]))
            components.update(self.step("RadosgwReady", "Available", lambda: self._apply(
                objects.radosgw_objects(cluster, mon_host, deps[KEYSTONE]["internalURL"], password), RGW,
                objects.radosgw_replicas)))
        return Outcome(components, objects.endpoint(cluster, clients, monitors, radosgw), "")

    def _apply(self, manifests: list[dict[str, Any]], component: str, replicas: int) -> dict[str, Any]:
        """Applies a component's objects in order; the last is its workload, waited for."""
        live = None
        for manifest in manifests:
            live = self.kube.apply(manifest)
        return {component: self.rolled_out(live, replicas, self.objects.image, component)}

    # -- generated once --------------------------------------------------------------------------

    def _ensure_cluster_secrets(self) -> dict[str, Any]:
        """fsid and the libvirt secret uuid, and (managed) every key: generated once, kept on deletion."""
        name = self.objects.name
        ids = secrets.ensure(self.kube, self.namespace, name("ceph-cluster"), ["fsid", "libvirt-secret-uuid"],
                             service=SERVICE, instance=self.owner.name, generate=secrets.new_uuid)
        result: dict[str, Any] = {"fsid": ids["fsid"], "uuid": ids["libvirt-secret-uuid"], "keys": {}}
        if not self.objects.external:
            result["keys"] = secrets.ensure(self.kube, self.namespace, name("ceph-keys"),
                                            [ceph.key_name(e) for e in self.objects.entities()], service=SERVICE,
                                            instance=self.owner.name, generate=secrets.new_cephx_key)
            result["keys"]["mon."] = result["keys"]["mon"]
        return result

    def _monitor_addresses(self) -> list[tuple[str, str]]:
        """One Service per monitor; its ClusterIP is the monitor's address for good, recorded
        (CephCluster.address_record) the first time it is known."""
        objects = self.objects
        record_name = objects.name("ceph-mon-addresses")
        record = self.kube.get("v1", "ConfigMap", self.namespace, record_name)
        recorded = dict((record or {}).get("data") or {})
        result = []
        for ordinal, mon_id in enumerate(objects.monitor_ids):
            live = self.kube.apply(objects.monitor_service(ordinal, mon_id, recorded.get(mon_id)))
            address = (live.get("spec") or {}).get("clusterIP")
            if not address or address == "None":
                raise Waiting("AllocatingAddresses", f"waiting for the ClusterIP of monitor {mon_id}", soon=True)
            if mon_id not in recorded:
                # Applied once more with the address it got, as every later pass applies it: the
                # applied manifest stays the same from now on (no write when nothing changes).
                self.kube.apply(objects.monitor_service(ordinal, mon_id, address))
            result.append((mon_id, address))
        for mon_id in ceph.DAEMON_IDS[len(result):]:  # monitors removed from the monmap
            if self.kube.get("v1", "Service", self.namespace, objects.name(f"ceph-mon-{mon_id}")) is not None:
                self.kube.delete("v1", "Service", self.namespace, objects.name(f"ceph-mon-{mon_id}"))
        new = {mon_id: address for mon_id, address in result if mon_id not in recorded}
        if new and record is None:
            self.kube.create(objects.address_record(new))
        elif new:
            self.kube.merge_patch("v1", "ConfigMap", self.namespace, record_name, {"data": new})
        return result

    def _monitor_membership(self, cluster: dict[str, Any], monitors: list[tuple[str, str]],
                            files: dict[str, str]) -> None:
        """A changed monitor count goes into the monmap before the StatefulSet changes size:
        new monitors are added (they then join with a store from the full monmap and sync),
        removed ones leave the quorum's monmap before their pods go."""
        live = self.kube.get("apps/v1", "StatefulSet", self.namespace, self.objects.name(MON))
        current = (live or {}).get("spec", {}).get("replicas")
        if current is None or current == len(monitors):
            return
        self._run_admin_job("mon-membership", self.objects.membership_script(monitors, current), cluster, files,
                            "MonitorMembershipReady")

    # -- monitors, managers and admin Jobs -------------------------------------------------------

    def _apply_monitors(self, cluster: dict[str, Any], files: dict[str, str]) -> dict[str, Any]:
        self.kube.apply(self.objects.daemon_config(files))
        return self._apply(self.objects.monitor_objects(cluster, files), MON, len(self.objects.monitor_ids))

    def _run_admin_job(self, step: str, script: str, cluster: dict[str, Any], files: dict[str, str],
                       condition: str) -> None:
        """Runs `script` with the admin key in a Job of its own (re-run when what it reads changes)."""
        objects = self.objects
        self.kube.apply(workloads.secret(self.owner, objects.name(f"ceph-{step}"), SERVICE, None, {"script.sh": script}))
        admin = objects.admin_files(cluster["keys"])
        self.kube.apply(workloads.secret(self.owner, objects.name("ceph-admin"), SERVICE, None, admin))
        self.run_job(objects.admin_job(step, script, admin, files), step, SERVICE, condition)

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
            clients = {}
            for user in ceph.CLIENTS:
                keyring = data[f"ceph.client.{user}.keyring"]
                try:
                    key = ceph.keyring_key(keyring)
                except ValueError:
                    raise Waiting("ExternalCephIncomplete",
                                  f"Secret {name}: ceph.client.{user}.keyring holds no key") from None
                clients[user] = {"user": user, "key": key, "keyring": keyring, "conf": data["ceph.conf"]}
            return clients
        rook = external["rook"]
        namespace = rook["namespace"]
        map_name = rook.get("monEndpointsConfigMap") or "rook-ceph-mon-endpoints"
        endpoints = self.kube.get("v1", "ConfigMap", namespace, map_name)
        if endpoints is None or not (endpoints.get("data") or {}).get("data"):
            raise Waiting("ExternalCephIncomplete", f"waiting for Rook's ConfigMap {namespace}/{map_name}")
        conf = self.objects.ceph_conf({"fsid": ""}, rook_mon_host(endpoints["data"]["data"]), "client")
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
        """One Secret per cephx user (ceph_objects.client_files)."""
        for user, client in clients.items():
            self.kube.apply(workloads.secret(self.owner, self.objects.client_secret(user), SERVICE,
                                             f"ceph-client-{user}", client_files(user, client, cluster)))

    # -- radosgw ---------------------------------------------------------------------------------

    def _rgw_password(self) -> str:
        """radosgw's keystone password (generated once; the registration Job reads its Secret)."""
        return secrets.ensure(self.kube, self.namespace, self.objects.name("radosgw-credentials"),
                              ["keystone-password"], service=SERVICE, instance=self.owner.name)["keystone-password"]

    def _register_radosgw(self, keystone: dict[str, Any]) -> None:
        script = registration_script(ceph.RGW_KEYSTONE_USER, [(RGW_ENDPOINT, self.objects.radosgw_urls())])
        step = JobStep("keystone-register", image=images.KOLLA_TOOLBOX, user="ansible", command=script)
        release = self.spec.get("release") or DEFAULT_RELEASE
        env = [*keystone_admin_env(keystone),
               from_secret("SERVICE_PASSWORD", self.objects.name("radosgw-credentials"), "keystone-password")]
        self.run_step(SERVICE, step, image=images.kolla(step.image, release, self.spec.get("images")),
                      files=jobs.step_files(script, step.user), env=env, condition="KeystoneRegistered")

    def _remove_radosgw(self) -> None:
        """radosgw switched off (replicas 0): its workload, budget and Services go; its pools stay."""
        for api_version, kind, object_name in self.objects.radosgw_object_names():
            if self.kube.get(api_version, kind, self.namespace, object_name) is not None:
                self.kube.delete(api_version, kind, self.namespace, object_name)


KEYS_ANNOTATION = "ccp.openstack.org/key-sources"


def key_sources_digest(kube: Kube, reconciler: CephReconciler) -> str | None:
    """A digest of what the client keys come from: the generated keys Secret, or the external
    cluster's Secret / Rook objects (None while they do not exist)."""
    ns = reconciler.namespace
    if not reconciler.objects.external:
        sources = [kube.get("v1", "Secret", ns, reconciler.objects.name("ceph-keys"))]
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
    if reconciler.objects.external and not reconciler.spec.get("external"):
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
    if reconciler.objects.external:
        return {}
    ns = reconciler.namespace
    urls = [f"http://{reconciler.objects.name(f'ceph-mgr-{i}')}.{reconciler.objects.name('ceph-mgr')}.{ns}.svc:"
            f"{ceph.MGR_METRICS_PORT}/metrics" for i in range(len(reconciler.objects.manager_ids))]
    summary = ceph_observer.observe(urls, reconciler.objects.monitor_ids)
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
