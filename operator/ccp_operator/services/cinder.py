"""Cinder: the block storage API, scheduler, volume and backup services, with volumes and backups
in Ceph RBD.

cinder-volume runs three instances active-active, as Cinder supports it: they share one
`[DEFAULT] cluster` name and coordinate through a tooz backend (etcd), so any of them can manage
any volume and the others take over when one is lost.
"""

from ..images import KOLLA_TOOLBOX, toolbox_python
from .base import (CEPH, ETCD, GALERA, KEYSTONE, MEMCACHED, RABBITMQ, CephClient, Component, ConfigFile, Endpoint,
                   JobStep, Messaging, Probe, ServiceDefinition, UpgradeStep, upgrade_check)

PORT = 8776
VOLUMES_USER = "cinder"  # its cephx user for volumes, which the hypervisors use too
BACKEND = "rbd-1"
COMMAND = "{} --config-file /etc/cinder/cinder.conf"
CONFIG = ("cinder.conf",)
# The scheduler places a volume only on a backend whose capabilities it has heard, and a backup
# only on a cinder-backup it has heard. cinder-volume and cinder-backup announce themselves once
# they start and then every minute, and an announcement sent before the scheduler listens is
# lost: until the next one, every new volume fails ("No valid backend") or every backup
# ("Service not found for creating backup"). The scheduler shows the volume pools it knows; that
# it knows a backup service shows only by making a backup (of an empty volume, deleted after).
BACKEND_CHECK = toolbox_python(f"""
import sys, time
import openstack

PROBE, BACKEND = "ccp-serving-check", "{BACKEND}"
storage = openstack.connect().block_storage  # keystone's admin, from the OS_* environment


def poll(test, seconds, interval, failure):
    for _ in range(int(seconds / interval)):
        if test():
            return
        time.sleep(interval)
    sys.exit(failure)


def settled(resource, seconds):
    # The resource once available or in error, or as last seen after `seconds`.
    for _ in range(int(seconds / 2)):
        resource = resource.fetch(storage)
        if resource.status in ("available", "error"):
            break
        time.sleep(2)
    return resource


def discard_backup(backup):
    # Deleting goes through the cinder-backup that made the backup. One that a roll replaced
    # never answers (forcing waits a minute for its reply, then fails), so a probe it holds, or
    # one still creating there, is left; it keeps the probe's name.
    if backup.status not in ("available", "error"):
        print(f"left the probe backup {{backup.id}} ({{backup.status}})")
        return
    try:
        storage.delete_backup(backup)
    except Exception as error:  # a probe's clean-up never fails the check
        print(f"left the probe backup {{backup.id}}: {{error}}")


def discard_volume(volume):
    try:
        storage.delete_volume(volume, force=True)
    except Exception as error:
        print(f"left the probe volume {{volume.id}}: {{error}}")


poll(lambda: any(f"@{{BACKEND}}#" in pool.name for pool in storage.backend_pools()), 300, 5,
     f"after 5 minutes the scheduler still knows no pool of the backend {{BACKEND}}")
for backup in storage.backups(name=PROBE, details=True):  # left by an earlier run
    discard_backup(backup)
for volume in storage.volumes(name=PROBE):
    discard_volume(volume)
for attempt in range(30):
    # A fresh volume each time: one whose backup went to a cinder-backup that just stopped stays
    # "backing-up", and that backup never settles.
    volume = settled(storage.create_volume(size=1, name=PROBE), 300)
    if volume.status != "available":
        sys.exit("the probe volume failed")
    backup = settled(storage.create_backup(volume_id=volume.id, name=PROBE), 60)
    discard_backup(backup)
    discard_volume(volume)
    if backup.status == "available":
        print("the scheduler knows the backend's pools and a cinder-backup")
        sys.exit(0)
    time.sleep(5)
sys.exit("after 30 backups the scheduler still sends backups to no cinder-backup")
""")

