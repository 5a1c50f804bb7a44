"""Heat: the orchestration service, which creates and deletes whole stacks of servers, networks,
ports, volumes and load balancers from one template (the eCommerce reference architecture
deploys its web, application and database tiers with it).

heat-api (the native API) and heat-api-cfn (the CloudFormation-compatible API, which also serves
the metadata and wait conditions of servers in a stack) run under uWSGI; heat-engine does the
work, reached over RPC. Stacks act for their owner through keystone trusts delegated to the heat
service user (the trustee); the users and projects a stack itself creates live in a domain of
their own, managed by a domain admin user.
"""

from ..images import KOLLA_TOOLBOX, toolbox_python
from .base import (GALERA, KEYSTONE, MEMCACHED, RABBITMQ, Component, ConfigFile, Endpoint, JobStep, Messaging, Probe,
                   ServiceDefinition, UpgradeStep, upgrade_check)

PORT = 8004
CFN_PORT = 8000
DOMAIN = "heat_user_domain"        # holds the users and projects stacks create
DOMAIN_ADMIN = "heat_domain_admin"
STACK_OWNER_ROLE = "heat_stack_owner"
STACK_USER_ROLE = "heat_stack_user"  # the role of users a stack creates (heat's own default name)
CONFIG = ("heat.conf",)

HEAT_CONF = ConfigFile(
    "heat.conf", "heat/heat.conf.j2", "/etc/heat/heat.conf",
    # heat's own config-generator list, with oslo.db, whose options heat registers when it opens
    # the database.
    oslo_namespaces=("cotyledon", "heat.common.cache", "heat.common.config", "heat.common.context",
                     "heat.common.crypt", "heat.engine.clients.os.keystone.heat_keystoneclient",
                     "heat.engine.hot.functions", "heat.common.wsgi", "heat.engine.clients",
                     "heat.engine.notification", "heat.engine.resources", "heat.api.aws.ec2token",
                     "keystonemiddleware.auth_token", "oslo.cache", "oslo.db", "oslo.messaging",
                     "oslo.middleware", "oslo.log", "oslo.policy", "oslo.reports", "oslo.versionedobjects",
                     "osprofiler"),
    values={"domain": DOMAIN, "domain_admin": DOMAIN_ADMIN, "stack_user_role": STACK_USER_ROLE},
    auth_sections=("trustee", "ec2authtoken"),
)

# keystone's side of heat, as keystone's admin: the stack domain and its admin, and the roles.
# The password stays in the environment.
DOMAIN_SETUP = toolbox_python(f"""
import os
import openstack

identity = openstack.connect().identity  # keystone's admin, from the OS_* environment
domain = (identity.find_domain("{DOMAIN}")
          or identity.create_domain(name="{DOMAIN}", description="Users and projects of heat stacks"))
password = os.environ["DOMAIN_ADMIN_PASSWORD"]
admin = identity.find_user("{DOMAIN_ADMIN}", domain_id=domain.id)
if admin is None:
    admin = identity.create_user(name="{DOMAIN_ADMIN}", domain_id=domain.id, password=password)
else:
    identity.update_user(admin, password=password)
identity.assign_domain_role_to_user(domain, admin, identity.find_role("admin", ignore_missing=False))
for role in ("{STACK_OWNER_ROLE}", "{STACK_USER_ROLE}"):
    if identity.find_role(role) is None:
        identity.create_role(name=role)
cloud_admin = identity.find_user("admin", domain_id="default", ignore_missing=False)
identity.assign_project_role_to_user(identity.find_project("admin", domain_id="default", ignore_missing=False),
                                     cloud_admin, identity.find_role("{STACK_OWNER_ROLE}", ignore_missing=False))
print("the stack domain, its admin and the stack roles are in keystone")
""")


def uwsgi_ini(name: str, port: int, module: str) -> ConfigFile:
    return ConfigFile(name, "common/uwsgi.ini.j2", f"/etc/heat/{name}",
                      values={"uwsgi": {"port": port, "module": module}})


SERVICE = ServiceDefinition(
    name="heat",
    kind="Heat",
    plural="heats",
    short_names=("ht",),
    description="OpenStack Orchestration: heat-api and heat-api-cfn under uWSGI, heat-engine.",
    pypi_package="openstack-heat",
    package_versions={"2025.1": "24.1.2", "2025.2": "25.0.2", "2026.1": "26.0.2", "2026.2": "27.0.1"},
    components=(
        Component(key="api", name="heat-api", image="heat-api", user="heat",
                  command="uwsgi /etc/heat/heat-api-uwsgi.ini", config_files=("heat.conf", "heat-api-uwsgi.ini"),
                  replicas=3, port=PORT, api=True,
                  readiness=Probe("http", PORT, "/healthcheck"), liveness=Probe("tcp", PORT), cpu="1", memory="1Gi"),
        Component(key="cfn", name="heat-api-cfn", image="heat-api-cfn", user="heat",
                  command="uwsgi /etc/heat/heat-api-cfn-uwsgi.ini",
                  config_files=("heat.conf", "heat-api-cfn-uwsgi.ini"), replicas=3, port=CFN_PORT, api=True,
                  readiness=Probe("http", CFN_PORT, "/healthcheck"), liveness=Probe("tcp", CFN_PORT),
                  cpu="500m", memory="512Mi"),
        Component(key="engine", name="heat-engine", image="heat-engine", user="heat",
                  command="heat-engine --config-file /etc/heat/heat.conf", config_files=CONFIG, replicas=3,
                  cpu="1", memory="2Gi"),
    ),
    config_files=(
        HEAT_CONF,
        uwsgi_ini("heat-api-uwsgi.ini", PORT, "heat.wsgi.api:application"),
        uwsgi_ini("heat-api-cfn-uwsgi.ini", CFN_PORT, "heat.wsgi.cfn:application"),
    ),
    needs=(GALERA, MEMCACHED, RABBITMQ, KEYSTONE),
    messaging=Messaging(rpc=True),
    databases=("heat",),
    endpoints=(
        Endpoint("orchestration", "heat", "heat-api", "/v1/%(project_id)s", "OpenStack Orchestration"),
        Endpoint("cloudformation", "heat-cfn", "heat-api-cfn", "/v1", "OpenStack Orchestration (CloudFormation)"),
    ),
    keystone_user=True,
    passwords=("domain-admin-password", "auth-encryption-key"),  # the key: 32 characters, as heat requires
    jobs=(
        JobStep("db-sync", image="heat-api", user="heat", config_files=CONFIG, command="heat-manage db_sync"),
        JobStep("stack-domain", image=KOLLA_TOOLBOX, user="ansible", command=DOMAIN_SETUP, keystone_admin=True,
                secret_env=(("DOMAIN_ADMIN_PASSWORD", "domain-admin-password"),)),
    ),
    upgrade=(
        upgrade_check("heat-status upgrade check", "heat-api", "heat", CONFIG),
        UpgradeStep("db-sync", "heat-manage db_sync", image="heat-api", user="heat", config_files=CONFIG),
        UpgradeStep("roll"),
    ),
    custom_config_dir="/etc/heat/heat.conf.d",
)
