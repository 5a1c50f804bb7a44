"""Rendering of every service's files: complete, wired to the published endpoints, layered."""

import configparser
import json

import pytest

from ccp_operator import render
from ccp_operator.errors import InvalidSpec
from ccp_operator.services import catalog, keystone, nova
from support.rendering import CREDENTIALS, all_files


@pytest.mark.parametrize("definition", catalog.SERVICES, ids=lambda d: d.name)
def test_every_oslo_file_is_valid_ini_without_empty_values(definition):
    for component, files in all_files(definition).items():
        for config_file in definition.config_files:
            if config_file.name not in files or not config_file.oslo_namespaces:
                continue
            parser = configparser.RawConfigParser(strict=True, interpolation=None)
            parser.read_string(files[config_file.name])
            for section in parser.sections():
                for option, value in parser.items(section):
                    assert value.strip() and value != "None", f"{component} {config_file.name} [{section}] {option}"


@pytest.mark.parametrize("definition", catalog.SERVICES, ids=lambda d: d.name)
def test_config_json_copies_every_file_to_its_destination(definition):
    for component in definition.components:
        files = all_files(definition)[component.name]
        config = json.loads(files["config.json"])
        sources = {entry["source"].rsplit("/", 1)[1] for entry in config["config_files"]}
        assert sources >= set(component.config_files)
        # Configuration under /etc; the start scripts some render (Open vSwitch's) on the PATH.
        assert all(entry["dest"].startswith(("/etc/", "/usr/local/bin/ccp-")) for entry in config["config_files"])
        assert "{{" not in config["command"]


def test_keystone_points_at_galera_memcached_and_fernet_keys():
    conf = all_files(keystone.SERVICE)["keystone"]["keystone.conf"]
    assert f"mysql+pymysql://keystone:{CREDENTIALS['database-password']}@cloud-galera.openstack.svc:3306/keystone" in conf
    assert "memcache_servers = cloud-memcached-0.cloud-memcached.openstack.svc:11211," in conf
    assert "key_repository = /etc/keystone/fernet-keys" in conf
    config = json.loads(all_files(keystone.SERVICE)["keystone"]["config.json"])
    assert {"path": "/etc/keystone/fernet-keys", "owner": "keystone:keystone", "perm": "0700"} in config["permissions"]


def test_nova_rpc_and_notifications_use_separate_vhosts():
    conf = all_files(nova.SERVICE)["nova-conductor"]["nova.conf"]
    parser = configparser.RawConfigParser(interpolation=None)
    parser.read_string(conf)
    assert parser.get("DEFAULT", "transport_url").endswith(":5672/openstack")
    assert parser.get("oslo_messaging_notifications", "transport_url").endswith(
        ":5672/notifications?rabbit_quorum_queue=true"), "quorum queues for notifications alone"
    assert parser.get("oslo_messaging_rabbit", "rabbit_quorum_queue") == "false", "RPC queues stay classic"
    assert parser.get("DEFAULT", "control_exchange") == "nova"
    assert parser.get("placement", "valid_interfaces") == "internal"


def test_custom_config_is_layered_after_the_rendered_file():
    spec = {"customConfig": "[DEFAULT]\ndebug = true\n", "api": {"customConfig": "[api]\nmax_limit = 500"}}
    files = all_files(nova.SERVICE, spec)
    config = json.loads(files["nova-api"]["config.json"])
    destinations = [entry["dest"] for entry in config["config_files"]]
    assert destinations[-2:] == ["/etc/nova/nova.conf.d/90-service.conf", "/etc/nova/nova.conf.d/95-component.conf"]
    assert files["nova-api"]["95-component.conf"] == "[api]\nmax_limit = 500\n"
    assert "95-component.conf" not in files["nova-conductor"]


def test_custom_config_that_is_not_ini_is_refused_naming_the_field():
    with pytest.raises(InvalidSpec, match=r"spec.api.customConfig: not a valid oslo.config"):
        render.check_custom_config("spec.api.customConfig", "debug = true\n[DEFAULT")


def test_horizon_settings_are_python_and_keep_the_secret_key():
    files = all_files(catalog.BY_KIND["Horizon"])["horizon"]
    source = files["_9998-ccp-settings.py"]
    compile(source, "local_settings.py", "exec")
    namespace = {}
    exec(source, namespace)
    assert namespace["SECRET_KEY"] == CREDENTIALS["secret-key"]
    assert namespace["CACHES"]["default"]["LOCATION"][0].endswith(":11211")


def test_rendering_is_deterministic():
    assert all_files(nova.SERVICE) == all_files(nova.SERVICE)
