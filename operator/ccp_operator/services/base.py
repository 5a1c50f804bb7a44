"""The shape of a service definition: what one module per OpenStack service declares as data.

A service module (keystone.py, nova.py, ...) says which components it runs, from which Kolla
image and with which command, which configuration files each reads, which databases and
Jobs it needs, what it registers in keystone, and what it depends on. The reconciler turns any
such definition into Kubernetes objects; nothing service-specific lives outside its module and
its templates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

# Dependencies a service can declare, by the kind of resource that provides them.
GALERA, RABBITMQ, MEMCACHED, KEYSTONE, PLACEMENT = "Galera", "RabbitMQ", "Memcached", "Keystone", "Placement"
ETCD, CEPH, NOVA = "Etcd", "Ceph", "Nova"

KOLLA_CONFIG_DIR = "/var/lib/kolla/config_files"
RPC_PORT = 5672  # RabbitMQ's AMQP port, which a connected RPC client holds a socket to

# Open vSwitch's database on every node that runs a switch: a Unix socket only root may use, and
# the node's loopback, where the neutron agents and nova-compute's os-vif (not root) reach it.
OVSDB_PORT = 6640
OVSDB_CONNECTION = f"tcp:127.0.0.1:{OVSDB_PORT}"

# What a service publishes in its status.endpoint for the services that depend on it:
CATALOG_URLS = "catalog-urls"    # the internal URL of each of its catalog entries, by service type
IDENTITY = "identity"            # the identity service: its URLs, region and admin password's Secret;
                                 # it registers its own catalog entry (in its bootstrap)
CACHE_SERVERS = "cache-servers"  # a cache: the address of every server, by stable pod name


@dataclass(frozen=True)
class ConfigFile:
    """A file rendered from a Jinja2 template into the component's config Secret."""

    name: str                              # file name in the Secret, e.g. "nova.conf"
    template: str                          # template path under ccp_operator/templates/
    dest: str                              # where kolla_set_configs copies it in the container
    oslo_namespaces: tuple[str, ...] = ()  # oslo-config-validator namespaces; empty: not an oslo.config file
    mode: str = "0600"
    values: dict[str, Any] = field(default_factory=dict)  # extra template variables of this file
    # Sections whose options oslo.config registers only at run time, so the sample config cannot
    # list them: a backend section named by the operator -> the group that lists its options,
    dynamic_sections: dict[str, str] = field(default_factory=dict)
    # and sections holding keystoneauth plugin options (loaded by auth_type at run time).
    auth_sections: tuple[str, ...] = ()


@dataclass(frozen=True)
class Probe:
    """A readiness/liveness check on the real endpoint of a component."""

    kind: Literal["http", "tcp", "exec"]
    port: int = 0
    path: str = "/"
    command: tuple[str, ...] = ()

    @classmethod
    def holds_rpc_connection(cls, process: str) -> "Probe":
        """Ready while `process` holds its connection to RabbitMQ (Kolla's healthcheck_port): an
        agent whose RPC client died keeps running, so its process alone proves nothing."""
        return cls("exec", command=("healthcheck_port", process, str(RPC_PORT)))


@dataclass(frozen=True)
class HostPath:
    """A directory of the node a per-node component shares with the host and its neighbours
    (libvirt's sockets with nova-compute, the instances' disks)."""

    name: str
    path: str
    read_only: bool = False
    # Mounts made below it inside the pod reach the host and the other pods (Bidirectional
    # propagation, privileged only): the network namespaces the neutron agents create.
    propagate: bool = False


