"""What the quorum services (etcd, Galera, RabbitMQ) share: an odd member count, and members as a
StatefulSet with a peers Service, a client Service and a disruption budget."""

from __future__ import annotations

from typing import Any

from .. import placement, workloads
from ..errors import require_odd
from ..services.base import InfrastructureDefinition
from .base import Reconciler


class MembersReconciler(Reconciler):
    definition: InfrastructureDefinition  # the kind's declaration
    service = ""          # the app.kubernetes.io/name and component of the members
    default_storage = ""

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.definition.kind

    @property
    def replicas(self) -> int:
        return self.definition.member_count(self.spec)

    @property
    def peers_service(self) -> str:
        return f"{self.owner.name}-{self.service}-peers"

    @property
    def client_service(self) -> str:
        return f"{self.owner.name}-{self.service}"

    def validate(self) -> None:
        require_odd(f"spec.{self.definition.quorum_field}", self.replicas, self.definition.members)

    def apply_members(self, *, image: str, containers: list[dict[str, Any]], volumes: list[dict[str, Any]],
                      inputs: str, peer_ports: dict[str, int], client_ports: dict[str, int] | None,
                      init_containers: list[dict[str, Any]] | None = None,
                      termination_grace: int | None = None, run_as: int | None = None,
                      service_account: str | None = None) -> dict[str, Any]:
        """Applies the members and their Services; waits until every member runs the template.

        `client_ports` None: clients do not reach the members directly (Galera's go through its
        writer endpoint), so the members get no client Service. `run_as`: the image's user, which
        the pod runs as and whose group owns the member's volume. `service_account`: the members'
        own, for members that read the Kubernetes API (none: they get no API token at all)."""
        owner, spec, service = self.owner, self.spec, self.service
        template = workloads.infrastructure_pod(
            owner, service, service, dedicated=spec.get("dedicated", True),
            node_selector=placement.merged_node_selector(spec.get("nodeSelector")), containers=containers,
            volumes=volumes, inputs=inputs)
        if init_containers:
            template["spec"]["initContainers"] = init_containers
        if termination_grace:
            template["spec"]["terminationGracePeriodSeconds"] = termination_grace
        if run_as is not None:
            template["spec"]["securityContext"] = workloads.run_as(run_as)
        if service_account:
            template["spec"]["serviceAccountName"] = service_account
        else:
            template["spec"]["automountServiceAccountToken"] = False
        self.kube.apply(workloads.plain_service(owner, service, service, self.peers_service, peer_ports,
                                                headless=True))
        if client_ports:
            self.kube.apply(workloads.plain_service(owner, service, service, self.client_service, client_ports))
        if self.replicas > 1:
            self.kube.apply(workloads.budget(owner, service, service, f"{owner.name}-{service}"))
        live = self.kube.apply(workloads.stateful_set(
            owner, service, service, replicas=self.replicas, template=template, peers_service=self.peers_service,
            storage=spec.get("storage") or {"size": self.default_storage}))
        return {service: self.rolled_out(live, self.replicas, image, f"{self.kind} {self.definition.members}")}
