"""Reconciliation of one OpenStack service resource from its ServiceDefinition.

The steps, in order; each either completes or raises Waiting, and the status says which:
  1. dependencies Ready (galera, rabbitmq, memcached, keystone, placement as the service needs);
  2. generated credentials (created once, never overwritten);
  3. database and user (a Job running the MariaDB client against the Galera writer);
  4. the service's Jobs (db sync, bootstrap), each named by the hash of its pod template;
  5. keystone registration (service user, catalog entries) through the kolla-toolbox;
  6. configuration Secrets, workloads, Services and PodDisruptionBudgets;
  7. every workload rolled out and available;
  8. the serving checks (Jobs that wait until the service really serves, e.g. cinder's backends).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .. import conditions, dependencies, images, kolla, labels, placement, releases, render, secrets, workloads
from ..api import API_VERSION
from ..dependencies import REFERENCE_FIELDS
from ..endpoints import CacheEndpoint, CatalogEndpoint, IdentityEndpoint
from ..errors import InvalidSpec, Waiting
from ..kube.client import Kube
from ..services.base import (CACHE_SERVERS, CEPH, ETCD, GALERA, IDENTITY, KEYSTONE, MEMCACHED, NOVA, PLACEMENT,
                             RABBITMQ, Component, JobStep, NodeSet, ServiceDefinition)
from ..workloads import ComponentSettings
from . import jobs, upgrade
from .base import Outcome, Reconciler
from .identity import keystone_admin_env, registration_script
from .jobs import from_secret

DEFAULT_WORKERS = 4
# How many nodes of a node set a per-node component (nova-compute) rolls at once, by default: a
# 1000-hypervisor fleet in ten waves.
DEFAULT_MAX_UNAVAILABLE = "10%"
MIGRATION_RETRIES = 1
DATABASE_CLIENT = "database-client"  # a step's image: the one the Galera in use publishes


def service_version(spec: dict[str, Any]) -> str:
    return spec.get("version") or spec["release"]


def component_spec(definition: ServiceDefinition, component: Component, spec: dict[str, Any]) -> dict[str, Any]:
    return spec if definition.single_component else (spec.get(component.key) or {})


def component_settings(definition: ServiceDefinition, component: Component, spec: dict[str, Any],
                       version: str | None = None) -> ComponentSettings:
    """`version`: the release the component runs at this point of an upgrade (default: the spec's)."""
    own = component_spec(definition, component, spec)
    version = own.get("version") or version or service_version(spec)
    image = own.get("image") or spec.get("image") or images.kolla(component.image, version, spec.get("images"))
    resources = own.get("resources") or spec.get("resources") or {
        "requests": {"cpu": component.cpu, "memory": component.memory}}
    return ComponentSettings(
        replicas=own.get("replicas", component.replicas),
        dedicated=own.get("dedicated", component.dedicated),
        image=image,
        resources=resources,
        node_selector=placement.merged_node_selector(spec.get("nodeSelector"), own.get("nodeSelector")),
        custom_config=own.get("customConfig") if own is not spec else None,
        load_balancer=own.get("loadBalancer") or {},
        max_unavailable=own.get("maxUnavailable") or spec.get("maxUnavailable") or DEFAULT_MAX_UNAVAILABLE,
        preferred_nodes=next((node_set.selectors for node_set in definition.node_sets(spec)
                              if node_set.name == component.prefer_node_set), ()) if component.prefer_node_set else (),
    )


def credential_keys(definition: ServiceDefinition) -> list[str]:
    """The passwords generated once for the service, in its credentials Secret."""
    keys = list(definition.passwords)
    if definition.databases:
        keys.append("database-password")
    if definition.keystone_user:
        keys.append("keystone-password")
    return keys


def validate(definition: ServiceDefinition, spec: dict[str, Any]) -> None:
    """Checks what the schema cannot express; raises InvalidSpec naming the field."""
    if spec.get("customConfig"):
        render.check_custom_config("spec.customConfig", spec["customConfig"])
    for component in definition.components:
        own = component_spec(definition, component, spec)
        if own is not spec and own.get("customConfig"):
            render.check_custom_config(f"spec.{component.key}.customConfig", own["customConfig"])
    for field_path, problem in definition.problems(spec):
        raise InvalidSpec(field_path, problem)


class ServiceReconciler(Reconciler):
    def __init__(self, kube: Kube, definition: ServiceDefinition, body: dict[str, Any]):
        self.kind = definition.kind
        super().__init__(kube, body)
        self.definition = definition
        self.version = service_version(self.spec)
        self.rolled_out_inputs: dict[str, str] = {}  # each component's inputs hash, as last applied

    # -- names -------------------------------------------------------------------------------

    @property
    def credentials_secret(self) -> str:
        return f"{self.owner.name}-{self.definition.name}-credentials"

    def key_secret(self, repository: str) -> str:
        return f"{self.owner.name}-{self.definition.name}-{repository}"

    @property
    def key_secrets(self) -> dict[str, str]:
        """Each key repository's Secret, by repository."""
        return {repo.name: self.key_secret(repo.name) for repo in self.definition.key_repositories}

    # -- the pass ------------------------------------------------------------------------------

    def validate(self) -> None:
        validate(self.definition, self.spec)

    @property
    def version_field(self) -> str:
        return "spec.version" if self.spec.get("version") else "spec.release"

    def reconcile(self) -> Outcome:
        self.validate()
        status = self.body.get("status") or {}
        running = status.get("version")
        self._check_revert(status)
        deps = self.step("DependenciesReady", "Ready", lambda: dependencies.resolve(
            self.kube, self.namespace, self.spec, self.definition.needs, self.owner.name))
        credentials = self._ensure_credentials()
        context = self._context(deps, credentials)
        if running and running != self.version:
            return self._upgrade(status, running, deps, context)
        if self.definition.databases:
            self.step("DatabaseReady", "Created",
                      lambda: self._run_job(self._database_step(), context, deps, "DatabaseReady",
                                            env=self._database_env(deps)))
        for step in self.definition.jobs:
            condition = self._step_condition(step)
            env = keystone_admin_env(deps[KEYSTONE]) if step.keystone_admin else None
            self.step(condition, "Completed", lambda s=step, c=condition, e=env: self._run_job(s, context, deps, c,
                                                                                                env=e))
        # A service with a catalog entry or a keystone user of its own (the hypervisors' nova-compute)
        # registers them; keystone registers itself.
        if (self.definition.endpoints or self.definition.keystone_user) and self.definition.publishes != IDENTITY:
            self.step("KeystoneRegistered", "Registered",
                      lambda: self._run_job(self._registration_step(), context, deps, "KeystoneRegistered",
                                            env=self._registration_env(deps)))
        components = self.step("WorkloadsReady", "Available", lambda: self._apply_components(context))
        self._check_serving(context, deps)
        return Outcome(components, self._endpoint(context), self.version)

    # -- upgrades ---------------------------------------------------------------------------------

    def _check_revert(self, status: dict[str, Any]) -> None:
        """The spec left the release an unfinished upgrade goes to: back to where it came from
        (allowed until a contract step ran), or elsewhere (refused until it is finished)."""
        record = upgrade.in_progress(status)
        if not record or record["toVersion"] == self.version:
            return
        moving = f"the upgrade {record['fromVersion']} -> {record['toVersion']}"
        if self.version != record["fromVersion"]:
            raise InvalidSpec(self.version_field, f"{moving} is not finished: set {record['toVersion']} to finish it "
                                                  f"(or {record['fromVersion']} to go back) first")
        contract = upgrade.contracted(self.definition, record)
        if contract:
            raise InvalidSpec(self.version_field, f"{moving} has passed its {contract} step: the database no longer "
                                                  f"serves {record['fromVersion']}; set {record['toVersion']} again")
        self.extra_status["upgrade"] = {**record, "state": upgrade.REVERTED}
        self.event("UpgradeReverted", f"{moving} reverted at step {record.get('step') or '-'}: "
                                      f"rolling back to {record['fromVersion']}")

    def _upgrade(self, status: dict[str, Any], running: str, deps: dict[str, dict[str, Any]],
                 context: dict[str, Any]) -> Outcome:
        """One pass of the upgrade running -> self.version: the steps not done yet, in order."""
        refusal = releases.upgrade_refusal(running, self.version)
        if refusal:
            raise InvalidSpec(self.version_field, refusal)
        record = upgrade.progress(status, running, self.version)
        self.extra_status["upgrade"] = record
        moving = f"{running} -> {self.version}"
        try:
            if not record["stepsDone"] and not record["step"]:
                self._check_healthy(running)
            for step in self.definition.upgrade:
                if step.name in record["stepsDone"]:
                    continue
                if record["step"] != step.name:
                    if self._paused():
                        record["state"] = upgrade.PAUSED
                        raise Waiting("UpgradePaused", f"paused before step {step.name}")
                    record["step"] = step.name
                    self.event("UpgradeStep", f"{moving}: step {step.name} started")
                record["state"] = upgrade.RUNNING
                if step.is_roll:
                    self._apply_components(context, upgrade.component_versions(self.definition, record))
                else:
                    job = replace(step.job_step(), name=upgrade.job_step_name(step, self.version))
                    # A migration that fails twice is not retried blindly: the upgrade stops and
                    # says why, with the old release still serving.
                    self._run_job(job, context, deps, "UpgradeComplete", backoff_limit=MIGRATION_RETRIES)
                record["stepsDone"].append(step.name)
                record["step"] = ""
                self.event("UpgradeStep", f"{moving}: step {step.name} done")
        except Waiting as exc:
            if exc.reason == "JobFailed":
                record["state"] = upgrade.FAILED
            self.steps.append(conditions.Condition("UpgradeComplete", False, exc.reason,
                                                   f"{moving}, step {record['step'] or '-'}: {exc.message}"))
            raise
        record["state"] = upgrade.COMPLETED
        self.steps.append(conditions.Condition("UpgradeComplete", True, "Completed", f"{moving} completed"))
        components = self._apply_components(context)
        self._check_serving(context, deps)
        return Outcome(components, self._endpoint(context), self.version)

    def _paused(self) -> bool:
        """Paused in its own spec, or in the control plane it belongs to: read from the control
        plane itself, so a pause takes effect at the next step even while the control plane's
        handler waits to pass it down."""
        if self.spec.get("paused"):
            return True
        owner = next((ref for ref in self.body["metadata"].get("ownerReferences") or []
                      if ref.get("kind") == "OpenStackControlPlane"), None)
        plane = owner and self.kube.get(API_VERSION, "OpenStackControlPlane", self.namespace, owner["name"])
        if not plane:
            return False
        section = (plane.get("spec") or {}).get(self.definition.name) or {}
        return bool(plane["spec"].get("paused") or section.get("paused"))

    def _check_healthy(self, running: str) -> None:
        """An upgrade starts only from a service whose every pod runs its current release."""
        not_ready = []
        for component in self.definition.components:
            settings = component_settings(self.definition, component, self.spec, running)
            if component.per_node:
                for node_set in self.definition.component_node_sets(component, self.spec):
                    live = self.kube.get("apps/v1", "DaemonSet", self.namespace,
                                         workloads.per_node_name(self.owner, component, node_set))
                    rollout = workloads.Rollout.of(live, None)
                    if not rollout.done:
                        not_ready.append(f"{component.name} {rollout.ready}/{rollout.replicas} on {node_set.name}")
                continue
            live = self.kube.get("apps/v1", "StatefulSet" if component.stateful else "Deployment", self.namespace,
                                 workloads.workload_name(self.owner, component))
            rollout = workloads.Rollout.of(live, settings.replicas)
            if not rollout.done:
                not_ready.append(f"{component.name} {rollout.ready}/{settings.replicas}")
        if not_ready:
            raise Waiting("NotHealthy", f"not starting the upgrade: {', '.join(not_ready)} ready at {running}")

    def _check_serving(self, context: dict[str, Any], deps: dict[str, dict[str, Any]]) -> None:
        """The service's serving checks, once its workloads are available: a new rollout (other
        inputs of any workload) makes them new Jobs, run again."""
        rollout = [{"name": "CHECKED_ROLLOUT", "value": workloads.inputs_hash(self.rolled_out_inputs)[:16]}]
        for check in self.definition.serving_checks:
            condition = self._step_condition(check)
            env = (keystone_admin_env(deps[KEYSTONE]) if check.keystone_admin else []) + rollout
            self.step(condition, "Passed", lambda c=check, n=condition, e=env: self._run_job(c, context, deps, n,
                                                                                              env=e))

    @staticmethod
    def _step_condition(step: JobStep) -> str:
        return "".join(part.capitalize() for part in step.name.split("-")) + "Complete"

    # -- credentials and context ------------------------------------------------------------------

    def _ensure_credentials(self) -> dict[str, Any]:
        keys = credential_keys(self.definition)
        values: dict[str, Any] = {}
        if keys:
            values = secrets.ensure(self.kube, self.namespace, self.credentials_secret, keys,
                                    service=self.definition.name, instance=self.owner.name)
        for repo in self.definition.key_repositories:
            secrets.ensure(self.kube, self.namespace, self.key_secret(repo.name),
                           [str(i) for i in range(repo.count)], service=self.definition.name,
                           instance=self.owner.name, generate=secrets.new_fernet_key)
        return values

    def _context(self, deps: dict[str, dict[str, Any]], credentials: dict[str, Any]) -> dict[str, Any]:
        messaging_password = None
        if RABBITMQ in deps:
            user = self.definition.name
            secret = self.kube.get("v1", "Secret", self.namespace, deps[RABBITMQ]["userSecrets"][user])
            if secret is None:
                raise Waiting("WaitingForRabbitMQ", f"waiting for the RabbitMQ user secret of {user}")
            messaging_password = secrets.decoded(secret)["password"]
        ceph_files, libvirt_secret = self._ceph_files(deps[CEPH]) if CEPH in deps else ({}, None)
        shared = {name: secrets.ensure(self.kube, self.namespace, f"{self.owner.name}-{name}", ["value"],
                                       service=self.definition.name, instance=self.owner.name)["value"]
                  for name in self.definition.shared_secrets}
        context = service_context(self.definition, self.spec, self.owner.name, self.namespace, deps, credentials,
                                  messaging_password, shared)
        if ceph_files:
            context["ceph"]["files"] = ceph_files
        if libvirt_secret:
            context["ceph"]["libvirt"] = libvirt_secret
        return context

    def _ceph_files(self, ceph_endpoint: dict[str, Any]) -> tuple[dict[str, dict[str, str]], dict[str, str] | None]:
        """ceph.conf and keyring of each cephx user a component reads, from the Ceph client Secrets,
        and the libvirt secret (xml and key) of the user whose key the hypervisors' libvirt holds."""
        users = sorted({user for component in self.definition.components for user in component.ceph_users})
        files, libvirt_secret = {}, None
        for user in users:
            name = ceph_endpoint["clients"][user]["secret"]
            secret = self.kube.get("v1", "Secret", self.namespace, name)
            if secret is None:
                raise Waiting("WaitingForCeph", f"waiting for the Ceph client Secret {name}")
            data = secrets.decoded(secret)
            files[user] = {key: value for key, value in data.items() if key == "ceph.conf" or key.endswith(".keyring")}
            if "libvirt-secret.xml" in data:
                libvirt_secret = {"xml": data["libvirt-secret.xml"], "key": data["libvirt-secret.base64"]}
        return files, libvirt_secret

    def _endpoint(self, context: dict[str, Any]) -> dict[str, Any] | None:
        """What this service publishes for its dependents once Ready (its `publishes`)."""
        if self.definition.publishes == IDENTITY:
            return keystone_endpoint(self.definition, self.spec, self.owner.name, self.namespace)
        if self.definition.publishes == CACHE_SERVERS:
            component = self.definition.components[0]
            settings = component_settings(self.definition, component, self.spec)
            base = workloads.workload_name(self.owner, component)
            return CacheEndpoint(servers=[f"{base}-{i}.{base}.{self.namespace}.svc:{component.port}"
                                          for i in range(settings.replicas)])
        urls = {}
        for endpoint in self.definition.endpoints:
            component = self.definition.component(endpoint.component)
            host = f"{workloads.workload_name(self.owner, component)}.{self.namespace}.svc"
            urls[endpoint.service_type] = f"http://{host}:{component.port}{endpoint.path}"
        if not urls:
            return None
        public = {name: component["public"] for name, component in context["endpoints"].items()}
        return CatalogEndpoint(internalURLs=urls, publicURLs=public)

    # -- jobs ------------------------------------------------------------------------------------

    def _database_step(self) -> JobStep:
        # Backquotes escaped: the SQL is a here-document of the shell (which expands the passwords).
        statements = [f"CREATE DATABASE IF NOT EXISTS \\`{db}\\`;" for db in self.definition.databases]
        user = self.definition.name
        statements += [f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '${{DB_PASSWORD}}';",
                       f"ALTER USER '{user}'@'%' IDENTIFIED BY '${{DB_PASSWORD}}';"]
        statements += [f"GRANT ALL PRIVILEGES ON \\`{db}\\`.* TO '{user}'@'%';" for db in self.definition.databases]
        sql = "\n".join(statements)
        script = ('mariadb --host="$DB_HOST" --port="$DB_PORT" --user=root --password="$DB_ROOT_PASSWORD" '
                  f"--connect-timeout=10 <<SQL\n{sql}\nSQL\n")
        return JobStep("db-init", image=DATABASE_CLIENT, user="mysql", command=script)

    def _registration_step(self) -> JobStep:
        user = self.definition.name if self.definition.keystone_user else None
        urls = component_urls(self.definition, self.spec, self.owner.name, self.namespace)
        entries = [(endpoint, {interface: url + endpoint.path for interface, url in urls[endpoint.component].items()})
                   for endpoint in self.definition.endpoints]
        return JobStep("keystone-register", image=images.KOLLA_TOOLBOX, user="ansible",
                       command=registration_script(user, entries))

    def _database_env(self, deps: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        """Where the database step connects, as root, and the service user's password."""
        galera = deps[GALERA]
        return [{"name": "DB_HOST", "value": galera["host"]}, {"name": "DB_PORT", "value": str(galera["port"])},
                from_secret("DB_ROOT_PASSWORD", galera["adminSecret"], galera["adminPasswordKey"]),
                from_secret("DB_PASSWORD", self.credentials_secret, "database-password")]

    def _registration_env(self, deps: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        """keystone's admin for the openstack CLI, and the service user's password."""
        env = keystone_admin_env(deps[KEYSTONE])
        if self.definition.keystone_user:
            env.append(from_secret("SERVICE_PASSWORD", self.credentials_secret, "keystone-password"))
        return env

    def _run_job(self, step: JobStep, context: dict[str, Any], deps: dict[str, dict[str, Any]],
                 condition: str, backoff_limit: int = 4, env: list[dict[str, Any]] | None = None) -> None:
        """Creates the step's Job if its current version does not exist, and waits for it; `env`
        comes after the step's own secrets."""
        kolla_image = step.image != DATABASE_CLIENT
        # The database Jobs run the client of the database's own image, which Galera publishes.
        image = (deps[GALERA]["clientImage"] if not kolla_image
                 else images.kolla(step.image, self.version, self.spec.get("images")))
        component_image = next((component_settings(self.definition, c, self.spec).image
                                for c in self.definition.components if c.image == step.image), None)
        image = component_image or image
        config_files = []
        for name in step.config_files:
            config_file = self.definition.config_file(name)
            config_files.append((name, render.render_file(config_file, {**context, **config_file.values}),
                                 config_file.dest))
        # The service's own steps (keystone's bootstrap) see its key repositories as its pods do.
        key_secrets = self.key_secrets if component_image else {}
        directories = [(repo.name, repo.dest, step.user) for repo in self.definition.key_repositories
                       if repo.name in key_secrets]
        files = jobs.step_files(render.render_string(step.command, context), step.user, config_files, directories,
                                kolla_image=kolla_image)
        self.run_step(self.definition.name, step, image=image, files=files, condition=condition,
                      env=[from_secret(var, self.credentials_secret, key) for var, key in step.secret_env] + (env or []),
                      key_secrets=key_secrets, kolla_image=kolla_image, backoff_limit=backoff_limit)

    # -- workloads -------------------------------------------------------------------------------

    def _apply_components(self, context: dict[str, Any],
                          versions: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
        """Applies every component (at `versions`, per component, during an upgrade) and waits
        until each runs its template on every replica."""
        key_secrets = self.key_secrets
        key_versions = {name: (self.kube.get("v1", "Secret", self.namespace, secret) or {}).get("data")
                        for name, secret in key_secrets.items()}
        observed: dict[str, dict[str, Any]] = {}
        self.rolled_out_inputs = {}
        not_ready: list[str] = []
        for component in self.definition.components:
            version = (versions or {}).get(component.name, self.version)
            settings = component_settings(self.definition, component, self.spec, version)
            if component.per_node:
                node_sets = self.definition.component_node_sets(component, self.spec)
                for node_set in node_sets:
                    name = workloads.per_node_name(self.owner, component, node_set)
                    rollout = self._apply_per_node(component, node_set, settings, context, version)
                    observed[name.removeprefix(f"{self.owner.name}-")] = rollout.entry(settings.image)
                    if not rollout.done:
                        not_ready.append(f"{component.name} {rollout.ready}/{rollout.replicas} on {node_set.name}")
                self._delete_removed_node_sets(component, {node_set.name for node_set in node_sets})
                continue
            files = component_files(self.definition, component, settings, context, self.spec)
            secret_name = workloads.config_secret_name(self.owner, component.name)
            self.kube.apply(workloads.secret(self.owner, secret_name, self.definition.name, component.name, files))
            mounted_keys = key_secrets if component.name == self.definition.components[0].name else {}
            digest = workloads.inputs_hash(files, settings.image,
                                           {k: key_versions[k] for k in mounted_keys})
            self.rolled_out_inputs[component.name] = digest
            template = workloads.pod_template(self.owner, self.definition, component, settings, secret_name,
                                              mounted_keys, digest)
            for manifest in workloads.services(self.owner, self.definition, component, settings):
                self.kube.apply(manifest)
            pdb = workloads.disruption_budget(self.owner, self.definition, component, settings)
            if pdb:
                self.kube.apply(pdb)
            live, sent = self.kube.apply_changed(
                workloads.workload(self.owner, self.definition, component, settings, template, version))
            if sent:
                self.event("Applied", f"{component.name}: {settings.replicas} replicas of {settings.image}, "
                                      f"inputs {digest[:12]}")
            rollout = workloads.Rollout.of(live, settings.replicas)
            observed[component.name] = rollout.entry(settings.image)
            if not rollout.done:
                not_ready.append(f"{component.name} {rollout.ready}/{settings.replicas}")
        if not_ready:
            raise Waiting("RollingOut", "waiting for pods: " + ", ".join(not_ready), soon=True)
        return observed

    def _delete_removed_node_sets(self, component: Component, kept: set[str]) -> None:
        """The DaemonSets of node sets the spec no longer names: removing a compute node group
        removes its pods (their config Secrets stay until the resource goes: Secrets are never
        deleted)."""
        for live in self.kube.list("apps/v1", "DaemonSet", self.namespace,
                                   labels.selector(self.definition.name, self.owner.name, component.name)):
            node_set = live["metadata"]["labels"].get(placement.NODE_SET_LABEL)
            if node_set not in kept:
                name = live["metadata"]["name"]
                self.kube.delete("apps/v1", "DaemonSet", self.namespace, name)
                self.event("Deleted", f"{component.name} on node set {node_set}: no longer in the spec")

    def _apply_per_node(self, component: Component, node_set: NodeSet, settings: ComponentSettings,
                        context: dict[str, Any], version: str) -> workloads.Rollout:
        """A per-node component's config Secret and DaemonSet on one node set, rendered with the
        set's own values."""
        name = workloads.per_node_name(self.owner, component, node_set)
        set_context = {**context, "node_set": {"name": node_set.name, **node_set.values}}
        files = component_files(self.definition, component, settings, set_context, self.spec)
        secret_name = f"{name}-config"
        self.kube.apply(workloads.secret(self.owner, secret_name, self.definition.name, component.name, files))
        digest = workloads.inputs_hash(files, settings.image)
        self.rolled_out_inputs[name] = digest
        template = workloads.pod_template(self.owner, self.definition, component, settings, secret_name, {}, digest,
                                          node_set=node_set)
        live, sent = self.kube.apply_changed(workloads.daemon_set(
            self.owner, self.definition.name, component.name, node_set, name, template,
            max_unavailable=settings.max_unavailable, version=version, when_drained=component.replaced_when_drained))
        if sent:
            self.event("Applied", f"{component.name} on node set {node_set.name}: {settings.image}, "
                                  f"inputs {digest[:12]}")
        return workloads.Rollout.of(live, None)


def component_urls(definition: ServiceDefinition, spec: dict[str, Any], instance: str,
                   namespace: str) -> dict[str, dict[str, str]]:
    """Internal and public URL of every component with a port (public: the load balancer's IP)."""
    urls = {}
    for component in definition.components:
        if not component.port:
            continue
        settings = component_settings(definition, component, spec)
        internal = f"http://{instance}-{component.name}.{namespace}.svc:{component.port}"
        urls[component.name] = {"internal": internal,
                                "public": workloads.public_url(internal, component.port, settings.load_balancer)}
    return urls


def keystone_endpoint(definition: ServiceDefinition, spec: dict[str, Any], instance: str,
                      namespace: str) -> IdentityEndpoint:
    """What keystone publishes: its URLs, region and where the admin password is."""
    urls = component_urls(definition, spec, instance, namespace)[definition.components[0].name]
    return IdentityEndpoint(internalURL=urls["internal"], publicURL=urls["public"],
                            region=spec.get("region", "RegionOne"),
                            adminSecret=f"{instance}-{definition.name}-credentials", adminPasswordKey="admin-password")


def service_context(definition: ServiceDefinition, spec: dict[str, Any], instance: str, namespace: str,
                    deps: dict[str, dict[str, Any]], credentials: dict[str, Any], messaging_password: str | None,
                    shared: dict[str, str]) -> dict[str, Any]:
    """Every variable the service's templates may use (pure: all inputs are given)."""
    context: dict[str, Any] = {
        "release": service_version(spec),
        "instance": instance,
        "namespace": namespace,
        "debug": bool(spec.get("debug", False)),
        "workers": spec.get("workers") or DEFAULT_WORKERS,
        "credentials": credentials,
        "shared": shared,
        "endpoints": component_urls(definition, spec, instance, namespace),
        "apache": images.apache(spec.get("images")),
    }
    if GALERA in deps:
        galera = deps[GALERA]
        context["database"] = {"host": galera["host"], "port": galera["port"], "user": definition.name,
                               "password": credentials["database-password"], "max_pool_size": 10, "max_overflow": 40}
    if RABBITMQ in deps:
        rabbit, user = deps[RABBITMQ], definition.name
        hosts = ",".join(f"{user}:{messaging_password}@{host}:{rabbit['port']}" for host in rabbit["hosts"])
        options = rabbit.get("notificationsTransportOptions")
        context["messaging"] = {"rpc_url": f"rabbit://{hosts}/{rabbit['rpcVhost']}",
                                "notifications_url": f"rabbit://{hosts}/{rabbit['notificationsVhost']}"
                                                     + (f"?{options}" if options else ""),
                                # Publishers reach notification queues through their own exchange
                                # (the one their RabbitMQ user may write to).
                                "exchange": definition.exchange}
    if MEMCACHED in deps:
        context["memcached"] = {"servers": deps[MEMCACHED]["servers"]}
    if KEYSTONE in deps:
        context["keystone"] = keystone_context(deps[KEYSTONE])
    elif definition.publishes == IDENTITY:  # the identity service itself
        context["keystone"] = keystone_context(keystone_endpoint(definition, spec, instance, namespace))
    if PLACEMENT in deps:
        context["placement"] = deps[PLACEMENT]
    if NOVA in deps:
        context["nova"] = deps[NOVA]
    if ETCD in deps:
        if deps[ETCD].get("tls"):
            raise InvalidSpec(REFERENCE_FIELDS[ETCD], "coordination through an etcd that needs TLS client "
                                                      "certificates is not supported yet; use a plain-HTTP etcd")
        context["coordination"] = {"url": f"etcd3+http://{deps[ETCD]['service']}"}
    if CEPH in deps:
        ceph = deps[CEPH]
        context["ceph"] = {"pools": ceph["pools"], "secret_uuid": ceph["libvirtSecretUUID"],
                           "users": {user: client["user"] for user, client in ceph["clients"].items()}}
    if definition.keystone_user:
        context["service_user"] = {"name": definition.name, "password": credentials["keystone-password"]}
    return context


def component_files(definition: ServiceDefinition, component: Component, settings: ComponentSettings,
                    context: dict[str, Any], spec: dict[str, Any]) -> dict[str, str]:
    """The files of a component's config Secret: rendered configuration, custom layers, config.json."""
    files: dict[str, str] = {}
    entries = []
    for name in component.config_files:
        config_file = definition.config_file(name)
        files[name] = render.render_file(config_file, {**context, **config_file.values})
        entries.append((name, render.render_string(config_file.dest, context), component.user, config_file.mode))
    custom_dir = definition.custom_config_dir
    for layer, text in (("90-service.conf", spec.get("customConfig")), ("95-component.conf", settings.custom_config)):
        if text and custom_dir:
            files[layer] = text if text.endswith("\n") else text + "\n"
            entries.append((layer, f"{custom_dir}/{layer}", component.user, "0600"))
    for user in component.ceph_users:
        for name, text in sorted(context["ceph"]["files"][user].items()):
            if name not in files:  # one ceph.conf, whichever user's (they are the same cluster's)
                files[name] = text
                entries.append((name, f"/etc/ceph/{name}", component.user, "0600"))
    directories = [(repo.name, repo.dest, component.user) for repo in definition.key_repositories
                   if component.name == definition.components[0].name]
    owned = [(path, component.user) for path in component.owns]
    files["config.json"] = kolla.config_json(render.render_string(component.command, context), entries, directories,
                                             owned)
    return files


def keystone_context(endpoint: IdentityEndpoint) -> dict[str, Any]:
    """Keystone's published endpoint as the templates name it."""
    return {"internal_url": endpoint["internalURL"], "public_url": endpoint["publicURL"], "region": endpoint["region"]}
