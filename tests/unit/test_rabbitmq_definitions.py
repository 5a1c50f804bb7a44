"""What the operator gives the brokers: vhosts, users, permissions and the notification policy,
per replication mode and broker generation."""

from __future__ import annotations

import json
import re

import pytest

from ccp_operator.errors import InvalidSpec, Waiting
from ccp_operator.reconcile.rabbitmq import RabbitMQReconciler, definitions
from ccp_operator.services import rabbitmq

USERS = {user: f"{user}-pw" for user in (*rabbitmq.USERS, *rabbitmq.CONSUMERS)}


def body(spec):
    return {"apiVersion": "ccp.openstack.org/v1alpha1", "kind": "RabbitMQ", "spec": spec, "status": {},
            "metadata": {"name": "mq", "namespace": "openstack", "uid": "u-1", "generation": 1}}


def test_only_the_notifications_vhost_defaults_to_quorum_queues():
    defs = json.loads(definitions("admin-pw", USERS, rabbitmq.QUORUM))
    types = {v["name"]: v["metadata"]["default_queue_type"] for v in defs["vhosts"]}
    assert types == {"openstack": "classic", "notifications": "quorum"}
    (policy,) = defs["policies"]
    assert policy["vhost"] == "notifications" and "ha-mode" not in policy["definition"]
    assert policy["definition"]["overflow"] == "drop-head" and policy["definition"]["max-length"] > 0
    assert policy["definition"]["message-ttl"] > 0


def test_the_notification_policy_matches_notification_queues_only():
    pattern = re.compile(rabbitmq.notification_policy(rabbitmq.QUORUM)["pattern"])
    for queue in ("notifications.info", "notifications.error", "versioned_notifications.info"):
        assert pattern.search(queue), queue
    for queue in ("conductor", "conductor.host-1", "reply_4f1c", "scheduler_fanout_9a", "notifications"):
        assert not pattern.search(queue), queue


def test_mirroring_is_a_policy_on_notification_queues_for_3x_brokers():
    defs = json.loads(definitions("admin-pw", USERS, rabbitmq.MIRRORED))
    (policy,) = defs["policies"]
    assert policy["definition"]["ha-mode"] == "all" and policy["vhost"] == "notifications"
    assert {v["metadata"]["default_queue_type"] for v in defs["vhosts"]} == {"classic"}
    assert rabbitmq.notifications_transport_options(rabbitmq.MIRRORED) == "amqp_durable_queues=true"


def test_mirroring_is_refused_on_4x_brokers():
    RabbitMQReconciler(None, body({"brokerVersion": "3.13", "notificationReplication": "mirrored"})).validate()
    with pytest.raises(InvalidSpec, match="removed in 4.0"):
        RabbitMQReconciler(None, body({"brokerVersion": "4.1", "notificationReplication": "mirrored"})).validate()


def test_each_service_gets_exactly_the_vhosts_it_uses():
    defs = json.loads(definitions("admin-pw", USERS, rabbitmq.QUORUM))
    by_user: dict[str, dict[str, dict]] = {}
    for permission in defs["permissions"]:
        by_user.setdefault(permission["user"], {})[permission["vhost"]] = permission
    assert set(by_user["keystone"]) == {"notifications"}, "keystone makes no RPC"
    assert set(by_user["nova"]) == {"openstack", "notifications"}
    nova = by_user["nova"]["notifications"]
    assert re.fullmatch(nova["write"], "nova") and re.fullmatch(nova["configure"], "notifications.info")
    assert not re.fullmatch(nova["write"], "neutron"), "no publishing through another service's exchange"
    assert not re.fullmatch(nova["read"], "notifications.info"), "publishers do not consume notifications"


