"""Kubernetes manifests of a service's components and Jobs (pure functions; no API calls).

Names: the workload, its Service and PodDisruptionBudget are "<instance>-<component>"; its
configuration Secret "<instance>-<component>-config"; a Job "<instance>-<service>-<step>-<hash>"
where the hash covers the Job's pod template, so a new image makes a new Job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from . import kolla, labels, placement
from .hashing import content_hash, short_hash
from .services.base import Component, JobStep, NodeSet, Probe, ServiceDefinition

INPUTS_HASH_ANNOTATION = "ccp.openstack.org/inputs-hash"
JOB_STEP_LABEL = "ccp.openstack.org/job-step"


@dataclass(frozen=True)
class Owner:
    """The custom resource that owns (and garbage-collects) the generated objects."""

    api_version: str
    kind: str
    name: str
    uid: str
    namespace: str

    def reference(self) -> dict[str, Any]:
        return {"apiVersion": self.api_version, "kind": self.kind, "name": self.name, "uid": self.uid,
                "controller": True, "blockOwnerDeletion": True}


@dataclass
class ComponentSettings:
    """A component's effective settings: its defaults overlaid with the service's and its own spec."""

    replicas: int
    dedicated: bool
    image: str
    resources: dict[str, Any]
    node_selector: dict[str, str]
    custom_config: str | None = None
    load_balancer: dict[str, Any] = field(default_factory=dict)
    max_unavailable: int | str = 1         # a per-node component: nodes rolled at once (count or "10%")
    preferred_nodes: tuple[dict[str, str], ...] = ()  # selectors of the nodes it prefers (any of them)


def metadata(owner: Owner, name: str, service: str, component: str | None = None,
             version: str | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": owner.namespace,
        "labels": labels.standard(service, owner.name, component, version),
        "ownerReferences": [owner.reference()],
    }


def workload_name(owner: Owner, component: Component) -> str:
    return f"{owner.name}-{component.name}"


def config_secret_name(owner: Owner, component_or_job: str) -> str:
    return f"{owner.name}-{component_or_job}-config"


def secret(owner: Owner, name: str, service: str, component: str | None, files: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata(owner, name, service, component),
            "type": "Opaque", "stringData": files}


def _probe(probe: Probe | None, liveness: bool) -> dict[str, Any] | None:
    if probe is None:
        return None
    if probe.kind == "http":
        action: dict[str, Any] = {"httpGet": {"path": probe.path, "port": probe.port}}
    elif probe.kind == "tcp":
        action = {"tcpSocket": {"port": probe.port}}
    else:
        action = {"exec": {"command": list(probe.command)}}
    timing = ({"initialDelaySeconds": 30, "periodSeconds": 15, "timeoutSeconds": 5, "failureThreshold": 4}
              if liveness else {"periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3})
    return {**action, **timing}


# A serving pod told to stop keeps serving this long first: the Service's endpoints drop it and
# every node's kube-proxy stops sending it new connections before the program stops accepting
# them, so a rolling update fails no call.
DRAIN_SECONDS = 5

KOLLA_ENV = [{"name": "KOLLA_CONFIG_STRATEGY", "value": kolla.CONFIG_STRATEGY}]


def _container(name: str, image: str, resources: dict[str, Any], mounts: list[dict[str, Any]],
               env: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": name, "image": image, "imagePullPolicy": "IfNotPresent", "env": env,
            "resources": resources, "volumeMounts": mounts}


def _config_volumes(config_secret: str, key_secrets: dict[str, str],
                    mode: int = 0o400) -> tuple[list[dict], list[dict]]:
    """Volumes and mounts: the config Secret at Kolla's config dir, key repositories below it.
    Root reads them (Kolla's kolla_set_configs copies them for the service's user)."""
    volumes = [{"name": "config", "secret": {"secretName": config_secret, "defaultMode": mode}}]
    mounts = [{"name": "config", "mountPath": kolla.CONFIG_DIR, "readOnly": True}]
    for repo_name, secret_name in sorted(key_secrets.items()):
        volumes.append({"name": repo_name, "secret": {"secretName": secret_name, "defaultMode": 0o400}})
        mounts.append({"name": repo_name, "mountPath": f"{kolla.CONFIG_DIR}/{repo_name}", "readOnly": True})
    return volumes, mounts


def _host_paths(component: Component) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    volumes = [{"name": path.name, "hostPath": {"path": path.path, "type": "DirectoryOrCreate"}}
               for path in component.host_paths]
    mounts = [{"name": path.name, "mountPath": path.path, **({"readOnly": True} if path.read_only else {}),
               **({"mountPropagation": "Bidirectional"} if path.propagate else {})}
              for path in component.host_paths]
    return volumes, mounts


def pod_template(owner: Owner, service: ServiceDefinition, component: Component, settings: ComponentSettings,
                 config_secret: str, key_secrets: dict[str, str], inputs_hash: str,
                 node_set: NodeSet | None = None) -> dict[str, Any]:
    """A component's pod template; a per-node component's (`node_set`) runs on that set's nodes."""
    volumes, mounts = _config_volumes(config_secret, key_secrets)
    host_volumes, host_mounts = _host_paths(component)
    volumes, mounts = volumes + host_volumes, mounts + host_mounts
    env = KOLLA_ENV + [{"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}}
                       for name, path in component.field_env]
    container = _container(component.name, settings.image, settings.resources, mounts, env)
    if component.port:
        container["ports"] = [{"name": "api" if component.api else "main", "containerPort": component.port}]
        container["lifecycle"] = {"preStop": {"sleep": {"seconds": DRAIN_SECONDS}}}
    for key, probe, liveness in (("readinessProbe", component.readiness, False),
                                 ("livenessProbe", component.liveness, True)):
        rendered = _probe(probe, liveness)
        if rendered:
            container[key] = rendered
    if component.privileged:
        container["securityContext"] = {"privileged": True}
    elif component.capabilities:
        container["securityContext"] = {"capabilities": {"add": list(component.capabilities)}}
    if node_set is not None:
        return node_pod(owner, service.name, component, node_set, containers=[container], volumes=volumes,
                        inputs=inputs_hash)
    return placed_pod(owner, service.name, component.name, dedicated=settings.dedicated,
                      node_selector=settings.node_selector, containers=[container], volumes=volumes,
                      inputs=inputs_hash, grace=60, co_locate_with=component.co_locate_with,
                      prefer_near=component.prefer_near, prefer_nodes=settings.preferred_nodes)


def node_pod(owner: Owner, service: str, component: Component, node_set: NodeSet, *,
             containers: list[dict[str, Any]], volumes: list[dict[str, Any]], inputs: str) -> dict[str, Any]:
    """The pod template of a per-node component: on every node of its node set (placement.py),
    in the node's network and process table where the component needs them."""
    spec: dict[str, Any] = {
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": 60,
        "containers": containers,
        "volumes": volumes,
        "affinity": placement.node_set_affinity(node_set.selectors),
    }
    if component.host_network:
        # The node's network, and still the cluster's DNS (the services' internal URLs).
        spec.update(hostNetwork=True, dnsPolicy="ClusterFirstWithHostNet")
    if component.host_pid:
        spec["hostPID"] = True
    pod_labels = {**labels.standard(service, owner.name, component.name), placement.NODE_SET_LABEL: node_set.name}
    return {"metadata": {"labels": pod_labels, "annotations": {INPUTS_HASH_ANNOTATION: inputs}}, "spec": spec}


def per_node_name(owner: Owner, component: Component, node_set: NodeSet) -> str:
    return f"{owner.name}-{component.name}-{node_set.name}"


def daemon_set(owner: Owner, service: str, component: str, node_set: NodeSet, name: str, template: dict[str, Any], *,
               max_unavailable: int | str, version: str | None = None, when_drained: bool = False) -> dict[str, Any]:
    """A per-node component on its node set, rolled `max_unavailable` nodes (a count or a
    percentage) at a time; `when_drained`: each pod takes a new template only once deleted."""
    selector = {**labels.selector(service, owner.name, component), placement.NODE_SET_LABEL: node_set.name}
    strategy = ({"type": "OnDelete"} if when_drained else
                {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": max_unavailable, "maxSurge": 0}})
    result = {"apiVersion": "apps/v1", "kind": "DaemonSet",
              "metadata": metadata(owner, name, service, component, version),
              "spec": {"selector": {"matchLabels": selector}, "template": template, "updateStrategy": strategy,
                       "revisionHistoryLimit": 5}}
    result["metadata"]["labels"][placement.NODE_SET_LABEL] = node_set.name
    return result


def workload(owner: Owner, service: ServiceDefinition, component: Component, settings: ComponentSettings,
             template: dict[str, Any], version: str) -> dict[str, Any]:
    name = workload_name(owner, component)
    if not component.stateful:
        return deployment(owner, service.name, component.name, name, settings.replicas, template,
                          in_place=settings.dedicated, version=version)
    # Stable pod names only (memcached's servers): its own headless Service names them.
    return stateful_set(owner, service.name, component.name, replicas=settings.replicas, template=template,
                        peers_service=name, storage=None, version=version)


def deployment(owner: Owner, service: str, component: str, name: str, replicas: int, template: dict[str, Any], *,
               in_place: bool = False, version: str | None = None) -> dict[str, Any]:
    """A Deployment rolling one pod at a time; `in_place` for a dedicated component, which may
    have no spare node to surge onto."""
    surge = {"maxSurge": 0, "maxUnavailable": 1} if in_place else {"maxSurge": 1, "maxUnavailable": 0}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": metadata(owner, name, service, component, version),
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels.selector(service, owner.name, component)},
                     "template": template, "strategy": {"type": "RollingUpdate", "rollingUpdate": surge},
                     "revisionHistoryLimit": 5}}


