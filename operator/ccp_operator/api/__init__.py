"""The ccp.openstack.org API: group, version, and the kinds the operator serves."""

GROUP = "ccp.openstack.org"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
