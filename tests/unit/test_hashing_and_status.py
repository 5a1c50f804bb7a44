"""Content hashes are stable across processes; status is rebuilt without spurious changes."""

import subprocess
import sys

from ccp_operator import conditions
from ccp_operator.hashing import content_hash
from ccp_operator.kube.client import APPLIED_HASH_ANNOTATION, applied_hash
from ccp_operator.reconcile import status


def test_content_hash_is_the_same_in_another_process():
    value = {"b": [1, 2, {"x": "é"}], "a": None}
    here = content_hash(value)
    there = subprocess.run([sys.executable, "-c", "from ccp_operator.hashing import content_hash;"
                            "print(content_hash({'a': None, 'b': [1, 2, {'x': 'é'}]}))"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert here == there


def test_applied_hash_ignores_its_own_annotation():
    manifest = {"metadata": {"name": "x", "annotations": {"a": "1"}}, "spec": {}}
    annotated = {"metadata": {"name": "x", "annotations": {"a": "1", APPLIED_HASH_ANNOTATION: "old"}}, "spec": {}}
    assert applied_hash(manifest) == applied_hash(annotated)


def _body(generation, previous=None):
    return {"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "n", "namespace": "ns", "generation": generation},
            "status": previous or {}}


def test_ready_sets_observed_generation_and_waiting_keeps_the_old_one():
    steps = [conditions.Condition("DatabaseReady", True, "Created")]
    ready = status.build(_body(3), steps, ready=True)
    assert ready["observedGeneration"] == 3
    waiting = status.build(_body(4, ready), [conditions.Condition("DatabaseReady", False, "JobRunning", "waiting")],
                           ready=False)
    assert waiting["observedGeneration"] == 3
    assert conditions.find(waiting["conditions"], "Ready")["reason"] == "JobRunning"


def test_rebuilding_the_same_state_is_not_a_change():
    steps = [conditions.Condition("DatabaseReady", True, "Created")]
    first = status.build(_body(1), steps, ready=True, extra={"version": "2026.1"})
    body = _body(1, first)
    again = status.build(body, steps, ready=True, extra={"version": "2026.1"})
    assert not status.changed(body, again)


def test_transition_time_moves_only_when_status_flips():
    old = conditions.merge(None, [conditions.Condition("Ready", True, "Ready")], 1, now="2026-01-01T00:00:00Z")
    same = conditions.merge(old, [conditions.Condition("Ready", True, "Ready", "new message")], 1,
                            now="2026-02-02T00:00:00Z")
    flipped = conditions.merge(old, [conditions.Condition("Ready", False, "Broken")], 1, now="2026-02-02T00:00:00Z")
    assert same[0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert flipped[0]["lastTransitionTime"] == "2026-02-02T00:00:00Z"


def test_status_patches_remove_nested_fields_that_are_gone():
    from ccp_operator.reconcile.status import merge_patch

    old = {"endpoint": {"mode": "managed", "radosgwURL": "http://rgw:8080", "pools": {"images": "images"}},
           "writer": "a", "kept": 1}
    new = {"endpoint": {"mode": "managed", "pools": {"images": "glance-images"}}, "kept": 1}
    assert merge_patch(old, new) == {"writer": None,
                                     "endpoint": {"radosgwURL": None, "pools": {"images": "glance-images"}}}
    assert merge_patch(old, old) == {}
