"""Failover through the writer endpoint: HAProxy as the operator configures it, its router, three
real Galera members with agents, etcd, and a client that keeps writing. No acknowledged commit is
lost, and no two members ever accept writes at the same time."""

from __future__ import annotations

import os
import signal
import time

import pymysql

from support.galera_cluster import APP_PASSWORD, APP_USER
from support.ledger import assert_single_writer_at_a_time, wait_all_have
from support.waiting import wait_for
from support.writer_proxy import Writer


def test_kill_9_of_the_writer_loses_no_acknowledged_commit(stack):
    cluster, proxy = stack
    writer = Writer(proxy.port, APP_USER, APP_PASSWORD).start()
    wait_for(lambda: len(writer.acknowledged) > 50, timeout=30, what="writes through the proxy")
    old = cluster.member(cluster.writer())
    killed_at = time.monotonic()
    cluster.kill(old)
    first = wait_for(lambda: writer.first_write_after(killed_at, old.name), timeout=30, interval=0.1,
                     what="a write through the proxy after the kill")
    wait_for(lambda: len(writer.acknowledged) > first.sequence + 50, timeout=30, what="more writes")
    writer.finish()
    cluster.start(old)
    wait_all_have(cluster, writer)
    assert_single_writer_at_a_time(writer.acknowledged)
    assert cluster.writer() != old.name


def test_a_hung_writer_is_fenced_and_replaced_and_cannot_write_when_it_resumes(stack):
    cluster, proxy = stack
    writer = Writer(proxy.port, APP_USER, APP_PASSWORD).start()
    wait_for(lambda: len(writer.acknowledged) > 50, timeout=30, what="writes through the proxy")
    old = cluster.member(cluster.writer())
    pid = old.mysqld_pid()
    stopped_at = time.monotonic()
    os.kill(pid, signal.SIGSTOP)
    try:
        first = wait_for(lambda: writer.first_write_after(stopped_at, old.name), timeout=60, interval=0.1,
                         what="a write through the proxy while the old writer hangs")
        assert first.node != old.name
        assert cluster.writer() != old.name
    finally:
        os.kill(pid, signal.SIGCONT)
    resumed_at = time.monotonic()
    # Resumed, the old writer must refuse an unprivileged write, directly and at once.
    refused = 0
    while time.monotonic() - resumed_at < 5:
        try:
            with pymysql.connect(host=old.host, port=old.port, user=APP_USER, password=APP_PASSWORD,
                                 database="ledger", connect_timeout=2, read_timeout=5) as connection:
                with connection.cursor() as cursor:
                    cursor.execute("INSERT INTO entries (sequence, node) VALUES (%s, 'direct')", (-refused - 1,))
                connection.commit()
            raise AssertionError("the resumed old writer accepted a write")
        except pymysql.MySQLError:
            refused += 1
        time.sleep(0.2)
    writer.finish()
    wait_all_have(cluster, writer)
    assert cluster.writer() != old.name
    assert_single_writer_at_a_time(writer.acknowledged)
