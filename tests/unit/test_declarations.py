"""A service's declaration holds what the shared infrastructure grants it (its RabbitMQ rights,
its cephx users), so a new service is its own module and one catalog line: checked here that
each declaration is whole and consistent with what it needs."""

from __future__ import annotations

import pytest

from ccp_operator.reconcile.service import credential_keys
from ccp_operator.services import catalog, ceph, rabbitmq
from ccp_operator.services.base import CEPH, KEYSTONE, RABBITMQ


@pytest.mark.parametrize("definition", catalog.SERVICES, ids=lambda d: d.name)
def test_a_service_declares_its_rabbitmq_rights_and_cephx_users_exactly_when_it_needs_them(definition):
    assert (definition.messaging is not None) == (RABBITMQ in definition.needs)
    assert bool(definition.ceph_clients) == (CEPH in definition.needs)
    own_users = {client.user for client in definition.ceph_clients}
    for component in definition.components:
        assert set(component.ceph_users) <= own_users, component.name
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
