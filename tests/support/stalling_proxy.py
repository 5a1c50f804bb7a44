"""A TCP relay on 127.0.0.1 whose open connections can be made to stall: the bytes stop flowing
but the connections stay open, as after a silent network failure (a half-open connection or
a load balancer that dropped its state). Connections opened later relay normally."""

from __future__ import annotations

import socket
import threading

from .etcd_server import free_port


class StallingProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._stalled: set[int] = set()  # ids of the connections that no longer relay
        self._open: set[int] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._next_id = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def stall_open_connections(self) -> int:
        """Stops relaying on every connection open now; returns how many."""
        with self._lock:
            self._stalled |= self._open
            return len(self._open)

    def close(self) -> None:
        self._closed.set()
        self._server.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
            with self._lock:
                connection, self._next_id = self._next_id, self._next_id + 1
                self._open.add(connection)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(connection, source, sink), daemon=True).start()

    def _pump(self, connection: int, source: socket.socket, sink: socket.socket) -> None:
        source.settimeout(0.2)
        try:
            while not self._closed.is_set():
                if connection in self._stalled:
                    self._closed.wait(0.2)  # hold the bytes back; keep the connection open
                    continue
                try:
                    data = source.recv(65536)
                except socket.timeout:
                    continue
                if not data:
                    break
                if connection in self._stalled:
                    continue  # read while the stall began: held back too (a stalled connection never resumes)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            if connection not in self._stalled:
                with self._lock:
                    self._open.discard(connection)
                for end in (source, sink):
                    try:
                        end.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
