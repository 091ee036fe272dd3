"""Least privilege in user containers, and access that ends when an account or an admin flag ends:
no way back to root inside a server, no reaching another user's container, servers that survive
a Docker restart, removal and demotion that take effect in the hub at once."""

from __future__ import annotations

import shlex
import time

import pytest

from tests.support.hub import UserServer
from tests.support.scenario import run_playbook, users_list_with

testinfra_hosts = ["ansible://all"]


@pytest.fixture(scope="module")
def servers(hub):
    """bob in the Docker Stacks layout (sudo and other ways to root inside), alice in environment B."""
    bob = UserServer(hub, "bob", hub.token("bob", "bob-pass"))
    alice = UserServer(hub, "alice", hub.token("alice", "alice-pass"))
    for server, environment in ((bob, "Docker Stacks layout"), (alice, "Environment B")):
        response = server.start(environment)
        assert response.status_code in (201, 202), response.text
    yield bob, alice
    bob.stop()
    alice.stop()


def as_user(host, username: str, command: str):
    """Run a shell command in the user's container, as the user (what their terminal would do)."""
    return host.run(f"docker exec -u {host.user(username).uid} jupyter-{username} sh -c {shlex.quote(command)}")


def server_status(host, username: str) -> dict[str, str]:
    # The user's oldest process running it (PID 1, Docker's init, names it in its arguments).
    pid = as_user(host, username, f"pgrep -u {host.user(username).uid} -o -f jupyterhub-singleuser").stdout.strip()
    lines = as_user(host, username, f"cat /proc/{pid}/status").stdout.splitlines()
    return {line.split(":")[0]: line.split(":", 1)[1].strip() for line in lines if ":" in line}


def address(host, username: str) -> str:
    return host.check_output(f"docker inspect --format '{{{{range .NetworkSettings.Networks}}}}{{{{.IPAddress}}}}{{{{end}}}}' jupyter-{username}")


def answers(server: UserServer) -> bool:
    return server.contents("").status_code == 200


def test_the_server_process_has_no_privileges_and_cannot_gain_any(host, servers):
    status = server_status(host, "bob")
    assert status["NoNewPrivs"] == "1"
    for capabilities in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert status[capabilities] == "0000000000000000", capabilities
    assert status["Uid"].split() == [str(host.user("bob").uid)] * 4


@pytest.mark.parametrize(
    "attempt",
    ["sudo -n id -u", "setuid-id -u", "setuid-capable-python -c 'import os; os.setuid(0); print(os.getuid())'"],
    ids=["sudo rule for everyone", "setuid-root program", "file capability"],
)
def test_no_way_to_root_in_the_image_works_for_the_user(host, servers, attempt):
    # Each works for jovyan in this image without the platform's settings (tests/images/env/Dockerfile).
    result = as_user(host, "bob", f"{attempt} 2>&1")
    assert result.stdout.strip().splitlines()[-1] != "0", result.stdout
    assert result.rc != 0 or result.stdout.strip() == str(host.user("bob").uid), result.stdout


def test_a_mount_below_the_shared_data_is_not_writable_in_containers(host, servers):
    bob, _ = servers
    bob.stop()
    host.run_expect([0], "mkdir -p /srv/data/nested && mount -t tmpfs -o mode=1777 plasma-nested /srv/data/nested")
    try:
        assert bob.start("Docker Stacks layout").status_code in (201, 202)
        for user in (str(host.user("bob").uid), "0"):
            attempt = host.run(f"docker exec -u {user} jupyter-bob touch /srv/data/nested/written-from-a-container")
            assert attempt.rc != 0, user
        assert not host.file("/srv/data/nested/written-from-a-container").exists
    finally:
        host.run("umount /srv/data/nested")


def test_a_users_container_cannot_reach_another_users(host, servers):
    bob, alice = servers
    host.run_expect([0], f"docker exec -d -u {host.user('alice').uid} jupyter-alice python3 -m http.server 8765")
    target = f"http://{address(host, 'alice')}:8765/"
    probe = f"python3 -c \"import urllib.request; urllib.request.urlopen('{target}', timeout=5)\""
    for _ in range(30):  # the host (where the hub and the proxy run) reaches it once it listens
        if host.run(probe).rc == 0:
            break
        time.sleep(0.5)
    else:
        pytest.fail("alice's web server never answered the host")
    from_bob = as_user(host, "bob", probe)
    assert from_bob.rc != 0, from_bob.stdout
    assert "timed out" in from_bob.stderr or "refused" in from_bob.stderr or "unreachable" in from_bob.stderr, from_bob.stderr
    assert answers(bob) and answers(alice)  # both still served through the proxy


def test_a_docker_restart_keeps_servers_running(host, servers):
    bob, alice = servers
    before = {name: host.check_output(f"docker inspect --format '{{{{.Id}}}}' jupyter-{name}") for name in ("bob", "alice")}
    host.run_expect([0], "systemctl restart docker")
    deadline = time.monotonic() + 60
    while not (answers(bob) and answers(alice)):
        assert time.monotonic() < deadline, "a server did not answer within 60 s of the restart"
        time.sleep(1)
    after = {name: host.check_output(f"docker inspect --format '{{{{.Id}}}}' jupyter-{name}") for name in ("bob", "alice")}
    assert after == before  # the same containers, not new ones


