"""Neutron: the networking API, its RPC servers, the network nodes' DHCP, L3 and metadata
agents, and Open vSwitch with its L2 agent on every node that plugs ports.

Since 2025.x neutron's API runs under uWSGI and RPC is served by neutron-rpc-server, with
periodic tasks in neutron-periodic-workers. The agents run on every network node (one DaemonSet
each on the `network` node set, in the node's network stack, where their namespaces and switch
ports live); neutron-server prefers those nodes, as the reference architecture co-locates them.
Open vSwitch (ovsdb-server, ovs-vswitchd) and the Open vSwitch agent run on the `l2` node set:
the network nodes and the hypervisors of every compute node group, which "has to run on any host
that runs nova-compute, neutron-l3-agent or neutron-dhcp-agent". One DaemonSet covers both, so a
node that is both runs one switch.
"""

from typing import Any

from . import compute
from .base import (GALERA, KEYSTONE, MEMCACHED, OVSDB_CONNECTION, OVSDB_PORT, RABBITMQ, Component, ConfigFile, Endpoint,
                   HostPath, JobStep, Messaging, NodeSet, Probe, ServiceDefinition, UpgradeStep, upgrade_check)

PORT = 9696
NOVA_METADATA_PORT = 8775

NETWORK, L2 = "network", "l2"
NETWORK_NODE_SELECTOR = {"openstack-network-node": "enabled"}
# Open vSwitch's datapath: the kernel's (`system`, with its openvswitch module), or the userspace
# one (`netdev`) where the kernel has no openvswitch module.
DATAPATH_TYPES = ("system", "netdev")
DEFAULT_DATAPATH_TYPE = "system"

# What the switch and the agents share on a node: the switch's database and sockets, the
# agents' namespaces (created inside the pods, seen by the node and the other agents), and
# neutron's state (DHCP leases, routers' keepalived state, the metadata proxy's socket).
RUN_OPENVSWITCH = HostPath("run-openvswitch", "/run/openvswitch")
OPENVSWITCH_DB = HostPath("var-lib-openvswitch", "/var/lib/openvswitch")
NETNS = HostPath("run-netns", "/run/netns", propagate=True)
STATE = HostPath("var-lib-neutron", "/var/lib/neutron")

NODE_IP = "NODE_IP"  # the agent's tunnel endpoint: its node's address


SERVER_CONFIG_ARGS = "--config-file /etc/neutron/neutron.conf --config-file /etc/neutron/plugins/ml2/ml2_conf.ini"


def agent_command(program: str, ini: str) -> str:
    return f"{program} --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/{ini}"


SERVER = "neutron-server"
DHCP_AGENT, L3_AGENT = "neutron-dhcp-agent", "neutron-l3-agent"
OVS_AGENT_INI = "plugins/ml2/openvswitch_agent.ini"


def node_sets(spec: dict[str, Any]) -> tuple[NodeSet, ...]:
    """The network nodes, and the nodes with a switch: those and the hypervisors."""
    network = dict((spec.get("networkNodes") or {}).get("nodeSelector") or NETWORK_NODE_SELECTOR)
    switches = [network]
    for selector in spec.get("hypervisorNodeSelectors") or []:
        if dict(selector) not in switches:
            switches.append(dict(selector))
    values = {"datapath_type": spec.get("datapathType", DEFAULT_DATAPATH_TYPE)}
    return NodeSet(NETWORK, (network,), values), NodeSet(L2, tuple(switches), values)


def hypervisors_of_plane(plane_spec: dict[str, Any]) -> dict[str, Any]:
    """A control plane's hypervisors (its compute node groups) get a switch and an L2 agent."""
    section = plane_spec.get(compute.SERVICE.name) or {}
    return {"hypervisorNodeSelectors": [selector for group in compute.node_groups(section)
                                        for selector in group.selectors]}


def waits_for_br_int(command: str) -> str:
    """An agent that plugs ports into br-int starts once the node's L2 agent has made it."""
    return f"/usr/local/bin/ccp-wait-for-br-int {command}"


def network_agent(key: str, name: str, ini: str, *, cpu: str, memory: str, plugs_ports: bool = True) -> Component:
    """A network node's agent: in the node's network, its namespaces shared with the node."""
    command = agent_command(name, ini)
    return Component(key=key, name=name, image=name, user="neutron",
                     command=waits_for_br_int(command) if plugs_ports else command,
                     config_files=("neutron.conf", ini) + (("wait-for-br-int",) if plugs_ports else ()),
                     per_node=True, node_sets=(NETWORK,), host_network=True, privileged=plugs_ports,
                     host_paths=(NETNS, STATE) if plugs_ports else (STATE,), owns=(STATE.path,),
                     readiness=Probe.holds_rpc_connection(name), cpu=cpu, memory=memory)

