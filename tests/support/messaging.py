"""Runs the real oslo.messaging clients against a RabbitCluster, configured from the operator's
rendering of a service (nova here: it uses both RPC and notifications)."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

from ccp_operator.services import nova, rabbitmq

from . import oslo_validator
from .rabbitmq_cluster import PASSWORDS, RabbitCluster
from .rendering import ENDPOINTS, all_files

CLIENT = Path(__file__).with_name("oslo_messaging_client.py")
SERVICE = nova.SERVICE


# oslo.messaging of the 2026.1 series (its final library release's stable line).
OSLO_MESSAGING = "17.3.2"


def client_python() -> Path:
    """The Python of a cached virtualenv with oslo.messaging of 2026.1 (created on first use)."""
    path = oslo_validator.CACHE.parent / f"oslo-messaging-{OSLO_MESSAGING}"
    marker = path / ".installed"
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        subprocess.run([str(path / "bin" / "python"), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", f"oslo.messaging=={OSLO_MESSAGING}"], check=True)
        marker.write_text(OSLO_MESSAGING)
    return path / "bin" / "python"


def client_config(cluster: RabbitCluster, path: Path, user: str = "nova", password: str | None = None,
                  rpc_vhost: str | None = None) -> Path:
    """The messaging part of nova.conf as the operator renders it for these brokers."""
    endpoint = {**ENDPOINTS["RabbitMQ"], "hosts": cluster.hosts, "port": cluster.port,
                "notificationsTransportOptions": rabbitmq.notifications_transport_options(cluster.replication)}
    rendered = all_files(SERVICE, endpoints={"RabbitMQ": endpoint},
                         messaging_password=password or PASSWORDS[user])["nova-conductor"]["nova.conf"]
    parser = configparser.RawConfigParser(interpolation=None)
    parser.read_string(rendered)
    out = configparser.RawConfigParser(interpolation=None)
    out["DEFAULT"] = {key: parser.get("DEFAULT", key) for key in ("transport_url", "control_exchange")}
    for section in ("oslo_messaging_rabbit", "oslo_messaging_notifications"):
        out[section] = dict(parser.items(section))
    if user != "nova":
        for section, key in (("DEFAULT", "transport_url"), ("oslo_messaging_notifications", "transport_url")):
            out[section][key] = out[section][key].replace("nova:", f"{user}:")
    if rpc_vhost:
        out["DEFAULT"]["transport_url"] = out["DEFAULT"]["transport_url"].rsplit("/", 1)[0] + f"/{rpc_vhost}"
    with path.open("w") as handle:
        out.write(handle)
    return path


def start(config: Path, *args: str, log: Path) -> subprocess.Popen:
    handle = log.open("ab")
    try:
        return subprocess.Popen([str(client_python()), str(CLIENT), str(config), *args], stdout=handle,
                                stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        handle.close()


def run(config: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(client_python()), str(CLIENT), str(config), *args], capture_output=True, text=True,
                          timeout=timeout)


def output_within(config: Path, *args: str, seconds: float) -> str:
    """What a long-running client printed within `seconds` (it is stopped then)."""
    process = subprocess.Popen([str(client_python()), str(CLIENT), str(config), *args], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        return process.communicate(timeout=seconds)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()[0]


def run_raw(url: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """A client command that takes a broker URL instead of a config file (the kombu benchmark)."""
    return subprocess.run([str(client_python()), str(CLIENT), url, *args], capture_output=True, text=True,
                          timeout=timeout)
