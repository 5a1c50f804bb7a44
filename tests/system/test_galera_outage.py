"""Full outage: every member killed at once, then started in any order. The agents find the most
advanced member, bootstrap from it and bring the others back, without help and without losing an
acknowledged commit; a member whose data directory was wiped comes back by state transfer and
never holds recovery up."""

from __future__ import annotations

import random
import shutil
import time

import pytest

from support.galera_cluster import APP_PASSWORD, APP_USER
from support.ledger import assert_single_writer_at_a_time, wait_all_have
from support.waiting import wait_for
from support.writer_proxy import Writer


def outage(cluster, proxy, wipe_standby: bool, seed: int) -> None:
    writer = Writer(proxy.port, APP_USER, APP_PASSWORD).start()
    wait_for(lambda: len(writer.acknowledged) > 200, timeout=60, what="writes through the proxy")
    old_writer = cluster.writer()
    for member in cluster.members:  # the whole cluster goes down at once
        cluster.kill(member)
    writer.finish()
    if wipe_standby:
        wiped = next(m for m in cluster.members if m.name != old_writer)
        shutil.rmtree(wiped.datadir)
    order = list(cluster.members)
    random.Random(seed).shuffle(order)
    for member in order:
        cluster.start(member)
        time.sleep(random.Random(seed).uniform(0.2, 3.0))
    wait_for(lambda: cluster.check_agents() or (len(cluster.synced()) == 3 and cluster.writer()),
             timeout=300, what="the cluster to recover by itself")
    # One cluster of all three, not two Primary components that each call themselves synced.
    views = {m.name: (s["wsrep_cluster_state_uuid"], s["wsrep_cluster_size"])
             for m in cluster.members if (s := cluster.status(m))}
    assert len(views) == 3 and len(set(views.values())) == 1 and next(iter(views.values()))[1] == "3", views
    wait_all_have(cluster, writer)
    # Writes go on through the proxy after recovery.
    after = Writer(proxy.port, APP_USER, APP_PASSWORD).start()
    wait_for(lambda: len(after.acknowledged) > 20, timeout=60, what="writes after recovery")
    after.finish()
    assert_single_writer_at_a_time(writer.acknowledged)


@pytest.mark.parametrize("seed", [1, 2])
def test_full_outage_recovers_from_the_most_advanced_member(stack, seed):
    cluster, proxy = stack
    outage(cluster, proxy, wipe_standby=False, seed=seed)


def test_full_outage_with_a_wiped_member(stack):
    cluster, proxy = stack
    outage(cluster, proxy, wipe_standby=True, seed=3)
