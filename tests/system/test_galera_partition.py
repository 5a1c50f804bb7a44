"""A network partition: the writer's link is cut (each member lives in its own network namespace),
so it loses its peers and etcd at once. The majority elects a writer and keeps serving through the
proxy; the cut-off member refuses writes; healed, it rejoins as a standby with every row."""

from __future__ import annotations

import time

from support.galera_cluster import APP_PASSWORD, APP_USER
from support.ledger import accepts_direct_write, assert_single_writer_at_a_time, wait_all_have
from support.waiting import wait_for
from support.writer_proxy import Writer


def test_the_majority_serves_and_the_cut_off_writer_refuses_writes(separated_stack, network):
    cluster, proxy = separated_stack
    writer = Writer(proxy.port, APP_USER, APP_PASSWORD).start()
    wait_for(lambda: len(writer.acknowledged) > 50, timeout=30, what="writes through the proxy")
    old = cluster.member(cluster.writer())
    cut = cluster.members.index(old)
    cut_at = time.monotonic()
    network.cut(cut)
    try:
        first = wait_for(lambda: writer.first_write_after(cut_at, old.name), timeout=60, interval=0.1,
                         what="a write through the proxy by the majority")
        assert cluster.writer() not in (None, old.name)
        # The cut-off member has fenced itself: every direct write fails, for as long as we try.
        tried_until = time.monotonic() + 8
        attempts = 0
        while time.monotonic() < tried_until:
            assert not accepts_direct_write(old), f"{old.name}, cut off, committed a write"
            attempts += 1
            time.sleep(0.3)
        assert attempts >= 5
        wait_for(lambda: len(writer.acknowledged) > first.sequence + 50, timeout=30, what="more writes")
    finally:
        network.heal(cut)
    writer.finish()
    wait_all_have(cluster, writer)
    wait_for(lambda: cluster.check_agents() or len(cluster.synced()) == 3, timeout=120,
             what=f"{old.name} to rejoin as a Synced member")
    new_writer = cluster.writer()
    assert new_writer != old.name, "the healed member took the writer role back"
    assert not accepts_direct_write(old), "the healed member accepts writes as a standby"
    assert_single_writer_at_a_time(writer.acknowledged)
