"""What every reconciler shares: the resource it works on and the steps it records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from .. import conditions
from ..api import API_VERSION
from ..errors import Waiting
from ..kube.client import Kube
from ..workloads import Owner

T = TypeVar("T")


@dataclass
class Outcome:
    """What a completed reconciliation pass found, for the status."""

    components: dict[str, dict[str, Any]]
    endpoint: dict[str, Any] | None
    version: str


class Reconciler:
    """One pass over one resource. Steps run in order; the first that waits stops the pass."""

    kind: str = ""

    def __init__(self, kube: Kube, body: dict[str, Any]):
        self.kube = kube
        self.body = body
        self.spec: dict[str, Any] = body["spec"]
        meta = body["metadata"]
        self.namespace: str = meta["namespace"]
        self.owner = Owner(API_VERSION, self.kind, meta["name"], meta["uid"], meta["namespace"])
        self.steps: list[conditions.Condition] = []
        self.extra_status: dict[str, Any] = {}  # status fields known even when the pass waits
        self.events: list[tuple[str, str, str]] = []  # (Normal|Warning, reason, message) to post

    def event(self, reason: str, message: str, warning: bool = False) -> None:
        """Records an important step; the handler posts it as a Kubernetes Event."""
        self.events.append(("Warning" if warning else "Normal", reason, message))

    def previous_reason(self, condition_type: str) -> str | None:
        cond = conditions.find((self.body.get("status") or {}).get("conditions"), condition_type)
        return cond.get("reason") if cond else None

    def step(self, condition_type: str, done_reason: str, action: Callable[[], T]) -> T:
        """Runs one step and records its condition; a Waiting step records why and stops the pass."""
        try:
            result = action()
        except Waiting as exc:
            self.steps.append(conditions.Condition(condition_type, False, exc.reason, exc.message))
            raise
        self.steps.append(conditions.Condition(condition_type, True, done_reason))
        return result

    def validate(self) -> None:
        """Checks what the schema cannot express; raises InvalidSpec naming the field."""

    def reconcile(self) -> Outcome:
        raise NotImplementedError
