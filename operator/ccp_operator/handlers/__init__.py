"""kopf handlers: every kind of reconcile/kinds.py registered the same way (common.register),
the umbrella's watch on its children, and the record of what every watch delivers. Importing
this package registers them all."""

from ..reconcile.kinds import KINDS
from . import controlplane, observation  # noqa: F401
from .common import register

for _entry in KINDS:
    register(_entry)
