"""The chart's monitoring: a ServiceMonitor and a PrometheusRule only where the Prometheus operator's
API exists, alert rules that promtool accepts and that fire when (and only when) they should, and a
dashboard and rules that query only metrics the operator really exports."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client.registry import REGISTRY

from ccp_operator.metrics import StateCollector
from ccp_operator.watched import WatchedObjects
from support.chart import CHART, render

DASHBOARD = CHART / "files" / "dashboards" / "openstack-ccp.json"
ALERT_TESTS = Path(__file__).parent / "monitoring" / "alerts.test.yaml"
MONITORING_API = "monitoring.coreos.com/v1"
# Release "ccp" in ccp-system, as tests/unit/monitoring/alerts.test.yaml expects.
JOB = 'job="ccp-openstack-ccp-operator-metrics"'
READY = [{"type": "Ready", "status": "True"}]
# One object of each shape the state gauges read, so that every one of them has a sample.
SAMPLE_BODIES = [
    {"kind": "Galera", "metadata": {"namespace": "openstack", "name": "galera"},
     "status": {"conditions": READY, "membersSynced": "3/3", "writer": "galera-1", "clusterObservation": "ok",
                "lastFailoverTime": "2025-01-01T00:00:00Z"}},
    {"kind": "RabbitMQ", "metadata": {"namespace": "openstack", "name": "rabbitmq"},
     "status": {"conditions": READY, "membersRunning": "3/3", "brokerObservation": "ok",
                "members": [{"name": "rabbit@rabbitmq-0", "running": True, "alarms": ["memory"]}]}},
    {"kind": "Ceph", "metadata": {"namespace": "openstack", "name": "ceph"},
     "status": {"conditions": READY, "quorum": "3/3", "health": "HEALTH_WARN", "clusterObservation": "ok"}},
    {"kind": "Keystone", "metadata": {"namespace": "openstack", "name": "keystone"},
     "status": {"conditions": READY, "version": "2024.2",
                "upgrade": {"fromVersion": "2024.1", "toVersion": "2024.2", "state": "Running",
                            "stepsDone": ["expand"]}}},
]
# What prometheus_client appends to a family's name in the exposition, by type.
SUFFIXES = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"], "info": ["_info"],
            "summary": ["", "_count", "_sum"]}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
                "offset", "inf", "nan"}
# The state gauges: they carry the managed resource's namespace label.
STATE_PREFIXES = ("ccp_resource_", "ccp_upgrade_", "ccp_galera_", "ccp_cluster_", "ccp_rabbitmq_", "ccp_ceph_")


def only(docs: list[dict], kind: str) -> dict:
    found = [doc for doc in docs if doc["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind}s rendered"
    return found[0]


@pytest.fixture(scope="module")
def monitored() -> list[dict]:
    return render("--api-versions", MONITORING_API)


@pytest.fixture(scope="module")
def rules(monitored) -> list[dict]:
    return only(monitored, "PrometheusRule")["spec"]["groups"][0]["rules"]


@pytest.fixture(scope="module")
def exported() -> set[str]:
    """Every metric name the operator exposes: its own counters, histogram, gauges and info, the
    process and Python collectors, and the state gauges for a sample of objects."""
    watched = WatchedObjects()
    for body in SAMPLE_BODIES:
        watched.record(body)
    families = list(StateCollector(watched).collect())
    assert [family.name for family in families if not family.samples] == [], "a sample body is missing"
    names = {sample.name for family in families for sample in family.samples}
    for family in REGISTRY.collect():
        names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, [""])}
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: what is left once strings, label matchers,
    ranges, grouping label lists, keywords and function names are taken out."""
    expr = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    return set(re.findall(r"\b[A-Za-z_:][\w:]*\b(?!\s*\()", expr)) - PROMQL_WORDS


def unscoped(expr: str, matcher: str) -> set[str]:
    """The metric names `expr` selects somewhere without `matcher`."""
    return metric_names(re.sub(r"\b[A-Za-z_:][\w:]*\{[^}]*%s[^}]*\}" % re.escape(matcher), " ", expr))


def dashboard_targets(dashboard: dict) -> list[dict]:
    """Every query of every panel, rows' panels included."""
    panels = [p for top in dashboard["panels"] for p in [top, *top.get("panels", [])]]
    return [target for panel in panels for target in panel.get("targets", [])]


def test_metric_names_finds_metrics_and_nothing_else():
    expr = ('sum by (kind, le) (rate(a_bucket{job=~"$job", x="f(y)"}[$__rate_interval])) / on (kind) '
            'group_left max(b) offset 5m > bool 0.95 or vector(0) unless count(c{d="e"}) by (f)')
    assert metric_names(expr) == {"a_bucket", "b", "c"}


def test_without_the_monitoring_api_nothing_of_it_is_rendered():
    kinds = {doc["kind"] for doc in render()}
    assert "Service" in kinds
    assert not kinds & {"ServiceMonitor", "PrometheusRule"}


def test_with_the_api_both_are_rendered_unless_disabled(monitored):
    assert {"ServiceMonitor", "PrometheusRule"} <= {doc["kind"] for doc in monitored}
    disabled = render("--api-versions", MONITORING_API, "--set",
                      "metrics.serviceMonitor.enabled=false,metrics.prometheusRule.enabled=false")
    assert not {doc["kind"] for doc in disabled} & {"ServiceMonitor", "PrometheusRule"}


