"""Keystone: the identity service every other service authenticates through.

The reference architecture runs 5 instances on dedicated nodes behind a load balancer: keystone
is called by every service on every request, so it gets nodes of its own. Tokens are fernet
tokens; the keys are generated once by the operator and copied into each pod at start.
"""

from .base import (GALERA, IDENTITY, MEMCACHED, RABBITMQ, Component, ConfigFile, Endpoint, JobStep, KeyRepository,
                   Messaging, Probe, ServiceDefinition, UpgradeStep, upgrade_check)

PORT = 5000
FERNET_KEYS = 3          # keys 0 (staged), 1 (secondary), 2 (primary)
CREDENTIAL_KEYS = 2

KEYSTONE_CONF = ConfigFile(
    "keystone.conf", "keystone/keystone.conf.j2", "/etc/keystone/keystone.conf",
    oslo_namespaces=("keystone", "oslo.cache", "oslo.log", "oslo.messaging", "oslo.policy", "oslo.db",
                     "oslo.middleware", "osprofiler"),
    values={"fernet_max_active_keys": FERNET_KEYS},
)
UWSGI_INI = ConfigFile("keystone-api-uwsgi.ini", "common/uwsgi.ini.j2", "/etc/keystone/keystone-api-uwsgi.ini",
                       values={"uwsgi": {"port": PORT, "module": "keystone.wsgi.api:application"}})



def migration(name: str, command: str, **when) -> UpgradeStep:
    return UpgradeStep(name, command, image="keystone", user="keystone", config_files=("keystone.conf",), **when)


SERVICE = ServiceDefinition(
    name="keystone",
    kind="Keystone",
    plural="keystones",
    short_names=("ks",),
    description="OpenStack Identity (keystone): API under uWSGI, fernet tokens, bootstrap of the admin "
                "account and the identity endpoints.",
    pypi_package="keystone",
    package_versions={"2025.1": "27.1.0", "2025.2": "28.1.0", "2026.1": "29.1.0", "2026.2": "30.0.0"},
    components=(
        Component(
            key="", name="keystone", image="keystone", user="keystone",
            command="uwsgi /etc/keystone/keystone-api-uwsgi.ini",
            config_files=("keystone.conf", "keystone-api-uwsgi.ini"),
            replicas=5, dedicated=True, port=PORT, api=True,
            readiness=Probe("http", PORT, "/v3"), liveness=Probe("tcp", PORT),
            cpu="2", memory="2Gi",
        ),
    ),
    config_files=(KEYSTONE_CONF, UWSGI_INI),
    needs=(GALERA, MEMCACHED, RABBITMQ),
    messaging=Messaging(rpc=False),  # notifications only: keystone makes no RPC
    publishes=IDENTITY,
    databases=("keystone",),
    endpoints=(Endpoint("identity", "keystone", "keystone", "", "OpenStack Identity"),),
    jobs=(
        JobStep("db-sync", image="keystone", user="keystone", config_files=("keystone.conf",),
                command="keystone-manage db_sync"),
        JobStep("bootstrap", image="keystone", user="keystone", config_files=("keystone.conf",),
                command=(
                    "keystone-manage bootstrap --bootstrap-username admin --bootstrap-project-name admin "
                    "--bootstrap-role-name admin --bootstrap-service-name keystone "
                    "--bootstrap-region-id {{ keystone.region }} "
                    "--bootstrap-internal-url {{ keystone.internal_url }} "
                    "--bootstrap-public-url {{ keystone.public_url }}"),
                secret_env=(("OS_BOOTSTRAP_PASSWORD", "admin-password"),)),
    ),
    # Expand adds what the new release needs while the old one keeps working; contract removes
    # what only the old release used, once no old pod is left.
    upgrade=(
        upgrade_check("keystone-status upgrade check", "keystone", "keystone", ("keystone.conf",)),
        migration("db-expand", "keystone-manage db_sync --expand"),
        migration("db-migrate", "keystone-manage db_sync --migrate"),
        UpgradeStep("roll"),
        migration("db-contract", "keystone-manage db_sync --contract", after_roll=True, contract=True),
    ),
    passwords=("admin-password",),
    custom_config_dir="/etc/keystone/keystone.conf.d",
    key_repositories=(
        KeyRepository("fernet-keys", FERNET_KEYS, "/etc/keystone/fernet-keys"),
        KeyRepository("credential-keys", CREDENTIAL_KEYS, "/etc/keystone/credential-keys"),
    ),
)
