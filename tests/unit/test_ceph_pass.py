"""Whole passes of the Ceph reconciler against the fake API server: monitors, bootstrap,
managers, clients and radosgw, in order, to Ready; its endpoint keeps its contract, and a pass
over an unchanged resource sends no write request."""

from __future__ import annotations

from ccp_operator import endpoints
from ccp_operator.api import API_VERSION
from ccp_operator.reconcile.ceph import CephReconciler
from ccp_operator.services import ceph
from support.fake_kube import FakeKube
from unit.test_service_pass import INSTANCE as NAME, drive, ready_provider

NAMESPACE = "openstack"


def lab() -> FakeKube:
    """Keystone Ready; the monitors' addresses recorded as a re-created resource finds them
    (the fake API server allocates no ClusterIPs)."""
    return FakeKube([
        ready_provider("Keystone"),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"{NAME}-ceph-mon-addresses",
                                                               "namespace": NAMESPACE},
         "data": {"a": "10.96.0.11", "b": "10.96.0.12", "c": "10.96.0.13"}},
        {"apiVersion": API_VERSION, "kind": "Ceph", "metadata": {"name": NAME, "namespace": NAMESPACE},
         "spec": {"release": "2026.1"}},
    ])


def test_a_managed_cluster_reaches_ready_through_its_steps_and_then_writes_nothing():
    kube = lab()
    reconciler, outcome = drive(kube, "Ceph", CephReconciler)
    assert [step.type for step in reconciler.steps] == [
        "CredentialsReady", "MonitorAddressesReady", "MonitorMembershipReady", "MonitorsReady",
        "PoolsAndUsersReady", "ManagersReady", "ClientsReady", "DependenciesReady", "KeystoneRegistered",
        "RadosgwReady"]
    endpoint = outcome.endpoint
    assert endpoints.check(endpoints.CephEndpoint, endpoint) == []
    assert endpoint["monitors"] == {"a": "10.96.0.11", "b": "10.96.0.12", "c": "10.96.0.13"}
    assert set(endpoint["clients"]) == set(ceph.CLIENTS)
    for user in ceph.CLIENTS:
        assert kube.get("v1", "Secret", NAMESPACE, endpoint["clients"][user]["secret"]) is not None
    kube.requests.clear()
    CephReconciler(kube, kube.get(API_VERSION, "Ceph", NAMESPACE, NAME)).reconcile()
    assert kube.writes() == [], "a pass over an unchanged resource wrote"
