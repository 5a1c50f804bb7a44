"""The Ceph resource's rendering and rules, without a cluster: keys, capabilities, scripts,
validation, placement, and the status read from a manager's metrics."""

from __future__ import annotations

import base64
import struct

import pytest

from ccp_operator import secrets
from ccp_operator.errors import InvalidSpec
from ccp_operator.errors import Waiting
from ccp_operator.reconcile import ceph_observer, dependents
from ccp_operator.reconcile.ceph import CephReconciler, rook_mon_host
from ccp_operator.reconcile.controlplane import children
from ccp_operator.services import ceph


def reconciler(spec=None, status=None):
    body = {"apiVersion": "ccp.openstack.org/v1alpha1", "kind": "Ceph",
            "metadata": {"name": "cloud", "namespace": "openstack", "uid": "u", "generation": 1},
            "spec": spec or {}, "status": status or {}}
    return CephReconciler(None, body)


CLUSTER = {"fsid": "1b7e1a4e-36a4-4a0b-8a5e-7cf0f3b8f7a2", "uuid": "457eb676-33da-42ec-9a8c-9293d545c337", "keys": {}}
MONITORS = [("a", "10.96.0.11"), ("b", "10.96.0.12"), ("c", "10.96.0.13")]


def test_generated_cephx_keys_have_ceph_s_binary_layout():
    raw = base64.b64decode(secrets.new_cephx_key())
    key_type, seconds, _, length = struct.unpack("<HIIH", raw[:12])
    assert (key_type, length, len(raw)) == (1, 16, 28)
    assert seconds > 1_700_000_000
    assert secrets.new_cephx_key() != secrets.new_cephx_key()


def test_each_service_may_use_rbd_on_its_own_pools_only():
    pools = {role: role for role in ceph.POOL_ROLES}
    assert ceph.client_caps("glance", pools) == {
        "mon": "profile rbd", "osd": "profile rbd pool=images", "mgr": "profile rbd pool=images"}
    assert ceph.client_caps("cinder-backup", pools)["osd"] == "profile rbd pool=backups"
    # cinder's user, which the hypervisors also open the guests' disks as.
    assert ceph.client_caps("cinder", {**pools, "vms": "ephemeral"}) == {
        "mon": "profile rbd",
        "osd": "profile rbd pool=volumes, profile rbd pool=ephemeral, profile rbd-read-only pool=images",
        "mgr": "profile rbd pool=volumes, profile rbd pool=ephemeral"}
    for user in ceph.CLIENTS:
        assert "allow *" not in str(ceph.client_caps(user, pools))


def test_keyrings_and_addresses_in_ceph_s_formats():
    assert ceph.keyring("client.glance", "KEY", {"osd": "profile rbd pool=images", "mon": "profile rbd"}) == (
        '[client.glance]\n\tkey = KEY\n\tcaps mon = "profile rbd"\n\tcaps osd = "profile rbd pool=images"\n')
    key = "AQBzwWJnAAAAABAAm5k0xJbTzZ3v0qvB8dG9tA=="
    assert ceph.keyring_key(ceph.keyring("client.nova", key, {"mon": "profile rbd"})) == key
    with pytest.raises(ValueError):
        ceph.keyring_key('[client.nova]\n\tcaps mon = "profile rbd"\n')
    assert ceph.mon_address("10.0.0.1") == "[v2:10.0.0.1:3300,v1:10.0.0.1:6789]"
    assert ceph.mon_address("fd00::1") == "[v2:[fd00::1]:3300,v1:[fd00::1]:6789]"


def test_even_monitor_counts_are_refused():
    with pytest.raises(InvalidSpec, match="spec.monitors.replicas: 4 monitors cannot keep a quorum"):
        reconciler({"monitors": {"replicas": 4}}).validate()
    reconciler({"monitors": {"replicas": 5}}).validate()
    with pytest.raises(InvalidSpec, match="spec.external"):
        reconciler({"mode": "external"}).validate()


def test_a_changed_monitor_count_goes_into_the_monmap():
    five = MONITORS + [("d", "10.96.0.14"), ("e", "10.96.0.15")]
    grow = reconciler({"monitors": {"replicas": 5}}).objects.membership_script(five, 3)
    assert "ceph mon add 'd' '10.96.0.14'" in grow
    assert "ceph mon add 'e'" in grow and "ceph mon add 'c'" not in grow and "mon remove" not in grow
    shrink = reconciler({"monitors": {"replicas": 3}}).objects.membership_script(MONITORS, 5)
    assert "ceph mon remove 'd'" in shrink and "ceph mon remove 'e'" in shrink and "mon add" not in shrink


def test_the_monitor_script_knows_every_monitor_and_never_replaces_a_store():
    script = reconciler().objects.scripts(CLUSTER, MONITORS)["mon.sh"]
    for ordinal, (mon_id, ip) in enumerate(MONITORS):
        assert f"  {ordinal}) id={mon_id}; address={ip} ;;" in script
        assert f"--addv {mon_id} '[v2:{ip}:3300,v1:{ip}:6789]'" in script
    mkfs = script[script.index("mkfs)"):script.index("run)")]
    assert mkfs.index('if [ -d "$data" ]') < mkfs.index("ceph-mon --mkfs") < mkfs.index('mv "$data.mkfs" "$data"')
    assert f"--fsid {CLUSTER['fsid']}" in script


