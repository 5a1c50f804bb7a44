"""When a replica counts as alive: a watch that lags behind but moves is fine, one that delivers
nothing for an object whose newer version the API server lists is stuck; a standby is alive while
it keeps looking at the Lease."""

from __future__ import annotations

import pytest

from ccp_operator.health import Health, WatchFreshness
from ccp_operator.leadership import LeaseTimings
from ccp_operator.watched import WatchedObjects

KEY = ("Keystone", "openstack", "cloud")


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def body(version):
    return {"kind": KEY[0], "metadata": {"namespace": KEY[1], "name": KEY[2], "resourceVersion": version}}


@pytest.fixture
def setup():
    clock, watched = Clock(), WatchedObjects()
    return clock, watched, WatchFreshness(watched, stale_after=60, clock=clock)


def test_a_watch_that_delivered_the_listed_version_is_fresh(setup):
    clock, watched, freshness = setup
    watched.record(body("5"))
    freshness.compare([(KEY, "5")])
    clock.now += 600
    assert freshness.stale() == []


def test_a_watch_that_never_delivers_the_newer_version_turns_stale(setup):
    clock, watched, freshness = setup
    watched.record(body("5"))
    freshness.compare([(KEY, "6")])
    clock.now += 30
    freshness.compare([(KEY, "6")])
    assert freshness.stale() == []
    clock.now += 31
    freshness.compare([(KEY, "7")])  # still nothing new delivered since the lag began
    assert freshness.stale() == ["Keystone openstack/cloud"]


def test_a_watch_behind_an_object_that_changes_often_is_not_stuck(setup):
    clock, watched, freshness = setup
    watched.record(body("5"))
    for version in range(6, 30):
        freshness.compare([(KEY, str(version + 1))])  # the listing is always one ahead ...
        watched.record(body(str(version)))  # ... but the watch moves
        clock.now += 20
    assert freshness.stale() == []


def test_an_object_the_watch_never_saw_counts(setup):
    clock, _, freshness = setup
    freshness.compare([(KEY, "1")])
    clock.now += 61
    assert freshness.stale() == ["Keystone openstack/cloud"]


def test_a_deleted_object_is_forgotten(setup):
    clock, watched, freshness = setup
    watched.record(body("5"))
    freshness.compare([(KEY, "6")])
    freshness.compare([])  # gone from the listing
    clock.now += 600
    assert freshness.stale() == []
    watched.record(body("6"), deleted=True)
    assert watched.version(KEY) is None


class StandbyElector:
    timings = LeaseTimings()

    def __init__(self, last_attempt, last_read=None):
        self.last_attempt = last_attempt
        self.last_read = last_read


def test_liveness_of_the_leader_needs_a_turning_loop_and_fresh_watches(setup):
    clock, watched, freshness = setup
    health = Health(freshness, None, clock=clock)
    assert health.liveness() == (True, {"role": "standby", "problems": []})  # not started yet
    health.reconciling.set()
    health.watching.set()
    health.loop_beat = clock.now
    assert health.liveness()[0] and health.readiness() == (True, {"role": "single", "watching": True})
    clock.now += 31
    alive, details = health.liveness()
    assert not alive and details["problems"] == ["the event loop does not turn"]
    health.loop_beat = clock.now
    freshness.compare([(KEY, "9")])
    clock.now += 61
    health.loop_beat = clock.now
    alive, details = health.liveness()
    assert not alive and details["staleObjects"] == ["Keystone openstack/cloud"]
    assert details["problems"] == ["watches did not deliver changes to 1 object(s) for 60s"]


def test_a_standby_is_ready_and_alive_while_it_looks_at_the_lease(setup):
    clock, _, freshness = setup
    elector = StandbyElector(last_attempt=clock.now, last_read=clock.now)
    health = Health(freshness, elector, clock=clock)
    assert health.readiness() == (True, {"role": "standby", "watching": False})
    clock.now += 29
    assert health.liveness()[0]
    clock.now += 2
    alive, details = health.liveness()
    assert not alive and "has not looked at the Lease for 31s" in details["problems"][0]


@pytest.mark.parametrize("timings", [(8, 5, 5), (8, 8, 1), (5, 8, 1), (8, 5, 0)])
def test_lease_timings_must_be_ordered(timings):
    with pytest.raises(ValueError, match="retry period < renew deadline < lease duration"):
        LeaseTimings(*timings)


def test_a_standby_that_cannot_read_the_lease_is_not_ready(setup):
    """Found on the real node: a standby whose every request failed (here, TLS) counted as ready."""
    clock, _, freshness = setup
    elector = StandbyElector(last_attempt=clock.now)
    health = Health(freshness, elector, clock=clock)
    assert health.readiness()[0] is False and health.liveness()[0] is True
    elector.last_read = clock.now
    assert health.readiness()[0] is True
    clock.now += 31
    elector.last_attempt = clock.now
    assert health.readiness()[0] is False