def test_a_docker_change_that_would_end_running_servers_stops_before_it_and_names_them(host, servers):
    """The host joining a fleet turns live-restore off (Swarm mode refuses it): Docker's restart would end every
    server. The run stops first; Docker's configuration and the servers stay as they were."""
    bob, alice = servers
    before = host.file("/etc/docker/daemon.json").content_string
    run = run_playbook("plasma.platform.docker", {"docker_swarm": True})
    output = " ".join((run.stdout + run.stderr).split())
    assert run.returncode != 0, output
    assert "which turns live-restore off (Swarm mode, a fleet), and that ends the servers running here:" in output, output
    assert "jupyter-alice" in output and "jupyter-bob" in output and "docker_restart_stops_servers: true" in output
    assert host.file("/etc/docker/daemon.json").content_string == before
    assert answers(bob) and answers(alice)


def test_with_the_operator_s_word_the_change_goes_ahead_and_the_servers_are_reported_stopped_not_lost(host, servers):
    bob, alice = servers
    assert bob.save("before-the-restart.txt", "saved before Docker restarted\n").status_code in (200, 201)
    run = run_playbook("plasma.platform.docker", {"docker_swarm": True, "docker_restart_stops_servers": True})
    output = " ".join((run.stdout + run.stderr).split())
    assert run.returncode == 0, output
    assert "these servers stop, and their users start them again from the hub: jupyter-alice, jupyter-bob" in output, output
    assert '"live-restore": false' in host.file("/etc/docker/daemon.json").content_string
    deadline = time.monotonic() + 90  # the hub notices at its next poll of the servers
    while bob.model() is not None or alice.model() is not None:
        assert time.monotonic() < deadline, "the hub still lists a server Docker's restart stopped"
        time.sleep(2)
    # Back to a single host's configuration: nothing runs, so nothing stops it; the users start again.
    run = run_playbook("plasma.platform.docker")
    assert run.returncode == 0, run.stdout + run.stderr
    assert '"live-restore": true' in host.file("/etc/docker/daemon.json").content_string
    for server, environment in ((bob, "Docker Stacks layout"), (alice, "Environment B")):
        response = server.start(environment)
        assert response.status_code in (201, 202), response.text
    assert bob.contents("before-the-restart.txt").json()["content"] == "saved before Docker restarted\n"


def test_a_server_that_died_can_be_started_again_by_its_user(host, servers):
    bob, _ = servers
    host.run_expect([0], "docker kill jupyter-bob")
    response = bob.start("Docker Stacks layout")  # no admin needed: the hub sees the old one is gone
    assert response.status_code in (201, 202), response.text
    assert answers(bob)


def test_removing_an_account_ends_its_access_before_archiving(host, hub):
    leaver = UserServer(hub, "leaver", hub.token("leaver", "leaver-pass"))
    assert leaver.start("Environment A").status_code in (201, 202)
    assert leaver.save("last-words.txt", "written just before the removal\n").status_code in (200, 201)
    time.sleep(1)
    run = run_playbook("plasma.platform.users", {"users_list": users_list_with("leaver", state="absent")})
    assert run.returncode == 0, run.stdout + run.stderr
    assert not host.run("docker ps -a --format '{{.Names}}' | grep -x jupyter-leaver").stdout  # the server is gone
    assert leaver.session.get(f"{hub.base_url}/hub/api/user", timeout=30).status_code == 403  # the token is dead
    url = f"{hub.base_url}/user/leaver/api/contents/last-words.txt"
    assert leaver.session.get(url, timeout=30, allow_redirects=False).status_code != 200  # nor the server's URL
    archive = host.check_output("ls /var/backups/plasma-users | grep '^leaver-'")
    content = host.check_output(f"tar -xzOf /var/backups/plasma-users/{archive} --wildcards '*/last-words.txt'")
    assert content == "written just before the removal"


def test_a_new_account_never_gets_the_uid_of_a_removed_one(host):
    """leaver (removed above) had the highest uid: useradd's rule alone would give it to the next account, which would
    then own leaver's files in group folders and backups."""
    retired = host.check_output("grep '^leaver ' /var/backups/plasma-users/retired-accounts").split()
    users = users_list_with("leaver", state="absent") + [{"name": "newcomer"}]
    try:
        run = run_playbook("plasma.platform.users", {"users_list": users})
        assert run.returncode == 0, run.stdout + run.stderr
        assert int(host.check_output("id -u newcomer")) > int(retired[1])
    finally:
        host.run("userdel --remove newcomer; groupdel newcomer")


