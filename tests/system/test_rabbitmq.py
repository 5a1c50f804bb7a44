"""Three real RabbitMQ brokers configured as the operator configures them, driven by real
oslo.messaging clients configured from the operator's rendering of nova: notification queues are
replicated and RPC queues are not; killing the leader of a notification queue loses no
notification and RPC resumes; a wrong credential or a foreign vhost fails clearly. Every test
runs on both broker generations Debian ships: 3.10 (Debian 12) and 4.0 (Debian 13)."""

from __future__ import annotations

import json
import re
import time

import pytest

from ccp_operator.services import rabbitmq
from support import messaging
from support.rabbitmq_cluster import DEBIAN_13, HOST, RabbitCluster
from support.waiting import wait_for


@pytest.fixture(params=[HOST, DEBIAN_13], ids=["rabbitmq-3.10", "rabbitmq-4.0"])
def rabbit(request, tmp_path):
    cluster = RabbitCluster(tmp_path / "rabbit", runtime=request.param)
    try:
        cluster.start_all()
        yield cluster
    finally:
        cluster.stop_all()


@pytest.fixture
def clients():
    processes = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def lines(path) -> list[str]:
    """The complete lines a client has written so far."""
    return path.read_text().split("\n")[:-1] if path.exists() else []


def declare_queues(cluster, tmp_path, clients) -> None:
    """A notification listener (telemetry) and an RPC server (nova) running, then one RPC call
    and one notification: every kind of queue oslo.messaging declares exists."""
    consumer = messaging.client_config(cluster, tmp_path / "telemetry.conf", user="telemetry")
    clients.append(messaging.start(consumer, "listen", str(tmp_path / "received"), log=tmp_path / "listener.log"))
    config = messaging.client_config(cluster, tmp_path / "nova.conf")
    clients.append(messaging.start(config, "rpc-server", "ccp-test", "host-1", log=tmp_path / "server.log"))
    wait_for(lambda: any(q["name"] == "ccp-test" for q in cluster.queues("openstack")), timeout=60,
             what="the RPC server's queues")
    done = messaging.run(config, "declare")
    assert done.returncode == 0, done.stdout + done.stderr


def test_only_notification_queues_are_replicated(rabbit, tmp_path, clients):
    declare_queues(rabbit, tmp_path, clients)
    notifications = {q["name"]: q for q in rabbit.queues("notifications")}
    info = notifications["notifications.info"]
    assert info["type"] == "quorum" and info["durable"] is True
    assert sorted(info["members"]) == sorted(b.node for b in rabbit.brokers), "a replica on every broker"
    assert info["policy"] == "notifications", "bounded by the operator's length and TTL policy"
    rpc = rabbit.queues("openstack")
    assert {q["name"] for q in rpc} >= {"ccp-test", "ccp-test.host-1"}
    assert any(q["name"].startswith("reply_") for q in rpc) and any("_fanout_" in q["name"] for q in rpc)
    for queue in rpc:
        assert queue["type"] == "classic", queue
        # (4.x lists a classic queue's one home node as its member; 3.x lists none)
        assert len(queue.get("members") or []) <= 1 and not queue.get("slave_pids"), f"{queue['name']} is replicated"
        assert not queue.get("policy"), queue


