"""The whole host as its users meet it, through the hub's REST API with their own tokens:
environments that run as the user, folders that persist, read-only shared data."""

from __future__ import annotations

import html
import re
import shlex
import time

import pytest

from tests.support import scenario
from tests.support.hub import UserServer

testinfra_hosts = ["ansible://all"]

FOLDER_A = "localhost-5000-plasma-env-a-1.0"
FOLDER_B = "localhost-5000-plasma-env-b-1.0"


@pytest.fixture(scope="module")
def bob_in_a(bob, host) -> UserServer:
    """bob's server in environment A, started once for the tests that need it running."""
    bob.start("Environment A")
    return bob


def container_processes(host, username: str) -> list[tuple[int, str, str]]:
    """(pid, user, command) of every process in the user's container (ps itself runs as the user)."""
    uid = host.user(username).uid
    output = host.check_output(f"docker exec -u {uid} jupyter-{username} ps -eo pid=,user=,args=")
    return [(int(pid), user, args) for pid, user, args in (line.split(None, 2) for line in output.splitlines())]


def test_images_were_pulled_from_the_registry_at_provisioning(host):
    images = host.check_output("docker image ls --format '{{.Repository}}:{{.Tag}}'").split()
    assert "localhost:5000/plasma/env-a:1.0" in images
    assert "localhost:5000/plasma/env-b:1.0" in images


def test_the_server_runs_as_the_user(host, bob_in_a):
    uid = host.user("bob").uid
    processes = container_processes(host, "bob")
    assert any("jupyterhub-singleuser" in args for _, _, args in processes)
    for pid, user, args in processes:
        if pid == 1:
            assert "docker-init" in args  # the init process Docker provides
        else:
            assert user == "bob", (pid, user, args)
    assert host.check_output(f"docker exec -u {uid} jupyter-bob whoami") == "bob"


def test_bundled_files_are_copied_into_the_environment_folder_owned_by_the_user(host, bob_in_a):
    folder = f"/home/bob/{FOLDER_A}"
    for path in ("README.md", ".env-a-config", "notebooks/data/points.csv", "notebooks/welcome-a.ipynb"):
        copied = host.file(f"{folder}/{path}")
        assert copied.is_file, path
        assert copied.user == "bob" and copied.group == "bob", path
    assert host.file(f"{folder}/notebooks/data").user == "bob"


def test_the_folder_records_which_image_it_was_filled_from(host, bob_in_a):
    image_id = host.check_output("docker image inspect --format '{{.Id}}' localhost:5000/plasma/env-a:1.0")
    stamp = host.file(f"/home/bob/{FOLDER_A}/.plasma-bundle-id")
    assert stamp.user == "bob" and stamp.content_string.strip() == image_id


def test_jupyterlab_opens_in_the_environment_folder(bob_in_a):
    listing = bob_in_a.contents("")
    assert listing.status_code == 200
    names = {item["name"] for item in listing.json()["content"]}
    assert {"README.md", "notebooks"} <= names


def test_shared_data_is_readable_and_read_only_even_for_root(host, bob_in_a):
    host.run_expect([0], "echo 'shared numbers' > /srv/data/shared.txt")
    uid = host.user("bob").uid
    assert host.check_output(f"docker exec -u {uid} jupyter-bob cat /srv/data/shared.txt") == "shared numbers"
    as_user = host.run(f"docker exec -u {uid} jupyter-bob touch /srv/data/by-user")
    as_root = host.run("docker exec -u 0 jupyter-bob touch /srv/data/by-root")
    assert as_user.rc != 0 and "Read-only file system" in as_user.stderr
    assert as_root.rc != 0 and "Read-only file system" in as_root.stderr


def test_work_survives_a_restart_and_bundled_files_never_overwrite_it(host, bob_in_a):
    assert bob_in_a.save("results.txt", "my results\n").status_code in (200, 201)
    assert bob_in_a.save("README.md", "my own notes now\n").status_code in (200, 201)
    deleted = bob_in_a.session.delete(f"{bob_in_a.hub.base_url}/user/bob/api/contents/notebooks/welcome-a.ipynb", timeout=30)
    assert deleted.status_code == 204
    bob_in_a.stop()
    assert not host.run("docker ps -a --format '{{.Names}}' | grep -x jupyter-bob").stdout  # container removed
    bob_in_a.start("Environment A")
    assert bob_in_a.contents("results.txt").json()["content"] == "my results\n"
    assert bob_in_a.contents("README.md").json()["content"] == "my own notes now\n"
    assert bob_in_a.contents("notebooks/welcome-a.ipynb").status_code == 404  # copied once per image, not resurrected
    assert host.file(f"/home/bob/{FOLDER_A}/results.txt").user == "bob"


