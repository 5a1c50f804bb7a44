"""Moving a running service to a new release through the steps its module declares.

The service's `status.version` is the release it runs; when its spec asks for another one, the
reconciler walks `ServiceDefinition.upgrade` instead of the install steps, one step per pass
until each is done, and records the progress in `status.upgrade`:

    fromVersion, toVersion   the move
    step                     the step in progress (the failed one, when a Job failed; empty
                             between steps, e.g. while paused)
    stepsDone                the steps completed, in order
    state                    Running, Paused, Failed, Completed or Reverted

Components not rolled yet keep the old release's pod template, byte for byte, so they do not
move until their roll step. Going back to `fromVersion` before a contract step is a plain
reconciliation at the old release (the expanded schema serves it); after one it is refused.
"""

from __future__ import annotations

from typing import Any

from ..services.base import ServiceDefinition, UpgradeStep

RUNNING, PAUSED, FAILED, COMPLETED, REVERTED = "Running", "Paused", "Failed", "Completed", "Reverted"


def job_step_name(step: UpgradeStep, target: str) -> str:
    """A migration's Job step, named by the release it moves to: db-expand-2026-2."""
    return f"{step.name}-{target.replace('.', '-')}"


def roll_targets(definition: ServiceDefinition) -> dict[str, tuple[str, ...]]:
    """The components each roll step moves: those it names, or every one no earlier step moved."""
    remaining = [component.name for component in definition.components]
    targets = {}
    for step in definition.upgrade:
        if step.is_roll:
            moved = step.components or tuple(remaining)
            targets[step.name] = tuple(moved)
            remaining = [name for name in remaining if name not in moved]
    return targets


def in_progress(status: dict[str, Any]) -> dict[str, Any] | None:
    upgrade = status.get("upgrade")
    return upgrade if upgrade and upgrade.get("state") not in (COMPLETED, REVERTED) else None


def progress(status: dict[str, Any], running: str, target: str) -> dict[str, Any]:
    """The recorded progress of the move running -> target, or a fresh one."""
    current = in_progress(status)
    if current and current.get("fromVersion") == running and current.get("toVersion") == target:
        return {**current, "stepsDone": list(current.get("stepsDone") or [])}
    return {"fromVersion": running, "toVersion": target, "step": "", "stepsDone": [], "state": RUNNING}


def contracted(definition: ServiceDefinition, record: dict[str, Any]) -> str | None:
    """The contract step already done in `record`, if any (past it the old release cannot run)."""
    done = set(record.get("stepsDone") or [])
    return next((step.name for step in definition.upgrade if step.contract and step.name in done), None)


def component_versions(definition: ServiceDefinition, record: dict[str, Any]) -> dict[str, str]:
    """The release each component runs at this point of the move: the new one once its roll
    step started, the old one before."""
    started = set(record["stepsDone"]) | {record.get("step")}
    moved = {name for step, names in roll_targets(definition).items() if step in started for name in names}
    return {component.name: record["toVersion"] if component.name in moved else record["fromVersion"]
            for component in definition.components}
