"""Real Ceph daemons (Debian's ceph-mon, ceph-mgr, ceph-osd) started from the files the operator
renders for a Ceph resource: its ceph.conf, monitor and manager scripts, keyrings, and the
bootstrap script of pools and users. Each monitor listens on its own loopback address (the
ClusterIP of its Service in a cluster), on the standard ports.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import uuid
from pathlib import Path

from ccp_operator import secrets
from ccp_operator.api import API_VERSION
from ccp_operator.reconcile import ceph_objects
from ccp_operator.services import ceph
from ccp_operator.workloads import Owner

CEPH_MON = shutil.which("ceph-mon") or "/usr/bin/ceph-mon"
ADDRESSES = ["127.0.71.1", "127.0.71.2", "127.0.71.3", "127.0.71.4", "127.0.71.5"]
MGR_ADDRESS, MGR_PORT = "127.0.71.9", 19283
INSTANCE = "cloud"


def objects(monitors: int, pool_size: int) -> ceph_objects.CephCluster:
    """What the operator renders for a Ceph resource of `monitors` monitors; their stores are
    directories of this machine's shared disk, so they are set as the lab sets them."""
    return ceph_objects.CephCluster(Owner(API_VERSION, "Ceph", INSTANCE, "0", "openstack"),
                                    {"monitors": {"replicas": monitors, "storage": {"minFreePercent": 1}},
                                     "managers": {"replicas": 1},
                                     "poolSize": pool_size})


