"""The real node's configuration: the settings this kind of machine needs, and nothing that
lets pod traffic or DNS queries leave it."""

import ipaddress
import tomllib
from concurrent import futures
from pathlib import Path

import grpc

from localcluster import images, nodes, realnode

NODE_DIR = Path("/state/realnode")
PKI = Path("/state/pki")


def test_containerd_counts_as_started_once_its_cri_answers_the_kubelet_s_first_call(tmp_path):
    """A gRPC server on a unix socket that answers RuntimeService.Version as containerd's CRI
    does before and after it has loaded its state."""
    initialized = []

    def version(request, context):
        if not initialized:
            context.abort(grpc.StatusCode.UNKNOWN, "server is not initialized yet")
        return b""

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("runtime.v1.RuntimeService", {
        "Version": grpc.unary_unary_rpc_method_handler(version, request_deserializer=bytes,
                                                       response_serializer=bytes)})])
    socket = tmp_path / "containerd.sock"
    server.add_insecure_port(f"unix://{socket}")
    server.start()
    try:
        assert realnode.cri_problem(socket) == "UNKNOWN: server is not initialized yet"
        initialized.append(True)
        assert realnode.cri_problem(socket) is None
    finally:
        server.stop(grace=None)
    assert realnode.cri_problem(socket).startswith("UNAVAILABLE")


