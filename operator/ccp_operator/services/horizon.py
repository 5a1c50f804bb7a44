"""Horizon: the dashboard, under Apache and mod_wsgi, on dedicated nodes (the reference
architecture keeps it away from keystone's Apache and from other heavy services)."""

from .base import KEYSTONE, MEMCACHED, Component, ConfigFile, Probe, ServiceDefinition

PORT = 8080
# Kolla links the venv's python3.<minor> as python3, so the path holds on every distro release.
PYTHON_SITE = "/var/lib/kolla/venv/lib/python3/site-packages"

SERVICE = ServiceDefinition(
    name="horizon",
    kind="Horizon",
    plural="horizons",
    short_names=("hz",),
    description="OpenStack Dashboard (horizon) under Apache with mod_wsgi, sessions in memcached.",
    pypi_package="horizon",
    package_versions={"2025.1": "25.3.2", "2025.2": "25.5.2", "2026.1": "25.7.3", "2026.2": "27.0.0"},
    components=(
        Component(key="", name="horizon", image="horizon", user="horizon",
                  command="/usr/sbin/{{ apache.binary }} -DFOREGROUND",
                  config_files=("_9998-ccp-settings.py", "horizon.conf"), replicas=3, dedicated=True, port=PORT,
                  api=True, readiness=Probe("http", PORT, "/auth/login/"), liveness=Probe("tcp", PORT),
                  cpu="2", memory="2Gi"),
    ),
    config_files=(
        ConfigFile("_9998-ccp-settings.py", "horizon/local_settings.py.j2",
                   "/etc/openstack-dashboard/local_settings.d/_9998-ccp-settings.py"),
        ConfigFile("horizon.conf", "horizon/horizon.conf.j2", "{{ apache.sites }}/000-default.conf",
                   mode="0644", values={"port": PORT, "python_site": PYTHON_SITE}),
    ),
    needs=(MEMCACHED, KEYSTONE),
    passwords=("secret-key",),
)
