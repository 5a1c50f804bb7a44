"""The umbrella's watch on its children: a child's change recomputes its umbrella's status."""

import kopf

from ..api import API_VERSION, GROUP, VERSION
from ..kube import default_kube
from ..reconcile.controlplane import KIND, children, refresh


def refresh_parent(body, type, **_):
    """A child changed: recompute its umbrella's aggregate status (an event handler stores nothing)."""
    if type is None:  # the initial listing at start-up: the umbrella's resume handler covers it
        return
    owner = next((ref for ref in body["metadata"].get("ownerReferences", []) if ref.get("kind") == KIND), None)
    if owner is None:
        return
    kube = default_kube()
    parent = kube.get(API_VERSION, KIND, body["metadata"]["namespace"], owner["name"])
    if parent is not None:
        refresh(kube, parent)


for _kind, _section, _plural in children():
    kopf.on.event(GROUP, VERSION, _plural)(refresh_parent)
