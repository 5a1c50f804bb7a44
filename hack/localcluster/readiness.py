"""How many pods of each component were not Ready at once, from a watch of a namespace's pods:
what the upgrade tests and the upgrade benchmark hold a rolling update to."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from kubernetes import client, watch

COMPONENT = "app.kubernetes.io/component"


class Unavailability:
    """Per component of `replicas`: the pods seen (Ready or not) and the most not Ready at once.

    Starts from a list of the pods as they are and follows every change after it (a watch from
    scratch would report the existing pods one by one, each time as if the others were missing).
    Pods of Jobs are ignored."""

    def __init__(self, core: client.CoreV1Api, namespace: str, replicas: dict[str, int]):
        self.core, self.namespace, self.replicas = core, namespace, replicas
        self.serving: dict[str, dict[str, bool]] = defaultdict(dict)
        self.worst: dict[str, int] = defaultdict(int)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.resource_version = ""

    def __enter__(self) -> "Unavailability":
        listed = self.core.list_namespaced_pod(self.namespace)
        for pod in listed.items:
            self._record("ADDED", pod, count=False)
        self.resource_version = listed.metadata.resource_version
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.stopped.set()
        self.thread.join(timeout=30)

    def _record(self, event_type: str, pod: Any, count: bool = True) -> None:
        component = (pod.metadata.labels or {}).get(COMPONENT)
        if component not in self.replicas or any(ref.kind == "Job" for ref in pod.metadata.owner_references or []):
            return
        self.serving[component][pod.metadata.name] = (
            event_type != "DELETED" and pod.metadata.deletion_timestamp is None
            and any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or []))
        if count:
            ready = sum(1 for ok in self.serving[component].values() if ok)
            self.worst[component] = max(self.worst[component], self.replicas[component] - ready)

    def _run(self) -> None:
        while not self.stopped.is_set():
            for event in watch.Watch().stream(self.core.list_namespaced_pod, self.namespace,
                                              resource_version=self.resource_version, timeout_seconds=5):
                self.resource_version = event["object"].metadata.resource_version
                self._record(event["type"], event["object"])
