"""Environment folder names: one per image, never anything but a plain folder in the user's home."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.plasma.platform.plugins.filter.environments import (
    environment_folder,
    folder_format_error,
    image_pulls,
    shared_folders,
    with_builds,
    with_folders,
)


@pytest.mark.parametrize(
    ("image", "folder_format", "folder"),
    [
        ("plasmabio/template-python:12345", "{image}", "plasmabio-template-python-12345"),
        ("plasmabio/template-python:12345", "{repository}", "plasmabio-template-python"),
        ("plasmabio/template-python", "{repository}-{tag}", "plasmabio-template-python-latest"),
        ("localhost:5000/plasma/env-a:1.0", "{image}", "localhost-5000-plasma-env-a-1.0"),
        ("ubuntu", "{image}", "ubuntu"),
        ("env/a@sha256:" + "0" * 64, "{repository}", "env-a"),
    ],
)
def test_folder_names(image, folder_format, folder):
    assert environment_folder(image, folder_format) == folder


@pytest.mark.parametrize("folder_format", ["../{image}", "{image}/sub", "..", "/{image}", "{nope}", "{0}", "{image"])
def test_unsafe_or_broken_formats_are_explained(folder_format):
    assert folder_format_error(folder_format)


@pytest.mark.parametrize("folder_format", ["{image}", "{repository}", "env-{tag}", "{repository}_{tag}"])
def test_safe_formats(folder_format):
    assert folder_format_error(folder_format) is None


def test_a_format_that_makes_a_hidden_or_odd_name_is_refused():
    with pytest.raises(AnsibleFilterError, match="not a plain folder name"):
        environment_folder("env/a:1", ".{tag}")
    with pytest.raises(AnsibleFilterError, match="not a valid reference"):
        environment_folder("foo bar")


def test_an_environment_s_own_folder_replaces_the_format_and_may_use_its_placeholders():
    environments = [
        {"image": "plasmabio/python:2025.1", "display_name": "Python", "folder": "plasmabio-python-2024.1"},
        {"image": "plasmabio/r:4.4", "display_name": "R", "folder": "{repository}"},
        {"image": "plasmabio/julia:1.11", "display_name": "Julia"},
    ]
    assert [environment["folder"] for environment in with_folders(environments, "{tag}-{repository}")] == [
        "plasmabio-python-2024.1",
        "plasmabio-r",
        "1.11-plasmabio-julia",
    ]


def test_with_folders_adds_the_folder_and_keeps_the_rest():
    environments = [{"image": "env/a:1", "display_name": "A", "mem_limit": "1G"}]
    assert with_folders(environments) == [{"image": "env/a:1", "display_name": "A", "mem_limit": "1G", "folder": "env-a-1"}]
    assert environments[0].keys() == {"image", "display_name", "mem_limit"}


def test_a_built_environment_runs_the_image_of_its_commit_and_the_others_their_own():
    environments = [
        {"display_name": "Course", "image": "localhost:5000/courses/physics", "repository": "https://u:p@git.example.org/p.git", "ref": "main"},
        {"display_name": "Python", "image": "env/a:1"},
    ]
    build = {"image": "localhost:5000/courses/physics:0a1b2c3d4e5f", "commit": "0a1b2c3d4e5f" + "0" * 28, "repository": "https://git.example.org/p.git"}
    course, python = with_builds(environments, [build])
    assert (course["image"], course["commit"], course["repository"]) == (build["image"], build["commit"], build["repository"])
    assert python == environments[1]
    assert with_folders([course])[0]["folder"] == "localhost-5000-courses-physics-0a1b2c3d4e5f"
    assert with_builds(environments)[0]["image"] == "localhost:5000/courses/physics:unbuilt"  # before the build (check mode)
    assert image_pulls([course, python]) == [{"name": build["image"], "policy": "missing"}, "env/a:1"]


def test_shared_folders_fill_in_the_default_path_and_keep_names_when_asked():
    folders = [{"name": "team", "group": "staff"}, {"name": "lab", "group": "lab", "path": "/data/lab"}]
    assert shared_folders(folders) == [{"path": "/srv/projects/team", "group": "staff"}, {"path": "/data/lab", "group": "lab"}]
    assert shared_folders(folders, names=True)[1] == {"name": "lab", "path": "/data/lab", "group": "lab"}
