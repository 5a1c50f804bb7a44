"""Placement rules: dedicated isolation, spreading, co-location, node selectors."""

from ccp_operator import placement
from ccp_operator.reconcile.service import component_settings
from ccp_operator.services import neutron, nova


def test_dedicated_components_repel_every_dedicated_pod_on_a_node():
    rules = placement.affinity(service="nova", instance="cloud", component="nova-api", dedicated=True)
    required = rules["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert required == [{"labelSelector": {"matchLabels": {placement.DEDICATED_LABEL: "true"}},
                         "namespaceSelector": {}, "topologyKey": "kubernetes.io/hostname"}]
    assert placement.pod_labels(True) == {placement.DEDICATED_LABEL: "true"}


def test_shared_components_only_prefer_to_spread():
    rules = placement.affinity(service="cinder", instance="cloud", component="cinder-api", dedicated=False)
    assert "requiredDuringSchedulingIgnoredDuringExecution" not in rules["podAntiAffinity"]
    assert rules["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]["weight"] == 100
    assert placement.pod_labels(False) == {}


def test_neutron_server_prefers_the_network_nodes_and_its_rpc_servers_require_its_nodes():
    """The network nodes are known from the spec before any agent pod exists, so neutron-server
    prefers them by node affinity (a preference for the agents' pods would come too late)."""
    server = neutron.SERVICE.component("neutron-server")
    spec = {"release": "2026.1", "networkNodes": {"nodeSelector": {"network": "yes"}}}
    settings = component_settings(neutron.SERVICE, server, spec)
    assert settings.preferred_nodes == ({"network": "yes"},)
    rules = placement.affinity(service="neutron", instance="cloud", component=server.name, dedicated=False,
                               prefer_nodes=settings.preferred_nodes)
    assert rules["nodeAffinity"] == {"preferredDuringSchedulingIgnoredDuringExecution": [{
        "weight": 100, "preference": {"matchExpressions": [{"key": "network", "operator": "In", "values": ["yes"]}]}}]}
    assert component_settings(neutron.SERVICE, server, {"release": "2026.1"}).preferred_nodes == (
        neutron.NETWORK_NODE_SELECTOR,)
    assert component_settings(neutron.SERVICE, neutron.SERVICE.component("neutron-rpc-server"),
                              spec).preferred_nodes == ()
    assert neutron.SERVICE.component("neutron-rpc-server").co_locate_with == ("neutron-server",)
    # The agents are the network nodes' DaemonSets (tests/unit/test_neutron_l2.py).
    assert neutron.SERVICE.component("neutron-l3-agent").node_sets == (neutron.NETWORK,)


def test_nova_scheduler_prefers_api_and_conductor_nodes():
    scheduler = nova.SERVICE.component("nova-scheduler")
    rules = placement.affinity(service="nova", instance="cloud", component=scheduler.name, dedicated=False,
                               prefer_near=scheduler.prefer_near)
    term = rules["podAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]
    assert term["labelSelector"]["matchExpressions"][0]["values"] == ["nova-api", "nova-conductor"]


def test_node_selectors_merge_plane_then_component():
    spec = {"release": "2026.1", "nodeSelector": {"openstack-control-plane": "enabled", "zone": "a"},
            "api": {"nodeSelector": {"zone": "b"}}}
    settings = component_settings(nova.SERVICE, nova.SERVICE.component("nova-api"), spec)
    assert settings.node_selector == {"openstack-control-plane": "enabled", "zone": "b"}


def test_reference_architecture_defaults():
    expected = {"nova-api": (3, True), "nova-conductor": (3, True), "nova-scheduler": (8, False)}
    for name, (replicas, dedicated) in expected.items():
        component = nova.SERVICE.component(name)
        assert (component.replicas, component.dedicated) == (replicas, dedicated)


def test_components_get_the_capabilities_their_privsep_keeps_and_no_more():
    from ccp_operator import workloads
    from ccp_operator.services import cinder

    owner = workloads.Owner("ccp.openstack.org/v1alpha1", "Cinder", "cloud", "u-1", "openstack")
    containers = {}
    for component in cinder.SERVICE.components:
        template = workloads.pod_template(owner, cinder.SERVICE, component,
                                          component_settings(cinder.SERVICE, component, {"release": "2026.1"}), "conf", {},
                                          "hash")
        containers[component.name] = template["spec"]["containers"][0]
    assert containers["cinder-backup"]["securityContext"] == {"capabilities": {"add": ["SYS_ADMIN", "DAC_READ_SEARCH"]}}
    assert all("securityContext" not in containers[name] for name in ("cinder-api", "cinder-scheduler"))


def test_a_serving_pod_drains_before_it_stops_and_a_worker_does_not_wait():
    """A rolling update fails no call: the API pod leaves its Service's endpoints before it stops."""
    from ccp_operator import workloads
    from ccp_operator.services import cinder

    owner = workloads.Owner("ccp.openstack.org/v1alpha1", "Cinder", "cloud", "u-1", "openstack")
    containers = {component.name: workloads.pod_template(
        owner, cinder.SERVICE, component, component_settings(cinder.SERVICE, component, {"release": "2026.1"}),
        "conf", {}, "hash")["spec"]["containers"][0] for component in cinder.SERVICE.components}
    assert containers["cinder-api"]["lifecycle"] == {"preStop": {"sleep": {"seconds": workloads.DRAIN_SECONDS}}}
    assert "lifecycle" not in containers["cinder-scheduler"]
