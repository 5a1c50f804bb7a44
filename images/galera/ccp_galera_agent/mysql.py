"""The agent's view of its own mysqld: wsrep status, and the switches that fence it."""

from __future__ import annotations

from typing import Any

import pymysql

# Threads that are not client sessions and must survive fencing.
SYSTEM_USERS = {"system user", "event_scheduler"}


class Mysqld:
    """Short-lived connections over the local socket, with short timeouts: a hung server reads
    as unhealthy within `timeout` seconds instead of hanging the agent."""

    def __init__(self, socket: str, user: str = "root", password: str = "", timeout: float = 2.0):
        self.socket = socket
        self.user = user
        self.password = password
        self.timeout = timeout

    def _connect(self) -> pymysql.connections.Connection:
        return pymysql.connect(unix_socket=self.socket, user=self.user, password=self.password,
                               connect_timeout=self.timeout, read_timeout=self.timeout,
                               write_timeout=self.timeout, autocommit=True)

    def status(self) -> dict[str, Any] | None:
        """wsrep status and read_only, or None when mysqld does not answer."""
        try:
            with self._connect() as connection, connection.cursor() as cursor:
                cursor.execute("SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_status', "
                               "'wsrep_local_state', 'wsrep_ready', 'wsrep_cluster_size', 'wsrep_last_committed', "
                               "'wsrep_cluster_state_uuid')")
                values = {name.removeprefix("wsrep_"): value for name, value in cursor.fetchall()}
                cursor.execute("SELECT @@global.read_only")
                values["read_only"] = bool(cursor.fetchone()[0])
                # The members of the current view, as Galera's own membership table lists them.
                cursor.execute("SELECT node_name FROM mysql.wsrep_cluster_members")
                values["view"] = sorted(row[0] for row in cursor.fetchall())
                return values
        except pymysql.MySQLError:
            return None

    def execute(self, *statements: str) -> None:
        with self._connect() as connection, connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    def set_read_only(self, read_only: bool) -> None:
        with self._connect() as connection, connection.cursor() as cursor:
            cursor.execute(f"SET GLOBAL read_only = {'ON' if read_only else 'OFF'}")

    def kill_clients(self) -> int:
        """Ends every client session (their open transactions roll back); returns how many."""
        killed = 0
        with self._connect() as connection, connection.cursor() as cursor:
            cursor.execute("SELECT CONNECTION_ID()")
            own = cursor.fetchone()[0]
            cursor.execute("SELECT ID, USER FROM information_schema.PROCESSLIST")
            for thread_id, user in cursor.fetchall():
                if thread_id == own or user in SYSTEM_USERS:
                    continue
                try:
                    cursor.execute(f"KILL CONNECTION {int(thread_id)}")
                    killed += 1
                except pymysql.MySQLError:
                    pass  # the session ended on its own meanwhile
        return killed

    def fence(self) -> int:
        """Stops accepting writes at once: read-only first, then every client session ended."""
        self.set_read_only(True)
        return self.kill_clients()
