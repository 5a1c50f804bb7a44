"""Status conditions in the Kubernetes API conventions' shape.

lastTransitionTime moves only when a condition's status flips, so recomputing the same state
produces the same list and causes no write.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Iterable

READY = "Ready"


@dataclass(frozen=True)
class Condition:
    type: str
    status: bool | None   # None: Unknown (not evaluated yet)
    reason: str
    message: str = ""

    @property
    def status_text(self) -> str:
        return "Unknown" if self.status is None else "True" if self.status else "False"


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge(existing: Iterable[dict[str, Any]] | None, desired: Iterable[Condition],
          generation: int | None, now: str | None = None) -> list[dict[str, Any]]:
    """The condition list `desired` describes, keeping transition times of unchanged statuses.

    Conditions absent from `desired` are dropped: the caller states the whole set each time.
    """
    previous = {c["type"]: c for c in existing or ()}
    merged = []
    for cond in desired:
        old = previous.get(cond.type)
        transition = old["lastTransitionTime"] if old and old.get("status") == cond.status_text else None
        entry = {
            "type": cond.type,
            "status": cond.status_text,
            "reason": cond.reason,
            "message": cond.message,
            "lastTransitionTime": transition or now or now_rfc3339(),
        }
        if generation is not None:
            entry["observedGeneration"] = generation
        merged.append(entry)
    return merged


def find(conditions: Iterable[dict[str, Any]] | None, type_: str) -> dict[str, Any] | None:
    return next((c for c in conditions or () if c.get("type") == type_), None)


def is_true(conditions: Iterable[dict[str, Any]] | None, type_: str = READY) -> bool:
    cond = find(conditions, type_)
    return bool(cond and cond.get("status") == "True")
