"""The writer endpoint's HAProxy configuration, as the operator renders it for a Galera resource,
is accepted by the real HAProxy, even before the members' DNS names resolve."""

from __future__ import annotations

import subprocess

from ccp_operator.reconcile.galera import GaleraReconciler


def test_haproxy_accepts_the_rendered_writer_endpoint(tmp_path):
    body = {"apiVersion": "ccp.openstack.org/v1alpha1", "kind": "Galera", "spec": {},
            "metadata": {"name": "db", "namespace": "openstack", "uid": "u-1"}}
    path = tmp_path / "haproxy.cfg"
    path.write_text(GaleraReconciler(None, body).haproxy_file())
    checked = subprocess.run(["haproxy", "-c", "-f", str(path)], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "db-galera-2.db-galera-peers.openstack.svc.cluster.local:3306" in path.read_text()
