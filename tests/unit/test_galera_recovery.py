"""The Galera agent's reading of member state and its choice of the bootstrap member."""

import time

import pytest

from ccp_galera_agent.recovery import Position, Report, decide, parse_grastate, parse_recovered

UUID = "3e7e2504-e578-11f1-bf40-ef83e039464f"
OTHER = "9f0c3a10-0000-11f1-8000-000000000000"
MEMBERS = ["galera-0", "galera-1", "galera-2"]


def report(member, seqno=None, uuid=UUID, empty=False, safe=False, **kwargs):
    position = None if seqno is None else Position(uuid, seqno, safe)
    kwargs.setdefault("updated", time.time())
    return Report(member, empty=empty, position=position, **kwargs)


def test_grastate_after_a_clean_shutdown_and_after_a_crash():
    clean = f"# GALERA saved state\nversion: 2.1\nuuid:    {UUID}\nseqno:   42\nsafe_to_bootstrap: 1\n"
    assert parse_grastate(clean) == Position(UUID, 42, True)
    crashed = clean.replace("seqno:   42", "seqno:   -1").replace("safe_to_bootstrap: 1", "safe_to_bootstrap: 0")
    assert parse_grastate(crashed) == Position(UUID, -1, False)


def test_recovered_position_from_the_error_log():
    log = (f"2026-11-21  6:54:05 0 [Note] WSREP: Recovered position: {UUID}:6\n"
           "2026-11-21  6:54:05 0 [Note] InnoDB: Shutdown completed\n")
    assert parse_recovered(log) == (UUID, 6)
    assert parse_recovered("nothing here") is None


def test_members_join_a_running_primary_component():
    reports = {"galera-0": report("galera-0", 10, running=True, wsrep={"cluster_status": "Primary"}),
               "galera-1": report("galera-1", 12)}
    assert decide(reports, MEMBERS).action == "join"


def test_a_stale_report_of_a_primary_member_is_not_a_running_cluster():
    reports = {"galera-0": report("galera-0", 10, running=True, wsrep={"cluster_status": "Primary"},
                                  updated=time.time() - 8),
               "galera-1": report("galera-1", 12), "galera-2": report("galera-2", 11)}
    decision = decide(reports, MEMBERS)
    assert (decision.action, decision.member) == ("bootstrap", "galera-1")


def test_a_new_cluster_is_bootstrapped_by_the_first_member():
    reports = {m: report(m, empty=True) for m in MEMBERS}
    assert decide(reports, MEMBERS) == decide(reports, MEMBERS)
    assert (decide(reports, MEMBERS).action, decide(reports, MEMBERS).member) == ("bootstrap", "galera-0")


def test_the_most_advanced_member_bootstraps_after_a_full_outage():
    reports = {"galera-0": report("galera-0", 100), "galera-1": report("galera-1", 140),
               "galera-2": report("galera-2", 120, safe=True)}
    decision = decide(reports, MEMBERS)
    assert (decision.action, decision.member) == ("bootstrap", "galera-1")
    assert "140" in decision.reason


def test_a_member_with_data_that_has_not_reported_holds_recovery():
    reports = {"galera-0": report("galera-0", 100), "galera-1": report("galera-1", 140)}
    decision = decide(reports, MEMBERS)
    assert decision.action == "wait" and "galera-2" in decision.reason


def test_an_unknown_position_is_waited_for():
    reports = {"galera-0": report("galera-0", 100), "galera-1": report("galera-1", -1),
               "galera-2": report("galera-2", 90)}
    decision = decide(reports, MEMBERS)
    assert decision.action == "wait" and "galera-1" in decision.reason


def test_an_empty_volume_never_blocks_recovery_and_is_never_chosen():
    reports = {"galera-0": report("galera-0", 100), "galera-1": report("galera-1", empty=True),
               "galera-2": report("galera-2", 90)}
    decision = decide(reports, MEMBERS)
    assert (decision.action, decision.member) == ("bootstrap", "galera-0")


def test_ties_prefer_safe_to_bootstrap_then_the_first_name():
    reports = {"galera-0": report("galera-0", 50), "galera-1": report("galera-1", 50, safe=True),
               "galera-2": report("galera-2", 50)}
    assert decide(reports, MEMBERS).member == "galera-1"
    reports["galera-1"] = report("galera-1", 50)
    assert decide(reports, MEMBERS).member == "galera-0"


def test_a_stray_history_does_not_win_on_seqno():
    reports = {"galera-0": report("galera-0", 100), "galera-1": report("galera-1", 5000, uuid=OTHER),
               "galera-2": report("galera-2", 90)}
    assert decide(reports, MEMBERS).member == "galera-0"


@pytest.mark.parametrize("forced, expected", [("galera-2", ("bootstrap", "galera-2")),
                                              ("galera-1", ("wait", None))])
def test_the_operator_can_force_the_bootstrap_member(forced, expected):
    reports = {"galera-0": report("galera-0", 100), "galera-1": report("galera-1", empty=True),
               "galera-2": report("galera-2", 90)}
    decision = decide(reports, MEMBERS, forced=forced)
    assert (decision.action, decision.member) == expected


def test_forcing_works_without_waiting_for_a_lost_member():
    reports = {"galera-0": report("galera-0", 100)}
    assert decide(reports, MEMBERS, forced="galera-0").action == "bootstrap"
    assert decide(reports, MEMBERS).action == "wait"


def test_reports_round_trip_through_json():
    original = report("galera-1", 7, running=True, wsrep={"cluster_status": "Primary", "local_state": "4",
                                                          "ready": "ON"})
    again = Report.from_json(original.to_json())
    assert again == original and again.synced


def test_a_member_killed_while_running_is_waited_for_not_judged_by_its_last_live_position():
    """Its last report says where it stood a moment before it died (a writer commits more in its
    last second): bootstrapping from a member ahead of that position could lose what it
    acknowledged, so the decision waits for the member's recovered position."""
    from ccp_galera_agent.agent import Agent

    killed = report("galera-0", 100, running=True, wsrep={"cluster_status": "Primary"}, updated=time.time() - 2)
    reports = {"galera-0": killed, "galera-1": report("galera-1", 101), "galera-2": report("galera-2", 99)}
    first_seen: dict[str, float] = {}
    live = Agent.live_reports(reports, first_seen)
    assert not live["galera-0"].running and live["galera-0"].position is None
    decision = decide(live, MEMBERS)
    assert decision.action == "wait" and "galera-0" in decision.reason
    # Restarted, it reports the position recovered from its data, and the most advanced bootstraps.
    reports["galera-0"] = report("galera-0", 103)
    decision = decide(Agent.live_reports(reports, first_seen), MEMBERS)
    assert (decision.action, decision.member) == ("bootstrap", "galera-0")