DB_CONFIG = ("neutron.conf", "ml2_conf.ini")
DB_MANAGE = f"neutron-db-manage {SERVER_CONFIG_ARGS}"

SERVICE = ServiceDefinition(
    name="neutron",
    kind="Neutron",
    plural="neutrons",
    short_names=("nt",),
    description="OpenStack Networking: neutron API (uWSGI), RPC servers, periodic workers, DHCP, L3 and "
                "metadata agents, ML2 with Open vSwitch and VXLAN.",
    pypi_package="neutron",
    package_versions={"2025.1": "26.0.6", "2025.2": "27.0.4", "2026.1": "28.0.2", "2026.2": "29.0.0"},
    components=(
        Component(key="server", name=SERVER, image="neutron-server", user="neutron",
                  command="uwsgi /etc/neutron/neutron-api-uwsgi.ini",
                  config_files=("neutron.conf", "ml2_conf.ini", "neutron-api-uwsgi.ini"),
                  replicas=3, port=PORT, api=True, prefer_node_set=NETWORK,
                  readiness=Probe("http", PORT, "/"), liveness=Probe("tcp", PORT), cpu="2", memory="2Gi"),
        Component(key="rpcServer", name="neutron-rpc-server", image="neutron-server", user="neutron",
                  command=f"neutron-rpc-server {SERVER_CONFIG_ARGS}",
                  config_files=("neutron.conf", "ml2_conf.ini"), replicas=3, co_locate_with=(SERVER,),
                  cpu="2", memory="2Gi"),
        Component(key="periodicWorkers", name="neutron-periodic-workers", image="neutron-server", user="neutron",
                  command=f"neutron-periodic-workers {SERVER_CONFIG_ARGS}",
                  config_files=("neutron.conf", "ml2_conf.ini"), replicas=3, co_locate_with=(SERVER,),
                  cpu="250m", memory="1Gi"),
        network_agent("dhcpAgent", DHCP_AGENT, "dhcp_agent.ini", cpu="500m", memory="1Gi"),
        network_agent("l3Agent", L3_AGENT, "l3_agent.ini", cpu="1", memory="1Gi"),
        network_agent("metadataAgent", "neutron-metadata-agent", "metadata_agent.ini", cpu="250m",
                      memory="512Mi", plugs_ports=False),
        Component(key="openvswitchDb", name="openvswitch-db-server", image="openvswitch-db-server", user="root",
                  command="/usr/local/bin/ccp-start-ovsdb-server", config_files=("start-ovsdb-server",),
                  per_node=True, node_sets=(L2,), host_network=True, host_paths=(RUN_OPENVSWITCH, OPENVSWITCH_DB),
                  readiness=Probe("exec", command=("ovsdb-client", "list-dbs", OVSDB_CONNECTION)),
                  cpu="100m", memory="256Mi"),
        Component(key="openvswitchVswitchd", name="openvswitch-vswitchd", image="openvswitch-vswitchd", user="root",
                  command="/usr/local/bin/ccp-start-ovs-vswitchd", config_files=("start-ovs-vswitchd",),
                  per_node=True, node_sets=(L2,), host_network=True, privileged=True,
                  host_paths=(RUN_OPENVSWITCH, compute.MODULES),
                  readiness=Probe("exec", command=("ovs-appctl", "-t", "ovs-vswitchd", "version")),
                  cpu="500m", memory="1Gi"),
        Component(key="openvswitchAgent", name="neutron-openvswitch-agent", image="neutron-openvswitch-agent",
                  user="neutron", command="/usr/local/bin/ccp-start-openvswitch-agent",
                  config_files=("neutron.conf", "openvswitch_agent.ini", "start-openvswitch-agent"),
                  per_node=True, node_sets=(L2,), host_network=True, privileged=True,
                  host_paths=(RUN_OPENVSWITCH, compute.MODULES), field_env=((NODE_IP, "status.hostIP"),),
                  readiness=Probe.holds_rpc_connection("neutron-openvswitch-agent"), cpu="500m", memory="1Gi"),
    ),
    config_files=(
        ConfigFile("neutron.conf", "neutron/neutron.conf.j2", "/etc/neutron/neutron.conf",
                   oslo_namespaces=("neutron", "neutron.agent", "neutron.db", "neutron.experimental",
                                    "neutron.extensions", "nova.auth", "ironic.auth", "placement.auth",
                                    "designate.auth", "oslo.log", "oslo.cache", "oslo.db", "oslo.policy",
                                    "oslo.privsep", "oslo.concurrency", "oslo.messaging", "oslo.middleware.cors",
                                    "oslo.middleware.healthcheck", "oslo.middleware.http_proxy_to_wsgi",
                                    "oslo.reports", "oslo.service.periodic_task", "oslo.service.service",
                                    "oslo.service.wsgi", "oslo.versionedobjects", "keystonemiddleware.auth_token",
                                    "osprofiler")),
        ConfigFile("ml2_conf.ini", "neutron/ml2_conf.ini.j2", "/etc/neutron/plugins/ml2/ml2_conf.ini",
                   oslo_namespaces=("neutron.ml2", "neutron.ml2.ovn", "oslo.log")),
        ConfigFile("dhcp_agent.ini", "neutron/dhcp_agent.ini.j2", "/etc/neutron/dhcp_agent.ini",
                   oslo_namespaces=("neutron.az.agent", "neutron.base.agent", "neutron.dhcp.agent", "oslo.log"),
                   values={"ovsdb_connection": OVSDB_CONNECTION}),
        ConfigFile("l3_agent.ini", "neutron/l3_agent.ini.j2", "/etc/neutron/l3_agent.ini",
                   oslo_namespaces=("neutron.az.agent", "neutron.base.agent", "neutron.l3.agent", "oslo.log"),
                   values={"ovsdb_connection": OVSDB_CONNECTION}),
        ConfigFile("openvswitch_agent.ini", "neutron/openvswitch_agent.ini.j2", f"/etc/neutron/{OVS_AGENT_INI}",
                   oslo_namespaces=("neutron.ml2.ovs.agent", "oslo.log"),
                   values={"ovsdb_connection": OVSDB_CONNECTION}),
        ConfigFile("start-openvswitch-agent", "neutron/start-openvswitch-agent.sh.j2",
                   "/usr/local/bin/ccp-start-openvswitch-agent", mode="0755",
                   values={"command": agent_command("neutron-openvswitch-agent", OVS_AGENT_INI),
                           "node_ip": NODE_IP}),
        ConfigFile("wait-for-br-int", "neutron/wait-for-br-int.sh.j2", "/usr/local/bin/ccp-wait-for-br-int",
                   mode="0755", values={"ovsdb_connection": OVSDB_CONNECTION}),
        ConfigFile("start-ovsdb-server", "neutron/start-ovsdb-server.sh.j2", "/usr/local/bin/ccp-start-ovsdb-server",
                   mode="0755", values={"ovsdb_port": OVSDB_PORT}),
        ConfigFile("start-ovs-vswitchd", "neutron/start-ovs-vswitchd.sh.j2", "/usr/local/bin/ccp-start-ovs-vswitchd",
                   mode="0755"),
        ConfigFile("metadata_agent.ini", "neutron/metadata_agent.ini.j2", "/etc/neutron/metadata_agent.ini",
                   oslo_namespaces=("neutron.metadata.agent", "oslo.log", "oslo.cache"),
                   values={"nova_metadata_port": NOVA_METADATA_PORT}),
        ConfigFile("neutron-api-uwsgi.ini", "common/uwsgi.ini.j2", "/etc/neutron/neutron-api-uwsgi.ini",
                   # neutron's WSGI entry point parses sys.argv, where uWSGI puts pyargv: without it
                   # the ML2 file is never read and the application fails to load.
                   values={"uwsgi": {"port": PORT, "module": "neutron.wsgi.api:application",
                                     "pyargv": SERVER_CONFIG_ARGS}}),
    ),
    needs=(GALERA, MEMCACHED, RABBITMQ, KEYSTONE),
    messaging=Messaging(rpc=True),
    databases=("neutron",),
    endpoints=(Endpoint("network", "neutron", SERVER, "", "OpenStack Networking"),),
    keystone_user=True,
    jobs=(JobStep("db-sync", image="neutron-server", user="neutron", config_files=DB_CONFIG,
                  command=f"{DB_MANAGE} upgrade heads"),),
    # neutron's expand branch runs while old servers serve; its contract branch only once none is left.
    upgrade=(
        upgrade_check(f"neutron-status {SERVER_CONFIG_ARGS} upgrade check", "neutron-server", "neutron", DB_CONFIG),
        UpgradeStep("db-expand", f"{DB_MANAGE} upgrade --expand", image="neutron-server", user="neutron",
                    config_files=DB_CONFIG),
        UpgradeStep("roll"),
        UpgradeStep("db-contract", f"{DB_MANAGE} upgrade --contract", image="neutron-server", user="neutron",
                    config_files=DB_CONFIG, after_roll=True, contract=True),
    ),
    shared_secrets=("metadata-proxy",),
    custom_config_dir="/etc/neutron/neutron.conf.d",
    node_sets=node_sets,
    from_plane=hypervisors_of_plane,
)
