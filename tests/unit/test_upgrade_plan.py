"""The upgrade rules without a cluster: which release jumps OpenStack allows, which components
each step moves, the progress record, and the order a control-plane release goes out in."""

from __future__ import annotations

import pytest

from ccp_operator.reconcile import upgrade
from ccp_operator.reconcile.controlplane import release_refusal, releases_to_apply
from ccp_operator.releases import upgrade_refusal
from ccp_operator.services import catalog, keystone, nova


@pytest.mark.parametrize("current, target, allowed", [
    ("2025.1", "2025.2", True),    # the next series
    ("2025.1", "2026.1", True),    # SLURP to the next SLURP
    ("2025.2", "2026.1", True),
    ("2025.2", "2026.2", False),   # two series from a non-SLURP release
    ("2025.1", "2026.2", False),   # three series
    ("2026.1", "2025.2", False),   # backwards
    ("2026.1", "2027.1", False),   # unknown
    ("2026.1", "2026.1", True),
])
def test_release_jumps_follow_the_slurp_rules(current, target, allowed):
    assert (upgrade_refusal(current, target) is None) == allowed


def test_a_refusal_says_what_to_do_instead():
    assert upgrade_refusal("2025.1", "2026.2") == (
        "2025.1 -> 2026.2 skips more than OpenStack supports (SLURP rules); from 2025.1 upgrade to 2025.2 or "
        "2026.1 first")


def test_every_service_declares_steps_that_end_with_all_components_moved():
    for definition in catalog.SERVICES:
        targets = upgrade.roll_targets(definition)
        moved = [name for names in targets.values() for name in names]
        assert sorted(moved) == sorted(c.name for c in definition.components), definition.name
        names = [step.name for step in definition.upgrade]
        assert len(names) == len(set(names)), definition.name
        for index, step in enumerate(definition.upgrade):
            if step.after_roll or step.contract:
                # Every component has moved before a step that needs the new release everywhere.
                moved_before = {name for s in definition.upgrade[:index] if s.is_roll for name in targets[s.name]}
                assert moved_before == {c.name for c in definition.components}, (definition.name, step.name)
            if step.contract:
                assert step.after_roll, (definition.name, step.name)


def test_nova_rolls_conductors_then_schedulers_then_the_rest():
    steps = [step.name for step in nova.SERVICE.upgrade]
    assert steps == ["upgrade-check", "api-db-sync", "db-sync", "roll-conductor", "roll-scheduler", "roll",
                     "online-data-migrations"]
    targets = upgrade.roll_targets(nova.SERVICE)
    assert targets["roll-conductor"] == ("nova-conductor",)
    assert targets["roll-scheduler"] == ("nova-scheduler",)
    assert set(targets["roll"]) == {"nova-api", "nova-metadata", "nova-novncproxy"}


def test_components_move_when_their_roll_step_starts():
    record = {"fromVersion": "2026.1", "toVersion": "2026.2", "stepsDone": ["api-db-sync", "db-sync"],
              "step": "roll-conductor"}
    versions = upgrade.component_versions(nova.SERVICE, record)
    assert versions["nova-conductor"] == "2026.2"
    assert {versions[name] for name in ("nova-api", "nova-scheduler", "nova-metadata")} == {"2026.1"}
    record = {**record, "stepsDone": record["stepsDone"] + ["roll-conductor"], "step": ""}
    assert upgrade.component_versions(nova.SERVICE, record)["nova-scheduler"] == "2026.1"


def test_progress_is_kept_for_the_same_move_and_started_afresh_for_another():
    status = {"upgrade": {"fromVersion": "2026.1", "toVersion": "2026.2", "step": "roll", "state": "Paused",
                          "stepsDone": ["db-expand", "db-migrate"]}}
    assert upgrade.progress(status, "2026.1", "2026.2")["stepsDone"] == ["db-expand", "db-migrate"]
    assert upgrade.progress(status, "2026.1", "2027.1")["stepsDone"] == []
    done = {"upgrade": {**status["upgrade"], "state": "Completed"}}
    assert upgrade.in_progress(done) is None


def test_past_the_contract_step_there_is_no_way_back():
    record = {"stepsDone": ["db-expand", "db-migrate", "roll"]}
    assert upgrade.contracted(keystone.SERVICE, record) is None
    assert upgrade.contracted(keystone.SERVICE, {"stepsDone": record["stepsDone"] + ["db-contract"]}) == "db-contract"
    assert upgrade.job_step_name(keystone.SERVICE.upgrade[1], "2026.2") == "db-expand-2026-2"


def test_every_service_with_a_status_tool_runs_its_new_release_s_checks_before_anything_moves():
    """Exit 1 is a warning (the tool's report stays in the Job's log); only 2 stops the upgrade."""
    for definition in (keystone.SERVICE, nova.SERVICE):
        first = definition.upgrade[0]
        assert first.name == "upgrade-check" and not first.is_roll and not first.after_roll
        assert first.command.endswith('upgrade check || [ "$?" -eq 1 ]'), first.command


def child(kind, release, version=None, ready=True, running=None):
    status = {"observedGeneration": 1, "version": running or release,
              "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    spec = {"release": release, **({"version": version} if version else {})}
    return {"kind": kind, "metadata": {"generation": 1}, "spec": spec, "status": status}


def test_a_control_plane_release_goes_to_one_service_at_a_time():
    kinds = [definition.kind for definition in catalog.SERVICES]
    live = {kind: child(kind, "2026.1") for kind in kinds}
    first = releases_to_apply({"release": "2026.2"}, live)
    assert first["Memcached"] == "2026.2" and all(first[kind] == "2026.1" for kind in kinds[1:])
    live["Memcached"] = child("Memcached", "2026.2")
    second = releases_to_apply({"release": "2026.2"}, live)
    assert second["Keystone"] == "2026.2" and second["Placement"] == "2026.1"
    live["Keystone"] = child("Keystone", "2026.2", ready=False, running="2026.1")  # upgrading
    assert releases_to_apply({"release": "2026.2"}, live)["Placement"] == "2026.1"
    # A service pinned to its own version does not hold the others back.
    live["Keystone"] = child("Keystone", "2026.2")
    live["Placement"] = child("Placement", "2026.1", version="2026.1")
    assert releases_to_apply({"release": "2026.2"}, live)["Glance"] == "2026.2"
    # A new control plane gets the release everywhere at once.
    assert set(releases_to_apply({"release": "2026.2"}, {}).values()) == {"2026.2"}


def test_an_unsupported_release_jump_is_refused_before_anything_moves():
    live = {definition.kind: child(definition.kind, "2025.2") for definition in catalog.SERVICES}
    assert release_refusal({"release": "2026.2"}, live).startswith("memcached: 2025.2 -> 2026.2 skips more")
    assert release_refusal({"release": "2026.1"}, live) is None