SERVICE = ServiceDefinition(
    name="cinder",
    kind="Cinder",
    plural="cinders",
    short_names=("cdr",),
    description="OpenStack Block Storage: cinder-api, cinder-scheduler, active-active cinder-volume and "
                "cinder-backup on RBD.",
    pypi_package="cinder",
    package_versions={"2025.1": "26.3.0", "2025.2": "27.0.0", "2026.1": "28.0.0", "2026.2": "29.0.0"},
    components=(
        Component(
            key="api", name="cinder-api", image="cinder-api", user="cinder",
            command="uwsgi /etc/cinder/cinder-api-uwsgi.ini", config_files=("cinder.conf", "cinder-api-uwsgi.ini"),
            replicas=3, port=PORT, api=True,
            readiness=Probe("http", PORT, "/healthcheck"), liveness=Probe("tcp", PORT), cpu="1", memory="1Gi",
        ),
        Component(key="scheduler", name="cinder-scheduler", image="cinder-scheduler", user="cinder",
                  command=COMMAND.format("cinder-scheduler"), config_files=CONFIG, replicas=3,
                  cpu="500m", memory="1Gi"),
        Component(key="volume", name="cinder-volume", image="cinder-volume", user="cinder",
                  command=COMMAND.format("cinder-volume"), config_files=CONFIG, replicas=3,
                  cpu="1", memory="2Gi", ceph_users=("cinder",)),
        # Reads volumes as cinder and writes backups as cinder-backup; attaches the volume it backs
        # up through os-brick, whose privsep daemon keeps CAP_SYS_ADMIN and CAP_DAC_READ_SEARCH.
        Component(key="backup", name="cinder-backup", image="cinder-backup", user="cinder",
                  command=COMMAND.format("cinder-backup"), config_files=CONFIG, replicas=3,
                  cpu="500m", memory="1Gi", ceph_users=("cinder-backup", "cinder"),
                  capabilities=("SYS_ADMIN", "DAC_READ_SEARCH")),
    ),
    config_files=(
        ConfigFile("cinder.conf", "cinder/cinder.conf.j2", "/etc/cinder/cinder.conf",
                   oslo_namespaces=("castellan.config", "cinder", "keystonemiddleware.auth_token", "osprofiler",
                                    "oslo.config", "oslo.concurrency", "oslo.db", "oslo.log", "oslo.messaging",
                                    "oslo.middleware", "oslo.policy", "oslo.privsep", "oslo.reports",
                                    "oslo.service.periodic_task", "oslo.service.service", "oslo.service.sslutils",
                                    "oslo.service.wsgi", "oslo.versionedobjects", "os_brick"),
                   values={"backend": BACKEND}, dynamic_sections={BACKEND: "backend_defaults"},
                   auth_sections=("nova",)),
        ConfigFile("cinder-api-uwsgi.ini", "common/uwsgi.ini.j2", "/etc/cinder/cinder-api-uwsgi.ini",
                   values={"uwsgi": {"port": PORT, "module": "cinder.wsgi.api:application"}}),
    ),
    needs=(GALERA, MEMCACHED, RABBITMQ, KEYSTONE, ETCD, CEPH),
    messaging=Messaging(rpc=True),
    # cinder clones glance's images copy-on-write, so it reads the images pool. The hypervisors'
    # libvirt holds its key: nova attaches a volume as the user cinder names in the volume's
    # connection, and the guests' disks in `vms` are opened as that user too (services/compute.py).
    ceph_clients=(CephClient(VOLUMES_USER, writable=("volumes", "vms"), readable=("images",), libvirt_secret=True),
                  CephClient("cinder-backup", writable=("backups",))),
    databases=("cinder",),
    endpoints=(
        Endpoint("block-storage", "cinder", "cinder-api", "/v3/%(project_id)s", "OpenStack Block Storage"),
        Endpoint("volumev3", "cinderv3", "cinder-api", "/v3/%(project_id)s", "OpenStack Block Storage (v3)"),
    ),
    keystone_user=True,
    jobs=(JobStep("db-sync", image="cinder-api", user="cinder", config_files=CONFIG,
                  command="cinder-manage db sync"),),
    serving_checks=(JobStep("backends-known", image=KOLLA_TOOLBOX, user="ansible", command=BACKEND_CHECK,
                            keystone_admin=True),),
    upgrade=(
        upgrade_check("cinder-status upgrade check", "cinder-api", "cinder", CONFIG),
        UpgradeStep("db-sync", "cinder-manage db sync", image="cinder-api", user="cinder", config_files=CONFIG),
        UpgradeStep("roll"),
        UpgradeStep("online-data-migrations", "cinder-manage db online_data_migrations", image="cinder-api",
                    user="cinder", config_files=CONFIG, after_roll=True),
    ),
    custom_config_dir="/etc/cinder/cinder.conf.d",
)