def test_servicemonitor_scrapes_the_metrics_service_only(monitored):
    monitor = only(monitored, "ServiceMonitor")["spec"]
    selected = [doc for doc in monitored if doc["kind"] == "Service"
                and monitor["selector"]["matchLabels"].items() <= doc["metadata"]["labels"].items()]
    assert [doc["metadata"]["name"] for doc in selected] == ["ccp-openstack-ccp-operator-metrics"]
    assert monitor["namespaceSelector"] == {"matchNames": ["ccp-system"]}
    [endpoint] = monitor["endpoints"]
    assert endpoint["port"] in [port["name"] for port in selected[0]["spec"]["ports"]]
    assert endpoint["path"] == "/metrics"
    # Without it, Prometheus renames the managed resources' namespace label to exported_namespace.
    assert endpoint["honorLabels"] is True


def test_alerts_are_named_labelled_and_described(rules):
    for rule in rules:
        assert rule["alert"].startswith("CCP"), rule["alert"]
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
    # Helm passed the Prometheus templates through (promtool's unit tests check what they expand to).
    quorum = next(rule for rule in rules if rule["alert"] == "CCPClusterQuorumLost")
    assert "{{ $labels.name }}" in quorum["annotations"]["summary"]


def test_alerts_query_existing_metrics_of_this_release_only(rules, exported):
    for rule in rules:
        assert metric_names(rule["expr"]) and metric_names(rule["expr"]) <= exported, rule["alert"]
        assert unscoped(rule["expr"], JOB) == set(), f"{rule['alert']} is not limited to this release's job"


def test_not_ready_delay_comes_from_the_values():
    docs = render("--api-versions", MONITORING_API, "--set", "metrics.prometheusRule.notReadyFor=42m")
    rules = only(docs, "PrometheusRule")["spec"]["groups"][0]["rules"]
    assert next(rule for rule in rules if rule["alert"] == "CCPResourceNotReady")["for"] == "42m"


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if not found:
        pytest.skip("promtool is not installed (Debian package prometheus: hack/install-system-deps.sh)")
    return found


def test_rules_pass_promtool_check_and_their_unit_tests(monitored, promtool, tmp_path):
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(only(monitored, "PrometheusRule")["spec"]))
    shutil.copy(ALERT_TESTS, tmp_path / ALERT_TESTS.name)
    for command in (["check", "rules", "rules.yaml"], ["test", "rules", ALERT_TESTS.name]):
        result = subprocess.run([promtool, *command], cwd=tmp_path, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_dashboard_expressions_parse(promtool, tmp_path):
    """promtool parses each panel's query as a recording rule, with Grafana's variables filled in."""
    values = {"$__rate_interval": "5m", "$job": ".+", "$namespace": ".+"}
    exprs = [re.sub(r"\$\w+", lambda m: values[m.group()], target["expr"])
             for target in dashboard_targets(json.loads(DASHBOARD.read_text()))]
    recorded = [{"record": f"dashboard:query_{index}", "expr": expr} for index, expr in enumerate(exprs)]
    (tmp_path / "queries.yaml").write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": recorded}]}))
    result = subprocess.run([promtool, "check", "rules", "queries.yaml"], cwd=tmp_path, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_tested_firing_and_quiet(rules):
    cases = [case for test in yaml.safe_load(ALERT_TESTS.read_text())["tests"] for case in test["alert_rule_test"]]
    alerts = {rule["alert"] for rule in rules}
    assert {case["alertname"] for case in cases if case["exp_alerts"]} == alerts
    assert {case["alertname"] for case in cases if not case["exp_alerts"]} == alerts


def test_dashboard_configmap_holds_the_dashboard(monitored):
    [configmap] = [doc for doc in monitored if doc["kind"] == "ConfigMap"
                   and doc["metadata"]["labels"].get("grafana_dashboard") == "1"]
    assert configmap["data"] == {"openstack-ccp.json": DASHBOARD.read_text().rstrip("\n")}
    disabled = render("--set", "metrics.grafanaDashboard.enabled=false")
    assert not [doc for doc in disabled if doc["kind"] == "ConfigMap"]


def test_dashboard_queries_existing_metrics_through_its_variables(exported):
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["schemaVersion"] >= 39
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert (variables["datasource"]["type"], variables["datasource"]["query"]) == ("datasource", "prometheus")
    assert variables["namespace"]["query"]["query"] == "label_values(ccp_resource_ready, namespace)"
    for variable in variables.values():
        queried = re.findall(r"label_values\(([\w:]+)", json.dumps(variable.get("query")))
        assert set(queried) <= exported, variable["name"]
    targets = dashboard_targets(dashboard)
    used = set()
    for target in targets:
        assert target["datasource"]["uid"] == "${datasource}", target["expr"]
        names = metric_names(target["expr"])
        assert names and names <= exported, target["expr"]
        used |= names
        # The namespace picker applies to every state gauge.
        unpicked = unscoped(target["expr"], 'namespace=~"$namespace"')
        assert not [name for name in unpicked if name.startswith(STATE_PREFIXES)], target["expr"]
    # The panels the dashboard is for.
    assert {"ccp_operator_leader", "ccp_reconciliations_total", "ccp_reconcile_duration_seconds_bucket",
            "ccp_resource_ready", "ccp_galera_writer", "ccp_galera_last_failover_timestamp_seconds",
            "ccp_cluster_members", "ccp_cluster_members_healthy", "ccp_rabbitmq_alarms", "ccp_ceph_health",
            "ccp_upgrade_steps_done", "ccp_upgrade_steps", "ccp_upgrade_state"} <= used