def test_another_environment_gets_its_own_folder(host, bob_in_a):
    bob_in_a.stop()
    bob_in_a.start("Environment B")
    names = {item["name"] for item in bob_in_a.contents("").json()["content"]}
    assert {"README-B.md", "lessons"} <= names and "README.md" not in names
    assert host.file(f"/home/bob/{FOLDER_B}/lessons/one.py").user == "bob"
    assert host.file(f"/home/bob/{FOLDER_A}/results.txt").exists


def test_another_user_cannot_read_the_folder(host, bob_in_a):
    assert host.run(f"sudo -u alice ls /home/bob/{FOLDER_A}").rc != 0
    assert host.run(f"sudo -u alice cat /home/bob/{FOLDER_A}/results.txt").rc != 0


def test_an_image_outside_the_list_is_refused_through_the_api(hub):
    alice = UserServer(hub, "alice", hub.token("alice", "alice-pass"))
    for choice in ("localhost:5000/plasma/not-listed:1.0", "localhost:5000/plasma/env-a:1.0", "Environment C"):
        response = alice.start(choice)
        assert response.status_code == 400, (choice, response.status_code, response.text)
    assert not alice.session.get(alice.api, timeout=30).json()["servers"]


def test_the_spawn_form_lists_the_environments_and_refuses_others(hub):
    session, _ = hub.login("alice", "alice-pass")
    form = session.get(f"{hub.base_url}/hub/spawn", timeout=30)
    assert form.status_code == 200
    assert "Environment A" in form.text and "Environment B" in form.text
    answer = session.post(
        f"{hub.base_url}/hub/spawn",
        data={"image": "localhost:5000/plasma/not-listed:1.0", "_xsrf": session.cookies.get("_xsrf")},
        allow_redirects=False,
        timeout=60,
    )
    assert answer.status_code == 400
    assert "not one of this server's environments" in html.unescape(answer.text)


def test_a_user_without_a_home_gets_a_clear_error_and_no_root_owned_home(hub, host):
    nohome = UserServer(hub, "nohome", hub.token("nohome", "nohome-pass"))
    response = nohome.start("Environment A")
    assert response.status_code == 500
    assert "does not exist on the host" in response.json()["message"]
    assert not host.file("/home/nohome").exists


@pytest.mark.release_independent
def test_a_server_that_ends_while_starting_leaves_its_last_output_in_the_hub_s_log(hub, host):
    """A user's own configuration breaks their server: its container is removed with it, so the hub's log keeps
    what the server printed, where the operator's troubleshooting steps look."""
    marker = f"plasma-test-crash-{time.time_ns()}"
    config = "\n".join(["import os, sys", f"print({marker!r}, file=sys.stderr, flush=True)", "os._exit(3)"])
    scenario.as_user(host, "first.last", f"mkdir -p ~/.jupyter && printf '%s\\n' {shlex.quote(config)} > ~/.jupyter/jupyter_server_config.py")
    folder = f"/home/first.last/{FOLDER_A}"
    made_folder = not host.file(folder).exists  # the entrypoint makes it before the server starts
    server = UserServer(hub, "first.last", hub.token("first.last", "first-pass"))
    try:
        # The user is told at once, not after the hub's own wait for a server that is gone: in the answer to the
        # start itself when the end comes within the hub's slow_spawn_timeout, else in the start's progress.
        try:
            response = server.start("Environment A")
        except AssertionError as error:
            told = str(error)
        else:
            assert response.status_code == 500, response.text
            told = response.json()["message"]
        assert "Your server stopped while starting, before it answered" in told
        log = host.check_output("journalctl -u jupyterhub --no-pager --since -10min")
        assert re.search(rf"first\.last's server \S+ ended while starting; its last output:\n(.*\n)*.*{marker}", log), log[-3000:]
    finally:
        scenario.as_user(host, "first.last", "rm ~/.jupyter/jupyter_server_config.py")
        server.stop()
        if made_folder:  # as the test found the home
            scenario.as_user(host, "first.last", f"rm -r {shlex.quote(folder)}")


# A registry that wants a login, as a company's or a lab's does: the scenario's images, at another port.
AUTH_REGISTRY_CONFIG = """version: 0.1
storage:
  filesystem:
    rootdirectory: /var/cache/plasma-images/registry
  maintenance:
    readonly:
      enabled: true
auth:
  htpasswd:
    realm: plasma-test
    path: /etc/plasma-test-registry/htpasswd
http:
  addr: 127.0.0.1:5001
"""
# bcrypt of reader-pass, as htpasswd -B writes it.
AUTH_REGISTRY_USERS = "reader:$2b$10$XY.8M6LC4dMSlAwJ8YvV1ODq4R4d6gRN99xaIgcQNYtDxSi.vCque\n"


