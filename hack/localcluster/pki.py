"""Certificates and keys of the local cluster, made with the openssl command line.

One CA signs the API server's serving certificate and a client certificate per identity; the
identities are the ones the apiserver's bootstrap RBAC policy already knows, so RBAC stays on.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

# Addresses the serving certificate is valid for: loopback, and the in-cluster names and
# first service IP that pods (and the operator's in-cluster config) use.
SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/16"
APISERVER_SERVICE_IP = "10.96.0.1"
APISERVER_SANS = (
    "IP:127.0.0.1",
    f"IP:{APISERVER_SERVICE_IP}",
    "DNS:localhost",
    "DNS:kubernetes",
    "DNS:kubernetes.default",
    "DNS:kubernetes.default.svc",
    "DNS:kubernetes.default.svc.cluster.local",
)


@dataclass(frozen=True)
class ClientIdentity:
    """A client certificate: its file stem, user name (CN) and groups (O)."""

    name: str
    user: str
    groups: tuple[str, ...] = ()


ADMIN = ClientIdentity("admin", "ccp-admin", ("system:masters",))
CONTROLLER_MANAGER = ClientIdentity("kube-controller-manager", "system:kube-controller-manager")
SCHEDULER = ClientIdentity("kube-scheduler", "system:kube-scheduler")
KWOK = ClientIdentity("kwok", "kwok-controller", ("system:masters",))
# The operator has no certificate: it runs with its chart's ServiceAccount token (localcluster.operator).
CLIENT_IDENTITIES = (ADMIN, CONTROLLER_MANAGER, SCHEDULER, KWOK)
# A real node's programs: kube-proxy (bound to system:node-proxier by the bootstrap policy), and
# the API server's client to the kubelets (logs, exec, port-forward), which their webhook
# authorization asks the API server about.
KUBE_PROXY = ClientIdentity("kube-proxy", "system:kube-proxy")
KUBELET_CLIENT = ClientIdentity("apiserver-kubelet-client", "kube-apiserver-kubelet-client", ("system:masters",))


def node_identity(node: str) -> ClientIdentity:
    """A kubelet's client certificate: the Node authorizer knows it by this user and group."""
    return ClientIdentity(f"node-{node}", f"system:node:{node}", ("system:nodes",))


def _openssl(*args: str, stdin: bytes | None = None) -> None:
    subprocess.run(["openssl", *args], input=stdin, check=True, capture_output=True)


def _ec_key(path: Path) -> None:
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(path))
    path.chmod(0o600)


def _signed_cert(pki: Path, stem: str, subject: str, extensions: str) -> None:
    key, csr, ext = pki / f"{stem}.key", pki / f"{stem}.csr", pki / f"{stem}.ext"
    _ec_key(key)
    _openssl("req", "-new", "-key", str(key), "-subj", subject, "-out", str(csr))
    # Key identifiers: a strict verifier (Python 3.13's default) requires the authority's.
    ext.write_text(extensions + "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n")
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(pki / "ca.crt"), "-CAkey", str(pki / "ca.key"),
        "-CAcreateserial", "-days", "3650", "-sha256", "-extfile", str(ext), "-out", str(pki / f"{stem}.crt"),
    )
    csr.unlink()
    ext.unlink()


def create(pki: Path) -> None:
    """Writes the CA, serving, client and service-account keys into `pki`, each unless present."""
    pki.mkdir(parents=True, exist_ok=True)
    if not (pki / "ca.crt").exists():
        _ec_key(pki / "ca.key")
        # The extensions a strict verifier (Python 3.13's default) requires of a CA.
        _openssl("req", "-x509", "-new", "-key", str(pki / "ca.key"), "-subj", "/CN=ccp-local-ca",
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                 "-addext", "subjectKeyIdentifier=hash", "-days", "3650", "-sha256", "-out", str(pki / "ca.crt"))
    if not (pki / "apiserver.crt").exists():
        _signed_cert(
            pki, "apiserver", "/CN=kube-apiserver",
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
            f"extendedKeyUsage=serverAuth\nsubjectAltName={','.join(APISERVER_SANS)}\n",
        )
    for identity in CLIENT_IDENTITIES:
        client_certificate(pki, identity)
    if not (pki / "service-account.pub").exists():
        # Service-account tokens are signed with this key and verified with its public half.
        _ec_key(pki / "service-account.key")
        _openssl("ec", "-in", str(pki / "service-account.key"), "-pubout", "-out", str(pki / "service-account.pub"))


def client_certificate(pki: Path, identity: ClientIdentity) -> None:
    """A client certificate of the cluster CA for `identity`, unless present."""
    if (pki / f"{identity.name}.crt").exists():
        return
    subject = f"/CN={identity.user}" + "".join(f"/O={group}" for group in identity.groups)
    _signed_cert(
        pki, identity.name, subject,
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
    )


def create_node(pki: Path, node: str, address: str) -> None:
    """A real node's credentials, each unless present: the kubelet's client certificate, its
    serving certificate (signed by the cluster CA, for the node's name and address, so the API
    server verifies it on logs, exec and port-forward), kube-proxy's, and the API server's client
    certificate to kubelets."""
    for identity in (node_identity(node), KUBE_PROXY, KUBELET_CLIENT):
        client_certificate(pki, identity)
    stem = f"node-{node}-serving"
    if not (pki / f"{stem}.crt").exists():
        _signed_cert(
            pki, stem, f"/CN=system:node:{node}/O=system:nodes",
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
            f"extendedKeyUsage=serverAuth\nsubjectAltName=IP:{address},DNS:{node}\n",
        )


def write_kubeconfig(path: Path, server: str, pki: Path, identity: ClientIdentity) -> None:
    """A kubeconfig (readable by its owner alone) that authenticates as `identity` with its
    client certificate and trusts the cluster CA."""
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "ccp-local", "cluster": {"server": server, "certificate-authority": str(pki / "ca.crt")}}],
        "users": [{"name": identity.user, "user": {"client-certificate": str(pki / f"{identity.name}.crt"),
                                                   "client-key": str(pki / f"{identity.name}.key")}}],
        "contexts": [{"name": "ccp-local", "context": {"cluster": "ccp-local", "user": identity.user}}],
        "current-context": "ccp-local",
    }, sort_keys=False))
    path.chmod(0o600)
