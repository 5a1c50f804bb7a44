"""A client writing rows through the Galera writer Service while faults happen, as an OpenStack
service would: one row per transaction, autocommit, reconnecting after an error. The ids the
server acknowledged (the commit returned) must all be there afterwards."""

from __future__ import annotations

import contextlib
import threading
import time

import pymysql

DATABASE, TABLE = "ccp_faults", "acknowledged"


class AcknowledgedWriter:
    def __init__(self, host: str, port: int, password: str, pause: float = 0.05):
        self.connection_args = {"host": host, "port": port, "user": "root", "password": password,
                                "connect_timeout": 5, "read_timeout": 10, "write_timeout": 10, "autocommit": True}
        self.pause = pause
        self.acknowledged: list[int] = []
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="db-writer", daemon=True)

    def _connect(self, database: str | None = None):
        return pymysql.connect(**self.connection_args, database=database)

    def __enter__(self) -> "AcknowledgedWriter":
        with self._connect() as connection, connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {DATABASE}.{TABLE} "
                           "(id INT PRIMARY KEY, written DOUBLE NOT NULL) ENGINE=InnoDB")
            cursor.execute(f"DELETE FROM {DATABASE}.{TABLE}")
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def _run(self) -> None:
        next_id, connection = 1, None
        while not self._stop.is_set():
            try:
                connection = connection or self._connect(DATABASE)
                with connection.cursor() as cursor:
                    cursor.execute(f"INSERT INTO {TABLE} (id, written) VALUES (%s, %s)", (next_id, time.time()))
                self.acknowledged.append(next_id)
                next_id += 1
            except pymysql.MySQLError:
                # Unknown outcome: the id is not reused, and it is not counted as acknowledged.
                self.failures += 1
                next_id += 1
                if connection is not None:
                    with contextlib.suppress(Exception):
                        connection.close()
                connection = None
            self._stop.wait(self.pause)

    def missing(self) -> list[int]:
        """Acknowledged ids the database no longer has."""
        with self._connect(DATABASE) as connection, connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {TABLE}")
            present = {row[0] for row in cursor.fetchall()}
        return [row_id for row_id in self.acknowledged if row_id not in present]