def services(owner: Owner, service: ServiceDefinition, component: Component,
             settings: ComponentSettings) -> list[dict[str, Any]]:
    """The component's Service, plus a LoadBalancer Service when asked for one."""
    if not component.port:
        return []
    name = workload_name(owner, component)
    if component.api:
        return api_services(owner, service.name, component.name, name, component.port, settings.load_balancer)
    port = {"name": "main", "port": component.port, "targetPort": component.port, "protocol": "TCP"}
    main: dict[str, Any] = {"apiVersion": "v1", "kind": "Service",
                            "metadata": metadata(owner, name, service.name, component.name),
                            "spec": {"selector": labels.selector(service.name, owner.name, component.name),
                                     "ports": [port]}}
    if component.stateful:
        main["spec"]["clusterIP"] = "None"
    return [main]


def api_services(owner: Owner, service: str, component: str, name: str, port_number: int,
                 load_balancer: dict[str, Any]) -> list[dict[str, Any]]:
    """An API's ClusterIP Service, plus a LoadBalancer Service (`<name>-lb`) when enabled."""
    port = {"name": "api", "port": port_number, "targetPort": port_number, "protocol": "TCP"}
    selector = labels.selector(service, owner.name, component)
    result: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Service",
                                     "metadata": metadata(owner, name, service, component),
                                     "spec": {"selector": selector, "ports": [port]}}]
    if load_balancer.get("enabled"):
        lb_meta = metadata(owner, f"{name}-lb", service, component)
        if load_balancer.get("annotations"):
            lb_meta["annotations"] = dict(load_balancer["annotations"])
        lb_spec: dict[str, Any] = {"type": "LoadBalancer", "selector": selector, "ports": [port],
                                   "externalTrafficPolicy": "Cluster"}
        if load_balancer.get("ip"):
            lb_spec["loadBalancerIP"] = load_balancer["ip"]
        result.append({"apiVersion": "v1", "kind": "Service", "metadata": lb_meta, "spec": lb_spec})
    return result