def test_daemon_and_client_configuration():
    small = reconciler({"monitors": {"replicas": 1}, "poolSize": 1})
    conf = small.objects.daemon_conf(CLUSTER, MONITORS[:1])
    assert "mon_initial_members = a\n" in conf and "mon_allow_pool_size_one = true" in conf
    assert "osd_pool_default_min_size = 1" in conf
    conf = reconciler().objects.daemon_conf(CLUSTER, MONITORS)
    assert "osd_pool_default_size = 3\nosd_pool_default_min_size = 2" in conf
    assert "auth_allow_insecure_global_id_reclaim = false" in conf
    client = reconciler().objects.ceph_conf(CLUSTER, "[v2:10.96.0.11:3300,v1:10.96.0.11:6789]", "client")
    assert "mon_initial_members" not in client and "log_to_stderr" not in client
    assert f"fsid = {CLUSTER['fsid']}" in client


def test_monitors_stop_below_ceph_s_free_share_unless_the_spec_lowers_it():
    assert "mon_data_avail_crit = 5\n" in reconciler().objects.daemon_conf(CLUSTER, MONITORS)
    lab = reconciler({"monitors": {"replicas": 1, "storage": {"minFreePercent": 1}}})
    assert "mon_data_avail_crit = 1\n" in lab.objects.daemon_conf(CLUSTER, MONITORS[:1])
    assert "mon_data_avail_crit" not in lab.objects.ceph_conf(CLUSTER, "[v2:10.96.0.11:3300]", "client")


def test_bootstrap_imports_every_key_but_the_monitors_and_the_admin_s():
    keys = {ceph.key_name(e): f"key-of-{e}" for e in reconciler().objects.entities()}
    imported = reconciler().objects.import_keyring(keys)
    entities = [line for line in imported.splitlines() if line.startswith("[")]
    assert entities == ["[client.bootstrap-osd]", "[client.rgw.cloud]", "[mgr.a]", "[mgr.b]", "[client.glance]",
                        "[client.cinder]", "[client.cinder-backup]"]
    assert "key-of-client.admin" not in imported and "key-of-mon." not in imported
    script = reconciler({"pools": {"vms": "ephemeral"}}).objects.scripts(CLUSTER, MONITORS)["bootstrap.sh"]
    assert "ceph osd pool create 'ephemeral'" in script and "ceph osd pool create 'vms'" not in script


def test_radosgw_and_managers_run_only_on_monitor_nodes():
    template = reconciler().objects.pod_template("radosgw", [], [], "hash", dedicated=False, co_locate=True)
    required = template["spec"]["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert required == [{"labelSelector": {"matchLabels": {"app.kubernetes.io/instance": "cloud"},
                                           "matchExpressions": [{"key": "app.kubernetes.io/component",
                                                                 "operator": "In", "values": ["ceph-mon"]}]},
                         "topologyKey": "kubernetes.io/hostname"}]
    monitor = reconciler().objects.pod_template("ceph-mon", [], [], "hash", dedicated=True, co_locate=False)
    assert "podAffinity" not in monitor["spec"]["affinity"]
    assert monitor["metadata"]["labels"]["ccp.openstack.org/dedicated"] == "true"


def test_rook_mon_endpoints():
    assert rook_mon_host("a=10.0.0.1:6789,b=10.0.0.2:3300") == "10.0.0.1:6789,10.0.0.2:3300"
    with pytest.raises(Waiting):
        rook_mon_host("")


def test_ceph_comes_up_after_keystone_and_wakes_the_services_that_use_it():
    order = [kind for kind, _, _ in children()]
    assert order.index("Keystone") < order.index("Ceph") < order.index("Glance")
    assert dependents.dependent_kinds("Ceph") == ["Glance", "Cinder", "Compute"]
    assert "Ceph" in dependents.dependent_kinds("Keystone")


METRICS = """# HELP ceph_health_status Cluster health status
# TYPE ceph_health_status untyped
ceph_health_status 1.0
# HELP ceph_mon_quorum_status Monitors in quorum
# TYPE ceph_mon_quorum_status gauge
ceph_mon_quorum_status{ceph_daemon="mon.a"} 1.0
ceph_mon_quorum_status{ceph_daemon="mon.b"} 0.0
ceph_mon_quorum_status{ceph_daemon="mon.c"} 1.0
# HELP ceph_health_detail healthcheck status by type (0=inactive, 1=active)
# TYPE ceph_health_detail gauge
ceph_health_detail{name="MON_DOWN",severity="HEALTH_WARN"} 1.0
ceph_health_detail{name="OSD_DOWN",severity="HEALTH_WARN"} 0.0
"""


def test_status_from_the_manager_s_metrics():
    assert ceph_observer.summarize(["a", "b", "c"], METRICS) == {
        "monitors": [{"name": "a", "inQuorum": True}, {"name": "b", "inQuorum": False},
                     {"name": "c", "inQuorum": True}],
        "quorum": "2/3", "health": "HEALTH_WARN", "healthChecks": "MON_DOWN", "clusterObservation": "ok"}
    assert ceph_observer.summarize(["a"], "") is None  # a standby manager serves no cluster metrics
