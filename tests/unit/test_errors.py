"""Failures become kopf's retry decisions in one place, and a wait always says what it waits for."""

from __future__ import annotations

import logging

import kopf
import pytest
from kubernetes.client.rest import ApiException
from urllib3.exceptions import MaxRetryError, ProtocolError

from ccp_operator import conditions
from ccp_operator.api import API_VERSION
from ccp_operator.errors import MAX_DELAY, InvalidSpec, Waiting, mapped_to_kopf
from ccp_operator.handlers.common import _reconcile
from ccp_operator.reconcile.base import Outcome, Reconciler
from support.fake_kube import FakeKube


@pytest.mark.parametrize("failure", [
    MaxRetryError(None, "/apis", "connection refused"),
    ProtocolError("Connection aborted.", ConnectionResetError(104, "reset by peer")),
    ConnectionRefusedError(111, "Connection refused"),
    TimeoutError("timed out"),
])
def test_an_api_server_that_does_not_answer_is_waited_for(failure):
    with pytest.raises(kopf.TemporaryError) as raised:
        with mapped_to_kopf(retry=50):
            raise failure
    assert raised.value.delay == MAX_DELAY


def test_bad_input_is_permanent_and_a_refused_object_too():
    with pytest.raises(kopf.PermanentError, match="spec.replicas: must be odd"):
        with mapped_to_kopf(retry=0):
            raise InvalidSpec("spec.replicas", "must be odd")
    with pytest.raises(kopf.PermanentError, match="refused"):
        with mapped_to_kopf(retry=0):
            raise ApiException(status=422, reason="Unprocessable Entity")


def test_a_program_error_is_not_retried_as_if_the_network_failed():
    with pytest.raises(FileNotFoundError):
        with mapped_to_kopf(retry=0):
            raise FileNotFoundError("templates/missing.j2")


class WaitsOutsideAnyStep(Reconciler):
    kind = "Keystone"

    def reconcile(self) -> Outcome:
        self.step("DependenciesReady", "Ready", lambda: None)
        raise Waiting("WaitingForRabbitMQ", "waiting for the RabbitMQ user secret of keystone")


def test_a_wait_outside_any_step_keeps_its_reason_in_ready():
    kube = FakeKube([{"apiVersion": API_VERSION, "kind": "Keystone",
                      "metadata": {"name": "cloud", "namespace": "openstack"}, "spec": {}}])
    body = kube.get(API_VERSION, "Keystone", "openstack", "cloud")
    with pytest.raises(kopf.TemporaryError):
        _reconcile(kube, body, WaitsOutsideAnyStep(kube, body), None, 0, logging.getLogger("test"))
    ready = conditions.find(kube.get(API_VERSION, "Keystone", "openstack", "cloud")["status"]["conditions"], "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "WaitingForRabbitMQ")
    assert ready["message"] == "waiting for the RabbitMQ user secret of keystone"
