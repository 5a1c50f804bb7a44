"""Start, recognise and stop the local cluster's processes by their recorded pid.

A pid alone can be reused by an unrelated process after ours exits, so each record also keeps
the process's start time (from /proc/<pid>/stat); `down` only signals a pid whose start time and
executable still match, and so never touches another process.
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcessRecord:
    name: str
    pid: int
    start_ticks: int
    executable: str


def _start_ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22 (starttime); the command name in field 2 may hold spaces, so split after it.
    return int(stat.rsplit(")", 1)[1].split()[19])


def is_alive(record: ProcessRecord) -> bool:
    """True when the recorded process still runs: same pid, same start time, same program."""
    if _start_ticks(record.pid) != record.start_ticks:
        return False
    try:
        executable = os.readlink(f"/proc/{record.pid}/exe")
    except OSError:
        return False
    return executable == record.executable


class ProcessTable:
    """The processes of one cluster, persisted as JSON in its state directory."""

    def __init__(self, state_dir: Path):
        self._path = state_dir / "processes.json"
        self._logs = state_dir / "logs"

    def records(self) -> dict[str, ProcessRecord]:
        if not self._path.exists():
            return {}
        return {name: ProcessRecord(**rec) for name, rec in json.loads(self._path.read_text()).items()}

    def _save(self, records: dict[str, ProcessRecord]) -> None:
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps({name: asdict(rec) for name, rec in records.items()}, indent=2))
        tmp.replace(self._path)

    def log_path(self, name: str) -> Path:
        return self._logs / f"{name}.log"

    def alive(self, name: str) -> bool:
        record = self.records().get(name)
        return record is not None and is_alive(record)

    def start(self, name: str, argv: list[str], cwd: Path) -> ProcessRecord:
        """Starts `argv` in its own session (it outlives the caller) with output to its log."""
        self._logs.mkdir(parents=True, exist_ok=True)
        with open(self.log_path(name), "ab") as log:
            proc = subprocess.Popen(
                argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        ticks = None
        for _ in range(100):
            ticks = _start_ticks(proc.pid)
            if ticks is not None:
                break
            time.sleep(0.01)
        record = ProcessRecord(name, proc.pid, ticks or 0, os.path.realpath(argv[0]))
        records = self.records()
        records[name] = record
        self._save(records)
        return record

    def exited(self, name: str) -> bool:
        """True when a started process has already died (reaping it if it is our child)."""
        record = self.records()[name]
        try:
            os.waitpid(record.pid, os.WNOHANG)
        except ChildProcessError:
            pass
        return not is_alive(record)

    def wait_http(self, name: str, url: str, timeout: float, context: ssl.SSLContext | None = None) -> str | None:
        """Waits until `url` answers 200 while process `name` runs: None once it does, else why not."""
        deadline = time.monotonic() + timeout
        last_error = ""
        while time.monotonic() < deadline:
            if self.exited(name):
                return f"{name} exited during start-up; its log ends with:\n{self.log_tail(name)}"
            try:
                with urllib.request.urlopen(url, context=context, timeout=5) as response:
                    if response.status == 200:
                        return None
            except OSError as exc:
                last_error = str(exc)
            time.sleep(0.25)
        return f"{name} not healthy at {url} after {timeout:.0f}s ({last_error}); log: {self.log_path(name)}"

    def log_tail(self, name: str, lines: int = 15) -> str:
        path = self.log_path(name)
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop_all(self, order: list[str], timeout: float = 15.0) -> list[str]:
        """Stops the recorded processes in `order` (TERM, then KILL after `timeout`)."""
        records = self.records()
        stopped = []
        for name in order:
            record = records.get(name)
            if record is None or not is_alive(record):
                continue
            os.kill(record.pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while is_alive(record) and time.monotonic() < deadline:
                self._reap(record.pid)
                time.sleep(0.1)
            if is_alive(record):
                os.kill(record.pid, signal.SIGKILL)
                deadline = time.monotonic() + timeout
                while is_alive(record) and time.monotonic() < deadline:
                    self._reap(record.pid)
                    time.sleep(0.05)
            stopped.append(name)
        return stopped

    @staticmethod
    def _reap(pid: int) -> None:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
