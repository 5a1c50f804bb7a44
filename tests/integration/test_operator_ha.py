"""High availability of the operator itself, with two processes against one cluster, each with a
token of the chart's ServiceAccount (so the audit log tells their requests apart): only the
Lease holder reconciles; killing it lets the standby take over (the switch time is printed); a
leader frozen past its lease exits when it wakes instead of writing; a clean stop hands over at
once. Last, a watch connection that goes silent makes the liveness probe fail.

The session's operator steps aside meanwhile (a clean stop, which releases the Lease)."""

from __future__ import annotations

import base64
import json
import os
import signal
import time
from datetime import datetime

import pytest
import yaml

from ccp_operator.api import API_VERSION
from ccp_operator.leadership import LEASE as LEASE_TYPE
from localcluster.operator import LEASE, NAMESPACE, USER, service_account_kubeconfig
from support.operator_process import OperatorProcess
from support.stalling_proxy import StallingProxy
from support.waiting import wait_for

LEASE_DURATION = 8.0  # the chart's default, which the processes use


def token_id(kubeconfig) -> str:
    """The JTI of the kubeconfig's token: the audit log's credential id of its requests."""
    token = yaml.safe_load(kubeconfig.read_text())["users"][0]["user"]["token"]
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"]


def lease(kube) -> dict:
    return kube.kube.get(LEASE_TYPE.api_version, LEASE_TYPE.kind, NAMESPACE, LEASE) or {}


def holder(kube) -> str:
    return (lease(kube).get("spec") or {}).get("holderIdentity") or ""


def timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Replica(OperatorProcess):
    def __init__(self, kube, directory, name):
        directory.mkdir(exist_ok=True)
        self.kubeconfig_path = service_account_kubeconfig(kube.kubeconfig, directory / f"{name}.kubeconfig")
        super().__init__(self.kubeconfig_path, directory / f"{name}.log", "--all-namespaces", f"--identity={name}")
        self.name = name
        self.credential = token_id(self.kubeconfig_path)

    def handled(self, namespace: str) -> bool:
        """Its log names a handler run on an object of `namespace`."""
        return f"[{namespace}/" in self.log_path.read_text(errors="replace")


@pytest.fixture
def session_operator_aside(operator):
    operator.stop()
    yield
    operator.start()
    operator.wait_active()


@pytest.fixture
def replicas(kube, session_operator_aside, tmp_path):
    started = []

    def make(name):
        replica = Replica(kube, tmp_path, name)
        started.append(replica)
        return replica
    yield make
    for replica in started:
        if replica.running:
            os.kill(replica.process.pid, signal.SIGCONT)
        replica.stop()


def leader_and_standby(replicas):
    """op-a leading, op-b standing by."""
    a, b = replicas("op-a"), replicas("op-b")
    a.start()
    a.wait_active()
    b.start()
    wait_for(lambda: b.role() == "standby", timeout=30, interval=0.5, what="op-b standing by")
    return a, b


def memcached(kube, namespace, replicas):
    kube.kubectl("apply", "-f", "-", stdin=yaml.safe_dump({
        "apiVersion": API_VERSION, "kind": "Memcached", "metadata": {"name": "cache", "namespace": namespace},
        "spec": {"replicas": replicas}}))


def statefulset_replicas(kube, namespace):
    workload = kube.kube.get("apps/v1", "StatefulSet", namespace, "cache-memcached") or {}
    return (workload.get("spec") or {}).get("replicas")


def writes_in(kube, mark, replica, namespace):
    return [event for event in kube.audit.writes_since(mark, USER, replica.credential)
            if event.get("objectRef", {}).get("namespace") == namespace]


def test_one_reconciles_and_the_standby_takes_over_when_it_dies(kube, replicas, namespace):
    a, b = leader_and_standby(replicas)
    assert holder(kube) == "op-a"

    mark = kube.audit.mark() if kube.audit else None
    memcached(kube, namespace, 1)
    wait_for(lambda: statefulset_replicas(kube, namespace) == 1, timeout=60, interval=0.5,
             what="the Memcached reconciled")
    time.sleep(3)  # anything else either would do on this change is done by now
    assert a.handled(namespace) and not b.handled(namespace)
    standby_metrics = b.get("/metrics")[1]
    assert "ccp_operator_leader 0.0" in standby_metrics and "ccp_resource_ready{" not in standby_metrics
    if mark is not None:
        assert writes_in(kube, mark, a, namespace) and not writes_in(kube, mark, b, namespace)

    a.process.kill()  # kill -9: no release of the Lease
    killed = time.monotonic()
    memcached(kube, namespace, 2)
    wait_for(lambda: holder(kube) == "op-b", timeout=60, interval=0.1, what="op-b holding the Lease")
    taken = time.monotonic() - killed
    wait_for(lambda: statefulset_replicas(kube, namespace) == 2, timeout=60, interval=0.1,
             what="the change reconciled by op-b")
    reconciled = time.monotonic() - killed
    print(f"\nfailover after kill -9 of the leader: Lease taken in {taken:.1f}s, "
          f"a change made at the kill reconciled in {reconciled:.1f}s (lease duration {LEASE_DURATION:.0f}s)")
    assert b.handled(namespace)


