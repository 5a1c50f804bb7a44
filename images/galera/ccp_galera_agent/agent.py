"""The agent's life beside one member: find its position, agree on how to start, start mysqld,
then report, elect and fence every second until mysqld ends.

Keys under the cluster's prefix in etcd (contract.py):
  members/<name>   this member's Report (JSON), under a lease: it expires when the agent dies
  writer           the writer's name, under the writer's lease (see election.py)
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from . import contract
from .election import WriterLease
from .etcd import EtcdSettings, MultiEndpointClient
from .mysql import Mysqld
from .recovery import NULL_UUID, Decision, Position, Report, decide, parse_grastate, parse_recovered

log = logging.getLogger("ccp_galera_agent")

TICK = 1.0
REPORT_TTL = 10
# A member outside the Primary component for this long is stuck: liveness fails and it restarts.
STUCK_AFTER = 60.0
# A mysqld that does not answer at all is given much longer: a joiner receiving a full state
# transfer of a large database answers nothing until the transfer ends.
UNANSWERED_AFTER = 900.0
# Joining members start one at a time (a donor serves one state transfer at a time), unless the
# member before them takes longer than this to start.
JOIN_TURN_TIMEOUT = 90.0
TRANSFER_STATES = {"1", "2", "3"}  # wsrep_local_state: joining, donor/desynced, joined
# A member whose group connection closed (after an eviction) does not reconnect by itself.
DISCONNECTED_RESTART = 5.0
WATCHDOG_INTERVAL = 0.2


@dataclass
class Config:
    members: dict[str, str]                    # every member's name -> its Galera address (host[:port])
    etcd: EtcdSettings
    prefix: str                                # per-cluster key prefix
    datadir: Path
    socket: str
    # mysqld command line without the wsrep start options; "{name}" and "{address}" in it become
    # this member's name and Galera address.
    mysqld: list[str]
    name: str = ""                             # this member (default: the host name, a pod's name)
    root_password: str = ""
    sst_user: str = "sst"
    sst_password: str = ""
    writer_ttl: int = 6
    fence_margin: float = 2.0
    health_port: int = 0                       # 0: no health endpoint
    force_bootstrap_file: Path | None = None   # holds a member name when the operator forces one
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: Path) -> "Config":
        """The operator's agent.json (contract.AgentConfig); passwords may come from files
        (mounted Secrets)."""
        data = json.loads(path.read_text())
        problems = contract.problems(contract.AgentConfig, data)
        if problems:
            raise ValueError(f"{path}: {', '.join(problems)}")
        data["datadir"] = Path(data["datadir"])
        data["etcd"] = EtcdSettings.from_config(data["etcd"])
        if data.get("force_bootstrap_file"):
            data["force_bootstrap_file"] = Path(data["force_bootstrap_file"])
        for key in ("root_password", "sst_password"):
            if data.get(f"{key}_file"):
                data[key] = Path(data.pop(f"{key}_file")).read_text().strip()
        config = cls(**data)
        config.name = config.name or socket.gethostname().split(".")[0]
        if config.name not in config.members:
            raise ValueError(f"{config.name} is not one of the members {sorted(config.members)}")
        return config


class Agent:
    def __init__(self, config: Config):
        self.config = config
        self.etcd = MultiEndpointClient(config.etcd)
        self.prefix = config.prefix.rstrip("/")
        self.mysqld = Mysqld(config.socket, "root", config.root_password)
        self.writer = WriterLease(self.etcd, self.prefix, config.name, ttl=config.writer_ttl,
                                  margin=config.fence_margin)
        self.process: subprocess.Popen | None = None
        self.report_lease = None
        self.status: dict[str, Any] | None = None
        self.outside_primary_since: float | None = None  # answering, but not in the Primary component
        self.unanswered_since: float | None = None       # mysqld runs but does not answer
        self.last_position: Position | None = None
        self.stopping = threading.Event()
        self.fenced_at_deadline = False

    # -- state ---------------------------------------------------------------------------

    def is_empty(self) -> bool:
        """No database of this cluster here (never initialised, or wiped)."""
        grastate = self.config.datadir / "grastate.dat"
        return not grastate.exists() or parse_grastate(grastate.read_text()).uuid == NULL_UUID

    def position(self) -> Position | None:
        grastate = self.config.datadir / "grastate.dat"
        if not grastate.exists():
            return None
        position = parse_grastate(grastate.read_text())
        if position.seqno >= 0:
            return position
        recovered = self.recover()
        return Position(*recovered, position.safe_to_bootstrap) if recovered else position

    def recover(self) -> tuple[str, int] | None:
        """The last committed position in InnoDB after a crash (`mariadbd --wsrep-recover`)."""
        log_file = self.config.datadir / "wsrep-recover.log"
        log_file.unlink(missing_ok=True)
        # A cluster address must be set for mysqld to start at all; recovery never connects.
        done = subprocess.run([*self.mysqld_argv(), "--wsrep-cluster-address=gcomm://", "--wsrep-recover",
                               f"--log-error={log_file}"], capture_output=True, text=True, timeout=600)
        text = (log_file.read_text(errors="replace") if log_file.exists() else "") + done.stdout + done.stderr
        position = parse_recovered(text)
        if position is None:
            log.warning("--wsrep-recover found no position: %s", text[-1000:])
        return position

    def report(self, position: Position | None) -> None:
        report = Report(self.config.name, empty=self.is_empty(), position=position, updated=time.time(),
                        running=self.process is not None and self.process.poll() is None and self.status is not None,
                        wsrep=self.status or {})
        if self.report_lease is None:
            self.report_lease = self.etcd.lease(REPORT_TTL)
        else:
            self.report_lease.refresh()
        self.etcd.put(contract.key(self.prefix, contract.MEMBERS + self.config.name), json.dumps(report.to_json()),
                      lease=self.report_lease)

    def reports(self) -> dict[str, Report]:
        result = {}
        for value, meta in self.etcd.get_prefix(contract.key(self.prefix, contract.MEMBERS)):
            report = Report.from_json(json.loads(value))
            result[report.member] = report
        return result

    def forced_member(self) -> str | None:
        path = self.config.force_bootstrap_file
        if path and path.exists():
            return path.read_text().strip() or None
        return None

    # -- starting ---------------------------------------------------------------------------

    def gcomm(self, bootstrap: bool) -> str:
        if bootstrap:
            return "gcomm://"
        return "gcomm://" + ",".join(address for address in self.config.members.values())

    @staticmethod
    def live_reports(reports: dict[str, Report], first_seen: dict[str, float]) -> dict[str, Report]:
        """Reports with `running` kept only for members seen reporting again while this agent
        waits: a member killed a moment ago leaves a report that still looks current, but it never
        changes again. Such a report's position is dropped too: it is where the member stood a
        moment before it died, not the recovered position of its data (a writer commits more in
        its last second), and bootstrapping from a member behind it would lose what it acknowledged."""
        result = {}
        for name, report in reports.items():
            first = first_seen.setdefault(name, report.updated)
            if report.running and report.updated <= first:
                report = dataclasses.replace(report, running=False, position=None)
            result[name] = report
        return result

    def my_turn_to_join(self, reports: dict[str, Report], waiting_since: float) -> bool:
        """No state transfer under way, and no member before this one waiting to join."""
        if time.monotonic() - waiting_since > JOIN_TURN_TIMEOUT:
            return True
        if any(r.running and r.wsrep.get("local_state") in TRANSFER_STATES for r in reports.values()):
            return False
        return not any(not r.running and name < self.config.name for name, r in reports.items())

    def decide_start(self) -> Decision:
        """Reports this member's position until the members agree how it should start."""
        position = self.last_position = self.position()
        waiting_since = time.monotonic()
        first_seen: dict[str, float] = {}
        while not self.stopping.is_set():
            self.report(position)
            reports = self.live_reports(self.reports(), first_seen)
            decision = decide(reports, sorted(self.config.members), self.forced_member())
            if decision.action == "bootstrap" and decision.member == self.config.name:
                return decision
            if decision.action == "join":
                if self.my_turn_to_join(reports, waiting_since):
                    return decision
                log.info("waiting for my turn to join")
            if decision.action == "bootstrap":
                log.info("waiting for %s to bootstrap the cluster", decision.member)
            else:
                log.info("%s", decision.reason)
            time.sleep(TICK)
        return Decision("wait", reason="stopping")

    def initialise(self) -> bool:
        """Creates the system tables in an empty data directory; True when it did."""
        if (self.config.datadir / "mysql").exists():
            return False
        self.config.datadir.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={self.config.datadir}",
                               "--auth-root-authentication-method=normal", "--skip-test-db",
                               *self.config.extra.get("install_db_args", [])],
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed: {(done.stdout + done.stderr)[-2000:]}")
        return True

    def provision(self) -> None:
        """On a brand-new cluster, by its first member: the root password and the SST account."""
        blank = Mysqld(self.config.socket, "root", "")
        deadline = time.monotonic() + 120
        while blank.status() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        root, sst = self.config.root_password, self.config.sst_password
        blank.execute(
            f"CREATE USER IF NOT EXISTS '{self.config.sst_user}'@'localhost' IDENTIFIED BY '{sst}'",
            f"GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON *.* TO '{self.config.sst_user}'@'localhost'",
            f"CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '{root}'",
            "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION",
            f"ALTER USER 'root'@'localhost' IDENTIFIED BY '{root}'")
        log.info("provisioned the root and SST accounts")

    def mysqld_argv(self) -> list[str]:
        """The configured command line for this member, with environment variables expanded (a
        pod's own IP); its node name is its member name, which the view check
        (mysql.wsrep_cluster_members) relies on."""
        name, address = self.config.name, self.config.members[self.config.name]
        return [os.path.expandvars(part.replace("{name}", name).replace("{address}", address))
                for part in self.config.mysqld] + [f"--wsrep-node-name={name}"]

    def donors(self) -> str:
        """Standbys first as state-transfer donors (a donor leaves the Synced state, and the writer
        would have to step down); the trailing comma lets Galera fall back to any member."""
        try:
            writer = self.writer.writer()
        except Exception:  # noqa: BLE001 - etcd unreachable: no preference beyond not being ourselves
            writer = None
        standbys = [name for name in sorted(self.config.members) if name not in (self.config.name, writer)]
        return ",".join(standbys) + ","

    def start_mysqld(self, decision: Decision) -> None:
        bootstrap = decision.action == "bootstrap"
        if bootstrap:
            # Galera refuses to bootstrap from a member not marked safe: the decision made it so.
            grastate = self.config.datadir / "grastate.dat"
            if grastate.exists():
                grastate.write_text(grastate.read_text().replace("safe_to_bootstrap: 0", "safe_to_bootstrap: 1"))
        argv = [*self.mysqld_argv(), f"--wsrep-cluster-address={self.gcomm(bootstrap)}", "--read-only=ON",
                f"--wsrep-sst-auth={self.config.sst_user}:{self.config.sst_password}"]
        if not bootstrap:
            argv.append(f"--wsrep-sst-donor={self.donors()}")
        log.info("starting mysqld (%s: %s)", decision.action, decision.reason)
        self.process = subprocess.Popen(argv)

    # -- running ----------------------------------------------------------------------------

    def synced(self) -> bool:
        status = self.status or {}
        return (status.get("cluster_status") == "Primary" and status.get("local_state") == "4"
                and status.get("ready") == "ON")

    def tick(self) -> None:
        self.status = self.mysqld.status()
        now = time.monotonic()
        if self.status is None:
            self.unanswered_since = self.unanswered_since or now
            self.outside_primary_since = None
        else:
            self.unanswered_since = None
            primary = self.status.get("cluster_status") == "Primary"
            self.outside_primary_since = None if primary else (self.outside_primary_since or now)
        if self.status and self.status.get("cluster_status") == "Primary":
            self.last_position = Position(self.status.get("cluster_state_uuid", NULL_UUID),
                                          int(self.status.get("last_committed", -1)))
        try:
            # Outside a Primary component the position is still the one the data had at start.
            self.report(self.last_position)
        except Exception as exc:  # noqa: BLE001 - etcd down: keep serving, the election decides the role
            log.warning("cannot report to etcd: %s", exc)
        self.elect()

    def elect(self) -> None:
        healthy = self.synced()
        if self.writer.active:
            if healthy and self.writer.renew():
                if not self.fenced_at_deadline:
                    return
                # etcd came back after the watchdog fenced: start the election afresh.
                self.step_down("fenced at the lease deadline")
                return
            self.step_down("not healthy" if not healthy else "lost the writer lease")
            return
        if self.status and not self.status.get("read_only"):
            self.fence("a standby must not accept writes")
        if healthy:
            try:
                current = self.writer.writer()
            except Exception:  # noqa: BLE001
                return
            taken = False
            if current is None:
                taken = self.writer.acquire()
            elif current not in (self.status or {}).get("view", [current]):
                # Galera has put the writer outside the Primary component: it can no longer commit,
                # so there is no need to wait for its lease to run out.
                taken = self.writer.take_over(current)
                if taken:
                    log.warning("took over from %s, which is outside the Primary component", current)
            if taken:
                self.fenced_at_deadline = False
                try:
                    self.mysqld.set_read_only(False)
                    log.info("became the writer")
                except Exception:  # noqa: BLE001
                    self.step_down("cannot leave read-only")

    def fence(self, why: str) -> None:
        try:
            killed = self.mysqld.fence()
            log.warning("fenced (%s): read-only, %d client sessions ended", why, killed)
        except Exception as exc:  # noqa: BLE001 - a dead or hung mysqld accepts no writes either
            log.warning("fencing (%s) failed: %s", why, exc)

    def watch_fencing_deadline(self) -> None:
        """Fences the writer the moment its own clock says the lease may be lost, even while the
        main loop still waits on an unreachable etcd: the new writer must never be promoted
        before the old one stopped accepting writes."""
        while not self.stopping.wait(WATCHDOG_INTERVAL):
            if self.writer.active and not self.writer.held and not self.fenced_at_deadline:
                self.fenced_at_deadline = True
                self.fence("the writer lease could not be renewed in time")

    def step_down(self, why: str) -> None:
        self.fence(why)
        self.writer.release()
        log.warning("stepped down as writer: %s", why)

    # -- health ----------------------------------------------------------------------------

    def ready(self) -> bool:
        return self.synced()

    def live(self) -> bool:
        """False only when mysqld runs but is stuck: outside the Primary component for a minute,
        or silent for much longer. Waiting for peers to start, or restarting mysqld after a crash,
        is the agent doing its work: a container restart would not help."""
        if self.process is None or self.process.poll() is not None:
            return True
        now = time.monotonic()
        if self.outside_primary_since is not None and now - self.outside_primary_since > STUCK_AFTER:
            return False
        return not (self.unanswered_since is not None and now - self.unanswered_since > UNANSWERED_AFTER)

    def serve_health(self) -> None:
        agent = self

        class Health(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                check = {"/ready": agent.ready, "/live": agent.live}.get(self.path)
                ok = check is not None and check()
                self.send_response(200 if ok else 503)
                self.end_headers()
                self.wfile.write(b"ok\n" if ok else b"no\n")

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("0.0.0.0", self.config.health_port), Health)
        threading.Thread(target=server.serve_forever, daemon=True).start()

    # -- main ------------------------------------------------------------------------------

    def run(self) -> int:
        """Supervises mysqld: start it as the members agree, watch it, and when it ends or is left
        outside the cluster for good, fence and start over (a crash, or a partition that closed
        the member's group connection, heals without anyone's help)."""
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        if self.config.health_port:
            self.serve_health()
        threading.Thread(target=self.watch_fencing_deadline, daemon=True).start()
        restarts = 0
        while not self.stopping.is_set():
            new = self.initialise()
            decision = self.decide_start()
            if self.stopping.is_set():
                break
            self.start_mysqld(decision)
            if new and decision.action == "bootstrap":
                self.provision()
            self.supervise()
            if self.writer.active:
                self.step_down("mysqld stopped")
            self.status, self.outside_primary_since, self.unanswered_since = None, None, None
            if not self.stopping.is_set():
                restarts += 1
                delay = min(2.0 * restarts, 30.0)
                log.warning("mysqld ended; starting over in %.0fs", delay)
                self.stopping.wait(delay)
        return 0

    def supervise(self) -> None:
        """Ticks while mysqld runs; stops it when its group connection closed for good."""
        disconnected_since = None
        while not self.stopping.is_set() and self.process.poll() is None:
            self.tick()
            if self.status and self.status.get("cluster_status") == "Disconnected":
                disconnected_since = disconnected_since or time.monotonic()
                if time.monotonic() - disconnected_since > DISCONNECTED_RESTART:
                    log.warning("mysqld left the cluster for good (Disconnected): restarting it to rejoin")
                    self.process.terminate()
            else:
                disconnected_since = None
            self.stopping.wait(TICK)
        if self.process.poll() is None:
            self.process.terminate()
        try:
            code = self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        log.info("mysqld ended with %s", code)