@dataclass(frozen=True)
class NodeSet:
    """Nodes a service's per-node components run on: one DaemonSet per set and component.

    A node runs the set's pods when it matches any of `selectors`; `values` are the set's own
    template variables (a compute node group's virtualization settings)."""

    name: str                                 # the DaemonSets' name suffix and node-group label
    selectors: tuple[dict[str, str], ...]
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Component:
    """One long-running program of a service: one Deployment (or StatefulSet)."""

    key: str                               # its section in the service's spec ("" = the service's own fields)
    name: str                              # e.g. "nova-api"; also the workload's name suffix and component label
    image: str                             # Kolla image name
    command: str                           # the command kolla_start runs
    user: str                              # Kolla user owning its config files
    config_files: tuple[str, ...]          # names of the service's ConfigFiles it reads
    replicas: int = 3
    dedicated: bool = False
    port: int | None = None                # the port its Service exposes
    api: bool = False                      # an API behind a load balancer (LoadBalancer Service allowed)
    readiness: Probe | None = None
    liveness: Probe | None = None
    co_locate_with: tuple[str, ...] = ()   # component names whose nodes it must run on
    prefer_near: tuple[str, ...] = ()      # component names whose nodes it prefers
    # A node set of its service whose nodes it prefers: known before any pod of the set exists,
    # unlike the nodes of components (neutron-server on the network nodes, beside its agents).
    prefer_node_set: str = ""
    cpu: str = "250m"
    memory: str = "512Mi"
    stateful: bool = False                 # StatefulSet with stable pod names (memcached, galera, rabbitmq)
    ceph_users: tuple[str, ...] = ()       # cephx users whose ceph.conf and keyring it reads (of ceph_clients)
    privileged: bool = False
    # Linux capabilities beyond the runtime's defaults, for what its privsep daemon keeps (short of
    # privileged): a daemon that cannot keep its capabilities fails to start.
    capabilities: tuple[str, ...] = ()
    # One pod on every node of each of the service's node sets (a DaemonSet), instead of replicas.
    per_node: bool = False
    host_network: bool = False             # the node's network stack (hypervisors' and switches' agents)
    host_pid: bool = False                 # the node's process table (libvirt's guests outlive their pod)
    # A per-node component whose pods hold what a restart would kill (libvirt's guests): a new
    # template reaches a node's pod only when that pod is deleted, once the node is drained of
    # guests, never by a rolling update (an upgrade rolls the others around it).
    replaced_when_drained: bool = False
    host_paths: tuple[HostPath, ...] = ()
    owns: tuple[str, ...] = ()             # of its host paths, those its user owns (Kolla's permissions at start)
    # The node sets it runs on, by name (a per-node component; empty: every set of the service).
    node_sets: tuple[str, ...] = ()
    # Environment variables from the pod's own fields (the Downward API): variable -> field path.
    field_env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class JobStep:
    """A run-to-completion step (db sync, bootstrap, registration), re-run when its pod changes."""

    name: str                              # e.g. "db-sync"; the Job is named <instance>-<service>-<name>-<hash>
    image: str                             # Kolla image name
    command: str                           # shell command
    user: str
    config_files: tuple[str, ...] = ()
    secret_env: tuple[tuple[str, str], ...] = ()  # (environment variable, generated password name)
    keystone_admin: bool = False           # runs the openstack CLI as keystone's admin (with KEYSTONE in needs)


@dataclass(frozen=True)
class UpgradeStep:
    """One step of moving a running service to a new release, in its declared order.

    A migration runs a Job with the new release's image (named by the target version, so each
    step is visible and re-runnable); `after_roll` migrations (contract, online data migrations)
    wait until every pod of the service runs the new release. A roll moves the named components
    (all not yet moved, when none are named) to the new release, one pod at a time."""

    name: str                              # e.g. "db-expand", "roll-conductor"
    command: str = ""                      # a migration's shell command; empty: a roll
    image: str = ""                        # a migration's Kolla image
    user: str = ""
    config_files: tuple[str, ...] = ()
    components: tuple[str, ...] = ()       # a roll's components (names); empty: every one left
    after_roll: bool = False               # a migration that needs every pod on the new release
    contract: bool = False                 # past it, going back to the old release is refused

    @property
    def is_roll(self) -> bool:
        return not self.command

    def job_step(self) -> "JobStep":
        return JobStep(self.name, image=self.image, user=self.user, command=self.command,
                       config_files=self.config_files)


def upgrade_check(command: str, image: str, user: str, config_files: tuple[str, ...]) -> UpgradeStep:
    """The new release's own checks of the running cloud (oslo.upgradecheck's `<service>-status
    upgrade check`), before anything of the service moves: exit 0 passes, 1 passes with warnings
    (in the Job's log), 2 fails the step, which stops the upgrade with the report in its condition."""
    return UpgradeStep("upgrade-check", f'{command} || [ "$?" -eq 1 ]', image=image, user=user,
                       config_files=config_files)


@dataclass(frozen=True)
class KeyRepository:
    """Keys generated once (fernet, credential) and copied into the pods' key directory."""

    name: str                              # e.g. "fernet-keys"
    count: int                             # key files 0..count-1
    dest: str                              # directory in the container


@dataclass(frozen=True)
class Endpoint:
    """A catalog entry registered in keystone for an API component."""

    service_type: str                      # "compute"
    service_name: str                      # "nova"
    component: str                         # the API component serving it
    path: str = ""                         # URL path after host:port, e.g. "/v2.1"
    description: str = ""


@dataclass(frozen=True)
class Messaging:
    """What the service's RabbitMQ user may do: everything on the RPC vhost (`rpc`), and on the
    notifications vhost publish through its own exchange (`notifications`)."""

    rpc: bool
    notifications: bool = True
    exchange: str = ""  # its RPC and notifications exchange (control_exchange); default: the service's name


@dataclass(frozen=True)
class CephClient:
    """A cephx user of the service: RBD read-write on the `writable` pool roles, read-only on the
    `readable` ones (services/ceph.POOL_ROLES), nothing else."""

    user: str
    writable: tuple[str, ...]
    readable: tuple[str, ...] = ()
    libvirt_secret: bool = False  # the hypervisors' libvirt holds its key (a libvirt secret)


