"""Every watch event of every kind goes into the record of what the watches delivered, which the
metrics and the liveness check read (an event handler stores nothing in the object)."""

import kopf

from ..api import GROUP, VERSION
from ..api.kinds import all_kinds
from ..watched import WATCHED


def record(body, type, **_):
    WATCHED.record(body, deleted=type == "DELETED")


for _kind, _plural in all_kinds():
    kopf.on.event(GROUP, VERSION, _plural)(record)
