"""The operator under test, run as its own process against the test cluster, with the chart's
arguments (leader election on) and its probes and metrics on a loopback port."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from localcluster.operator import free_port, operator_argv
from support.waiting import wait_for


class OperatorProcess:
    def __init__(self, kubeconfig: Path, log_path: Path, *args: str, **lease: str):
        self.kubeconfig = kubeconfig
        self.log_path = log_path
        self.port = free_port()
        self.argv = operator_argv(self.port, *(args or ("--all-namespaces",)), **lease)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig), "PYTHONUNBUFFERED": "1"}
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log.close()

    def get(self, path: str) -> tuple[int, str]:
        """An HTTP GET of the process's /metrics, /healthz or /readyz: (status, body)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def probe(self, path: str) -> dict:
        status, body = self.get(path)
        return {"status": status, **json.loads(body)}

    def role(self) -> str | None:
        """leader or single (without leader election) once its watches started, standby, or None
        while it does not answer."""
        try:
            ready = self.probe("/readyz")
        except OSError:
            return None
        return ready["role"] if ready["role"] == "standby" or ready["watching"] else None

    def wait_active(self, timeout: float = 60) -> None:
        """Waits until this process reconciles (it holds the Lease, or has none) and watches."""
        wait_for(lambda: self.role() in ("leader", "single") or not self.running, timeout=timeout, interval=0.5,
                 what="the operator to lead")
        assert self.running, f"the operator exited:\n{self.log_tail()}"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()
        self.wait_active()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_mark(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_since(self, offset: int) -> str:
        with open(self.log_path, "rb") as handle:
            handle.seek(offset)
            return handle.read().decode(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
