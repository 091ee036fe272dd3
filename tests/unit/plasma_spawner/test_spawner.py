"""PlasmaSpawner as the hub configures it: what the configuration fragment sets becomes the
container's settings, and every refusal that needs no Docker happens before Docker is asked."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from tornado import web
from traitlets.config import Config

import plasma_spawner
from plasma_spawner import PlasmaSpawner
from plasma_spawner.environments import Environment
from plasma_spawner.spawner import host_config
from tests.support.spawn_form import Cards

ROOT = Path(__file__).resolve().parents[3]
ENVIRONMENTS = [
    {"display_name": "Python", "image": "example/python:1", "folder": "example-python-1", "mem_limit": "512m"},
    {"display_name": "R", "image": "example/r:2", "folder": "example-r-2", "cpu_limit": 1.5},
]


def spawner(username: str = "bob", **settings) -> PlasmaSpawner:
    """A spawner configured the way 30-plasma-spawner.py configures it."""
    config = Config()
    config.PlasmaSpawner.environments = ENVIRONMENTS
    config.PlasmaSpawner.entrypoint_path = "/usr/local/lib/plasma-platform/entrypoint.sh"
    config.PlasmaSpawner.shared_data_path = "/srv/shared"
    for name, value in settings.items():
        setattr(config.PlasmaSpawner, name, value)
    user = SimpleNamespace(name=username, escaped_name=username, url=f"/user/{username}/", id=1, orm_user=None, server=None, spawners={})
    return PlasmaSpawner(config=config, user=user)


def container_host_config(server: PlasmaSpawner) -> dict:
    """What start() gives the container for an environment: the spawner's extra_host_config as the start makes it."""
    return host_config(server.extra_host_config, Environment(display_name="Python", image="example/python:1", folder="example-python-1"))


def start_refusal(server: PlasmaSpawner, choice: str | None) -> web.HTTPError:
    server.user_options = {} if choice is None else {"image": choice}
    with pytest.raises(web.HTTPError) as raised:
        asyncio.run(server.start())
    return raised.value


def test_the_spawn_form_offers_exactly_the_environments():
    server = spawner()
    assert server._get_allowed_images() == {"Python": "example/python:1", "R": "example/r:2"}
    form = asyncio.run(server.get_options_form())
    assert [button["value"] for button in Cards(form).buttons] == ["Python", "R"]
    assert server.image == "example/python:1"


# root is an account of this machine, in its group root.
GROUPED = [
    *ENVIRONMENTS,
    {"display_name": "Course <X>", "image": "example/course:1", "folder": "example-course-1", "groups": ["root", "course-x"]},
    {"display_name": "Lab", "image": "example/lab:1", "folder": "example-lab-1", "groups": ["no-such-group-here"]},
]


def test_environments_of_a_group_are_offered_to_its_members_only():
    member = spawner("root", environments=GROUPED)
    assert list(member._get_allowed_images()) == ["Python", "R", "Course <X>"]
    assert [button["value"] for button in Cards(asyncio.run(member.get_options_form())).buttons] == ["Python", "R", "Course <X>"]
    outsider = spawner("no-such-account-here", environments=GROUPED)
    assert list(outsider._get_allowed_images()) == ["Python", "R"]
    assert "Course" not in asyncio.run(outsider.get_options_form())


def test_another_groups_environment_is_refused_as_an_unlisted_one_is():
    error = start_refusal(spawner("root", environments=GROUPED), "Lab")
    assert error.status_code == 400
    assert error.log_message == "'Lab' is not one of this server's environments: Python, R, Course <X>"


def test_a_user_offered_no_environment_is_told_so():
    error = start_refusal(spawner("no-such-account-here", environments=GROUPED[2:]), None)
    assert error.status_code == 403
    assert "None of this server's environments is offered to your groups" in error.log_message


def test_the_container_runs_our_entrypoint_as_root_only_to_drop_to_the_user():
    server = spawner()
    assert server.extra_create_kwargs == {"entrypoint": ["/bin/sh", "/opt/plasma/entrypoint.sh"]}
    assert server.run_as_root is True
    assert server.cmd == ["jupyterhub-singleuser"]
    assert container_host_config(server)["init"] is True


def test_no_process_in_the_container_can_gain_privileges_and_only_the_entrypoint_needs_any():
    host_config = container_host_config(spawner())
    assert host_config["security_opt"] == ["no-new-privileges"]
    assert host_config["cap_drop"] == ["ALL"]
    assert sorted(host_config["cap_add"]) == ["DAC_READ_SEARCH", "SETGID", "SETPCAP", "SETUID"]


