"""Images laid out like Docker Stacks and repo2docker lay themselves out (home private to jovyan
and its group), started through the hub by an account named the way directories name them
(first.last, uid not 1000, primary gid not 100, a team group)."""

from __future__ import annotations

import shlex

import pytest

from tests.support.hub import UserServer
from tests.support.scenario import run_playbook, users_list_with

testinfra_hosts = ["ansible://all"]

USER = "first.last"
ENVIRONMENTS = {
    # display name: (folder, memory limit in bytes)
    "Docker Stacks layout": ("localhost-5000-plasma-env-stacks-1.0", 512 * 1024**2),
    "repo2docker layout": ("localhost-5000-plasma-env-repo2docker-1.0", 1610612736),
}
BUNDLED = ["README.md", "my notes.txt", "data/table.csv", ".private-token"]


@pytest.fixture(scope="module")
def first_last(hub) -> UserServer:
    server = UserServer(hub, USER, hub.token(USER, "first-pass"))
    yield server
    server.stop()


def container(host) -> str:
    return host.check_output("docker ps --filter name=^jupyter-first --format '{{.Names}}'")


def in_container(host, command: str) -> str:
    uid = host.user(USER).uid
    return host.check_output(f"docker exec -u {uid} {container(host)} sh -c {shlex.quote(command)}")


def identity(id_output: str) -> tuple[str, str, list[str]]:
    """uid, gid and the sorted groups of `id`'s output (the kernel sorts a process's groups)."""
    uid, gid, groups = id_output.split()
    return uid, gid, sorted(groups.removeprefix("groups=").split(","))


def test_the_account_is_not_the_images_user(host):
    account = host.user(USER)
    assert account.uid not in (0, 1000) and account.gid not in (0, 100)
    assert account.home == f"/home/{USER}"


@pytest.mark.parametrize("environment", list(ENVIRONMENTS))
def test_every_bundled_file_arrives_owned_by_the_user_and_the_users_own_is_kept(host, first_last, environment):
    folder, _ = ENVIRONMENTS[environment]
    path = f"/home/{USER}/{folder}"
    # A file of the user's with a bundled file's name, made before the first start.
    host.run_expect([0], f"sudo -u {USER} mkdir -p {path} && echo 'mine, not the image' | sudo -u {USER} tee {path}/README.md")
    response = first_last.start(environment)
    assert response.status_code in (201, 202), response.text
    for name in BUNDLED:
        copied = host.file(f"{path}/{name}")
        assert copied.is_file, name
        assert copied.user == USER and copied.group == USER, name
    assert host.file(f"{path}/empty/nested folder").is_directory
    assert host.file(f"{path}/latest.csv").is_symlink
    assert host.file(f"{path}/.private-token").mode == 0o600
    assert host.file(f"{path}/README.md").content_string == "mine, not the image\n"
    listing = {item["name"] for item in first_last.contents("").json()["content"]}
    assert {"README.md", "my notes.txt", "data", "empty"} <= listing
    first_last.stop()


@pytest.mark.parametrize("environment", list(ENVIRONMENTS))
def test_id_in_the_container_is_id_on_the_host_and_the_limit_holds(host, first_last, environment):
    first_last.start(environment)
    on_host = host.check_output(f"id {USER}")
    assert "plasma-team" in on_host
    assert identity(in_container(host, "id")) == identity(on_host)
    folder = f"/home/{USER}/{ENVIRONMENTS[environment][0]}"
    assert in_container(host, f"ls -ld {folder}").split()[2:4] == [USER, USER]
    memory = host.check_output(f"docker inspect --format '{{{{.HostConfig.Memory}}}}' {container(host)}")
    assert int(memory) == ENVIRONMENTS[environment][1]
    first_last.stop()


def test_a_broken_environment_folder_is_explained_to_the_user(host, first_last):
    folder = f"/home/{USER}/localhost-5000-plasma-env-a-1.0"
    host.run_expect([0], f"sudo -u {USER} ln -s /tmp {folder}")
    try:
        response = first_last.start("Environment A")
        assert response.status_code == 409, response.text
        assert f"The folder {folder} of the environment 'Environment A' is a symbolic link" in response.json()["message"]
    finally:
        host.run_expect([0], f"rm {folder}")


def test_a_renumbered_account_starts_with_its_new_uid(host, first_last):
    """The hub keeps the uid of the last start in its state; the host's current one must win."""
    first_last.start("repo2docker layout")
    first_last.stop()
    host.run_expect([0], f"usermod -u 4242 {USER}")  # also gives the home's files to the new uid
    first_last.start("repo2docker layout")
    assert in_container(host, "id -u") == "4242"
    assert host.file(f"/home/{USER}/{ENVIRONMENTS['repo2docker layout'][0]}/README.md").uid == 4242
    first_last.stop()


def test_a_removed_account_is_archived_under_its_name(host, first_last):
    run = run_playbook("plasma.platform.users", {"users_list": users_list_with(USER, state="absent")})
    assert run.returncode == 0, run.stdout + run.stderr
    assert not host.user(USER).exists and not host.file(f"/home/{USER}").exists
    archives = host.check_output(f"ls /var/backups/plasma-users | grep -F '{USER}-'").split()
    assert len(archives) == 1
    listing = host.check_output(f"tar -tzf /var/backups/plasma-users/{archives[0]}")
    assert f"{ENVIRONMENTS['repo2docker layout'][0]}/my notes.txt" in listing
