"""Every kind of the API gets its handlers from the one catalog, under the ids earlier releases
used (kopf keeps a handler's progress in the status by id: a new id would run it anew)."""

from __future__ import annotations

from collections import defaultdict

import kopf

import ccp_operator.main  # noqa: F401  (registers the handlers)
from ccp_operator.api.kinds import all_kinds


def by_resource(handlers):
    found = defaultdict(set)
    for handler in handlers:
        found[handler.selector.any_name].add((handler.id, str(handler.reason)))
    return found


def test_every_kind_reconciles_on_create_update_and_restart():
    changing = by_resource(kopf.get_default_registry()._changing.get_all_handlers())
    for _, plural in all_kinds():
        assert changing[plural] == {("reconcile", "None"), ("reconcile", "create"), ("reconcile", "update")}, plural
    assert set(changing) == {plural for _, plural in all_kinds()}


def test_the_stateful_programs_have_their_observers():
    timers = {handler.selector.any_name: handler.id
              for handler in kopf.get_default_registry()._spawning.get_all_handlers()}
    assert timers == {"galeras": "observe_cluster", "rabbitmqs": "observe_brokers", "cephs": "observe_cluster"}
