"""The writer election: one key in etcd names the writer, bound to the writer's lease.

A member becomes the writer only by creating the key while it does not exist (etcd compare-and-
swap on version 0), with a lease of `ttl` seconds that it renews while its mysqld is healthy.
The key disappears when the lease is revoked (the writer steps down) or expires (the writer died,
hung or lost etcd).

Fencing comes first: a writer that cannot renew counts from the moment it *sent* its last
successful renewal, and considers the role lost `margin` seconds before the lease can expire on
the etcd side. It fences itself by then, so by the time etcd lets another member create the key,
the old writer has already stopped accepting writes.

Every change of writer is recorded under `writer-changed` ({writer, previous, at}) for the
operator's status: when the last failover happened, and from which member to which.
"""

from __future__ import annotations

import json
import time
from typing import Callable

from etcd3gw.client import Etcd3Client
from etcd3gw.lease import Lease
from etcd3gw.utils import _encode

from . import contract


class WriterLease:
    def __init__(self, client: Etcd3Client, prefix: str, member: str, ttl: int = 6, margin: float = 2.0,
                 clock: Callable[[], float] = time.monotonic):
        if margin >= ttl:
            raise ValueError("the fencing margin must be shorter than the lease")
        self.client = client
        self.key = contract.key(prefix, contract.WRITER)
        self.changes_key = contract.key(prefix, contract.WRITER_CHANGED)
        self.member = member
        self.ttl = ttl
        self.margin = margin
        self.clock = clock
        self._lease: Lease | None = None
        self._renewed_at = 0.0

    def writer(self) -> str | None:
        """The member named by the writer key, if any."""
        values = self.client.get(self.key)
        return values[0].decode() if values else None

    @property
    def active(self) -> bool:
        """True from a successful acquire until release or a failed renewal."""
        return self._lease is not None

    @property
    def held(self) -> bool:
        """True while this member may still act as the writer by its own clock."""
        return self._lease is not None and self.clock() < self._renewed_at + self.ttl - self.margin

    def acquire(self) -> bool:
        """Becomes the writer if nobody is; False when another member holds the key."""
        sent = self.clock()
        lease = self.client.lease(self.ttl)
        if self.client.create(self.key, self.member, lease=lease):
            self._lease, self._renewed_at = lease, sent
            self._record_change(None)
            return True
        lease.revoke()
        return False

    def take_over(self, old: str) -> bool:
        """Replaces `old` as the writer, atomically, if the key still names it.

        Only for a writer that Galera itself has put outside the Primary component: such a member
        cannot commit anything any more, so the key may move before its lease runs out.
        """
        sent = self.clock()
        lease = self.client.lease(self.ttl)
        key = _encode(self.key)
        result = self.client.transaction({
            "compare": [{"key": key, "result": "EQUAL", "target": "VALUE", "value": _encode(old)}],
            "success": [{"request_put": {"key": key, "value": _encode(self.member), "lease": lease.id}}],
            "failure": [],
        })
        if result.get("succeeded"):
            self._lease, self._renewed_at = lease, sent
            self._record_change(old)
            return True
        lease.revoke()
        return False

    def _record_change(self, previous: str | None) -> None:
        """Records a new writer; the same member taking the role back changes nothing."""
        try:
            values = self.client.get(self.changes_key)
            last = json.loads(values[0]) if values else {}
            if last.get("writer") == self.member:
                return
            self.client.put(self.changes_key, json.dumps(
                {"writer": self.member, "previous": previous or last.get("writer"), "at": time.time()}))
        except Exception:  # noqa: BLE001 - bookkeeping only: the role does not depend on it
            pass

    def renew(self) -> bool:
        """Extends the lease; False (and the role is lost) when the lease or the key is gone."""
        if self._lease is None:
            return False
        sent = self.clock()
        try:
            remaining = self._lease.refresh()
            ours = self.writer() == self.member
        except Exception:  # noqa: BLE001 - etcd unreachable: the role holds only until `held` ends
            return self.held
        if remaining <= 0 or not ours:
            self._lease = None
            return False
        self._renewed_at = sent
        return True

    def release(self) -> None:
        """Steps down: revokes the lease, which deletes the key at once for the others to take."""
        lease, self._lease = self._lease, None
        if lease is not None:
            try:
                lease.revoke()
            except Exception:  # noqa: BLE001 - unreachable etcd: the lease will expire instead
                pass
