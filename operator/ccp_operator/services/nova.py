"""Nova: the compute API, metadata API, conductor, scheduler and VNC proxy.

As the reference architecture places them: nova-api x3 and nova-conductor x3 on dedicated nodes,
nova-scheduler x8 on shared nodes, preferring those of nova-api and nova-conductor. Cells v2
with cell0 and one cell; nova-compute runs on the hypervisors, as the Compute kind (compute.py).
"""

from .base import (GALERA, KEYSTONE, MEMCACHED, PLACEMENT, RABBITMQ, Component, ConfigFile, Endpoint, JobStep,
                   Messaging, Probe, ServiceDefinition, UpgradeStep, upgrade_check)

API_PORT = 8774
METADATA_PORT = 8775
NOVNCPROXY_PORT = 6080
CONFIG = ("nova.conf",)
API, CONDUCTOR = "nova-api", "nova-conductor"
DATABASE_URL = "mysql+pymysql://nova:${DB_PASSWORD}@{{ database.host }}:{{ database.port }}"

SERVICE = ServiceDefinition(
    name="nova",
    kind="Nova",
    plural="novas",
    short_names=("nv",),
    description="OpenStack Compute control plane: API, metadata API, conductor, scheduler and noVNC proxy.",
    pypi_package="nova",
    package_versions={"2025.1": "31.3.1", "2025.2": "32.2.1", "2026.1": "33.0.2", "2026.2": "34.0.0"},
    components=(
        Component(key="api", name=API, image="nova-api", user="nova",
                  command="uwsgi /etc/nova/nova-api-uwsgi.ini", config_files=("nova.conf", "nova-api-uwsgi.ini"),
                  replicas=3, dedicated=True, port=API_PORT, api=True,
                  readiness=Probe("http", API_PORT, "/"), liveness=Probe("tcp", API_PORT), cpu="4", memory="4Gi"),
        Component(key="metadata", name="nova-metadata", image="nova-api", user="nova",
                  command="uwsgi /etc/nova/nova-metadata-uwsgi.ini",
                  config_files=("nova.conf", "nova-metadata-uwsgi.ini"), replicas=3, port=METADATA_PORT,
                  readiness=Probe("http", METADATA_PORT, "/"), liveness=Probe("tcp", METADATA_PORT),
                  cpu="1", memory="1Gi"),
        Component(key="conductor", name=CONDUCTOR, image="nova-conductor", user="nova", command="nova-conductor",
                  config_files=CONFIG, replicas=3, dedicated=True, cpu="8", memory="8Gi"),
        Component(key="scheduler", name="nova-scheduler", image="nova-scheduler", user="nova",
                  command="nova-scheduler", config_files=CONFIG, replicas=8, prefer_near=(API, CONDUCTOR),
                  cpu="1", memory="2Gi"),
        Component(key="novncproxy", name="nova-novncproxy", image="nova-novncproxy", user="nova",
                  command="nova-novncproxy", config_files=CONFIG, replicas=3, port=NOVNCPROXY_PORT, api=True,
                  readiness=Probe("http", NOVNCPROXY_PORT, "/vnc_lite.html"), liveness=Probe("tcp", NOVNCPROXY_PORT),
                  cpu="500m", memory="512Mi"),
    ),
    config_files=(
        ConfigFile("nova.conf", "nova/nova.conf.j2", "/etc/nova/nova.conf",
                   oslo_namespaces=("nova.conf", "oslo.limit", "oslo.log", "oslo.messaging", "oslo.policy",
                                    "oslo.privsep", "oslo.service.periodic_task", "oslo.service.service",
                                    "oslo.middleware", "oslo.concurrency", "oslo.reports",
                                    "oslo.versionedobjects", "keystonemiddleware.auth_token", "osprofiler",
                                    "os_vif", "os_brick"),
                   values={"novncproxy_port": NOVNCPROXY_PORT}),
        ConfigFile("nova-api-uwsgi.ini", "common/uwsgi.ini.j2", "/etc/nova/nova-api-uwsgi.ini",
                   values={"uwsgi": {"port": API_PORT, "module": "nova.wsgi.osapi_compute:application"}}),
        ConfigFile("nova-metadata-uwsgi.ini", "common/uwsgi.ini.j2", "/etc/nova/nova-metadata-uwsgi.ini",
                   values={"uwsgi": {"port": METADATA_PORT, "module": "nova.wsgi.metadata:application"}}),
    ),
    needs=(GALERA, MEMCACHED, RABBITMQ, KEYSTONE, PLACEMENT),
    messaging=Messaging(rpc=True),
    databases=("nova_api", "nova", "nova_cell0"),
    endpoints=(Endpoint("compute", "nova", API, "/v2.1", "OpenStack Compute"),),
    keystone_user=True,
    jobs=(
        JobStep("api-db-sync", image="nova-api", user="nova", config_files=CONFIG, command="nova-manage api_db sync"),
        JobStep("cells", image="nova-api", user="nova", config_files=CONFIG,
                secret_env=(("DB_PASSWORD", "database-password"),),
                command=(f"nova-manage cell_v2 map_cell0 --database_connection {DATABASE_URL}/nova_cell0\n"
                         "nova-manage cell_v2 list_cells | grep -q ' cell1 ' || "
                         "nova-manage cell_v2 create_cell --name cell1 --verbose")),
        JobStep("db-sync", image="nova-api", user="nova", config_files=CONFIG, command="nova-manage db sync"),
    ),
    # Nova's rolling upgrade: schemas first (the API database, then cell0 and the cell), then
    # the conductors (they translate between old and new objects), the schedulers, and the APIs
    # and the rest; data migrations once every service runs the new release.
    upgrade=(
        upgrade_check("nova-status upgrade check", "nova-api", "nova", CONFIG),
        UpgradeStep("api-db-sync", "nova-manage api_db sync", image="nova-api", user="nova", config_files=CONFIG),
        UpgradeStep("db-sync", "nova-manage db sync", image="nova-api", user="nova", config_files=CONFIG),
        UpgradeStep("roll-conductor", components=(CONDUCTOR,)),
        UpgradeStep("roll-scheduler", components=("nova-scheduler",)),
        UpgradeStep("roll"),
        UpgradeStep("online-data-migrations", "nova-manage db online_data_migrations", image="nova-api", user="nova",
                    config_files=CONFIG, after_roll=True),
    ),
    shared_secrets=("metadata-proxy",),
    custom_config_dir="/etc/nova/nova.conf.d",
)