def disruption_budget(owner: Owner, service: ServiceDefinition, component: Component,
                      settings: ComponentSettings) -> dict[str, Any] | None:
    """At most one pod of a replicated component down at a time through voluntary disruptions."""
    if settings.replicas < 2:
        return None
    return budget(owner, service.name, component.name, workload_name(owner, component))


def job(owner: Owner, service: str, step: JobStep, *, image: str, node_selector: dict[str, str],
        config_secret: str, key_secrets: dict[str, str], env: list[dict[str, Any]], files_hash: str,
        kolla_image: bool = True, backoff_limit: int = 4) -> dict[str, Any]:
    """A step's Job running a Kolla image (or the step's script directly in another image, as
    that image's user: the script, which holds no secret (they come from the environment), is
    then readable by all)."""
    volumes, mounts = _config_volumes(config_secret, key_secrets, 0o400 if kolla_image else 0o444)
    resources = {"requests": {"cpu": "100m", "memory": "256Mi"}}
    if kolla_image:
        container = _container(step.name, image, resources, mounts, KOLLA_ENV + env)
    else:
        # Not a Kolla image: run the step's script from the mounted Secret directly.
        container = _container(step.name, image, resources, mounts, env)
        container["command"] = ["/bin/sh", f"{kolla.CONFIG_DIR}/job.sh"]
    pod_spec: dict[str, Any] = {"restartPolicy": "Never", "enableServiceLinks": False,
                                "containers": [container], "volumes": volumes}
    if node_selector:
        pod_spec["nodeSelector"] = dict(sorted(node_selector.items()))
    return step_job(owner, service, step.name, pod_spec, files_hash, backoff_limit)


