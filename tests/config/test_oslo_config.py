"""Every rendered oslo.config file passes oslo-config-validator of its service's own release.

The validator runs in a virtualenv with the service's package at the version of the release and
the libraries at the release's upper constraints, as in the images (first run installs them,
later runs reuse them); an unknown option or group fails the test.
"""

import pytest

from ccp_operator import releases
from ccp_operator.services import catalog, neutron, nova
from localcluster import images
from support import oslo_validator
from support.rendering import all_files

# Every release the images are built for: the default one and the one it upgrades to.
RELEASES = sorted(images.KOLLA_PACKAGES)

CASES = [(series, definition, config_file) for series in RELEASES
         for definition in catalog.SERVICES if definition.pypi_package
         for config_file in definition.config_files if config_file.oslo_namespaces]


def _rendered(definition, name, series=releases.DEFAULT_RELEASE):
    for files in all_files(definition, {"release": series}).values():
        if name in files:
            return files[name]
    raise AssertionError(f"{name} is not rendered for any component of {definition.name}")


def _validate(definition, config_file, content, series=releases.DEFAULT_RELEASE):
    release = releases.get(series)
    return oslo_validator.validate(
        definition.pypi_package, release.packages[definition.pypi_package], release.series,
        config_file.oslo_namespaces, content,
        dynamic_sections=config_file.dynamic_sections, auth_sections=config_file.auth_sections)


@pytest.mark.parametrize("series, definition, config_file", CASES,
                         ids=[f"{s}:{d.name}:{f.name}" for s, d, f in CASES])
def test_rendered_file_passes_the_validator_of_its_release(series, definition, config_file):
    result = _validate(definition, config_file, _rendered(definition, config_file.name, series), series)
    assert result.ok, "\n".join(result.errors)


def test_an_unknown_option_fails():
    config_file = nova.SERVICE.config_file("nova.conf")
    content = _rendered(nova.SERVICE, "nova.conf").replace("[DEFAULT]\n", "[DEFAULT]\nno_such_option = 1\n", 1)
    result = _validate(nova.SERVICE, config_file, content)
    assert not result.ok
    assert any("DEFAULT/no_such_option" in line for line in result.errors)


def test_an_unknown_option_in_a_backend_section_fails():
    cinder = catalog.BY_KIND["Cinder"]
    config_file = cinder.config_file("cinder.conf")
    content = _rendered(cinder, "cinder.conf") + "rbd_no_such_option = 1\n"
    result = _validate(cinder, config_file, content)
    assert any("rbd-1/rbd_no_such_option" in line for line in result.errors)


def test_a_custom_config_snippet_is_validated_too():
    config_file = nova.SERVICE.config_file("nova.conf")
    good = _validate(nova.SERVICE, config_file, "[scheduler]\nmax_attempts = 5\n")
    bad = _validate(nova.SERVICE, config_file, "[scheduler]\nmax_atempts = 5\n")
    assert good.ok and not bad.ok


NETDEV_FILES = ("dhcp_agent.ini", "l3_agent.ini", "openvswitch_agent.ini")


@pytest.mark.parametrize("series", RELEASES)
def test_the_userspace_datapath_s_agent_files_pass_the_validator_and_plug_namespaces_by_veth(series):
    """Open vSwitch's userspace datapath (the lab's): the agents' own options for it are real."""
    spec = {"release": series, "datapathType": "netdev"}
    rendered = {name: content for files in all_files(neutron.SERVICE, spec).values()
                for name, content in files.items() if name in NETDEV_FILES}
    for config_file in neutron.SERVICE.config_files:
        if config_file.name in NETDEV_FILES:
            result = _validate(neutron.SERVICE, config_file, rendered[config_file.name], series)
            assert result.ok, "\n".join(result.errors)
    assert "ovs_use_veth = true" in rendered["dhcp_agent.ini"] and "ovs_use_veth = true" in rendered["l3_agent.ini"]
    assert "datapath_type = netdev" in rendered["openvswitch_agent.ini"]
