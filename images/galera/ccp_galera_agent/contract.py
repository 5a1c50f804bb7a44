"""What the operator and the Galera agents agree on, defined once: the files the operator writes
and the agent and router read (agent.json, router.json), and the keys the agents keep in etcd
under a cluster's prefix, which the operator reads for the Galera status.

The standard library only: the operator imports this very file (ccp_operator/galera_contract.py
links to it), so a field renamed here changes both sides.
"""

from typing import NotRequired, TypedDict

AGENT_CONFIG = "agent.json"
ROUTER_CONFIG = "router.json"

# Keys under the cluster's prefix.
MEMBERS = "members/"               # members/<name>: a member's report (JSON), under its agent's lease
WRITER = "writer"                  # the writer's name, under the writer's lease
WRITER_CHANGED = "writer-changed"  # the last change of writer after a failure (JSON: previous, writer, at)


def key(prefix: str, name: str) -> str:
    """The full key of `name` (one of the above, or a member's report) under a cluster's prefix."""
    return f"{prefix.rstrip('/')}/{name}"


class EtcdConfig(TypedDict):
    endpoints: list[str]           # host:port of every member
    ca_file: NotRequired[str]      # with TLS: the CA, the client certificate and its key
    cert_file: NotRequired[str]
    key_file: NotRequired[str]
    timeout: NotRequired[float]    # seconds per request (default 2)


class AgentConfig(TypedDict):
    members: dict[str, str]        # every member's name -> its Galera address (host:port)
    etcd: EtcdConfig
    prefix: str                    # the cluster's key prefix
    datadir: str
    socket: str
    mysqld: list[str]              # mysqld's command line without the wsrep start options
    name: NotRequired[str]         # this member (default: the host name, a pod's name)
    root_password_file: NotRequired[str]  # the passwords, from files (mounted Secrets) ...
    sst_password_file: NotRequired[str]
    root_password: NotRequired[str]       # ... or given as they are
    sst_password: NotRequired[str]
    sst_user: NotRequired[str]
    writer_ttl: NotRequired[int]          # seconds the writer lease lives in etcd
    fence_margin: NotRequired[float]      # the writer fences itself this long before its lease could expire
    health_port: NotRequired[int]         # the agent's /ready and /live (0: none)
    force_bootstrap_file: NotRequired[str]  # holds a member name when the operator forces a bootstrap
    extra: NotRequired[dict]              # settings of the agent's own tests (mysql_install_db arguments)


class RouterConfig(TypedDict):
    etcd: EtcdConfig
    prefix: str
    admin_socket: str              # HAProxy's admin socket
    backend: str                   # the HAProxy backend of the writer
    servers: list[str]             # the members, as HAProxy servers of that backend


def problems(contract: type, data: dict) -> list[str]:
    """Fields of `data` the contract does not have, and the required ones it lacks."""
    missing = sorted(contract.__required_keys__ - set(data))
    unknown = sorted(set(data) - contract.__required_keys__ - contract.__optional_keys__)
    return [f"missing {name}" for name in missing] + [f"unknown {name}" for name in unknown]
