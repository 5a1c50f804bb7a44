"""Placement: the inventory and allocation API nova schedules against (required by nova since
Newton; the 2016 reference architecture predates it)."""

from .base import (GALERA, MEMCACHED, KEYSTONE, Component, ConfigFile, Endpoint, JobStep, Probe, ServiceDefinition,
                   UpgradeStep, upgrade_check)

PORT = 8780

SERVICE = ServiceDefinition(
    name="placement",
    kind="Placement",
    plural="placements",
    short_names=("plc",),
    description="OpenStack Placement: resource inventories and allocations, under uWSGI.",
    pypi_package="openstack-placement",
    package_versions={"2025.1": "13.0.1", "2025.2": "14.0.0", "2026.1": "15.0.0", "2026.2": "16.0.0"},
    components=(
        Component(
            key="", name="placement-api", image="placement-api", user="placement",
            command="uwsgi /etc/placement/placement-api-uwsgi.ini",
            config_files=("placement.conf", "placement-api-uwsgi.ini"),
            replicas=3, port=PORT, api=True,
            readiness=Probe("http", PORT, "/"), liveness=Probe("tcp", PORT), cpu="1", memory="1Gi",
        ),
    ),
    config_files=(
        ConfigFile("placement.conf", "placement/placement.conf.j2", "/etc/placement/placement.conf",
                   oslo_namespaces=("placement.conf", "keystonemiddleware.auth_token", "oslo.log",
                                    "oslo.middleware.cors", "oslo.middleware.http_proxy_to_wsgi", "oslo.policy",
                                    "osprofiler")),
        ConfigFile("placement-api-uwsgi.ini", "common/uwsgi.ini.j2", "/etc/placement/placement-api-uwsgi.ini",
                   values={"uwsgi": {"port": PORT, "module": "placement.wsgi.api:application"}}),
    ),
    needs=(GALERA, MEMCACHED, KEYSTONE),
    databases=("placement",),
    endpoints=(Endpoint("placement", "placement", "placement-api", "", "OpenStack Placement"),),
    keystone_user=True,
    jobs=(JobStep("db-sync", image="placement-api", user="placement", config_files=("placement.conf",),
                  command="placement-manage db sync"),),
    upgrade=(
        upgrade_check("placement-status upgrade check", "placement-api", "placement", ("placement.conf",)),
        UpgradeStep("db-sync", "placement-manage db sync", image="placement-api", user="placement",
                    config_files=("placement.conf",)),
        UpgradeStep("roll"),
        UpgradeStep("online-data-migrations", "placement-manage db online_data_migrations", image="placement-api",
                    user="placement", config_files=("placement.conf",), after_roll=True),
    ),
    custom_config_dir="/etc/placement/placement.conf.d",
)
