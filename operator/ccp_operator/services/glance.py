"""Glance: the image API, storing images in Ceph RBD.

glance-api runs under uWSGI (its WSGI module), as every release since 2026.2 requires: that
release removed the eventlet server of the `glance-api` program and its options (bind_host,
bind_port, workers). glance-registry is not deployed: it was removed in the Stein release, and
glance-api serves image metadata itself.
"""

from .base import (CEPH, GALERA, KEYSTONE, MEMCACHED, RABBITMQ, CephClient, Component, ConfigFile, Endpoint, JobStep,
                   Messaging, Probe, ServiceDefinition, UpgradeStep, upgrade_check)

PORT = 9292



# glance-status of 2026.2 reads [DEFAULT] enabled_backends without registering it (its
# glance.common.wsgi no longer imports glance.common.config, which does): it is imported first.
STATUS_CHECK = ('python3 -c "import sys, glance.common.config, glance.cmd.status; sys.exit(glance.cmd.status.main())" '
                "--config-file /etc/glance/glance-api.conf upgrade check")


def migration(name: str, command: str, **when) -> UpgradeStep:
    return UpgradeStep(name, command, image="glance-api", user="glance", config_files=("glance-api.conf",), **when)


SERVICE = ServiceDefinition(
    name="glance",
    kind="Glance",
    plural="glances",
    short_names=("gl",),
    description="OpenStack Image service (glance-api) with images in Ceph RBD.",
    pypi_package="glance",
    package_versions={"2025.1": "30.2.0", "2025.2": "31.1.0", "2026.1": "32.0.0", "2026.2": "33.0.0"},
    components=(
        Component(
            key="api", name="glance-api", image="glance-api", user="glance",
            command="uwsgi /etc/glance/glance-api-uwsgi.ini", config_files=("glance-api.conf", "glance-api-uwsgi.ini"),
            replicas=3, port=PORT, api=True,
            readiness=Probe("http", PORT, "/healthcheck"), liveness=Probe("tcp", PORT), cpu="1", memory="2Gi",
            ceph_users=("glance",),
        ),
    ),
    config_files=(
        ConfigFile("glance-api.conf", "glance/glance-api.conf.j2", "/etc/glance/glance-api.conf",
                   oslo_namespaces=("castellan.config", "glance.api", "glance.store", "os_brick", "glance.multi_store",
                                    "oslo.concurrency", "oslo.messaging", "oslo.db", "oslo.policy",
                                    "keystonemiddleware.auth_token", "oslo.limit", "oslo.log",
                                    "oslo.middleware.cors", "oslo.middleware.healthcheck",
                                    "oslo.middleware.http_proxy_to_wsgi", "oslo.reports"),
                   dynamic_sections={"rbd": "glance.store.rbd.store"}),
        # Image data arrives chunked (no length known up front): uWSGI hands the body to glance
        # as it comes, as glance's own uWSGI guide sets it.
        ConfigFile("glance-api-uwsgi.ini", "common/uwsgi.ini.j2", "/etc/glance/glance-api-uwsgi.ini",
                   values={"uwsgi": {"port": PORT, "module": "glance.wsgi.api:application",
                                     "options": {"http-auto-chunked": "true", "http-chunked-input": "true",
                                                 "http-raw-body": "true", "socket-timeout": "30"}}}),
    ),
    needs=(GALERA, MEMCACHED, RABBITMQ, KEYSTONE, CEPH),
    messaging=Messaging(rpc=False),
    ceph_clients=(CephClient("glance", writable=("images",)),),
    databases=("glance",),
    endpoints=(Endpoint("image", "glance", "glance-api", "", "OpenStack Image"),),
    keystone_user=True,
    jobs=(JobStep("db-sync", image="glance-api", user="glance", config_files=("glance-api.conf",),
                  command="glance-manage db_sync\nglance-manage db_load_metadefs"),),
    upgrade=(
        upgrade_check(STATUS_CHECK, "glance-api", "glance", ("glance-api.conf",)),
        migration("db-expand", "glance-manage db expand"),
        migration("db-migrate", "glance-manage db migrate"),
        UpgradeStep("roll"),
        migration("db-contract", "glance-manage db contract", after_roll=True, contract=True),
    ),
    custom_config_dir="/etc/glance/glance-api.conf.d",
)