def test_killing_the_leader_of_a_notification_queue_loses_no_notification(rabbit, tmp_path, clients):
    config = messaging.client_config(rabbit, tmp_path / "nova.conf")
    consumer = messaging.client_config(rabbit, tmp_path / "telemetry.conf", user="telemetry")
    received, published, calls = tmp_path / "received", tmp_path / "published", tmp_path / "calls"
    clients.append(messaging.start(consumer, "listen", str(received), log=tmp_path / "listener.log"))
    clients.append(messaging.start(config, "rpc-server", "ccp-test", "host-1", log=tmp_path / "server.log"))
    wait_for(lambda: any(q["name"] == "notifications.info" for q in rabbit.queues("notifications")),
             timeout=60, what="the listener's queue")
    leader = next(q["leader"] for q in rabbit.queues("notifications") if q["name"] == "notifications.info")
    notifier = messaging.start(config, "notify", "1500", str(published), log=tmp_path / "notifier.log")
    clients.append(notifier)
    wait_for(lambda: len(lines(published)) >= 300, timeout=60, what="notifications flowing")
    killed_at = time.time()
    rabbit.kill(rabbit.broker_of(leader))
    clients.append(messaging.start(config, "rpc-client", "ccp-test", "40", str(calls), log=tmp_path / "client.log"))
    notifier.wait(timeout=240)
    assert notifier.returncode == 0, (tmp_path / "notifier.log").read_text()[-2000:]
    acknowledged = set(lines(published))
    assert len(acknowledged) == 1500
    wait_for(lambda: acknowledged <= set(lines(received)), timeout=120, interval=2,
             what=f"every acknowledged notification consumed (missing: {len(acknowledged - set(lines(received)))})")
    after = wait_for(lambda: [c for c in map(json.loads, lines(calls)) if c["ok"] and c["at"] > killed_at],
                     timeout=120, interval=2, what="RPC calls answered after the kill")
    assert after
    new_leader = next(q["leader"] for q in rabbit.queues("notifications") if q["name"] == "notifications.info")
    assert new_leader != leader


def test_a_wrong_password_or_a_foreign_vhost_fails_with_a_clear_error(rabbit, tmp_path):
    wrong = messaging.client_config(rabbit, tmp_path / "wrong.conf", password="not-the-password")
    done = messaging.run(wrong, "probe")
    assert done.returncode == 1 and "ACCESS_REFUSED" in done.stdout, done.stdout + done.stderr
    # keystone sends notifications only: its user has no right on the RPC vhost.
    foreign = messaging.client_config(rabbit, tmp_path / "keystone.conf", user="keystone")
    done = messaging.run(foreign, "probe")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "access to vhost 'openstack' refused for user 'keystone'" in done.stdout, done.stdout
    # nova publishes notifications but may not consume them.
    nova = messaging.client_config(rabbit, tmp_path / "nova.conf")
    output = messaging.output_within(nova, "listen", str(tmp_path / "received"), seconds=20)
    # (4.x says "read access to queue", 3.x "access to queue")
    assert re.search(r"ACCESS_REFUSED - (read )?access to queue 'notifications.info' in vhost 'notifications' "
                     r"refused for user 'nova'", output), output[-2000:]


def test_the_operator_sees_running_brokers_and_a_lost_one(rabbit):
    from ccp_operator.reconcile.rabbitmq_observer import observe
    members = [broker.node for broker in rabbit.brokers]
    first = rabbit.brokers[0]
    url = f"http://{first.host}:{first.management_port}"
    user, password = rabbit.admin()
    status = wait_for(lambda: (s := observe(url, user, password, members))["brokerObservation"] == "ok" and s,
                      timeout=60, what="the management API")
    assert status["membersRunning"] == "3/3" and status["alarms"] == "none"
    rabbit.kill(rabbit.brokers[2])
    status = wait_for(lambda: (s := observe(url, user, password, members))["membersRunning"] == "2/3" and s,
                      timeout=90, what="the lost broker to show")
    assert status["members"][2] == {"name": rabbit.brokers[2].node, "running": False}
    assert "unreachable" in observe("http://127.0.0.1:9", user, password, members)["brokerObservation"]


def test_3x_brokers_can_mirror_notification_queues_only(tmp_path, clients):
    """notificationReplication: mirrored (3.x brokers): the policy mirrors notification queues, and
    nothing else."""
    cluster = RabbitCluster(tmp_path / "rabbit", replication=rabbitmq.MIRRORED, runtime=HOST)
    try:
        cluster.start_all()
        declare_queues(cluster, tmp_path, clients)
        info = next(q for q in cluster.queues("notifications") if q["name"] == "notifications.info")
        assert info["type"] == "classic" and info["durable"] is True and info["policy"] == "notifications"
        mirrors = wait_for(lambda: next(q for q in cluster.queues("notifications")
                                        if q["name"] == "notifications.info")["synchronised_slave_pids"],
                           timeout=60, what="the notification queue's mirrors in sync")
        assert len(mirrors) == len(cluster.brokers) - 1, "mirrored on every other broker"
        for queue in cluster.queues("openstack"):
            assert not queue.get("slave_pids") and not queue.get("policy"), f"{queue['name']} is mirrored"
    finally:
        cluster.stop_all()