@dataclass(frozen=True)
class ServiceDefinition:
    name: str                              # "nova"
    kind: str                              # "Nova"
    plural: str                            # "novas"
    short_names: tuple[str, ...]
    description: str
    components: tuple[Component, ...]
    config_files: tuple[ConfigFile, ...] = ()
    needs: tuple[str, ...] = ()            # kinds of the resources it waits for
    databases: tuple[str, ...] = ()        # schemas its database user owns
    endpoints: tuple[Endpoint, ...] = ()
    keystone_user: bool = False            # a service user in keystone (for keystone_authtoken and clients)
    jobs: tuple[JobStep, ...] = ()         # in order, after the database exists and before the workloads
    # Jobs that wait, once every workload is available, until the service really serves what its
    # pods' probes cannot see (cinder: its scheduler knows the volume backends); Ready waits for
    # them, and a new rollout runs them again.
    serving_checks: tuple[JobStep, ...] = ()
    pypi_package: str | None = None        # whose release pins the oslo.config namespaces
    # Its package's version in each OpenStack series the operator supports (the newest final
    # release of the series): what the images of a series install, and what validates its files.
    package_versions: dict[str, str] = field(default_factory=dict)
    passwords: tuple[str, ...] = field(default=())  # extra generated secrets beyond database/keystone ones
    custom_config_dir: str = ""           # oslo.config reads *.conf here after the main file (customConfig goes here)
    key_repositories: tuple[KeyRepository, ...] = ()
    shared_secrets: tuple[str, ...] = ()   # secrets two services share ("metadata-proxy": nova and neutron)
    upgrade: tuple[UpgradeStep, ...] = (UpgradeStep("roll"),)  # moving to a new release, in order
    messaging: Messaging | None = None     # its RabbitMQ user's rights (with RABBITMQ in needs)
    publishes: str = CATALOG_URLS          # what its status.endpoint holds (above)
    ceph_clients: tuple[CephClient, ...] = ()  # its cephx users (with CEPH in needs)
    # The nodes its per-node components run on, from its spec (None: it has no per-node component).
    node_sets: Callable[[dict[str, Any]], tuple[NodeSet, ...]] | None = None
    # What its spec's schema cannot express: spec -> (field, problem) pairs, each refused with a
    # condition naming the field (compute: two node groups that could select one node).
    spec_problems: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None
    # Fields of its spec that a control plane derives from the plane's other sections (neutron's
    # switches on the hypervisors of compute's node groups): plane spec -> fields.
    from_plane: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def component(self, name: str) -> Component:
        return next(c for c in self.components if c.name == name)

    def component_node_sets(self, component: Component, spec: dict[str, Any]) -> tuple[NodeSet, ...]:
        """The node sets a per-node component runs on, for `spec`."""
        return tuple(node_set for node_set in self.node_sets(spec)
                     if not component.node_sets or node_set.name in component.node_sets)

    def problems(self, spec: dict[str, Any]) -> list[tuple[str, str]]:
        """What its `spec_problems` hook refuses in `spec` (nothing without one)."""
        return self.spec_problems(spec) if self.spec_problems else []

    def config_file(self, name: str) -> ConfigFile:
        return next(f for f in self.config_files if f.name == name)

    @property
    def exchange(self) -> str:
        """The exchange it talks and publishes through (`control_exchange`): its own name, unless
        it serves another service's RPC (the hypervisors' nova-compute, nova's)."""
        return (self.messaging.exchange if self.messaging else "") or self.name

    @property
    def single_component(self) -> bool:
        return len(self.components) == 1 and self.components[0].key == ""


@dataclass(frozen=True)
class InfrastructureDefinition:
    """A stateful kind the OpenStack services stand on (etcd, Galera, RabbitMQ, Ceph): members
    with volumes and a quorum, a spec section of its own (api/sections.py), its own reconciler."""

    kind: str                              # "Galera"
    plural: str
    short_names: tuple[str, ...]
    description: str
    default_replicas: int
    quorum_field: str = "replicas"         # the member count that must be odd (a path in its section)
    members: str = "members"               # what to call its members in messages
    needs: tuple[str, ...] = ()            # kinds of OpenStack services it waits for
    dependencies: tuple[str, ...] = ()     # every kind whose endpoint it reads
    plane_fields: tuple[str, ...] = ()     # fields of the control plane it takes as its own

    @property
    def section(self) -> str:
        """Its section name in the OpenStackControlPlane spec."""
        return self.kind.lower()

    def member_count(self, section: dict[str, Any]) -> int:
        """The member count `section` (its own spec, or its section of the control plane) asks for."""
        value: Any = section
        for part in self.quorum_field.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return self.default_replicas if value is None else value

