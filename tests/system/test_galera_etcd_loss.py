"""etcd member loss: the Galera cluster keeps serving writes when the etcd leader dies, and when
a follower dies after the leader came back; nothing acknowledged is lost."""

from __future__ import annotations

import time

from support.galera_cluster import APP_PASSWORD, APP_USER
from support.ledger import assert_single_writer_at_a_time, wait_all_have
from support.waiting import wait_for
from support.writer_proxy import Writer


def writes_continue_after(writer, moment: float, count: int = 100) -> None:
    wait_for(lambda: sum(1 for w in writer.acknowledged if w.at > moment) >= count, timeout=60, interval=0.2,
             what=f"{count} writes through the proxy after the etcd member died")


def test_losing_the_etcd_leader_or_a_follower_keeps_writes_flowing(stack, etcd):
    cluster, proxy = stack
    writer = Writer(proxy.port, APP_USER, APP_PASSWORD).start()
    wait_for(lambda: len(writer.acknowledged) > 50, timeout=30, what="writes through the proxy")

    leader = wait_for(etcd.leader, timeout=10, what="an etcd leader")
    killed_at = time.monotonic()
    etcd.kill(leader)
    writes_continue_after(writer, killed_at)
    assert wait_for(cluster.writer, timeout=30, what="a writer while one etcd member is down")

    etcd.start_member(leader)  # it rejoins with its data
    etcd.wait_healthy()
    follower = next(m for m in etcd.members if m is not etcd.leader())
    killed_at = time.monotonic()
    etcd.kill(follower)
    writes_continue_after(writer, killed_at)

    writer.finish()
    etcd.start_member(follower)
    wait_all_have(cluster, writer)
    assert_single_writer_at_a_time(writer.acknowledged)
