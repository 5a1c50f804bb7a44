"""Reconciliation of an Etcd resource: members as a StatefulSet, or an external etcd's endpoints."""

from __future__ import annotations

from typing import Any

from .. import images, workloads
from ..endpoints import EtcdEndpoint
from ..errors import InvalidSpec
from ..services import etcd
from .base import Outcome
from .members import MembersReconciler

SERVICE = "etcd"


class EtcdReconciler(MembersReconciler):
    definition = etcd.DEFINITION
    service = SERVICE
    default_storage = etcd.DEFAULT_STORAGE

    def validate(self) -> None:
        if self.spec.get("external"):
            return
        super().validate()
        formed = ((self.body.get("status") or {}).get("endpoint") or {}).get("endpoints")
        if formed and len(formed) != self.replicas:
            raise InvalidSpec("spec.replicas", f"the etcd cluster was formed with {len(formed)} members; changing "
                                               "the count needs etcd member add/remove, which the operator does "
                                               f"not do yet: set replicas back to {len(formed)}")

    def reconcile(self) -> Outcome:
        self.validate()
        external = self.spec.get("external")
        if external:
            endpoint = EtcdEndpoint(endpoints=list(external["endpoints"]), service=external["endpoints"][0],
                                    tls=bool(external.get("clientSecret")))
            if external.get("clientSecret"):
                endpoint["clientSecret"] = external["clientSecret"]
            self.step("ExternalEtcd", "Configured", lambda: None)
            return Outcome({}, endpoint, "")
        components = self.step("MembersReady", "Available", self._apply_members)
        name, ns = self.owner.name, self.namespace
        endpoint = EtcdEndpoint(endpoints=[f"{name}-etcd-{i}.{self.peers_service}.{ns}.svc:{etcd.CLIENT_PORT}"
                                           for i in range(self.replicas)],
                                service=f"{self.client_service}.{ns}.svc:{etcd.CLIENT_PORT}", tls=False)
        return Outcome(components, endpoint, "")

    def _apply_members(self) -> dict[str, Any]:
        spec = self.spec
        image = spec.get("image") or images.ETCD
        command = etcd.command(instance=self.owner.name, namespace=self.namespace,
                               peers_service=self.peers_service, replicas=self.replicas)
        container = {
            "name": "etcd", "image": image, "imagePullPolicy": "IfNotPresent", "command": command,
            "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
            "ports": [{"name": "client", "containerPort": etcd.CLIENT_PORT},
                      {"name": "peer", "containerPort": etcd.PEER_PORT},
                      {"name": "metrics", "containerPort": etcd.METRICS_PORT}],
            "resources": spec.get("resources") or {"requests": {"cpu": etcd.CPU, "memory": etcd.MEMORY}},
            **workloads.http_probes(etcd.METRICS_PORT, "/readyz", "/livez", live_after=15),
            "volumeMounts": [{"name": "data", "mountPath": etcd.DATA_DIR}],
        }
        return self.apply_members(
            image=image, containers=[container], volumes=[], inputs=workloads.inputs_hash(command, image),
            peer_ports={"client": etcd.CLIENT_PORT, "peer": etcd.PEER_PORT},
            client_ports={"client": etcd.CLIENT_PORT})
