"""The scheduler is the real kube-scheduler: it honours required pod anti-affinity."""

import time


def _anti_affine_deployment(name: str) -> dict:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    # The small profile has exactly two compute nodes.
                    "nodeSelector": {"openstack-compute-node": "enabled"},
                    "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                        {"labelSelector": {"matchLabels": labels}, "topologyKey": "kubernetes.io/hostname"},
                    ]}},
                    "containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}],
                },
            },
        },
    }


def test_required_anti_affinity_leaves_the_third_replica_pending(kube, namespace):
    kube.apps.create_namespaced_deployment(namespace, _anti_affine_deployment("spread"))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        pods = kube.core.list_namespaced_pod(namespace, label_selector="app=spread").items
        running = [p for p in pods if p.status.phase == "Running"]
        pending = [p for p in pods if p.status.phase == "Pending"]
        events = kube.core.list_namespaced_event(namespace, field_selector="reason=FailedScheduling").items
        if len(running) == 2 and len(pending) == 1 and any(
                e.involved_object.name == pending[0].metadata.name for e in events):
            break
        time.sleep(1)
    else:
        raise AssertionError(f"expected 2 Running and 1 Pending with FailedScheduling, got "
                             f"{[(p.metadata.name, p.status.phase) for p in pods]}, "
                             f"{[e.message for e in events]}")
    assert len({p.spec.node_name for p in running}) == 2
    assert pending[0].spec.node_name is None
    scheduled = next(c for c in pending[0].status.conditions if c.type == "PodScheduled")
    assert scheduled.status == "False" and scheduled.reason == "Unschedulable"
    assert "anti-affinity" in " ".join(e.message for e in events)
