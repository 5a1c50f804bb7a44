"""A service's declaration holds what the shared infrastructure grants it (its RabbitMQ rights,
its cephx users), so a new service is its own module and one catalog line: checked here that
each declaration is whole and consistent with what it needs."""

from __future__ import annotations

import re

import pytest

from ccp_operator import endpoints, releases
from ccp_operator.api import kinds
from ccp_operator.reconcile.identity import registration_script
from ccp_operator.reconcile.service import credential_keys
from ccp_operator.services import catalog, ceph, rabbitmq
from ccp_operator.services.base import CEPH, KEYSTONE, RABBITMQ
from support.rendering import ENDPOINTS


@pytest.mark.parametrize("definition", catalog.SERVICES, ids=lambda d: d.name)
def test_a_service_declares_its_rabbitmq_rights_and_cephx_users_exactly_when_it_needs_them(definition):
    assert (definition.messaging is not None) == (RABBITMQ in definition.needs)
    read = {user for component in definition.components for user in component.ceph_users}
    assert bool(definition.ceph_clients or read) == (CEPH in definition.needs)
    # Its own users, or the one whose key the hypervisors' libvirt holds (cinder's, which nova
    # attaches volumes as: services/compute.py).
    shared = {user for user, client in ceph.CLIENTS.items() if client.libvirt_secret}
    own_users = {client.user for client in definition.ceph_clients}
    for component in definition.components:
        assert set(component.ceph_users) <= own_users | shared, component.name
    assert len(shared) == 1
    for client in definition.ceph_clients:
        assert set(client.writable) | set(client.readable) <= set(ceph.POOL_ROLES), client.user
        assert not set(client.writable) & set(client.readable), client.user


def test_the_infrastructure_serves_what_the_declarations_ask_for():
    assert set(rabbitmq.USERS) == {d.name for d in catalog.SERVICES if d.messaging}
    assert list(ceph.CLIENTS) == [c.user for d in catalog.SERVICES for c in d.ceph_clients]
    assert ceph.client_caps("cinder", {role: f"p-{role}" for role in ceph.POOL_ROLES})["osd"] == \
        "profile rbd pool=p-volumes, profile rbd pool=p-vms, profile rbd-read-only pool=p-images"


@pytest.mark.parametrize("definition", catalog.SERVICES, ids=lambda d: d.name)
def test_a_step_acting_as_keystones_admin_belongs_to_a_service_that_waits_for_keystone(definition):
    for step in definition.jobs:
        if step.keystone_admin:
            assert KEYSTONE in definition.needs, step.name
        for _, password in step.secret_env:
            assert password in credential_keys(definition), (step.name, password)


def contract_of(kind: str) -> type:
    if kind in endpoints.INFRASTRUCTURE:
        return endpoints.INFRASTRUCTURE[kind]
    return endpoints.SERVICES[catalog.BY_KIND[kind].publishes]


@pytest.mark.parametrize("kind", sorted(ENDPOINTS))
def test_the_tests_realistic_endpoints_keep_the_providers_contracts(kind):
    assert endpoints.check(contract_of(kind), ENDPOINTS[kind]) == []


def test_a_broken_contract_is_named():
    galera = {key: value for key, value in ENDPOINTS["Galera"].items() if key != "clientImage"}
    assert endpoints.check(endpoints.GaleraEndpoint, {**galera, "hostname": "x"}) == [
        "GaleraEndpoint without clientImage", "GaleraEndpoint has no field hostname"]


def test_the_status_schema_of_each_kind_is_its_contract():
    for crd in kinds.all_crds():
        kind = crd["spec"]["names"]["kind"]
        if kind == "OpenStackControlPlane":
            continue
        schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]
        required, optional = endpoints.fields(contract_of(kind))
        assert set(schema["endpoint"]["properties"]) == required | optional, kind
        assert set(schema["endpoint"].get("required", [])) == required, kind


@pytest.mark.parametrize("definition", [d for d in catalog.SERVICES if d.pypi_package], ids=lambda d: d.name)
def test_a_service_names_its_package_version_in_every_series_the_operator_supports(definition):
    assert set(definition.package_versions) == set(releases.SERIES)
    versions = [tuple(int(part) for part in definition.package_versions[series].split("."))
                for series in releases.SERIES]
    assert versions == sorted(versions), "a later series with an older version"


def test_a_generated_password_is_never_taken_for_an_option():
    """Generated passwords may begin with "-": every CLI gets them as --password=..."""
    scripts = [step.command for definition in catalog.SERVICES for step in definition.jobs]
    scripts.append(registration_script("nova", []))
    for script in scripts:
        assert not re.search(r"--password\s", script), script
