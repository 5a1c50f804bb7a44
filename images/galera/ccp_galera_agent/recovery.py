"""Where a member's data stands, and which member bootstraps after a full outage (pure logic).

Galera keeps the last committed position in grastate.dat (uuid and seqno) on a clean shutdown;
after a crash seqno is -1 and `mariadbd --wsrep-recover` finds the position in InnoDB. After a
full outage the member with the most advanced position must bootstrap, or acknowledged
transactions are lost; the decision waits until every member that has data has said where it
stands, but a member whose volume is empty says so and never holds recovery up.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

UNKNOWN_SEQNO = -1
_GRASTATE_FIELD = re.compile(r"^(uuid|seqno|safe_to_bootstrap):\s*(\S+)\s*$", re.MULTILINE)
_RECOVERED = re.compile(r"WSREP: Recovered position:\s*([0-9a-f-]{36}):(-?\d+)")
NULL_UUID = "00000000-0000-0000-0000-000000000000"
# Members report every second; a report older than this comes from a member that stopped.
FRESH_FOR = 4.0


@dataclass(frozen=True)
class Position:
    """A member's place in the cluster's history: its cluster uuid and last committed seqno."""

    uuid: str
    seqno: int
    safe_to_bootstrap: bool = False


def parse_grastate(text: str) -> Position:
    values = dict(_GRASTATE_FIELD.findall(text))
    return Position(values.get("uuid", NULL_UUID), int(values.get("seqno", UNKNOWN_SEQNO)),
                    values.get("safe_to_bootstrap", "0") == "1")


def parse_recovered(log: str) -> tuple[str, int] | None:
    """The position `mariadbd --wsrep-recover` logged, if it found one."""
    matches = _RECOVERED.findall(log)
    if not matches:
        return None
    uuid, seqno = matches[-1]
    return uuid, int(seqno)


@dataclass
class Report:
    """What a member tells the others through etcd."""

    member: str
    empty: bool                            # its data directory holds no database
    position: Position | None = None       # where its data stands (None: not known yet)
    running: bool = False                  # mysqld runs
    wsrep: dict[str, Any] = field(default_factory=dict)  # live wsrep status when running
    updated: float = 0.0                   # wall-clock time of the report

    @property
    def fresh(self) -> bool:
        """Written within the last few seconds: a report of a member killed moments ago lingers
        until its lease expires, and must not pass for a running Primary component."""
        return time.time() - self.updated < FRESH_FOR

    @property
    def in_primary(self) -> bool:
        return self.running and self.fresh and self.wsrep.get("cluster_status") == "Primary"

    @property
    def synced(self) -> bool:
        return self.in_primary and self.wsrep.get("local_state") == "4" and self.wsrep.get("ready") == "ON"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Report":
        position = data.get("position")
        return cls(member=data["member"], empty=data["empty"],
                   position=Position(**position) if position else None,
                   running=data.get("running", False), wsrep=data.get("wsrep") or {},
                   updated=data.get("updated", 0.0))


@dataclass(frozen=True)
class Decision:
    """What the members should do: "join" a running cluster, "bootstrap" (the named member
    starts a new Primary component), or "wait" (with the reason)."""

    action: str
    member: str | None = None
    reason: str = ""


def decide(reports: dict[str, Report], members: list[str], forced: str | None = None) -> Decision:
    """The cluster-wide start decision, given every member's latest report.

    - Some member is in a Primary component: everyone else joins it.
    - `forced` names a member the operator chose: it bootstraps (if it reported data).
    - No member has ever had data: a new cluster; the first member bootstraps.
    - Otherwise, once every member has reported (a member with an empty volume counts, and is
      never chosen), the member with the most advanced position in the most common history
      bootstraps; ties go to safe_to_bootstrap, then to the member name.
    """
    if any(report.in_primary for report in reports.values()):
        return Decision("join", reason="a Primary component is running")
    if forced:
        report = reports.get(forced)
        if report is None:
            return Decision("wait", reason=f"the forced bootstrap member {forced} has not reported")
        if report.empty:
            return Decision("wait", reason=f"the forced bootstrap member {forced} has no data")
        return Decision("bootstrap", forced, reason=f"{forced} was chosen by the operator")
    missing = [member for member in members if member not in reports]
    with_data = {name: r for name, r in reports.items() if not r.empty}
    if not with_data and not missing:
        return Decision("bootstrap", sorted(members)[0], reason="a new cluster")
    if missing:
        return Decision("wait", reason=f"waiting for {', '.join(sorted(missing))} to report its position")
    unknown = sorted(name for name, r in with_data.items() if r.position is None or r.position.seqno < 0)
    if unknown:
        return Decision("wait", reason=f"waiting for the recovered position of {', '.join(unknown)}")
    history, _ = Counter(r.position.uuid for r in with_data.values()).most_common(1)[0]
    candidates = [r for r in with_data.values() if r.position.uuid == history]
    best = min(candidates, key=lambda r: (-r.position.seqno, not r.position.safe_to_bootstrap, r.member))
    return Decision("bootstrap", best.member,
                    reason=f"{best.member} has the most advanced position {history}:{best.position.seqno}")
