"""The loss checks of the Galera system tests: acknowledged rows on every member, one writer at a time."""

from __future__ import annotations

import itertools
import time

import pymysql

from .galera_cluster import APP_PASSWORD, APP_USER

_direct = itertools.count(1)


def accepts_direct_write(member) -> bool:
    """Whether the member commits an unprivileged write sent to it directly, over its socket
    (bypassing the proxy and the network, so a partitioned member can be asked too)."""
    try:
        with pymysql.connect(unix_socket=member.socket, user=APP_USER, password=APP_PASSWORD, database="ledger",
                             connect_timeout=2, read_timeout=5, write_timeout=5) as connection:
            with connection.cursor() as cursor:
                cursor.execute("INSERT INTO entries (sequence, node) VALUES (%s, 'direct')", (-next(_direct),))
            connection.commit()
            return True
    except pymysql.MySQLError:
        return False


def sequences_on(cluster, member) -> set[int]:
    with cluster.root(member) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT sequence FROM ledger.entries")
        return {row[0] for row in cursor.fetchall()}


def wait_all_have(cluster, writer) -> None:
    """Every member rejoins and holds every acknowledged row (the loss check itself)."""
    acknowledged = {w.sequence for w in writer.acknowledged}

    def missing():
        cluster.check_agents()
        result = {}
        for member in cluster.members:
            try:
                lacking = acknowledged - sequences_on(cluster, member)
            except Exception as exc:  # noqa: BLE001 - a member still restarting
                result[member.name] = f"unreachable: {exc}"
                continue
            if lacking:
                result[member.name] = f"{len(lacking)} rows, sequences {sorted(lacking)[:10]}"
        return result

    still = missing()
    deadline = time.monotonic() + 240
    while still and time.monotonic() < deadline:
        time.sleep(1)
        still = missing()
    assert not still, f"members lack acknowledged rows: {still}\n" + "\n".join(
        f"--- {name}'s agent:\n{cluster.log(cluster.member(name))}" for name in still)


def assert_single_writer_at_a_time(writes) -> None:
    """The node that acknowledged commits changes only forward: never back to an earlier writer
    while another had taken over (which would mean two writers at once)."""
    seen: list[str] = []
    for write in writes:
        if not seen or seen[-1] != write.node:
            assert write.node not in seen, f"writes went back to {write.node} after {seen}"
            seen.append(write.node)