def test_containerd_is_its_own_instance_with_the_measured_settings():
    config = tomllib.loads(realnode.containerd_config(NODE_DIR, Path("/images/root"), "ccp.local/pause:1.0.0"))
    assert config["grpc"]["address"] == "/state/realnode/containerd/containerd.sock"
    assert config["root"] == "/images/root" and config["state"].startswith("/state/realnode/")
    assert config["oom_score"] == 0
    cri = config["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["sandbox_image"] == "ccp.local/pause:1.0.0"
    assert cri["restrict_oom_score_adj"] is True
    assert cri["netns_mounts_under_state_dir"] is True
    runc = cri["containerd"]["runtimes"]["runc"]
    assert runc["options"]["SystemdCgroup"] is False
    assert runc["options"]["Root"].startswith("/state/realnode/")
    assert cri["cni"]["conf_dir"] == "/state/realnode/cni/net.d"
    # The task service needs the v1 runtime plugin registered (containerd 1.6): never disabled.
    assert "io.containerd.runtime.v1.linux" not in config["disabled_plugins"]


def test_pods_get_the_bridge_as_gateway_and_are_never_masqueraded():
    bridge, portmap = realnode.cni_config(NODE_DIR)["plugins"]
    assert bridge["bridge"] == realnode.BRIDGE and bridge["isGateway"] and bridge["hairpinMode"]
    assert bridge["ipMasq"] is False
    assert bridge["ipam"]["ranges"] == [[{"subnet": realnode.NODE_POD_SUBNET, "gateway": realnode.NODE_IP}]]
    assert portmap["type"] == "portmap"


def test_the_kubelet_runs_on_cgroup_v1_with_certificates_of_the_cluster_ca():
    config = realnode.kubelet_config(NODE_DIR, PKI, "real-0001", NODE_DIR / "containerd" / "containerd.sock")
    assert config["failCgroupV1"] is False and config["cgroupDriver"] == "cgroupfs"
    assert config["containerRuntimeEndpoint"] == "unix:///state/realnode/containerd/containerd.sock"
    assert config["address"] == realnode.NODE_IP and config["readOnlyPort"] == 0
    assert config["tlsCertFile"] == "/state/pki/node-real-0001-serving.crt"
    assert config["authentication"]["anonymous"]["enabled"] is False
    assert config["authorization"]["mode"] == "Webhook"
    assert config["clusterDNS"] == [realnode.DNS_SERVICE_IP]
    assert config["oomScoreAdj"] == 0
    # Images come from `docker save`: the kubelet may never collect one.
    assert config["imageGCHighThresholdPercent"] == 100


def test_kube_proxy_exposes_node_ports_on_the_node_address_only():
    config = realnode.kube_proxy_config(NODE_DIR, "real-0001")
    assert config["mode"] == "iptables" and config["clusterCIDR"] == realnode.CLUSTER_POD_CIDR
    assert config["nodePortAddresses"] == [f"{realnode.NODE_IP}/32"]
    assert config["iptables"]["localhostNodePorts"] is False
    assert config["oomScoreAdj"] == 0
    assert config["conntrack"]["maxPerCore"] == 0


def test_coredns_answers_for_the_cluster_domain_only_on_the_real_node():
    manifests = {m["kind"]: m for m in realnode.coredns_manifests(images.reference(images.COREDNS), "real-0001")}
    corefile = manifests["ConfigMap"]["data"]["Corefile"]
    assert f"kubernetes {realnode.CLUSTER_DOMAIN} " in corefile
    assert "forward" not in corefile
    assert manifests["Service"]["spec"]["clusterIP"] == realnode.DNS_SERVICE_IP
    pod = manifests["Deployment"]["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"kubernetes.io/hostname": "real-0001"}
    assert pod["containers"][0]["imagePullPolicy"] == "Never"


def test_the_pod_network_stays_clear_of_the_other_ranges():
    pods = ipaddress.ip_network(realnode.CLUSTER_POD_CIDR)
    balancers = ipaddress.ip_network(realnode.LOAD_BALANCER_RANGE)
    for other in ("10.96.0.0/16", "10.128.0.0/12", "10.231.0.0/16"):  # Services, KWOK's pods, netns tests
        assert not pods.overlaps(ipaddress.ip_network(other)), other
        assert not balancers.overlaps(ipaddress.ip_network(other)), other
    assert not balancers.overlaps(pods)
    assert ipaddress.ip_address(realnode.NODE_IP) in ipaddress.ip_network(realnode.NODE_POD_SUBNET)


def test_profiles_declare_the_role_of_their_real_node():
    for name in nodes.available_profiles():
        spec = nodes.load_profile(name).real_node
        assert spec and spec["role"] == "all-in-one", name
        labels = nodes.role_labels(spec["role"], "rack-01")
        assert labels[nodes.ROLE_LABEL] == spec["role"]
        # None of the simulated roles' labels: a plane placed on them never lands on the real node.
        for role in ("control-plane", "compute", "storage"):
            own = set(nodes.role_labels(role, "rack-01").items()) - {(nodes.ROLE_LABEL, role),
                                                                     (nodes.RACK_LABEL, "rack-01")}
            assert own and not own & set(labels.items()), role


def test_teardown_removes_the_pods_host_directories_but_never_the_hosts_own():
    dirs = realnode.pod_state_dirs()
    assert {"/var/lib/openvswitch", "/run/openvswitch", "/var/lib/neutron", "/var/lib/nova", "/var/lib/libvirt",
            "/run/libvirt"} <= set(dirs)
    assert not set(dirs) & realnode.HOST_OWN_PATHS
    assert "/run/netns" not in dirs and "/dev" not in dirs


def test_only_the_switchs_tun_devices_are_removed():
    assert realnode.is_switch_device("br-int", True) and realnode.is_switch_device("tap1c2d3e4f-5a", True)
    assert realnode.is_switch_device("qr-0a1b2c3d-4e", True)
    assert not realnode.is_switch_device("br-int", False)  # a kernel datapath's port is no tun device
    assert not realnode.is_switch_device(realnode.BRIDGE, False) and not realnode.is_switch_device("eth0", True)


def test_the_namespaces_directory_counts_as_shared_only_with_the_shared_tag():
    mountinfo = ("24 1 8:1 / / rw,relatime - ext4 /dev/vda1 rw\n"
                 "610 24 0:25 /netns /run/netns rw,nosuid shared:301 - tmpfs tmpfs rw\n"
                 "611 24 0:26 / /run/private rw,nosuid - tmpfs tmpfs rw\n")
    assert realnode.is_shared_mount(Path("/run/netns"), mountinfo)
    assert not realnode.is_shared_mount(Path("/run/private"), mountinfo)
    assert not realnode.is_shared_mount(Path("/run/absent"), mountinfo)
