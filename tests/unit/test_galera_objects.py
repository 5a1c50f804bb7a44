"""What the operator derives for a Galera cluster and its etcd (pure parts)."""

from __future__ import annotations

import json

import pytest

from ccp_galera_agent import contract
from ccp_galera_agent.agent import Config
from ccp_operator.errors import InvalidSpec
from ccp_operator.reconcile.etcd import EtcdReconciler
from ccp_operator.reconcile.galera import GaleraReconciler
from ccp_operator.reconcile.galera_observer import member_state, summarize
from ccp_operator.services import etcd, galera


def body(kind, spec, status=None):
    return {"apiVersion": "ccp.openstack.org/v1alpha1", "kind": kind, "spec": spec, "status": status or {},
            "metadata": {"name": "db", "namespace": "openstack", "uid": "u-1", "generation": 1}}


def test_the_agents_know_every_member_by_its_stable_name_and_etcd_by_its_members():
    reconciler = GaleraReconciler(None, body("Galera", {}))
    config = reconciler.agent_config({"endpoints": ["e-0:2379", "e-1:2379"], "tls": False})
    assert config["members"] == {f"db-galera-{i}": f"db-galera-{i}.db-galera-peers.openstack.svc:4567"
                                 for i in range(3)}
    assert config["etcd"] == {"endpoints": ["e-0:2379", "e-1:2379"]}
    assert config["prefix"] == "/ccp/galera/openstack/db"
    assert config["writer_ttl"] > config["fence_margin"] > 0
    assert "password" not in "".join(str(v) for k, v in config.items() if not k.endswith("_file"))


def test_an_external_etcd_with_tls_gives_the_agents_its_client_files():
    reconciler = GaleraReconciler(None, body("Galera", {}))
    config = reconciler.agent_config({"endpoints": ["etcd.example:2379"], "tls": True, "clientSecret": "etcd-client"})
    assert config["etcd"]["ca_file"] == f"{galera.ETCD_TLS_DIR}/ca.crt"
    assert config["etcd"]["cert_file"].endswith("tls.crt") and config["etcd"]["key_file"].endswith("tls.key")


@pytest.mark.parametrize("forced, ok", [("db-galera-2", True), ("db-galera-3", False), ("other-galera-0", False)])
def test_a_forced_bootstrap_member_must_be_a_member(forced, ok):
    reconciler = GaleraReconciler(None, body("Galera", {"forceBootstrap": forced}))
    if ok:
        reconciler.validate()
    else:
        with pytest.raises(InvalidSpec, match="spec.forceBootstrap"):
            reconciler.validate()


def test_etcd_members_form_one_cluster_from_stable_peer_names():
    command = etcd.command(instance="db", namespace="openstack", peers_service="db-etcd-peers", replicas=3)
    initial = next(a for a in command if a.startswith("--initial-cluster="))
    assert initial == "--initial-cluster=" + ",".join(
        f"db-etcd-{i}=http://db-etcd-{i}.db-etcd-peers.openstack.svc:2380" for i in range(3))
    assert "--name=$(POD_NAME)" in command


def test_the_etcd_member_count_cannot_change_once_formed():
    formed = {"endpoint": {"endpoints": ["a:2379", "b:2379", "c:2379"]}}
    EtcdReconciler(None, body("Etcd", {"replicas": 3}, formed)).validate()
    with pytest.raises(InvalidSpec, match="formed with 3 members"):
        EtcdReconciler(None, body("Etcd", {"replicas": 5}, formed)).validate()
    EtcdReconciler(None, body("Etcd", {"replicas": 5})).validate()  # not formed yet


@pytest.mark.parametrize("report, state", [
    (None, "Down"),
    ({"running": False, "empty": True}, "Empty"),
    ({"running": False, "empty": False}, "Starting"),
    ({"running": True, "wsrep": {"cluster_status": "non-Primary", "local_state": "4"}}, "NonPrimary"),
    ({"running": True, "wsrep": {"cluster_status": "Primary", "local_state": "2"}}, "Donor"),
    ({"running": True, "wsrep": {"cluster_status": "Primary", "local_state": "4"}}, "Synced"),
])
def test_member_states(report, state):
    assert member_state(report) == state


def test_the_summary_names_the_writer_and_only_a_real_failover():
    synced = {"running": True, "wsrep": {"cluster_status": "Primary", "local_state": "4"}}
    members = ["db-galera-0", "db-galera-1", "db-galera-2"]
    first = summarize(members, {m: synced for m in members}, "db-galera-0",
                      {"writer": "db-galera-0", "previous": None, "at": 1.0})
    assert first["writer"] == "db-galera-0" and first["membersSynced"] == "3/3"
    assert "lastFailoverTime" not in first, "the first election is no failover"
    after = summarize(members, {"db-galera-1": synced, "db-galera-2": synced}, "db-galera-1",
                      {"writer": "db-galera-1", "previous": "db-galera-0", "at": 1790000000.0})
    assert after["members"][0] == {"name": "db-galera-0", "state": "Down", "role": "standby"}
    assert after["lastFailoverTime"] == "2026-09-21T14:13:20Z"
    assert after["lastFailover"] == "db-galera-0 -> db-galera-1"


def test_the_agent_reads_the_agent_json_the_operator_writes(tmp_path):
    """One contract on both sides (ccp_galera_agent/contract.py): the file the operator renders
    is the file the agent loads, and a field the agent does not know is refused at its start."""
    reconciler = GaleraReconciler(None, body("Galera", {}))
    config = dict(reconciler.agent_config({"endpoints": ["e-0:2379"], "tls": False}))
    assert contract.problems(contract.AgentConfig, config) == []
    for name in ("root_password_file", "sst_password_file"):  # the mounted Secrets, here files
        (tmp_path / name).write_text("secret\n")
        config[name] = str(tmp_path / name)
    path = tmp_path / contract.AGENT_CONFIG
    path.write_text(json.dumps({**config, "name": "db-galera-1"}))
    loaded = Config.from_file(path)
    assert (loaded.prefix, loaded.writer_ttl, loaded.health_port) == (config["prefix"], galera.WRITER_TTL,
                                                                     galera.HEALTH_PORT)
    path.write_text(json.dumps({**config, "name": "db-galera-1", "writer_tll": 6}))
    with pytest.raises(ValueError, match="unknown writer_tll"):
        Config.from_file(path)
