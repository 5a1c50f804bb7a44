"""Bad input: the API server's schema refuses what it can express, the operator's status names
the field for what it cannot, and nothing crashes."""

from __future__ import annotations

import pytest
import yaml

from ccp_operator import conditions
from ccp_operator.api import API_VERSION
from ccp_operator.services import ceph
from support.waiting import wait_for


def plane(namespace: str, **sections) -> str:
    return yaml.safe_dump({"apiVersion": API_VERSION, "kind": "OpenStackControlPlane",
                           "metadata": {"name": "bad", "namespace": namespace},
                           "spec": {"release": "2026.1", **sections}})


@pytest.mark.parametrize("sections, message", [
    ({"keystone": {"replicas": 0}}, "spec.keystone.replicas: Invalid value: 0: spec.keystone.replicas in body "
                                    "should be greater than or equal to 1"),
    ({"nova": {"scheduler": {"replicas": -3}}}, "should be greater than or equal to 1"),
    ({"keystone": {"replica": 3}}, 'unknown field "spec.keystone.replica"'),
    ({"glance": {"api": {"replicas": "three"}}}, "spec.glance.api.replicas: Invalid value: \"string\""),
    ({"release": "2026.3"}, "spec.release: Invalid value: \"2026.3\": spec.release in body should match"),
    ({"keystone": {"loadBalancer": {"ip": "not-an-ip"}}}, "spec.keystone.loadBalancer.ip"),
    ({"galera": {"replicas": 11}}, "spec.galera.replicas: Invalid value: 11"),
])
def test_schema_refuses_with_a_clear_message(kube, operator, namespace, sections, message):
    done = kube.kubectl("apply", "-f", "-", stdin=plane(namespace, **sections), check=False)
    assert done.returncode != 0
    assert message in done.stderr, done.stderr


def _status(kube, namespace, kind="OpenStackControlPlane", name="bad"):
    body = kube.kube.get(API_VERSION, kind, namespace, name) or {}
    return body.get("status") or {}


def test_even_quorum_is_a_false_condition_naming_the_field(kube, operator, namespace):
    kube.kubectl("apply", "-f", "-", stdin=plane(namespace, galera={"replicas": 4}))
    invalid = wait_for(lambda: conditions.find(_status(kube, namespace).get("conditions"), "SpecValid"),
                       timeout=60, what="a SpecValid condition")
    assert invalid["status"] == "False" and invalid["reason"] == "InvalidSpec"
    assert invalid["message"].startswith("spec.galera.replicas: 4 members cannot keep a majority")
    ready = conditions.find(_status(kube, namespace)["conditions"], "Ready")
    assert ready["status"] == "False" and ready["reason"] == "InvalidSpec"
    assert kube.kube.get(API_VERSION, "Galera", namespace, "bad") is None, "nothing is created from a bad spec"
    # The Event is posted after the status write: wait for it rather than race it.
    wait_for(lambda: any("spec.galera.replicas" in event.message for event in kube.core.list_namespaced_event(
        namespace, field_selector="reason=InvalidSpec").items), timeout=30, what="an InvalidSpec Event")
    # Fixing the field clears the condition.
    kube.kubectl("apply", "-f", "-", stdin=plane(namespace, galera={"replicas": 3}))
    wait_for(lambda: conditions.find(_status(kube, namespace).get("conditions"), "SpecValid") is None,
             timeout=60, what="the SpecValid condition to clear")
    assert operator.running


def test_unreadable_custom_config_names_the_field(kube, operator, namespace):
    manifest = {"apiVersion": API_VERSION, "kind": "Keystone", "metadata": {"name": "bad", "namespace": namespace},
                "spec": {"customConfig": "max_param_size = 1\n[DEFAULT"}}
    kube.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(manifest))
    invalid = wait_for(lambda: conditions.find(_status(kube, namespace, "Keystone").get("conditions"), "SpecValid"),
                       timeout=60, what="a SpecValid condition")
    assert invalid["status"] == "False"
    assert invalid["message"].startswith("spec.customConfig: not a valid oslo.config (INI) snippet")
    assert operator.running


def test_even_ceph_monitor_count_is_a_false_condition_naming_the_field(kube, operator, namespace):
    kube.kubectl("apply", "-f", "-", stdin=plane(namespace, ceph={"monitors": {"replicas": 2}}))
    invalid = wait_for(lambda: conditions.find(_status(kube, namespace).get("conditions"), "SpecValid"),
                       timeout=60, what="a SpecValid condition")
    assert invalid["status"] == "False"
    assert invalid["message"].startswith("spec.ceph.monitors.replicas: 2 members cannot keep a majority")


def test_external_ceph_without_a_source_is_refused_by_the_schema(kube, operator, namespace):
    done = kube.kubectl("apply", "-f", "-", check=False, stdin=plane(
        namespace, ceph={"mode": "external", "external": {"secret": "a", "rook": {
            "namespace": "rook-ceph", "clientSecrets": {u: "s" for u in ceph.CLIENTS}}}}))
    assert done.returncode != 0
    assert "give exactly one of rook and secret" in done.stderr, done.stderr