def test_images_of_a_registry_that_wants_a_login_are_pulled_with_the_operator_s_credentials(host, hub):
    private = {"image": "localhost:5001/plasma/env-b:1.0", "display_name": "Private registry"}
    environments = scenario.inventory_vars()["environments_list"] + [private]
    login = {"registry": "localhost:5001", "username": "reader", "password": "reader-pass"}
    host.run_expect(
        [0],
        "install -d /etc/plasma-test-registry"
        f" && printf %s {shlex.quote(AUTH_REGISTRY_CONFIG)} > /etc/plasma-test-registry/config.yml"
        f" && printf %s {shlex.quote(AUTH_REGISTRY_USERS)} > /etc/plasma-test-registry/htpasswd"
        " && systemd-run --unit plasma-test-auth-registry docker-registry serve /etc/plasma-test-registry/config.yml"
        " && for i in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:5001/v2/ && exit 0; sleep 0.2; done; exit 1",
    )
    try:
        without = scenario.run_playbook("plasma.platform.environments", {"environments_list": environments})
        output = " ".join((without.stdout + without.stderr).split())
        assert without.returncode != 0 and "localhost:5001/plasma/env-b:1.0" in output, output
        assert "no basic auth credentials" in output or "unauthorized" in output.lower(), output

        with_login = scenario.run_playbook("plasma.platform.environments", {"environments_list": environments, "environments_registry_logins": [login]}, "-vv")
        assert with_login.returncode == 0, with_login.stdout + with_login.stderr
        assert "reader-pass" not in with_login.stdout + with_login.stderr
        assert host.run("docker image inspect localhost:5001/plasma/env-b:1.0").rc == 0
    finally:
        assert scenario.run_playbook("plasma.platform.environments").returncode == 0  # the scenario's own list again
        host.run("systemctl stop plasma-test-auth-registry; docker logout localhost:5001; docker rmi localhost:5001/plasma/env-b:1.0")
        hub.wait_until_up()  # the run restarted it with the scenario's environments


@pytest.mark.release_independent
def test_a_new_tag_that_keeps_the_environment_s_folder_carries_the_user_s_work_and_overwrites_none_of_it(host, hub):
    # The operator moves Environment A to a new tag and keeps its folder (folder: the 1.0 folder's name). The new
    # release of the image stands in as env-b's image tagged env-a:2.0: other bundled files, one at a path where the
    # user already has a file of their own.
    folder = f"/home/alice/{FOLDER_A}"
    existed = host.file(folder).exists
    scenario.as_user(host, "alice", f"mkdir -p {folder}/lessons && printf 'my work' > {folder}/analysis.ipynb && printf 'my lesson' > {folder}/lessons/one.py")
    host.run_expect([0], "docker tag localhost:5000/plasma/env-b:1.0 localhost:5000/plasma/env-a:2.0")
    environments = [
        {**environment, "image": "localhost:5000/plasma/env-a:2.0", "folder": FOLDER_A} if environment["display_name"] == "Environment A" else environment
        for environment in scenario.inventory_vars()["environments_list"]
    ]
    alice = UserServer(hub, "alice", hub.token("alice", "alice-pass"))
    try:
        upgrade = scenario.run_playbook("plasma.platform.environments", {"environments_list": environments})
        assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
        hub.wait_until_up()
        alice.start("Environment A")
        assert host.file(f"{folder}/analysis.ipynb").content_string == "my work"
        assert host.file(f"{folder}/lessons/one.py").content_string == "my lesson"  # not the new release's
        added = host.file(f"{folder}/README-B.md")  # the new release's own files, the user's
        assert added.is_file and added.user == "alice"
        new_id = host.check_output("docker image inspect --format '{{.Id}}' localhost:5000/plasma/env-a:2.0")
        assert host.file(f"{folder}/.plasma-bundle-id").content_string.strip() == new_id
        assert not host.file("/home/alice/localhost-5000-plasma-env-a-2.0").exists
    finally:
        alice.stop()
        assert scenario.run_playbook("plasma.platform.environments").returncode == 0  # the scenario's own list again
        host.run("docker rmi localhost:5000/plasma/env-a:2.0")
        if existed:
            scenario.as_user(host, "alice", f"cd {folder} && rm -rf analysis.ipynb lessons README-B.md .env-b-marker .plasma-bundle-id")
        else:
            host.run_expect([0], f"rm -rf {shlex.quote(folder)}")
        hub.wait_until_up()
