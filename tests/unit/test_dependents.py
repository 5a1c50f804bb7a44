"""A resource waiting for a dependency is reconciled when that one gets Ready, not when a retry
delay runs out: its pass ends without a retry, and the provider's pass to Ready wakes it."""

from __future__ import annotations

import logging

import kopf
import pytest

from ccp_operator import conditions
from ccp_operator.api import API_VERSION
from ccp_operator.errors import MAX_DELAY_SOON
from ccp_operator.handlers.common import _reconcile
from ccp_operator.reconcile import dependents
from ccp_operator.reconcile.base import Outcome, Reconciler
from ccp_operator.reconcile.service import ServiceReconciler
from ccp_operator.services import keystone
from support.fake_kube import FakeKube

NS = "openstack"
LOG = logging.getLogger("test")
GALERA_ENDPOINT = {"host": "cloud-galera.openstack.svc", "port": 3306, "adminSecret": "cloud-galera-root",
                   "adminPasswordKey": "password", "clientImage": "galera"}


def resource(kind: str, ready: bool | None = None, reason: str = "", spec: dict | None = None) -> dict:
    body = {"apiVersion": API_VERSION, "kind": kind, "metadata": {"name": "cloud", "namespace": NS},
            "spec": spec or {"release": "2026.1"}}
    if ready is not None:
        body["status"] = {"conditions": conditions.merge(None, [conditions.Condition("Ready", ready, reason)], 1)}
        if ready:
            body["status"].update(observedGeneration=1, endpoint=GALERA_ENDPOINT)
    return body


def ready_reason(kube: FakeKube, kind: str) -> str:
    body = kube.get(API_VERSION, kind, NS, "cloud")
    return conditions.find(body["status"]["conditions"], "Ready")["reason"]


class ProviderPass(Reconciler):
    """A Galera pass that ends Ready with its endpoint (what GaleraReconciler returns at the end)."""

    kind = "Galera"

    def reconcile(self) -> Outcome:
        return Outcome({}, GALERA_ENDPOINT, "")


def test_a_pass_waiting_for_a_dependency_ends_without_a_retry_and_says_what_it_waits_for():
    kube = FakeKube([resource("Keystone")])
    body = kube.get(API_VERSION, "Keystone", NS, "cloud")
    _reconcile(kube, body, ServiceReconciler(kube, keystone.SERVICE, body), None, 0, LOG)  # no TemporaryError
    assert ready_reason(kube, "Keystone") == "WaitingForGalera"
    assert kube.writes() == [("PATCH", kube.object_path(body) + "/status")]


def test_a_dependency_that_got_ready_while_the_pass_wrote_its_status_is_looked_at_again_soon():
    class ArrivingMeanwhile(FakeKube):
        def patch_status(self, api_version, kind, namespace, name, status):
            written = super().patch_status(api_version, kind, namespace, name, status)
            if kind == "Keystone":  # Galera's pass to Ready lands just after this write
                self.put(resource("Galera", ready=True))
            return written

    kube = ArrivingMeanwhile([resource("Keystone"), resource("Galera", ready=False, reason="RollingOut")])
    body = kube.get(API_VERSION, "Keystone", NS, "cloud")
    with pytest.raises(kopf.TemporaryError) as raised:
        _reconcile(kube, body, ServiceReconciler(kube, keystone.SERVICE, body), None, 30, LOG)
    assert raised.value.delay <= MAX_DELAY_SOON


def test_the_providers_pass_to_ready_wakes_only_the_users_that_wait_for_it():
    kube = FakeKube([resource("Galera", ready=False, reason="RollingOut"),
                     resource("Keystone", ready=False, reason="WaitingForGalera"),
                     resource("Glance", ready=False, reason="WaitingForKeystone"),
                     resource("Placement", ready=True)])
    galera = kube.get(API_VERSION, "Galera", NS, "cloud")
    _reconcile(kube, galera, ProviderPass(kube, galera), None, 0, LOG)
    wake = dependents.WAKE_ANNOTATION.format(kind="galera")
    annotations = {kind: kube.get(API_VERSION, kind, NS, "cloud")["metadata"].get("annotations") or {}
                   for kind in ("Keystone", "Glance", "Placement")}
    assert annotations["Keystone"][wake] == galera["metadata"]["resourceVersion"]
    assert wake not in annotations["Glance"] and wake not in annotations["Placement"]


def test_a_provider_ready_all_along_wakes_nobody_and_writes_nothing():
    kube = FakeKube([resource("Galera", ready=True), resource("Keystone", ready=False, reason="WaitingForGalera")])
    galera = kube.get(API_VERSION, "Galera", NS, "cloud")
    galera["status"]["conditions"] = conditions.merge(
        galera["status"]["conditions"], [conditions.Condition("Ready", True, "Ready", "all components are available")],
        1)
    kube.put(galera)
    galera = kube.get(API_VERSION, "Galera", NS, "cloud")
    kube.requests.clear()
    _reconcile(kube, galera, ProviderPass(kube, galera), None, 0, LOG)
    assert kube.writes() == []


def test_waking_twice_for_the_same_pass_writes_once():
    kube = FakeKube([resource("Keystone", ready=False, reason="WaitingForGalera")])
    assert dependents.wake(kube, NS, "Galera", "cloud", "17") == ["Keystone cloud"]
    assert dependents.wake(kube, NS, "Galera", "cloud", "17") == []
    assert len(kube.writes()) == 1


def test_every_kind_that_reads_an_endpoint_is_a_user_of_its_provider():
    """Galera's agents elect the writer in etcd: an Etcd that gets Ready wakes its Galera."""
    assert "Galera" in dependents.dependent_kinds("Etcd")
    assert "Ceph" in dependents.dependent_kinds("Keystone")
    assert set(dependents.dependent_kinds("Galera")) >= {"Keystone", "Nova"}
