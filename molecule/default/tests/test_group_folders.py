"""Group folders: alice and first.last (the plasma-team group) write the team's folder from their own
servers and edit each other's files, which stay the group's; bob, not in the team, gets no such mount;
/srv/data stays read-only beside it."""

from __future__ import annotations

import pytest

from tests.support.hub import UserServer
from tests.support.scenario import run_playbook

testinfra_hosts = ["ansible://all"]

FOLDER = "/srv/projects/team-project"


@pytest.fixture(scope="module")
def team(hub):
    alice = UserServer(hub, "alice", hub.token("alice", "alice-pass"))
    first = UserServer(hub, "first.last", hub.token("first.last", "first-pass"))
    for server, environment in ((alice, "Environment A"), (first, "Docker Stacks layout")):
        server.stop()
        assert server.start(environment).status_code in (201, 202)
    yield alice, first
    alice.stop()
    first.stop()


def test_the_folder_is_the_groups_on_the_host(host):
    folder = host.file(FOLDER)
    assert (folder.user, folder.group, oct(folder.mode)) == ("root", "plasma-team", "0o2770")


def test_members_write_the_folder_and_edit_each_others_files(host, team):
    alice, first = team
    alice.run_python(f"open('{FOLDER}/plan.txt', 'w').write('from alice\\n')")
    first.run_python(f"open('{FOLDER}/plan.txt', 'a').write('and first.last\\n'); import os; os.mkdir('{FOLDER}/results')")
    alice.run_python(f"open('{FOLDER}/results/table.csv', 'w').write('a,b\\n')")
    first.run_python(f"open('{FOLDER}/results/table.csv', 'a').write('1,2\\n')")

    plan, table = host.file(f"{FOLDER}/plan.txt"), host.file(f"{FOLDER}/results/table.csv")
    assert plan.content_string == "from alice\nand first.last\n"
    assert table.content_string == "a,b\n1,2\n"
    # Made by one member with the usual umask, still the group's and writable by the others.
    for made, owner in ((plan, "alice"), (table, "alice"), (host.file(f"{FOLDER}/results"), "first.last")):
        assert (made.user, made.group) == (owner, "plasma-team")
        assert made.mode & 0o060 == 0o060 and made.mode & 0o007 == 0


def test_shared_data_stays_read_only_beside_it(team):
    alice, _ = team
    printed = alice.run_python("try:\n    open('/srv/data/written.txt', 'w')\nexcept OSError as error:\n    print(error.strerror)")
    assert printed.strip() == "Read-only file system"


def test_a_non_member_gets_no_such_mount(host, hub, team):
    bob = UserServer(hub, "bob", hub.token("bob", "bob-pass"))
    try:
        assert bob.start("Environment B").status_code in (201, 202)
        mounts = host.check_output("docker inspect --format '{{range .Mounts}}{{.Destination}} {{end}}' jupyter-bob").split()
        assert "/srv/data" in mounts and FOLDER not in mounts
        assert bob.run_python(f"import os; print(os.path.exists('{FOLDER}'))").strip() == "False"
    finally:
        bob.stop()


def test_a_folder_taken_off_the_list_keeps_its_content(host):
    run = run_playbook("plasma.platform.shared_data", {"shared_data_folders": []})
    assert run.returncode == 0, run.stdout + run.stderr
    assert host.file(f"{FOLDER}/plan.txt").content_string == "from alice\nand first.last\n"
