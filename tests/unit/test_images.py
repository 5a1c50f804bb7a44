"""The images built here cover what the operator deploys, under the names it computes."""

import re

import pytest

from ccp_operator import images as operator_images
from ccp_operator import releases
from ccp_operator.services.catalog import SERVICES
from localcluster import images

SETTINGS = {"registry": images.KOLLA_REGISTRY, "distro": images.KOLLA_DISTRO}


def kolla_images_the_operator_deploys() -> set[str]:
    names = {operator_images.KOLLA_TOOLBOX}
    for definition in SERVICES:
        names |= {component.image for component in definition.components}
        names |= {step.image for step in definition.jobs if step.image != "mariadb"}
        names |= {step.image for step in definition.upgrade if step.image}
    return names


@pytest.mark.parametrize("release", sorted(images.KOLLA_PACKAGES))
def test_every_kolla_image_the_operator_deploys_is_built_under_the_name_it_computes(release):
    for name in sorted(kolla_images_the_operator_deploys()):
        assert name in images.RECIPES, f"no recipe for the Kolla image {name}"
        assert name in images.DEFAULT_IMAGES, f"make images leaves out {name}"
        assert images.reference(name, release) == operator_images.kolla(name, release, SETTINGS)


@pytest.mark.parametrize("release", sorted(images.KOLLA_PACKAGES))
def test_each_service_image_installs_its_release_version(release):
    for service, spec in images.OPENSTACK.items():
        arguments = images.RECIPES[f"{service}-base"].build_args(release)
        assert arguments["PACKAGE"] == f"{spec.package}=={releases.get(release).packages[spec.package]}"
        assert arguments["SERVICE"] == service


def test_every_recipe_has_a_dockerfile_taking_its_base_as_an_argument():
    for recipe in images.RECIPES.values():
        dockerfile = (images.IMAGES_DIR / recipe.folder / "Dockerfile").read_text()
        bases = re.findall(r"^FROM\s+(\S+)", dockerfile, re.MULTILINE)
        assert bases, recipe.name
        if recipe.base:
            assert re.search(r"^ARG BASE_IMAGE", dockerfile, re.MULTILINE), recipe.name
            assert all(base == "${BASE_IMAGE}" for base in bases), (recipe.name, bases)
            assert recipe.base == images.DEBIAN or recipe.base in images.RECIPES, recipe.name
        else:
            assert bases == ["scratch"], (recipe.name, bases)
        for tool in recipe.tools:
            assert re.search(rf"^COPY {tool} ", dockerfile, re.MULTILINE), (recipe.name, tool)


def test_bases_end_at_the_debootstrap_base_without_cycles():
    for recipe in images.RECIPES.values():
        seen, name = [], recipe.name
        while name in images.RECIPES and images.RECIPES[name].base:
            assert name not in seen, f"cycle {seen + [name]}"
            seen.append(name)
            name = images.RECIPES[name].base
        assert name in (images.DEBIAN, *[r.name for r in images.RECIPES.values() if not r.base]), name


def test_no_image_has_a_public_name():
    for name in images.RECIPES:
        assert images.reference(name).startswith(images.LOCAL_REGISTRY + "/")
    assert images.reference(images.DEBIAN).startswith(images.LOCAL_REGISTRY + "/")


def test_unknown_images_are_refused_by_name():
    with pytest.raises(images.ImageError, match="unknown image.*octavia-api"):
        images.build_all(["keystone", "octavia-api"])