def test_a_leader_frozen_past_its_lease_exits_on_waking_without_writing(kube, replicas, namespace):
    a, b = leader_and_standby(replicas)
    memcached(kube, namespace, 1)
    wait_for(lambda: statefulset_replicas(kube, namespace) == 1, timeout=60, interval=0.5, what="reconciled by op-a")

    mark = kube.audit.mark() if kube.audit else None
    os.kill(a.process.pid, signal.SIGSTOP)  # a leader that hangs (or is cut off) keeps its Lease
    frozen = time.monotonic()
    memcached(kube, namespace, 2)  # op-a's watch has this event waiting when it wakes
    wait_for(lambda: holder(kube) == "op-b", timeout=60, interval=0.1, what="op-b holding the Lease")
    print(f"\nfailover from a frozen leader: Lease taken in {time.monotonic() - frozen:.1f}s")
    taken_at = timestamp(lease(kube)["spec"]["acquireTime"])
    wait_for(lambda: statefulset_replicas(kube, namespace) == 2, timeout=60, interval=0.2, what="reconciled by op-b")

    os.kill(a.process.pid, signal.SIGCONT)
    wait_for(lambda: not a.running, timeout=30, interval=0.2, what="op-a exiting on waking")
    assert a.process.returncode == 75
    assert "leadership lost" in a.log_path.read_text(errors="replace")
    if mark is not None:
        # After op-b took over, op-a reconciled nothing: the change waiting in its watch when it
        # woke moved no object. (A request op-a had already passed its Lease check for when it
        # froze, kopf's progress note in the resource's status, may still land late: the API
        # offers no fencing token to refuse it. docs/installation.md says so.)
        late = [(w["verb"], w["objectRef"].get("resource"), w["objectRef"].get("subresource"))
                for w in writes_in(kube, mark, a, namespace)
                if timestamp(w["requestReceivedTimestamp"]) >= taken_at]
        assert all(write == ("patch", "memcacheds", "status") for write in late), late
        assert writes_in(kube, mark, b, namespace)
        print(f"writes of the frozen leader after the takeover: {late or 'none'}")


def test_a_clean_stop_hands_over_within_a_retry_period(kube, replicas, namespace):
    a, b = leader_and_standby(replicas)
    stopped = time.monotonic()
    a.process.send_signal(signal.SIGTERM)
    wait_for(lambda: holder(kube) == "op-b", timeout=30, interval=0.05, what="op-b holding the Lease")
    print(f"\nhand-over on a clean stop (SIGTERM): Lease taken in {time.monotonic() - stopped:.1f}s")
    b.wait_active()
    memcached(kube, namespace, 1)
    wait_for(lambda: statefulset_replicas(kube, namespace) == 1, timeout=60, interval=0.5, what="reconciled by op-b")


def test_a_watch_that_goes_silent_fails_the_liveness_probe(kube, session_operator_aside, namespace, tmp_path):
    config = yaml.safe_load(service_account_kubeconfig(kube.kubeconfig, tmp_path / "direct.kubeconfig").read_text())
    server = config["clusters"][0]["cluster"]["server"]
    host, port = server.removeprefix("https://").rsplit(":", 1)
    proxy = StallingProxy(host, int(port))
    config["clusters"][0]["cluster"]["server"] = f"https://{host}:{proxy.port}"
    (tmp_path / "proxied.kubeconfig").write_text(yaml.safe_dump(config))
    single = OperatorProcess(tmp_path / "proxied.kubeconfig", tmp_path / "single.log", "--all-namespaces",
                             "--watch-stale-after=15")
    single.argv.remove("--leader-election")  # the Lease's own timeout would end it first
    single.start()
    try:
        single.wait_active()
        memcached(kube, namespace, 1)
        wait_for(lambda: statefulset_replicas(kube, namespace) == 1, timeout=60, interval=0.5, what="reconciled")
        assert single.probe("/healthz")["status"] == 200

        assert proxy.stall_open_connections() > 0
        stalled = time.monotonic()
        kube.kubectl("annotate", "memcached", "cache", "-n", namespace, "example.org/touched=yes")

        def dead():  # (objects of other tests' namespaces may turn stale too)
            probe = single.probe("/healthz")
            return probe["status"] == 503 and f"Memcached {namespace}/cache" in probe.get("staleObjects", []) and probe
        probe = wait_for(dead, timeout=120, interval=1, what="/healthz failing, naming the Memcached")
        print(f"\na silent watch detected by /healthz after {time.monotonic() - stalled:.0f}s "
              f"(stale after 15s): {probe['problems']}")
        assert single.probe("/readyz")["status"] == 200  # alive is what fails; the kubelet restarts it
    finally:
        single.process.kill()
        single.process.wait()
        proxy.close()