class CephCluster:
    """Monitors a, b, c (and optionally one manager and one memstore OSD) in `root`."""

    def __init__(self, root: Path, monitors: int = 3, pool_size: int = 1):
        self.root = root
        self.pool_size = pool_size
        self.processes: dict[str, subprocess.Popen] = {}
        root.mkdir(parents=True, exist_ok=True)
        self.rendered = objects(monitors, pool_size)
        self.cluster = {"fsid": str(uuid.uuid4()), "uuid": str(uuid.uuid4()),
                        "keys": {ceph.key_name(entity): secrets.new_cephx_key()
                                 for entity in self.rendered.entities()}}
        self.cluster["keys"]["mon."] = self.cluster["keys"]["mon"]
        self.conf = root / "ceph.conf"
        self.admin_keyring = root / "ceph.client.admin.keyring"
        self._render(monitors)

    def _render(self, monitors: int) -> None:
        """Writes every file the operator renders for `monitors` monitors."""
        root, keys = self.root, self.cluster["keys"]
        self.rendered = objects(monitors, self.pool_size)
        self.monitors = list(zip(self.rendered.monitor_ids, ADDRESSES[:monitors]))
        self.conf.write_text(self.rendered.daemon_conf(self.cluster, self.monitors))
        for name, text in self.rendered.scripts(self.cluster, self.monitors).items():
            (root / name).write_text(text)
        (root / "mon.keyring").write_text(
            ceph.keyring("mon.", keys["mon"], {"mon": "allow *"})
            + ceph.keyring("client.admin", keys["client.admin"], ceph.ADMIN_CAPS))
        self.admin_keyring.write_text(ceph.keyring("client.admin", keys["client.admin"]))
        (root / "import.keyring").write_text(self.rendered.import_keyring(keys))
        (root / "mgr").mkdir(exist_ok=True)
        for mgr in self.rendered.manager_ids:
            (root / "mgr" / f"mgr.{mgr}.keyring").write_text(ceph.keyring(f"mgr.{mgr}", keys[f"mgr.{mgr}"]))
        for user in ceph.CLIENTS:
            client = {"user": user, "key": keys[f"client.{user}"],
                      "conf": self.rendered.ceph_conf(self.cluster, self.mon_host, "client")}
            directory = root / "clients" / user
            directory.mkdir(parents=True, exist_ok=True)
            for name, text in ceph_objects.client_files(user, client, self.cluster).items():
                (directory / name).write_text(text)

    def resize(self, monitors: int) -> subprocess.CompletedProcess:
        """What the operator does when the monitor count changes: the membership Job's script
        (run with the configuration of the monitors that exist), then the new files."""
        current = len(self.monitors)
        script = objects(monitors, self.pool_size).membership_script(
            list(zip(ceph.DAEMON_IDS, ADDRESSES[:monitors])), current)
        (self.root / "mon-membership.sh").write_text(script)
        result = self.script("mon-membership.sh", 0, "ceph-mon-membership", timeout=180)
        self._render(monitors)
        return result

    @property
    def mon_host(self) -> str:
        return ",".join(ceph.mon_address(ip) for _, ip in self.monitors)

    # -- daemons -----------------------------------------------------------------------------------

    def env(self, pod_ordinal: int, component: str) -> dict[str, str]:
        return {**os.environ, "POD_NAME": f"{INSTANCE}-{component}-{pod_ordinal}", "CEPH_CONF": str(self.conf),
                "MON_DATA_ROOT": str(self.root / "mon"), "RUN_DIR": str(self.root / "run"),
                "MON_KEYRING": str(self.root / "mon.keyring"), "MGR_DATA_ROOT": str(self.root / "mgr-data"),
                "MGR_KEYRINGS": str(self.root / "mgr"), "ADMIN_KEYRING": str(self.admin_keyring),
                "IMPORT_KEYRING": str(self.root / "import.keyring")}

    def script(self, name: str, ordinal: int, component: str, *args: str,
               timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(["/bin/sh", str(self.root / name), *args], env=self.env(ordinal, component),
                              capture_output=True, text=True, timeout=timeout)

    def start_monitor(self, mon_id: str) -> None:
        ordinal = self.rendered.monitor_ids.index(mon_id)
        (self.root / "mon").mkdir(exist_ok=True)
        mkfs = self.script("mon.sh", ordinal, "ceph-mon", "mkfs")
        assert mkfs.returncode == 0, mkfs.stdout + mkfs.stderr
        log = open(self.root / f"mon.{mon_id}.log", "ab")
        self.processes[f"mon.{mon_id}"] = subprocess.Popen(
            ["/bin/sh", str(self.root / "mon.sh"), "run"], env=self.env(ordinal, "ceph-mon"),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def monitor_ready(self, mon_id: str) -> bool:
        ordinal = self.rendered.monitor_ids.index(mon_id)
        return self.script("mon.sh", ordinal, "ceph-mon", "ready", timeout=30).returncode == 0

    def start_manager(self) -> None:
        log = open(self.root / "mgr.a.log", "ab")
        self.processes["mgr.a"] = subprocess.Popen(
            ["/bin/sh", str(self.root / "mgr.sh"), "run"], env=self.env(0, "ceph-mgr"),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self, daemon: str) -> None:
        process = self.processes.pop(daemon, None)
        if process and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def stop_all(self) -> None:
        for daemon in list(self.processes):
            self.stop(daemon)

    def bootstrap(self) -> subprocess.CompletedProcess:
        """The operator's bootstrap Job script: users and pools."""
        return self.script("bootstrap.sh", 0, "ceph-bootstrap", timeout=180)

    # -- clients -----------------------------------------------------------------------------------

    def ceph(self, *args: str, user: str = "admin", timeout: float = 60) -> subprocess.CompletedProcess:
        """The ceph CLI as client.<user>, bounded by the monitors' own timeout and ours."""
        return subprocess.run(["ceph", *self.client_args(user), "--connect-timeout", str(int(timeout / 2)), *args],
                              capture_output=True, text=True, timeout=timeout)

    def rbd(self, *args: str, user: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(["rbd", *self.client_args(user), *args], capture_output=True, text=True,
                              timeout=timeout)

    def client_args(self, user: str) -> list[str]:
        if user == "admin":
            return ["-c", str(self.conf), "-n", "client.admin", "--keyring", str(self.admin_keyring)]
        directory = self.root / "clients" / user
        return ["-c", str(directory / "ceph.conf"), "-n", f"client.{user}",
                "--keyring", str(directory / f"ceph.client.{user}.keyring")]

    def quorum(self) -> list[str]:
        result = self.ceph("quorum_status", "-f", "json", timeout=30)
        return json.loads(result.stdout)["quorum_names"] if result.returncode == 0 else []

    # -- an OSD, as a storage node adds one (outside the operator) -----------------------------------

    def start_memstore_osd(self) -> None:
        """One OSD keeping its objects in memory, joined with the bootstrap-osd key as
        ceph-volume does: `osd new` with a generated cephx secret, mkfs, start."""
        bootstrap = self.root / "bootstrap-osd.keyring"
        bootstrap.write_text(ceph.keyring("client.bootstrap-osd", self.cluster["keys"]["client.bootstrap-osd"]))
        osd_uuid, key = str(uuid.uuid4()), secrets.new_cephx_key()
        secret_file = self.root / "osd-secret.json"
        secret_file.write_text(json.dumps({"cephx_secret": key}))
        created = subprocess.run(["ceph", "-c", str(self.conf), "-n", "client.bootstrap-osd", "--keyring",
                                  str(bootstrap), "osd", "new", osd_uuid, "-i", str(secret_file)],
                                 capture_output=True, text=True, timeout=60)
        assert created.returncode == 0, created.stderr
        osd_id = created.stdout.strip()
        data = self.root / f"osd-{osd_id}"
        data.mkdir()
        (data / "keyring").write_text(ceph.keyring(f"osd.{osd_id}", key))
        common = ["-c", str(self.conf), "-i", osd_id, "--osd-objectstore", "memstore", "--osd-data", str(data),
                  "--run-dir", str(self.root / "run"), "--memstore-device-bytes", str(512 * 1024 ** 2)]
        mkfs = subprocess.run(["ceph-osd", *common, "--mkfs", "--osd-uuid", osd_uuid],
                              capture_output=True, text=True, timeout=120)
        assert mkfs.returncode == 0, mkfs.stderr
        log = open(self.root / f"osd.{osd_id}.log", "ab")
        self.processes[f"osd.{osd_id}"] = subprocess.Popen(["ceph-osd", "--foreground", *common], stdout=log,
                                                           stderr=subprocess.STDOUT, start_new_session=True)

    def logs(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
                         for path in sorted(self.root.glob("*.log")))

