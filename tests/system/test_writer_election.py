"""The writer election against a real etcd: one writer at a time, fenced before replaced."""

from __future__ import annotations

import time
import pytest

from ccp_galera_agent.election import WriterLease
from ccp_operator.services import galera

PREFIX = "/ccp/galera/test"


def member(etcd, name, ttl=3, margin=1.0):
    return WriterLease(etcd.client(), PREFIX, name, ttl=ttl, margin=margin)


def test_only_one_member_becomes_the_writer(etcd):
    a, b, c = (member(etcd, n) for n in ("galera-0", "galera-1", "galera-2"))
    assert a.acquire()
    assert not b.acquire() and not c.acquire()
    assert b.writer() == "galera-0" and a.held and not b.held


def test_a_writer_stepping_down_hands_over_at_once(etcd):
    a, b = member(etcd, "galera-0"), member(etcd, "galera-1")
    assert a.acquire()
    a.release()
    assert not a.held
    assert b.acquire()
    assert a.writer() == "galera-1"
    assert not a.renew(), "a released writer cannot renew its way back"


def test_a_silent_writer_is_fenced_before_another_can_take_over(etcd):
    a, b = member(etcd, "galera-0", ttl=3, margin=1.0), member(etcd, "galera-1", ttl=3, margin=1.0)
    assert a.acquire()
    fenced_at = acquired_at = None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and acquired_at is None:
        if fenced_at is None and not a.held:
            fenced_at = time.monotonic()  # `a` stops renewing (hung): by its own clock, it must fence now
        if b.acquire():
            acquired_at = time.monotonic()
        time.sleep(0.05)
    assert fenced_at is not None and acquired_at is not None
    assert fenced_at < acquired_at, "the new writer was promoted before the old one fenced itself"
    assert acquired_at - fenced_at >= 0.5
    assert not a.renew() and b.writer() == "galera-1"


def test_renewals_keep_the_role(etcd):
    a, b = member(etcd, "galera-0", ttl=2, margin=0.5), member(etcd, "galera-1")
    assert a.acquire()
    for _ in range(8):  # four lease lengths
        time.sleep(0.5)
        assert a.renew()
    assert not b.acquire()


def test_an_unreachable_etcd_keeps_the_role_only_until_the_fencing_deadline(etcd):
    a = member(etcd, "galera-0", ttl=3, margin=1.0)
    assert a.acquire()
    etcd.stop()
    assert a.renew(), "a brief etcd outage does not fence the writer at once"
    time.sleep(2.2)
    assert not a.renew() and not a.held


@pytest.mark.parametrize("ttl, margin", [(3, 3), (2, 5)])
def test_margin_must_be_shorter_than_the_lease(etcd, ttl, margin):
    with pytest.raises(ValueError):
        member(etcd, "galera-0", ttl=ttl, margin=margin)


def test_take_over_moves_the_key_only_from_the_named_writer(etcd):
    a, b, c = member(etcd, "galera-0"), member(etcd, "galera-1"), member(etcd, "galera-2")
    assert a.acquire()
    assert not c.take_over("galera-1"), "the key does not name galera-1"
    assert b.take_over("galera-0")
    assert b.writer() == "galera-1" and b.held
    assert not a.renew(), "the replaced writer learns it lost the role at its next renewal"
    a.release()  # revoking the old lease must not delete the key, which is now bound to b's lease
    assert c.writer() == "galera-1" and b.renew()


def test_the_writer_keeps_its_lease_through_the_loss_of_the_etcd_member_it_talked_to(etcd):
    # The agents' own lease and margin: losing the etcd leader costs an election, which must fit.
    a = member(etcd, "galera-0", ttl=galera.WRITER_TTL, margin=galera.FENCE_MARGIN)
    assert a.acquire()
    first = etcd.members[0]  # every client starts with the first endpoint
    etcd.kill(first)
    for _ in range(2 * galera.WRITER_TTL):  # two lease lengths, renewed through the surviving members
        time.sleep(0.5)
        assert a.renew(), "the writer lost its role with one etcd member gone"
    assert member(etcd, "galera-1").writer() == "galera-0"
