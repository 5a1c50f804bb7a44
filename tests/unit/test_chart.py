"""The chart as rendered: the CRDs are crds/ themselves (kept on uninstall), the RBAC names every
verb and resource (no wildcards) and grants nothing cluster-wide in namespaced mode, and the
Deployment runs the operator as a locked-down, probed, elected replica."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from ccp_operator.api import GROUP
from ccp_operator.api.kinds import all_kinds
from support.chart import ROOT, render, render_text


def by_kind(docs, kind):
    return [doc for doc in docs if doc["kind"] == kind]


def test_the_crds_are_those_of_crds_and_survive_an_uninstall():
    rendered = {doc["metadata"]["name"]: doc for doc in by_kind(render(), "CustomResourceDefinition")}
    on_disk = {doc["metadata"]["name"]: doc for doc in (yaml.safe_load(path.read_text())
                                                       for path in (ROOT / "crds").glob("*.yaml"))}
    assert rendered.keys() == on_disk.keys()
    for name, crd in rendered.items():
        assert crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
        assert crd["spec"] == on_disk[name]["spec"], f"{name}: the chart's copy differs from crds/"
    assert not by_kind(render("--set", "crds.install=false"), "CustomResourceDefinition")


def rules(docs, kind):
    return [rule for role in by_kind(docs, kind) for rule in role["rules"]]


@pytest.mark.parametrize("args", [[], ["--set-json", 'watchNamespaces=["a","b"]']], ids=["cluster", "namespaced"])
def test_rbac_names_every_verb_and_resource(args):
    docs = render(*args)
    for rule in rules(docs, "ClusterRole") + rules(docs, "Role"):
        for field in ("apiGroups", "resources", "verbs"):
            assert "*" not in rule[field], rule
        assert not {"escalate", "bind", "impersonate", "deletecollection"} & set(rule["verbs"]), rule
    secrets = [rule for rule in rules(docs, "ClusterRole") + rules(docs, "Role") if "secrets" in rule["resources"]]
    assert all(set(rule["verbs"]) == {"get", "create", "patch"} for rule in secrets)  # never list, never delete


def test_rbac_covers_exactly_the_kinds_of_the_catalog():
    """A kind added to the catalog is in the chart's rules, with its status; none is left over."""
    plurals = {plural for _, plural in all_kinds()}
    own = [rule for rule in rules(render(), "ClusterRole") if rule["apiGroups"] == [GROUP]]
    objects = {resource for rule in own if "watch" in rule["verbs"] for resource in rule["resources"]}
    statuses = {resource for rule in own if rule["verbs"] == ["patch"] for resource in rule["resources"]}
    assert objects == plurals
    assert statuses == {f"{plural}/status" for plural in plurals}


def test_namespaced_mode_grants_nothing_cluster_wide():
    docs = render("--set-json", 'watchNamespaces=["tenant-a","tenant-b"]')
    assert not by_kind(docs, "ClusterRole") and not by_kind(docs, "ClusterRoleBinding")
    operator_roles = {role["metadata"]["namespace"] for role in by_kind(docs, "Role")
                      if not role["metadata"]["name"].endswith("-leader-election")}
    assert operator_roles == {"tenant-a", "tenant-b"}
    args = by_kind(docs, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--namespace=tenant-a" in args and "--namespace=tenant-b" in args and "--all-namespaces" not in args


def test_the_lease_is_the_only_thing_the_replicas_share_and_renew():
    election = [role for role in by_kind(render(), "Role") if role["metadata"]["name"].endswith("-leader-election")]
    assert [role["metadata"]["namespace"] for role in election] == ["ccp-system"]
    named = [rule for rule in election[0]["rules"] if rule.get("resourceNames")]
    assert named == [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                      "resourceNames": ["ccp-openstack-ccp-operator-leader"], "verbs": ["get", "update"]}]


def test_the_deployment_runs_locked_down_with_probes_and_leader_election():
    deployment = by_kind(render(), "Deployment")[0]
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert deployment["spec"]["replicas"] == 2
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 65532
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert "--leader-election" in container["args"]
    assert "--lease-name=ccp-openstack-ccp-operator-leader" in container["args"]
    assert container["image"] == "ghcr.io/openstack-ccp/operator:0.1.0"
    assert by_kind(render(), "PodDisruptionBudget") and not by_kind(render("--set", "replicas=1"), "PodDisruptionBudget")


@pytest.mark.parametrize("args, message", [
    (["--set", "leaderElection.retryPeriod=9"], "need retryPeriod < renewDeadline < leaseDuration"),
    (["--set", "replicas=0"], "replicas"),
    (["--set-json", 'watchNamespaces=["Not_A_Namespace"]'], "watchNamespaces"),
    (["--set", "logLevel=loud"], "logLevel"),
])
def test_bad_values_are_refused_with_the_field_named(args, message):
    with pytest.raises(subprocess.CalledProcessError) as refused:
        render_text(*args)
    assert message in refused.value.stderr