def step_job(owner: Owner, service: str, step: str, pod_spec: dict[str, Any], files_hash: str,
             backoff_limit: int = 4) -> dict[str, Any]:
    """A run-to-completion step, named by the hash of its pod spec and of the files it reads, so a
    changed step is a new Job (Jobs are immutable) and an unchanged one is never re-run."""
    digest = short_hash({"pod": pod_spec, "files": files_hash})
    name = f"{owner.name}-{service}-{step}-{digest}"
    step_labels = {**labels.standard(service, owner.name, f"{service}-{step}"), JOB_STEP_LABEL: step}
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {**metadata(owner, name, service, f"{service}-{step}"), "labels": step_labels},
        "spec": {"backoffLimit": backoff_limit, "activeDeadlineSeconds": 3600,
                 "template": {"metadata": {"labels": step_labels}, "spec": pod_spec}},
    }


def http_probes(port: int, ready_path: str, live_path: str, live_after: int) -> dict[str, Any]:
    """Readiness and liveness over HTTP for a member: readiness every 5 s; liveness from
    `live_after` seconds on, failing only after a minute of failures (members recover slowly)."""
    return {
        "readinessProbe": {"httpGet": {"path": ready_path, "port": port}, "periodSeconds": 5, "timeoutSeconds": 3},
        "livenessProbe": {"httpGet": {"path": live_path, "port": port}, "initialDelaySeconds": live_after,
                          "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 6},
    }


def inputs_hash(*parts: Any) -> str:
    """The hash of everything a pod consumes (config files, keys, image), for its template annotation."""
    return content_hash(json.loads(json.dumps(parts, sort_keys=True, default=str)))


def placed_pod(owner: Owner, service: str, component: str, *, dedicated: bool, node_selector: dict[str, str],
               containers: list[dict[str, Any]], volumes: list[dict[str, Any]], inputs: str, grace: int,
               co_locate_with: tuple[str, ...] = (), prefer_near: tuple[str, ...] = (),
               prefer_nodes: tuple[dict[str, str], ...] = ()) -> dict[str, Any]:
    """The pod template of every workload, OpenStack component or infrastructure member: its
    labels, its placement (placement.py) and the hash of what it consumes (`inputs`), which rolls
    it when that changes."""
    spec: dict[str, Any] = {
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": grace,
        "containers": containers,
        "volumes": volumes,
        "affinity": placement.affinity(service=service, instance=owner.name, component=component,
                                       dedicated=dedicated, co_locate_with=co_locate_with, prefer_near=prefer_near,
                                       prefer_nodes=prefer_nodes),
        "topologySpreadConstraints": placement.rack_spread(service, owner.name, component),
    }
    if node_selector:
        spec["nodeSelector"] = dict(sorted(node_selector.items()))
    pod_labels = {**labels.standard(service, owner.name, component), **placement.pod_labels(dedicated)}
    return {"metadata": {"labels": pod_labels, "annotations": {INPUTS_HASH_ANNOTATION: inputs}}, "spec": spec}


def infrastructure_pod(owner: Owner, service: str, component: str, *, dedicated: bool,
                       node_selector: dict[str, str], containers: list[dict[str, Any]],
                       volumes: list[dict[str, Any]], inputs: str) -> dict[str, Any]:
    """Pod template of an infrastructure member (Galera, RabbitMQ, Ceph): placed like any component,
    with longer to stop (a member hands over its state)."""
    return placed_pod(owner, service, component, dedicated=dedicated, node_selector=node_selector,
                      containers=containers, volumes=volumes, inputs=inputs, grace=120)


def stateful_set(owner: Owner, service: str, component: str, *, replicas: int, template: dict[str, Any],
                 peers_service: str, storage: dict[str, Any] | None, version: str | None = None) -> dict[str, Any]:
    """A StatefulSet whose members keep a data volume each (kept when the set is deleted), or
    none (`storage` None: stable names only)."""
    result = {
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": metadata(owner, f"{owner.name}-{component}", service, component, version),
        "spec": {
            "replicas": replicas,
            "serviceName": peers_service,
            "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "RollingUpdate"},
            "selector": {"matchLabels": labels.selector(service, owner.name, component)},
            "template": template,
        },
    }
    if storage is not None:
        claim: dict[str, Any] = {"metadata": {"name": "data"}, "spec": {
            "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage["size"]}}}}
        if storage.get("storageClassName"):
            claim["spec"]["storageClassName"] = storage["storageClassName"]
        result["spec"]["volumeClaimTemplates"] = [claim]
        # Volumes outlive the set: deleting the resource never deletes data.
        result["spec"]["persistentVolumeClaimRetentionPolicy"] = {"whenDeleted": "Retain", "whenScaled": "Retain"}
    return result


def plain_service(owner: Owner, service: str, component: str, name: str, ports: dict[str, int], *,
                  headless: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": labels.selector(service, owner.name, component),
        "ports": [{"name": port_name, "port": port, "targetPort": port, "protocol": "TCP"}
                  for port_name, port in ports.items()],
    }
    if headless:
        # Peers find each other before they are ready (cluster formation needs it).
        spec.update(clusterIP="None", publishNotReadyAddresses=True)
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata(owner, name, service, component),
            "spec": spec}


def run_as(uid: int) -> dict[str, Any]:
    """A pod security context running as the image's user, whose group owns the pod's volumes."""
    return {"runAsUser": uid, "runAsGroup": uid, "fsGroup": uid}


def public_url(internal: str, port: int, load_balancer: dict[str, Any]) -> str:
    """An API's public URL: its load balancer's fixed IP when it has one, else its Service's URL."""
    if load_balancer.get("enabled") and load_balancer.get("ip"):
        return f"http://{load_balancer['ip']}:{port}"
    return internal


def api_reader(owner: Owner, service: str, name: str, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A ServiceAccount `name` for pods that read the Kubernetes API, with a Role of exactly
    `rules` in their namespace bound to it."""
    meta = metadata(owner, name, service, service)
    return [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta, "rules": rules},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
             "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": owner.namespace}]}]


def budget(owner: Owner, service: str, component: str, name: str) -> dict[str, Any]:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": metadata(owner, name, service, component),
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels.selector(service, owner.name, component)}}}


@dataclass(frozen=True)
class Rollout:
    """How far a Deployment or StatefulSet is in running its current template."""

    replicas: int
    ready: int
    updated: int
    done: bool  # every replica runs the current template and is Ready

    @classmethod
    def of(cls, live: dict[str, Any] | None, replicas: int | None) -> "Rollout":
        """`replicas`: how many the workload should run (None for a DaemonSet: one per node)."""
        if live is None:
            return cls(replicas or 0, 0, 0, False)
        status = live.get("status") or {}
        generation_seen = status.get("observedGeneration", 0) >= live["metadata"].get("generation", 0)
        if live["kind"] == "DaemonSet":
            desired = status.get("desiredNumberScheduled", 0)
            updated, ready = status.get("updatedNumberScheduled", 0), status.get("numberReady", 0)
            # Pods replaced only when deleted count as rolled out on their old template: the
            # updated count says how many nodes still wait for a drain.
            on_delete = (live["spec"].get("updateStrategy") or {}).get("type") == "OnDelete"
            done = generation_seen and (on_delete or updated >= desired) and ready >= desired and \
                status.get("numberAvailable", 0) >= desired
            return cls(desired, ready, updated, done)
        updated = status.get("updatedReplicas", 0)
        ready = status.get("readyReplicas", 0)
        if live["kind"] == "StatefulSet":
            current = status.get("updateRevision") == status.get("currentRevision")
        else:
            current = status.get("replicas", 0) == updated
        done = generation_seen and current and updated >= replicas and ready >= replicas and \
            status.get("availableReplicas", ready) >= replicas
        return cls(replicas, ready, updated, done)

    def entry(self, image: str) -> dict[str, Any]:
        """The component's entry in the resource's status.components."""
        return {"replicas": self.replicas, "readyReplicas": self.ready, "updatedReplicas": self.updated,
                "image": image}