def test_the_operator_s_extra_host_config_adds_to_the_security_settings_and_never_loosens_them():
    extra = {"cap_add": ["SYS_ADMIN"], "init": False, "security_opt": ["apparmor=lab"], "shm_size": "1g"}
    host_config = container_host_config(spawner(extra_host_config=extra))
    assert host_config["shm_size"] == "1g"
    assert host_config["security_opt"] == ["apparmor=lab", "no-new-privileges"]
    assert sorted(host_config["cap_add"]) == ["DAC_READ_SEARCH", "SETGID", "SETPCAP", "SETUID"]
    assert host_config["init"] is True


def test_an_environment_s_disk_limit_bounds_the_container_s_root_filesystem_and_the_default_fills_in():
    server = spawner(
        environments=[
            {"display_name": "Big", "image": "big:1", "folder": "big-1", "disk_limit": "20G"},
            {"display_name": "Small", "image": "small:1", "folder": "small-1"},
        ],
        default_disk_limit="5g",
        extra_host_config={"storage_opt": {"dm.basesize": "1G"}},
    )
    big, small = server.environment_list
    assert host_config(server.extra_host_config, big)["storage_opt"] == {"dm.basesize": "1G", "size": str(20 * 1024**3)}
    assert host_config(server.extra_host_config, small)["storage_opt"]["size"] == str(5 * 1024**3)
    assert "storage_opt" not in host_config({}, Environment(display_name="P", image="p:1", folder="p-1", disk_limit=None))


def test_a_docker_restart_does_not_remove_running_servers():
    server = spawner()
    assert server.remove is True  # removed when the server stops...
    assert server.extra_host_config["auto_remove"] is False  # ...but not by the engine when it restarts


def test_images_are_never_pulled_at_start_and_containers_are_removed_when_stopped():
    server = spawner()
    assert server.pull_policy == "never"
    assert server.remove is True


def test_the_entrypoint_is_mounted_read_only_and_the_home_at_its_own_path():
    binds = spawner().volume_binds
    assert binds["/usr/local/lib/plasma-platform/entrypoint.sh"] == {"bind": "/opt/plasma/entrypoint.sh", "mode": "ro"}
    assert binds["/home/bob"] == {"bind": "/home/bob", "ro": False}
    assert "/srv/shared" not in binds  # a mount with bind options instead (test_environments.py)


def test_the_operators_own_dockerspawner_settings_still_apply():
    config = Config()
    config.PlasmaSpawner.environments = ENVIRONMENTS
    config.DockerSpawner.network_name = "plasma-users"
    config.SystemUserSpawner.pull_policy = "ifnotpresent"
    server = PlasmaSpawner(config=config, user=SimpleNamespace(name="bob"))
    assert server.network_name == "plasma-users"
    assert server.pull_policy == "ifnotpresent"


@pytest.mark.parametrize("limit", ["512m", "512M", "1g", "1.5G", "1073741824"])
def test_every_accepted_memory_limit_is_accepted_by_the_spawner(limit):
    environments = [{**ENVIRONMENTS[0], "mem_limit": limit}]
    server = spawner(environments=environments)
    server.mem_limit = server.environment_list[0].mem_limit  # what start() does; the trait validates it
    assert server.mem_limit > 0


def test_a_refused_choice_is_refused_before_anything_else():
    error = start_refusal(spawner("no-such-account-here"), "example/r:2")
    assert error.status_code == 400
    assert error.log_message == "'example/r:2' is not one of this server's environments: Python, R"


def running(environment: str | None, active: bool = True) -> SimpleNamespace:
    """Another of the user's servers, running since before this hub started, as the hub keeps it."""
    return SimpleNamespace(active=active, ready=active, user_options={} if environment is None else {"image": environment})


def test_of_two_servers_started_at_once_in_one_environment_the_second_is_refused():
    first, second = spawner("no-such-account-here", servers_per_user=3), spawner(servers_per_user=3)
    first.orm_spawner = SimpleNamespace(name="a", server=None)
    second.orm_spawner = SimpleNamespace(name="b", server=None)
    first.user.spawners = second.user.spawners = {"a": first, "b": second}
    first._spawn_pending = second._spawn_pending = True  # both requested; neither in start() yet
    start_refusal(first, "Python")  # gets past the environment checks (then has no host account)
    assert first.chosen_environment == "Python"
    error = start_refusal(second, "Python")
    assert error.status_code == 409 and "already runs in your server 'a'" in error.log_message


def test_a_second_server_in_an_environment_already_running_is_refused():
    server = spawner(servers_per_user=3)
    server.orm_spawner = SimpleNamespace(name="second", server=None)  # a named server, while the default one runs the first environment
    server.user.spawners = {"": running(None), "stats": running("R", active=False), "second": server}
    error = start_refusal(server, "Python")
    assert error.status_code == 409
    assert error.log_message == "Python already runs in your default server: open it there, or stop it first."