def test_a_returning_account_gets_its_archived_home_back_and_keeps_what_it_made_since(host):
    """leaver (removed above) comes back: a new account with an empty home; the restore playbook fills it from the
    archive, written by leaver. A file leaver made since under an archived name stays as leaver made it, and a link
    planted where an archived folder goes leads nothing anywhere."""
    archive = "/var/backups/plasma-users/" + host.check_output("ls /var/backups/plasma-users | grep '^leaver-'")
    folders = host.check_output(f"tar -tzf {archive} | sed -n 's|^leaver/\\([^/]*\\)/.*|\\1|p' | sort -u").split()
    try:
        run = run_playbook("plasma.platform.users", {"users_list": users_list_with("leaver", state="present")})
        assert run.returncode == 0, run.stdout + run.stderr
        assert not host.file("/home/leaver/last-words.txt").exists
        host.run_expect([0], "su -s /bin/sh leaver -c 'echo made after the return > ~/last-words.txt'")
        host.run_expect([0], f"install -d -m 0755 /srv/elsewhere && su -s /bin/sh leaver -c 'ln -s /srv/elsewhere ~/{folders[0]}'")
        run = run_playbook("plasma.platform.restore", {"restore_archive": "leaver"})
        # The folder leaver's link stands in for exists, so it is kept as it is (a link, leading nowhere written); the
        # rest is back.
        assert run.returncode == 0, run.stdout + run.stderr
        assert host.file(f"/home/leaver/{folders[0]}").is_symlink
        assert host.file("/home/leaver/last-words.txt").content_string == "made after the return\n"
        owners = host.check_output(f"find /home/leaver -mindepth 1 ! -path '/home/leaver/{folders[0]}' -printf '%u\\n' | sort -u")
        assert owners == "leaver"
        archived_files = host.check_output(f"tar -tzf {archive} | grep -v '/$' | grep -vc '^leaver/{folders[0]}/'")
        restored_files = host.check_output(f"find /home/leaver -type f ! -path '/home/leaver/{folders[0]}/*' | wc -l")
        assert int(restored_files) >= int(archived_files)
        assert host.check_output("ls -A /srv/elsewhere") == ""  # nothing through the link
        missing = run_playbook("plasma.platform.restore", {"restore_archive": "nobody-here"})
        said = " ".join((missing.stdout + missing.stderr).split())  # Ansible prints failures on stderr
        assert missing.returncode != 0 and "There is no account nobody-here" in said, said
    finally:
        run_playbook("plasma.platform.users", {"users_list": users_list_with("leaver", state="absent")})
        host.run("rm -rf /srv/elsewhere")


@pytest.mark.release_independent
def test_taking_admin_away_takes_effect_at_once(host, hub, servers):
    token = hub.token("alice", "alice-pass")
    cookie_session, _ = hub.login("alice", "alice-pass")
    api = hub.api(token)
    assert api.get(f"{hub.base_url}/hub/api/users", timeout=30).status_code == 200
    assert cookie_session.get(f"{hub.base_url}/hub/admin", timeout=30).status_code == 200
    try:
        run = run_playbook("plasma.platform.users", {"users_list": users_list_with("alice", admin=False)})
        assert run.returncode == 0, run.stdout + run.stderr
        assert api.get(f"{hub.base_url}/hub/api/users", timeout=30).status_code == 403
        assert api.get(f"{hub.base_url}/hub/api/users/bob", timeout=30).status_code in (403, 404)
        assert cookie_session.get(f"{hub.base_url}/hub/admin", timeout=30).status_code == 403
        others = api.get(f"{hub.base_url}/user/bob/api/contents/", timeout=30, allow_redirects=False)
        assert others.status_code != 200
    finally:
        restored = run_playbook("plasma.platform.users", {"users_list": users_list_with("alice")})
        assert restored.returncode == 0, restored.stdout + restored.stderr


def test_hub_users_get_no_host_shell_over_ssh_but_hub_admins_do(host, hub):
    """The host's SSH server refuses a hub user at connection, whatever their key or password, while they still log
    in to the hub; a hub admin is let through to authentication (sshd's own answer for each account)."""
    attempt = host.run("ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null first.last@127.0.0.1 true")
    assert attempt.rc == 255 and "Permission denied" in attempt.stderr, attempt.stderr
    log = host.check_output("journalctl -u ssh --no-pager --since -2min")
    assert "User first.last from 127.0.0.1 not allowed because listed in DenyUsers" in log, log
    assert hub.login("first.last", "first-pass")[1].status_code == 302

    def settings(name: str) -> str:
        return host.check_output(f"sshd -T -C user={name},host=laptop,addr=192.0.2.10")

    assert "denyusers *" in settings("first.last").splitlines()
    assert not any(line.startswith("denyusers") for line in settings("alice").splitlines())
    assert not any(line.startswith("denyusers") for line in settings("root").splitlines())

    # Opted in, hub users get host SSH too; back to the default afterwards.
    try:
        assert run_playbook("plasma.platform.users", {"users_host_ssh": True}).returncode == 0
        assert not any(line.startswith("denyusers") for line in settings("first.last").splitlines())
    finally:
        assert run_playbook("plasma.platform.users").returncode == 0
    assert "denyusers *" in settings("first.last").splitlines()
