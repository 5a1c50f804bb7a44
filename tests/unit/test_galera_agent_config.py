"""The agent's configuration as the operator writes it: member name, passwords from files, the
per-member mysqld command line and the choice of state-transfer donors."""

from __future__ import annotations

import json

import pytest

from ccp_galera_agent.agent import Agent, Config
from ccp_galera_agent.etcd import EtcdSettings, MultiEndpointClient, split_endpoint

MEMBERS = {"db-galera-0": "db-galera-0.peers:4567", "db-galera-1": "db-galera-1.peers:4567",
           "db-galera-2": "db-galera-2.peers:4567"}


def write_config(tmp_path, **overrides):
    (tmp_path / "root").write_text("r00t\n")
    (tmp_path / "sst").write_text("s5t\n")
    data = {"members": MEMBERS, "etcd": {"endpoints": ["etcd-0:2379", "etcd-1:2379"]}, "prefix": "/ccp/galera/ns/db",
            "datadir": str(tmp_path / "data"), "socket": "/run/mysqld/mysqld.sock",
            "mysqld": ["mariadbd", "--wsrep-node-address={address}"],
            "root_password_file": str(tmp_path / "root"), "sst_password_file": str(tmp_path / "sst"), **overrides}
    path = tmp_path / "agent.json"
    path.write_text(json.dumps(data))
    return path


def test_the_member_name_defaults_to_the_host_name(tmp_path, monkeypatch):
    monkeypatch.setattr("socket.gethostname", lambda: "db-galera-1")
    config = Config.from_file(write_config(tmp_path))
    assert config.name == "db-galera-1"
    assert (config.root_password, config.sst_password) == ("r00t", "s5t")
    assert config.etcd.endpoints == ("etcd-0:2379", "etcd-1:2379")


def test_a_host_that_is_not_a_member_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("socket.gethostname", lambda: "somewhere-else")
    with pytest.raises(ValueError, match="not one of the members"):
        Config.from_file(write_config(tmp_path))


def test_the_command_line_names_the_member_and_its_address(tmp_path):
    agent = Agent(Config.from_file(write_config(tmp_path, name="db-galera-2")))
    assert agent.mysqld_argv() == ["mariadbd", "--wsrep-node-address=db-galera-2.peers:4567",
                                   "--wsrep-node-name=db-galera-2"]


def test_standbys_are_the_preferred_donors(tmp_path, monkeypatch):
    agent = Agent(Config.from_file(write_config(tmp_path, name="db-galera-2")))
    monkeypatch.setattr(agent.writer, "writer", lambda: "db-galera-0")
    assert agent.donors() == "db-galera-1,"


def test_without_etcd_any_other_member_may_donate(tmp_path, monkeypatch):
    agent = Agent(Config.from_file(write_config(tmp_path, name="db-galera-2")))

    def unreachable():
        raise ConnectionError("etcd down")
    monkeypatch.setattr(agent.writer, "writer", unreachable)
    assert agent.donors() == "db-galera-0,db-galera-1,"


def test_endpoints_are_host_and_port_with_or_without_a_scheme():
    assert split_endpoint("https://etcd-0.etcd:2379") == ("etcd-0.etcd", 2379)
    assert split_endpoint("[fd00::1]:2379") == ("fd00::1", 2379)
    client = MultiEndpointClient(EtcdSettings(("a:1", "b:2"), ca_file="/ca.crt"))
    assert client.protocol == "https" and client.get_url("/kv/range") == "/v3/kv/range"
    with pytest.raises(ValueError):
        MultiEndpointClient(EtcdSettings(()))


class FakeProcess:
    def __init__(self, running: bool):
        self.running = running

    def poll(self):
        return None if self.running else 1


def test_liveness_fails_only_for_a_stuck_mysqld(tmp_path, monkeypatch):
    agent = Agent(Config.from_file(write_config(tmp_path, name="db-galera-0")))
    assert agent.live(), "waiting for peers before mysqld starts is alive"
    agent.process = FakeProcess(running=False)
    assert agent.live(), "restarting mysqld after a crash is alive"
    agent.process = FakeProcess(running=True)
    clock = [1000.0]
    monkeypatch.setattr("time.monotonic", lambda: clock[0])
    agent.outside_primary_since = clock[0]
    clock[0] += 30
    assert agent.live()
    clock[0] += 31
    assert not agent.live(), "a minute outside the Primary component is stuck"
    agent.outside_primary_since, agent.unanswered_since = None, clock[0]
    clock[0] += 600
    assert agent.live(), "a joiner in a long state transfer answers nothing, and is alive"
    clock[0] += 301
    assert not agent.live()
