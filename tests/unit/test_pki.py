"""The local cluster's certificates verify against its CA and name the right identities."""

import subprocess

import pytest

from localcluster import pki


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("pki")
    pki.create(path)
    return path


def _openssl(*args):
    return subprocess.run(["openssl", *args], check=True, capture_output=True, text=True).stdout


@pytest.mark.parametrize("stem", ["apiserver", "admin", "kube-controller-manager", "kube-scheduler", "kwok"])
def test_certificates_chain_to_the_ca(pki_dir, stem):
    out = _openssl("verify", "-CAfile", str(pki_dir / "ca.crt"), str(pki_dir / f"{stem}.crt"))
    assert out.strip().endswith("OK")


def test_admin_is_in_system_masters(pki_dir):
    subject = _openssl("x509", "-in", str(pki_dir / "admin.crt"), "-noout", "-subject")
    assert "O = system:masters" in subject and "CN = ccp-admin" in subject


def test_serving_certificate_covers_loopback_and_in_cluster_names(pki_dir):
    text = _openssl("x509", "-in", str(pki_dir / "apiserver.crt"), "-noout", "-ext", "subjectAltName")
    for name in ("IP Address:127.0.0.1", "IP Address:10.96.0.1", "DNS:kubernetes.default.svc"):
        assert name in text


def test_create_is_idempotent(pki_dir):
    before = (pki_dir / "ca.crt").read_bytes()
    pki.create(pki_dir)
    assert (pki_dir / "ca.crt").read_bytes() == before
