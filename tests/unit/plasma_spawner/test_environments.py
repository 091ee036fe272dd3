"""plasma_spawner's pure decisions: which environment, which limits, which account, home and folder."""

from __future__ import annotations

import grp
import os
import pwd

import pytest
from tornado import web

from plasma_spawner.environments import (
    Environment,
    check_account,
    check_environment_folder,
    check_home,
    choose_environment,
    container_environment,
    host_account,
    host_groups,
    memory_bytes,
    read_only_bind_options,
)

A = Environment(display_name="Python", image="example/python:1", folder="example-python-1")
B = Environment(display_name="R", image="example/r:2", folder="example-r-2", mem_limit=2 * 1024**3, cpu_limit=1.5)


def refusal(call, *args) -> web.HTTPError:
    with pytest.raises(web.HTTPError) as raised:
        call(*args)
    return raised.value


# Choosing an environment


def test_no_choice_starts_the_first_environment():
    assert choose_environment([A, B], None) is A


def test_a_display_name_chooses_its_environment():
    assert choose_environment([A, B], "R") is B


@pytest.mark.parametrize("choice", ["example/r:2", "Environment C", "r", ""])
def test_anything_but_a_listed_display_name_is_refused_with_the_choices(choice):
    error = refusal(choose_environment, [A, B], choice)
    assert error.status_code == 400
    assert error.log_message == f"{choice!r} is not one of this server's environments: Python, R"


@pytest.mark.parametrize("choice", [None, "Python"])
def test_a_server_without_environments_says_so(choice):
    error = refusal(choose_environment, [], choice)
    assert error.status_code == 503
    assert "No environment is configured" in error.log_message


# Limits


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        ("512m", 512 * 1024**2),
        ("512M", 512 * 1024**2),
        ("1g", 1024**3),
        ("1.5G", int(1.5 * 1024**3)),
        ("64k", 64 * 1024),
        ("2T", 2 * 1024**4),
        ("1073741824", 1073741824),
        (1073741824, 1073741824),
        (None, None),
    ],
)
def test_every_memory_limit_form_the_role_accepts_becomes_bytes(limit, expected):
    assert memory_bytes(limit) == expected


@pytest.mark.parametrize("limit", ["", "lots", "1GB", "-1G", "1 G"])
def test_a_memory_limit_that_is_not_a_size_is_refused(limit):
    with pytest.raises(ValueError, match="not a number of bytes"):
        memory_bytes(limit)


def test_an_environment_from_the_configuration_gets_bytes_and_a_float():
    entry = {"display_name": "R", "image": "example/r:2", "folder": "example-r-2", "mem_limit": "2g", "cpu_limit": 2}
    assert Environment.from_config(entry) == Environment("R", "example/r:2", "example-r-2", 2 * 1024**3, 2.0)


def test_limits_are_optional():
    entry = {"display_name": "Python", "image": "example/python:1", "folder": "example-python-1"}
    assert Environment.from_config(entry) == A


# The host account, its home and the environment folder


def test_the_host_account_is_read_from_the_host():
    assert host_account("root").pw_uid == 0


def test_a_user_without_a_host_account_gets_a_clear_error():
    error = refusal(host_account, "no-such-account-here")
    assert error.status_code == 500
    assert error.log_message == "There is no host account for no-such-account-here; please tell an administrator."


def test_an_existing_home_passes(tmp_path):
    assert check_home("bob", str(tmp_path)) is None  # no error


@pytest.mark.parametrize("kind", ["missing", "file", "symlink to a folder"])
def test_a_home_that_is_not_a_real_folder_is_refused(tmp_path, kind):
    home = tmp_path / "bob"
    if kind == "file":
        home.write_text("not a folder")
    elif kind == "symlink to a folder":
        (tmp_path / "elsewhere").mkdir()
        home.symlink_to(tmp_path / "elsewhere")
    error = refusal(check_home, "bob", str(home))
    assert error.status_code == 500
    assert error.log_message == f"The home folder {home} of bob does not exist on the host; please tell an administrator."


@pytest.mark.parametrize("kind", ["missing", "folder"])
def test_a_missing_or_real_environment_folder_passes(tmp_path, kind):
    if kind == "folder":
        (tmp_path / A.folder).mkdir()
    assert check_environment_folder(str(tmp_path), A) is None  # no error


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("symlink", "is a symbolic link"), ("dangling symlink", "is a symbolic link"), ("file", "is not a folder")],
)
def test_a_broken_environment_folder_is_refused_with_the_reason(tmp_path, kind, reason):
    folder = tmp_path / A.folder
    if kind == "symlink":
        (tmp_path / "elsewhere").mkdir()
        folder.symlink_to(tmp_path / "elsewhere")
    elif kind == "dangling symlink":
        folder.symlink_to(tmp_path / "nowhere")
    else:
        folder.write_text("a file where the folder should be")
    error = refusal(check_environment_folder, str(tmp_path), A)
    assert error.status_code == 409
    assert error.log_message.startswith(f"The folder {folder} of the environment 'Python' {reason}")
    assert "rename or remove it" in error.log_message


# Groups and the container's environment


def test_groups_are_the_ones_id_shows_primary_first():
    account = pwd.getpwnam("root")
    groups = host_groups(account)
    assert groups[0] == (grp.getgrgid(account.pw_gid).gr_name, account.pw_gid)
    assert {gid for _, gid in groups} == set(os.getgrouplist("root", account.pw_gid))
    assert len(groups) == len({gid for _, gid in groups})


def test_the_container_gets_the_folder_the_image_id_and_the_groups_a_line_each():
    env = container_environment(B, "sha256:abc", [("bob", 1001), ("domain users", 5000), ("plasma-team", 2000)])
    assert env == {
        "PLASMA_ENVIRONMENT_FOLDER": "example-r-2",
        "PLASMA_BUNDLE_ID": "sha256:abc",
        "PLASMA_GROUPS": "bob:1001\ndomain users:5000\nplasma-team:2000",
    }


@pytest.mark.parametrize(
    ("api_version", "options"),
    [
        ("1.41", {"NonRecursive": True}),  # Debian 12's Docker 20.10: mounts below are left out
        ("1.43", {"NonRecursive": True}),
        ("1.44", {"ReadOnlyForceRecursive": True}),  # Docker 25 and later: read-only all the way down
        ("1.45", {"ReadOnlyForceRecursive": True}),
        ("2.0", {"ReadOnlyForceRecursive": True}),
    ],
)
def test_nothing_below_a_read_only_bind_is_writable_on_any_engine(api_version, options):
    assert read_only_bind_options(api_version) == options


def test_an_account_whose_home_is_the_images_bundle_gets_no_server():
    jovyan = pwd.struct_passwd(("jovyan", "x", 1000, 100, "", "/home/jovyan/", "/bin/bash"))
    error = refusal(check_account, jovyan, set())
    assert error.status_code == 403
    assert "/home/jovyan, where the environment images keep their bundled files" in error.log_message


def test_a_person_s_account_in_the_login_groups_is_accepted():
    person = pwd.struct_passwd(("first.last", "x", 4321, 4321, "", "/home/first.last", "/bin/bash"))
    assert check_account(person, set()) is None