def test_settings_follow_the_broker_generation():
    three = RabbitMQReconciler(None, body({"brokerVersion": "3.13"})).config_file()
    assert "cluster_partition_handling = pause_minority" in three
    assert "deprecated_features" not in three
    four = RabbitMQReconciler(None, body({"brokerVersion": "4.1"})).config_file()
    assert "pause_minority" in four and "deprecated_features.permit.transient_nonexcl_queues = true" in four
    khepri = RabbitMQReconciler(None, body({"brokerVersion": "4.2"})).config_file()
    assert "cluster_partition_handling" not in khepri


def test_quorum_queues_grow_to_every_broker_where_the_broker_can():
    """A queue declared while a broker was still joining has fewer members; without growing, the
    pre-stop wait for quorum + 1 would never end."""
    grows = "quorum_queue.continuous_membership_reconciliation.enabled = true"
    three = RabbitMQReconciler(None, body({"brokerVersion": "3.13", "replicas": 3})).config_file()
    assert grows in three and "continuous_membership_reconciliation.target_group_size = 3" in three
    assert grows not in RabbitMQReconciler(None, body({"brokerVersion": "3.12", "replicas": 3})).config_file()
    assert grows not in RabbitMQReconciler(None, body({"brokerVersion": "4.1", "replicas": 1})).config_file()


def test_the_pre_stop_hook_waits_for_quorum_before_draining():
    hook = RabbitMQReconciler(None, body({})).pre_stop()
    assert hook.index("await_online_quorum_plus_one") < hook.index("drain")
    mirrored = RabbitMQReconciler(None, body({"brokerVersion": "3.13", "notificationReplication": "mirrored"}))
    assert "await_online_synchronized_mirror" in mirrored.pre_stop()


def test_the_broker_status_names_running_members_alarms_and_partitions():
    from ccp_operator.reconcile.rabbitmq_observer import summarize
    members = RabbitMQReconciler(None, body({})).node_names
    assert members[0] == "rabbit@mq-rabbitmq-0.mq-rabbitmq-nodes.openstack.svc"
    nodes = [{"name": members[0], "running": True, "mem_alarm": False, "disk_free_alarm": False, "partitions": []},
             {"name": members[1], "running": True, "mem_alarm": True, "disk_free_alarm": False,
              "partitions": [members[2]]},
             {"name": members[2], "running": False}]
    status = summarize(members, nodes)
    assert status["membersRunning"] == "2/3"
    assert status["members"][1] == {"name": members[1], "running": True, "alarms": ["memory"],
                                    "partitionedFrom": [members[2]]}
    assert status["alarms"] == f"memory on {members[1]}, {members[1]} sees a partition"
    assert summarize(members, [{"name": m, "running": True} for m in members])["alarms"] == "none"


class RecordingKube:
    """Records what is applied; answers like an API server that has not rolled anything out."""

    def __init__(self):
        self.applied = []

    def apply(self, obj):
        self.applied.append(obj)
        return {**obj, "status": {}}


def test_brokers_read_only_their_peers_endpoints_with_a_service_account_of_their_own():
    kube = RecordingKube()
    reconciler = RabbitMQReconciler(kube, body({"replicas": 3}))
    with pytest.raises(Waiting):  # for the brokers to roll out
        reconciler._apply_brokers({"admin": {"password": "a", "erlang-cookie": "c"}, "users": USERS})
    by_kind = {obj["kind"]: obj for obj in kube.applied}
    role, binding = by_kind["Role"], by_kind["RoleBinding"]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["endpoints"], "resourceNames": ["mq-rabbitmq-nodes"],
                              "verbs": ["get"]}]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": by_kind["ServiceAccount"]["metadata"]["name"],
                                    "namespace": "openstack"}]
    pod = by_kind["StatefulSet"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == by_kind["ServiceAccount"]["metadata"]["name"]
    assert "automountServiceAccountToken" not in pod
    # Before the StatefulSet: a broker that starts without them forms a cluster of its own.
    kinds = [obj["kind"] for obj in kube.applied]
    assert kinds.index("RoleBinding") < kinds.index("StatefulSet")
