"""What every reconciler shares: the resource it works on and the steps it records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from .. import conditions, workloads
from ..api import API_VERSION
from ..errors import InvalidSpec, Waiting
from ..kube.client import Kube
from ..services.base import JobStep
from ..workloads import Owner
from . import status as status_writer

T = TypeVar("T")


@dataclass(frozen=True)
class Event:
    """A Kubernetes Event the handler posts about the resource."""

    type: str  # Normal or Warning
    reason: str
    message: str


@dataclass
class Outcome:
    """What a completed reconciliation pass found, for the status."""

    components: dict[str, dict[str, Any]]
    endpoint: dict[str, Any] | None
    version: str


@dataclass
class Pass:
    """One reconciliation pass: the status it leaves (written once, by the handler) and how it
    ended: completed with an `outcome`, or `stopped` by an InvalidSpec or a Waiting."""

    status: dict[str, Any]
    outcome: Outcome | None = None
    stopped: InvalidSpec | Waiting | None = None


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
        self.events: list[Event] = []  # to post

    def run(self) -> Pass:
        """One pass and the status it leaves: Ready mirrors the first step not done, or what the
        pass waits for outside any step; an invalid spec says which field and why."""
        try:
            outcome = self.reconcile()
        except InvalidSpec as exc:
            self.event("InvalidSpec", str(exc), warning=True)
            steps = [conditions.Condition("SpecValid", False, "InvalidSpec", str(exc))]
            return Pass(status_writer.build(self.body, steps, ready=False), stopped=exc)
        except Waiting as exc:
            waiting = conditions.Condition(conditions.READY, False, exc.reason, exc.message)
            return Pass(status_writer.build(self.body, self.steps, ready=False, extra=self.extra_status,
                                            waiting=waiting), stopped=exc)
        extra: dict[str, Any] = {**self.extra_status}
        if outcome.components:
            extra["components"] = outcome.components
        if outcome.version:
            extra["version"] = outcome.version
        if outcome.endpoint is not None:
            extra["endpoint"] = outcome.endpoint
        return Pass(status_writer.build(self.body, self.steps, ready=True, extra=extra), outcome=outcome)

    def event(self, reason: str, message: str, warning: bool = False) -> None:
        """Records an important step; the handler posts it as a Kubernetes Event."""
        self.events.append(Event("Warning" if warning else "Normal", reason, message))

    def previous_reason(self, condition_type: str) -> str | None:
        cond = conditions.find((self.body.get("status") or {}).get("conditions"), condition_type)
        return cond.get("reason") if cond else None

    def rolled_out(self, live: dict[str, Any], replicas: int, image: str, what: str) -> dict[str, Any]:
        """The status entry of a workload that runs its current template on every replica, all
        Ready; else a Waiting that says how many are (what: the pods, as the message names them)."""
        rollout = workloads.Rollout.of(live, replicas)
        if not rollout.done:
            raise Waiting("RollingOut", f"waiting for {what}: {rollout.ready}/{replicas} ready", soon=True)
        return rollout.entry(image)

    def step(self, condition_type: str, done_reason: str, action: Callable[[], T]) -> T:
        """Runs one step and records its condition; a Waiting step records why and stops the pass."""
        try:
            result = action()
        except Waiting as exc:
            self.steps.append(conditions.Condition(condition_type, False, exc.reason, exc.message))
            raise
        self.steps.append(conditions.Condition(condition_type, True, done_reason))
        return result

    def run_step(self, service: str, step: JobStep, *, image: str, files: dict[str, str], env: list[dict[str, Any]],
                 condition: str, key_secrets: dict[str, str] | None = None, kolla_image: bool = True,
                 backoff_limit: int = 4) -> None:
        """Runs a one-off step of `service`: its files (jobs.step_files) in a config Secret of its
        own, its Job named by them and its pod, created once and waited for (run_job)."""
        secret_name = workloads.config_secret_name(self.owner, f"{service}-{step.name}")
        self.kube.apply(workloads.secret(self.owner, secret_name, service, None, files))
        manifest = workloads.job(
            self.owner, service, step, image=image, node_selector=self.spec.get("nodeSelector") or {},
            config_secret=secret_name, key_secrets=key_secrets or {}, env=env,
            files_hash=workloads.inputs_hash(files), kolla_image=kolla_image, backoff_limit=backoff_limit)
        self.run_job(manifest, step.name, service, condition)

    def run_job(self, manifest: dict[str, Any], step: str, service: str, condition: str) -> None:
        """Creates the step's Job if this version of it does not exist yet, and waits for it.

        Older versions of the step are deleted first: Jobs are immutable, a changed step is a new
        Job. A failed Job stays (its logs explain the failure) until the user deletes it."""
        name = manifest["metadata"]["name"]
        for old in self.kube.list("batch/v1", "Job", self.namespace,
                                  {workloads.JOB_STEP_LABEL: step, "app.kubernetes.io/instance": self.owner.name,
                                   "app.kubernetes.io/name": service}):
            if old["metadata"]["name"] != name:
                self.kube.delete("batch/v1", "Job", self.namespace, old["metadata"]["name"])
        live = self.kube.get("batch/v1", "Job", self.namespace, name)
        if live is None:
            live, _ = self.kube.create(manifest)
            self.event("JobStarted", f"{step}: started Job {name}")
        status = live.get("status") or {}
        if status.get("succeeded"):
            return
        if conditions.is_true(status.get("conditions"), "Failed"):
            failed = conditions.find(status["conditions"], "Failed") or {}
            message = (f"Job {name} failed ({failed.get('reason', '')}: {failed.get('message', '')}); "
                       f"{self._log_tail(name)}; fix the cause (a changed step is a new Job) or delete the Job "
                       "to run the step again")
            if self.previous_reason(condition) != "JobFailed":
                self.event("JobFailed", f"{step}: {message}", warning=True)
            raise Waiting("JobFailed", message)
        raise Waiting("JobRunning", f"waiting for Job {name} to complete", soon=True)

    def _log_tail(self, job: str, lines: int = 5) -> str:
        """The last lines its newest pod logged, for the condition that says why a Job failed."""
        pods = self.kube.list("v1", "Pod", self.namespace, {"job-name": job})
        if not pods:
            return "no pod left to show logs of"
        newest = max(pods, key=lambda pod: pod["metadata"].get("creationTimestamp", ""))
        try:
            text = self.kube.logs(self.namespace, newest["metadata"]["name"], lines).strip()
        except ApiException as exc:
            return f"its logs cannot be read ({exc.status} {exc.reason})"
        except (OSError, HTTPError) as exc:
            return f"its logs cannot be read ({exc})"
        return "last log lines: " + (" | ".join(text.splitlines()[-lines:]) or "(empty)")

    def validate(self) -> None:
        """Checks what the schema cannot express; raises InvalidSpec naming the field."""

    def reconcile(self) -> Outcome:
        raise NotImplementedError
