"""The one place where failures become kopf's retry decisions.

Bad input is permanent: retrying cannot fix it, the user must change the spec. Waiting on
something (a Job, a dependency, the API server) is temporary: retried with a growing delay.
"""

from __future__ import annotations

import contextlib
import json
from typing import Callable, Iterator

import kopf
from kubernetes.client.rest import ApiException
from urllib3.exceptions import HTTPError

BASE_DELAY = 1.0
GROWTH = 1.4
MAX_DELAY = 20.0
# Something the operator itself started (a Job, a rollout) ends within seconds under normal
# conditions: look again sooner than for something outside its hands.
MAX_DELAY_SOON = 4.0


class InvalidSpec(Exception):
    """The spec is well-formed for the schema but cannot be satisfied; `field` names the culprit."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def require_odd(field: str, count: int, members: str = "members", keep: str = "a majority") -> None:
    """A quorum of `count` members: with an even count, losing half of them stops it."""
    if count % 2 == 0:
        raise InvalidSpec(field, f"{count} {members} cannot keep {keep} when half of them fail; "
                                 "use an odd number (1, 3, 5, ...)")


class Waiting(Exception):
    """Reconciliation cannot go on until something else happens (`reason` is a condition reason).

    `soon`: the awaited thing was started by the operator and normally ends within seconds.
    """

    def __init__(self, reason: str, message: str, soon: bool = False):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.soon = soon


class WaitingForResource(Waiting):
    """Waiting until another of the operator's own resources gets somewhere (a dependency Ready,
    the children of a control plane Ready). That resource's change wakes this one, so the pass
    ends without a retry: a retry would sleep up to MAX_DELAY past the moment, and kopf holds
    back even a new spec of this resource until a scheduled retry is due.

    `arrived()` checks again whether the awaited state is there: the handler calls it after it
    wrote its waiting status, so a change that came in between is never missed (whoever writes
    second sees the other's write)."""

    def __init__(self, reason: str, message: str, arrived: Callable[[], bool]):
        super().__init__(reason, message)
        self.arrived = arrived


def backoff(retry: int, soon: bool = False) -> float:
    """Seconds before retry number `retry` (0-based): growing from BASE_DELAY, capped.

    The delay starts small and grows, so that a long wait (a dependency that is down) costs one
    pass every MAX_DELAY seconds at most, and a wait for the operator's own Job or rollout one
    every MAX_DELAY_SOON seconds.
    """
    return min(BASE_DELAY * GROWTH ** min(retry, 32), MAX_DELAY_SOON if soon else MAX_DELAY)


@contextlib.contextmanager
def mapped_to_kopf(retry: int) -> Iterator[None]:
    """Re-raises our exceptions and API errors as kopf.PermanentError or kopf.TemporaryError."""
    try:
        yield
    except InvalidSpec as exc:
        raise kopf.PermanentError(str(exc)) from exc
    except Waiting as exc:
        raise kopf.TemporaryError(exc.message, delay=backoff(retry, exc.soon)) from exc
    except ApiException as exc:
        if exc.status in (400, 422):
            # The API refused what we sent: our rendering of the user's input is invalid.
            raise kopf.PermanentError(f"the API server refused an object: {exc.reason}: {exc.body}") from exc
        raise kopf.TemporaryError(f"API error {exc.status}: {api_message(exc)}", delay=backoff(retry)) from exc
    except (HTTPError, ConnectionError, TimeoutError) as exc:
        # The API server (or a program the operator talks to) did not answer: a connection
        # refused or reset, a timeout. It comes back by itself.
        raise kopf.TemporaryError(f"no answer: {exc}", delay=backoff(retry)) from exc


def api_message(exc: ApiException) -> str:
    """The API server's own words (a 403 names the verb and resource the operator lacks)."""
    try:
        return json.loads(exc.body)["message"]
    except (TypeError, ValueError, KeyError):
        return str(exc.reason)