def test_servers_beyond_the_limit_are_refused_and_stopped_ones_do_not_count():
    server = spawner(servers_per_user=2)
    server.user.spawners = {"a": running("Python"), "b": running("Retired environment"), "c": running("R", active=False)}
    error = start_refusal(server, "R")
    assert error.status_code == 409
    assert error.log_message == ("You can run 2 server(s) at once and already run 2 (your server 'a', your server 'b'); stop one first.")


def test_a_server_within_the_limit_in_another_environment_goes_on_to_the_next_checks():
    server = spawner("no-such-account-here", servers_per_user=2)
    server.user.spawners = {"a": running("Python")}
    assert "There is no host account" in start_refusal(server, "R").log_message


def test_no_environments_configured_is_a_clear_503():
    assert start_refusal(spawner(environments=[]), None).status_code == 503


def test_a_user_without_a_host_account_is_refused_before_docker():
    error = start_refusal(spawner("no-such-account-here"), "Python")
    assert error.status_code == 500
    assert "There is no host account for no-such-account-here" in error.log_message


def test_a_system_account_gets_no_server_even_when_an_admin_asks():
    # The hub makes a user of any existing account an admin names; Debian's "nobody" is one.
    error = start_refusal(spawner("nobody"), None)
    assert error.status_code == 403
    assert error.log_message == "nobody is a system account (uid 65534): servers run only for people's accounts (uid 1000 to 59999)."


def test_an_account_outside_the_hub_s_login_groups_gets_no_server():
    server = spawner("nobody")
    server.authenticator = SimpleNamespace(allowed_groups={"jupyterhub-users", "jupyterhub-admins"})
    error = start_refusal(server, None)
    assert error.status_code == 403
    assert error.log_message == (
        "nobody is not a user of this platform (in none of the groups jupyterhub-admins, jupyterhub-users): no server is started for it."
    )


def test_the_package_is_versioned_with_the_collection():
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    assert plasma_spawner.__version__ == galaxy["version"]


def test_the_unit_tests_use_the_hub_roles_jupyterhub_and_dockerspawner():
    defaults = yaml.safe_load((ROOT / "roles/hub/defaults/main.yml").read_text())
    lines = (ROOT / "requirements-dev.txt").read_text().splitlines()
    pinned = dict(line.split("==") for line in lines if "==" in line and not line.startswith("#"))
    for requirement in defaults["hub_python_packages"]:
        name, version = requirement.split("==")
        if name in ("jupyterhub", "dockerspawner"):
            assert pinned[name] == version, name


def test_group_folders_are_mounted_read_write_for_members_only_and_only_when_they_exist(tmp_path):
    (tmp_path / "project").mkdir()
    folders = [
        {"path": str(tmp_path / "project"), "group": "root"},
        {"path": str(tmp_path), "group": "no-such-group-here"},
        {"path": str(tmp_path / "gone"), "group": "root"},
    ]
    mounts = spawner("root", shared_folders=folders).group_folder_mounts()
    assert [(mount["Source"], mount["Target"], mount["ReadOnly"]) for mount in mounts] == [(str(tmp_path / "project"), str(tmp_path / "project"), False)]
    assert spawner("no-such-account-here", shared_folders=folders).group_folder_mounts() == []


def test_every_environment_is_limited_in_memory_and_processes_unless_it_says_otherwise():
    server = spawner(environments=[*ENVIRONMENTS, {**ENVIRONMENTS[0], "display_name": "Big", "mem_limit": "0", "pids_limit": 4096}])
    python, r, big = server.environment_list
    assert (python.mem_limit, python.pids_limit) == (512 * 1024**2, 1024)  # its own memory limit, the default process limit
    assert (r.mem_limit, r.pids_limit) == (2 * 1024**3, 1024)  # both defaults
    assert (big.mem_limit, big.pids_limit) == (0, 4096)  # 0: no memory limit


def test_tmp_is_in_memory_within_the_memory_limit():
    from plasma_spawner.environments import tmp_mount_options

    python, r = spawner().environment_list
    assert tmp_mount_options(python) == f"rw,nosuid,nodev,mode=1777,size={512 * 1024**2}"
    unlimited = spawner(default_mem_limit="0").environment_list[1]
    assert tmp_mount_options(unlimited) == "rw,nosuid,nodev,mode=1777"


def test_no_process_in_a_server_binds_a_port_below_1024():
    assert container_host_config(spawner())["sysctls"] == {"net.ipv4.ip_unprivileged_port_start": "1024"}
