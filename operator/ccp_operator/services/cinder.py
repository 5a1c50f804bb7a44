"""Cinder: the block storage API, scheduler, volume and backup services, with volumes and backups
in Ceph RBD.

cinder-volume runs three instances active-active, as Cinder supports it: they share one
`[DEFAULT] cluster` name and coordinate through a tooz backend (etcd), so any of them can manage
any volume and the others take over when one is lost.
"""

from ..images import KOLLA_TOOLBOX
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
BACKEND_CHECK = f"""probe=ccp-serving-check
for attempt in $(seq 60); do
  if openstack volume backend pool list -f value -c Name | grep -q '@{BACKEND}#'; then break; fi
  [ "$attempt" = 60 ] && {{ echo "after 5 minutes the scheduler still knows no pool of the backend {BACKEND}" >&2; exit 1; }}
  sleep 5
done
settled() {{  # settled ID KIND...: its status once available or error, else the last one seen
  id=$1; shift
  for attempt in $(seq 60); do
    now=$(openstack "$@" show "$id" -f value -c status 2>/dev/null || true)
    case "$now" in available|error) break;; esac
    sleep 5
  done
  echo "$now"
}}
for id in $(openstack volume backup list --name $probe -f value -c ID); do openstack volume backup delete $id; done
for id in $(openstack volume list --name $probe -f value -c ID); do openstack volume delete $id; done
volume=$(openstack volume create --size 1 $probe -f value -c id)
[ "$(settled $volume volume)" = available ] || {{ echo "the probe volume failed" >&2; exit 1; }}
for attempt in $(seq 30); do
  backup=$(openstack volume backup create --name $probe $volume -f value -c id)
  reached=$(settled $backup volume backup)
  openstack volume backup delete $backup
  if [ "$reached" = available ]; then openstack volume delete $volume; exit 0; fi
  sleep 10
done
openstack volume delete $volume
echo "after 30 backups the scheduler still sends backups to no cinder-backup" >&2
exit 1"""

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
