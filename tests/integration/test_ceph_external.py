"""An external Ceph cluster, from a Secret or from a Rook CephCluster's objects: nothing is
deployed, and every service gets the client Secret it would get from a managed cluster."""

from __future__ import annotations

import base64
import uuid

import yaml

from ccp_operator import conditions, secrets
from ccp_operator.api import API_VERSION
from ccp_operator.services import ceph
from support.waiting import wait_for


def ceph_resource(namespace: str, external: dict) -> str:
    return yaml.safe_dump({"apiVersion": API_VERSION, "kind": "Ceph",
                           "metadata": {"name": "storage", "namespace": namespace},
                           "spec": {"mode": "external", "external": external}})


def ready(kube, namespace):
    body = kube.kube.get(API_VERSION, "Ceph", namespace, "storage") or {}
    status = body.get("status") or {}
    return conditions.is_true(status.get("conditions")) and body


def client_files(kube, namespace, user):
    secret = kube.kube.get("v1", "Secret", namespace, f"storage-ceph-client-{user}")
    return {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}


def test_external_ceph_from_a_secret_of_ceph_conf_and_keyrings(kube, operator, namespace):
    conf = "[global]\nfsid = 5d9e8f2a-9e1b-4f7e-bb1c-1b1f2e0a3c4d\nmon_host = 192.0.2.31,192.0.2.32,192.0.2.33\n"
    keys = {user: secrets.new_cephx_key() for user in ceph.CLIENTS}
    data = {"ceph.conf": conf, **{f"ceph.client.{user}.keyring": ceph.keyring(f"client.{user}", key)
                                  for user, key in keys.items()}}
    kube.kubectl("apply", "-f", "-", stdin=ceph_resource(namespace, {"secret": "site-ceph"}))
    waiting = wait_for(lambda: conditions.find(((kube.kube.get(API_VERSION, "Ceph", namespace, "storage") or {})
                                                .get("status") or {}).get("conditions"), "ExternalCephReady"),
                       timeout=60, what="the condition naming the missing Secret")
    assert waiting["status"] == "False" and "site-ceph" in waiting["message"]
    kube.core.create_namespaced_secret(namespace, {"metadata": {"name": "site-ceph"}, "stringData": data})
    body = wait_for(lambda: ready(kube, namespace), timeout=120, what="the external Ceph Ready")
    assert body["status"]["endpoint"]["mode"] == "external"
    assert not kube.kube.list("apps/v1", "StatefulSet", namespace)
    assert not kube.kube.list("apps/v1", "Deployment", namespace)
    for user, key in keys.items():
        files = client_files(kube, namespace, user)
        assert files["ceph.conf"] == conf
        assert key in files[f"ceph.client.{user}.keyring"]


def test_external_ceph_from_rook(kube, operator, namespace):
    rook = f"rook-{uuid.uuid4().hex[:6]}"
    kube.core.create_namespace({"metadata": {"name": rook}})
    try:
        kube.core.create_namespaced_config_map(rook, {"metadata": {"name": "rook-ceph-mon-endpoints"}, "data": {
            "data": "a=10.96.10.1:6789,b=10.96.10.2:6789,c=10.96.10.3:6789", "maxMonId": "2", "mapping": "{}"}})
        keys = {}
        for user in ceph.CLIENTS:
            keys[user] = secrets.new_cephx_key()
            kube.core.create_namespaced_secret(rook, {"metadata": {"name": f"rook-ceph-client-openstack-{user}"},
                                                      "stringData": {f"openstack-{user}": keys[user]}})
        kube.kubectl("apply", "-f", "-", stdin=ceph_resource(namespace, {"rook": {
            "namespace": rook, "clientSecrets": {user: f"rook-ceph-client-openstack-{user}" for user in ceph.CLIENTS}}}))
        body = wait_for(lambda: ready(kube, namespace), timeout=120, what="the Rook-backed Ceph Ready")
        assert body["status"]["endpoint"]["clients"]["glance"]["user"] == "openstack-glance"
        glance = client_files(kube, namespace, "glance")
        assert "mon_host = 10.96.10.1:6789,10.96.10.2:6789,10.96.10.3:6789" in glance["ceph.conf"]
        assert glance["ceph.client.openstack-glance.keyring"] == f"[client.openstack-glance]\n\tkey = {keys['glance']}\n"
        cinder = client_files(kube, namespace, "cinder")
        assert "<name>client.openstack-cinder secret</name>" in cinder["libvirt-secret.xml"]
        assert not kube.kube.list("apps/v1", "StatefulSet", namespace)
    finally:
        kube.core.delete_namespace(rook)
