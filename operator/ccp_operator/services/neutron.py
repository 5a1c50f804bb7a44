"""Neutron: the networking API, its RPC servers, and the DHCP, L3 and metadata agents.

Since 2025.x neutron's API runs under uWSGI and RPC is served by neutron-rpc-server, with
periodic tasks in neutron-periodic-workers. The reference architecture co-locates the L3 and
DHCP agents with neutron-server; the L2 (Open vSwitch) agent and Open vSwitch itself run on those
hosts and on the hypervisors, set up with the hosts rather than by this operator.
"""

from .base import (GALERA, KEYSTONE, MEMCACHED, RABBITMQ, Component, ConfigFile, Endpoint, JobStep, Messaging, Probe,
                   ServiceDefinition, UpgradeStep)

PORT = 9696
NOVA_METADATA_PORT = 8775


SERVER_CONFIG_ARGS = "--config-file /etc/neutron/neutron.conf --config-file /etc/neutron/plugins/ml2/ml2_conf.ini"


def agent_command(program: str, ini: str) -> str:
    return f"{program} --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/{ini}"


SERVER = "neutron-server"

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
                  replicas=3, port=PORT, api=True,
                  readiness=Probe("http", PORT, "/"), liveness=Probe("tcp", PORT), cpu="2", memory="2Gi"),
        Component(key="rpcServer", name="neutron-rpc-server", image="neutron-server", user="neutron",
                  command=f"neutron-rpc-server {SERVER_CONFIG_ARGS}",
                  config_files=("neutron.conf", "ml2_conf.ini"), replicas=3, co_locate_with=(SERVER,),
                  cpu="2", memory="2Gi"),
        Component(key="periodicWorkers", name="neutron-periodic-workers", image="neutron-server", user="neutron",
                  command=f"neutron-periodic-workers {SERVER_CONFIG_ARGS}",
                  config_files=("neutron.conf", "ml2_conf.ini"), replicas=3, co_locate_with=(SERVER,),
                  cpu="250m", memory="1Gi"),
        Component(key="dhcpAgent", name="neutron-dhcp-agent", image="neutron-dhcp-agent", user="neutron",
                  command=agent_command("neutron-dhcp-agent", "dhcp_agent.ini"),
                  config_files=("neutron.conf", "dhcp_agent.ini"), replicas=3, co_locate_with=(SERVER,),
                  privileged=True, cpu="500m", memory="1Gi"),
        Component(key="l3Agent", name="neutron-l3-agent", image="neutron-l3-agent", user="neutron",
                  command=agent_command("neutron-l3-agent", "l3_agent.ini"),
                  config_files=("neutron.conf", "l3_agent.ini"), replicas=3, co_locate_with=(SERVER,),
                  privileged=True, cpu="1", memory="1Gi"),
        Component(key="metadataAgent", name="neutron-metadata-agent", image="neutron-metadata-agent",
                  user="neutron", command=agent_command("neutron-metadata-agent", "metadata_agent.ini"),
                  config_files=("neutron.conf", "metadata_agent.ini"), replicas=3, cpu="250m", memory="512Mi"),
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
                   oslo_namespaces=("neutron.az.agent", "neutron.base.agent", "neutron.dhcp.agent", "oslo.log")),
        ConfigFile("l3_agent.ini", "neutron/l3_agent.ini.j2", "/etc/neutron/l3_agent.ini",
                   oslo_namespaces=("neutron.az.agent", "neutron.base.agent", "neutron.l3.agent", "oslo.log")),
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
        UpgradeStep("db-expand", f"{DB_MANAGE} upgrade --expand", image="neutron-server", user="neutron",
                    config_files=DB_CONFIG),
        UpgradeStep("roll"),
        UpgradeStep("db-contract", f"{DB_MANAGE} upgrade --contract", image="neutron-server", user="neutron",
                    config_files=DB_CONFIG, after_roll=True, contract=True),
    ),
    shared_secrets=("metadata-proxy",),
    custom_config_dir="/etc/neutron/neutron.conf.d",
)
