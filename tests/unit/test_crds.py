"""The CRDs in crds/ are generated from the operator's schemas and say what users may write."""

import importlib.util
from pathlib import Path

import yaml

from ccp_operator.api import kinds

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_crds", ROOT / "hack" / "gen-crds.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_crds_directory_matches_the_schemas():
    rendered = _generator().rendered()
    on_disk = {path.name: path.read_text() for path in (ROOT / "crds").glob("*.yaml")}
    assert on_disk == rendered, "crds/ is stale: run `python hack/gen-crds.py`"


def _spec(crd):
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]


def test_controlplane_has_the_sections_users_write():
    spec = _spec(kinds.controlplane_crd())
    for section in ("release", "nodeSelector", "keystone", "placement", "glance", "cinder", "neutron", "nova",
                    "horizon", "memcached", "galera", "rabbitmq"):
        assert section in spec["properties"], section
    nova = spec["properties"]["nova"]["properties"]
    assert nova["api"]["properties"]["dedicated"]["default"] is True
    assert nova["scheduler"]["properties"]["replicas"]["default"] == 8
    assert nova["api"]["properties"]["replicas"]["minimum"] == 1
    assert spec["properties"]["keystone"]["properties"]["replicas"]["default"] == 5


def test_every_component_accepts_the_common_fields():
    spec = _spec(kinds.controlplane_crd())
    for field in ("image", "resources", "nodeSelector", "customConfig", "version"):
        assert field in spec["properties"]["cinder"]["properties"]["volume"]["properties"]
        assert field in spec["properties"]["cinder"]["properties"]
        assert field in spec["properties"]["keystone"]["properties"]


def test_schemas_are_structural():
    """Every object declares its properties or says it preserves unknown fields."""

    def check(schema, path):
        if path.endswith("ccp.openstack.org.metadata"):
            return  # the API server supplies ObjectMeta's schema
        if schema.get("type") == "object":
            assert ("properties" in schema or "additionalProperties" in schema
                    or schema.get("x-kubernetes-preserve-unknown-fields")), path
        for name, child in (schema.get("properties") or {}).items():
            check(child, f"{path}.{name}")
        if isinstance(schema.get("additionalProperties"), dict):
            check(schema["additionalProperties"], f"{path}.*")
        if "items" in schema:
            check(schema["items"], f"{path}[]")

    for crd in kinds.all_crds():
        check(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"], crd["metadata"]["name"])


def test_printer_columns_show_readiness_services_and_release():
    columns = {c["name"]: c["jsonPath"] for c in
               kinds.controlplane_crd()["spec"]["versions"][0]["additionalPrinterColumns"]}
    assert columns["Ready"] == '.status.conditions[?(@.type=="Ready")].status'
    assert columns["Services"] == ".status.servicesReady"
    assert columns["Release"] == ".status.release"
    yaml.safe_dump(kinds.all_crds())


def test_api_reference_matches_the_schemas():
    spec = importlib.util.spec_from_file_location("gen_api_docs", ROOT / "hack" / "gen-api-docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs" / "api.md").read_text() == module.render(), "run `python hack/gen-api-docs.py`"
