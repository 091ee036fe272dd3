"""Disk quotas on this scenario's btrfs /home and /srv/projects: a home that held files before became a subvolume with
every file as it was; a user writing from their server stops at their limit while another writes on; a group folder
at its limit refuses every member; a container's own disk stops at its environment's disk limit; btrfs that stopped
enforcing quotas enforces them again; raising a limit in the inventory lets the write through; plasma-quota reports it
all; the quota of a home that went goes; the spawn page shows a user's usage and a full home gets no server."""

from __future__ import annotations

import json

import pytest

from tests.support.hub import UserServer
from tests.support.scenario import as_user, run_playbook, users_list_with

testinfra_hosts = ["ansible://all"]

MIB = 1024 * 1024
# What a kernel in a server runs: write in 1 MiB pieces until done or refused; print how far it got and why it stopped.
WRITE = """
import errno
written, error = 0, None
try:
    with open({path!r}, "wb") as out:
        for _ in range({mib}):
            out.write(b"x" * 1048576)
            out.flush()
            written += 1
except OSError as failure:
    error = errno.errorcode.get(failure.errno, str(failure.errno))
print(written, error)
"""


def write_from_server(server: UserServer, path: str, mib: int) -> tuple[int, str]:
    written, error = server.run_python(WRITE.format(path=path, mib=mib), timeout=120).split()
    return int(written), error


def test_a_home_that_held_files_became_a_subvolume_with_every_file_as_it_was(host):
    assert host.check_output("stat -c %i /home/legacy") == "256"  # the root of a btrfs subvolume
    before = host.file("/root/legacy-home.manifest").content_string
    now = host.check_output(
        "cd /home/legacy && { find . -mindepth 1 -printf '%p %y %u %g %m %n %l\\n' | sort; find . -type f -exec sha256sum {} + | sort -k2; }"
    )
    assert now == before.rstrip("\n")
    assert not host.check_output("ls -A /home | grep plasma || true")  # nothing left of the conversion


def test_a_user_s_writes_stop_at_their_limit_and_another_user_writes_on(host, hub):
    bob = UserServer(hub, "bob", hub.token("bob", "bob-pass"))
    alice = UserServer(hub, "alice", hub.token("alice", "alice-pass"))
    try:
        bob.start("Environment A")
        alice.start("Environment A")
        written, error = write_from_server(bob, "/home/bob/big.bin", 100)
        assert error == "EDQUOT" and 40 < written < 64, (written, error)  # "Disk quota exceeded", near bob's 64M
        assert write_from_server(alice, "/home/alice/big.bin", 100) == (100, "None")
    finally:
        as_user(host, "bob", "rm -f ~/big.bin")
        as_user(host, "alice", "rm -f ~/big.bin")
        bob.stop()
        alice.stop()


def test_writes_outside_the_mounts_stop_at_the_environment_s_disk_limit(host, hub):
    # Environment B's containers may hold 1 GiB (disk_limit), the image included: filling the container's own disk
    # (here /var/tmp, as a pip install into the image's environment would) stops there, not at the host's disk.
    bob = UserServer(hub, "bob", hub.token("bob", "bob-pass"))
    try:
        bob.start("Environment B")
        # Docker turns btrfs quotas off when it stops (earlier tests restart it) and on again with the first limited
        # container, with the kernel's drop threshold, and btrfs recounts all of Docker's data: until the role's timer
        # has run and the recount is done, limits do not hold - a known gap (docs/operations.md), waited out here.
        host.run_expect([0], "systemctl start plasma-quota-keeper.service && btrfs quota rescan -W /var/lib/docker")
        written, error = write_from_server(bob, "/var/tmp/fill.bin", 1024)
        assert error == "EDQUOT" and 100 < written < 1024 - 300, (written, error)
        assert bob.run_python("print(open('/etc/hostname').read() != '', end='')") == "True"  # the server still works
    finally:
        bob.stop()


def test_a_group_folder_at_its_limit_refuses_every_member(host):
    folder = "/srv/projects/team-project"
    try:
        full = host.run(f"su -s /bin/sh alice -c 'head -c 40M /dev/zero > {folder}/full.bin'")
        assert full.rc != 0 and "Disk quota exceeded" in full.stderr
        host.run_expect([0], "btrfs filesystem sync /srv/projects")
        for member in ("alice", "first.last"):
            more = host.run(f"su -s /bin/sh {member} -c 'head -c 2M /dev/zero > {folder}/more-{member}.bin'")
            assert more.rc != 0 and "Disk quota exceeded" in more.stderr, member
        # bob's home, on another file system's subvolume, is not affected.
        as_user(host, "bob", "head -c 2M /dev/zero > ~/small.bin && rm ~/small.bin")
    finally:
        host.run_expect([0], f"rm -f {folder}/full.bin {folder}/more-*.bin")


# The sysfs folder of /home's btrfs quotas.
HOME_QGROUPS = "/sys/fs/btrfs/$(btrfs filesystem show /home | grep -o 'uuid: [^ ]*' | cut -c7-)/qgroups"
# bob saves 10 MiB at a time, each committed, 100 MiB in all (well past his 64 MiB); fails at the first refusal.
BOB_SAVES = "su -s /bin/sh bob -c 'for n in $(seq 10); do head -c 10M /dev/zero > ~/part-$n.bin || exit 1; sync -f ~; done'"


def test_btrfs_that_stopped_enforcing_quotas_enforces_them_again_through_the_role_s_timer(host):
    """Linux stops enforcing every btrfs quota, until a rescan, once it deletes a shared tree drop_subtree_threshold
    levels deep (3 by default: a large container of Docker's btrfs driver, a large home). The role's timer sets the
    threshold to the deepest tree and rescans (the rules: tests/integration/test_plasma_quota_keep.py). Scaled down
    here: threshold 0 and a small snapshot deleted."""
    assert host.run("systemctl is-active plasma-quota-keeper.timer").stdout.strip() == "active"
    assert host.check_output(f"cat {HOME_QGROUPS}/drop_subtree_threshold") == "8"
    source, copy = "/home/.keeper-test-source", "/home/.keeper-test-copy"
    try:
        host.run_expect(
            [0],
            f"echo 0 > {HOME_QGROUPS}/drop_subtree_threshold && btrfs subvolume create {source}"
            f" && for n in $(seq 2000); do echo '{{}}' > {source}/$n.ipynb; done && btrfs subvolume snapshot {source} {copy}"
            f" && echo changed > {copy}/1.ipynb && sync && btrfs subvolume delete --commit-after {copy} && btrfs subvolume sync /home",
        )
        assert host.check_output(f"cat {HOME_QGROUPS}/inconsistent") == "1"
        host.run_expect([0], BOB_SAVES)  # what bob would meet: no limit at all
        host.run_expect([0], "rm /home/bob/part-*.bin")

        host.run_expect([0], "systemctl start plasma-quota-keeper.service")  # what the timer starts every minute

        # Its promise: enforced again within its next runs (a rescan that something cut short is taken up again).
        host.run_expect([0], f"for n in $(seq 150); do [ $(cat {HOME_QGROUPS}/inconsistent) = 0 ] && exit; sleep 1; done; exit 1")
        assert host.check_output(f"cat {HOME_QGROUPS}/drop_subtree_threshold") == "8"
        saved = host.run(BOB_SAVES)
        assert saved.rc != 0 and "Disk quota exceeded" in saved.stderr, saved
        assert "rescanned" in host.check_output("journalctl -u plasma-quota-keeper --no-pager --since -5min")
    finally:
        host.run(f"rm -f /home/bob/part-*.bin; btrfs subvolume delete {source} {copy}; systemctl start plasma-quota-keeper.service")


def test_the_report_names_each_home_and_folder_with_its_limit(host):
    rows = {row["path"]: row for row in json.loads(host.check_output("plasma-quota report --json"))}
    assert rows["/home/bob"]["limit"] == 64 * MIB and rows["/home/alice"]["limit"] == 3 * 1024 * MIB
    assert rows["/srv/projects/team-project"] == {**rows["/srv/projects/team-project"], "kind": "folder", "name": "plasma-team", "limit": 32 * MIB}
    assert "/home/legacy" in rows
    human = host.check_output("plasma-quota report")
    assert any(line.split()[-1] == "/home/bob" and "64.0 MiB" in line for line in human.splitlines()), human
    assert json.loads(host.check_output("plasma-quota usage bob --json"))["limit"] == 64 * MIB


@pytest.fixture
def bob_s_limit_raised():
    raised = run_playbook("plasma.platform.quotas", {"users_list": users_list_with("bob", quota="200M")})
    yield raised
    lowered = run_playbook("plasma.platform.quotas", {})
    assert lowered.returncode == 0, lowered.stdout + lowered.stderr


def test_raising_a_limit_in_the_inventory_lets_the_write_through_and_a_second_run_changes_nothing(host, bob_s_limit_raised):
    assert bob_s_limit_raised.returncode == 0, bob_s_limit_raised.stdout + bob_s_limit_raised.stderr
    assert "/home/bob limited to 200.0 MiB" in bob_s_limit_raised.stdout
    try:
        as_user(host, "bob", "head -c 100M /dev/zero > ~/big.bin")
    finally:
        as_user(host, "bob", "rm -f ~/big.bin")
    again = run_playbook("plasma.platform.quotas", {"users_list": users_list_with("bob", quota="200M")})
    assert "changed=0" in again.stdout, again.stdout


def test_no_quota_is_left_of_a_home_that_went(host):
    """A limited home that went (its account removed: userdel deletes the subvolume) may leave its qgroup behind; the
    role's next run removes every qgroup whose subvolume is gone."""
    host.run_expect([0], "btrfs subvolume create /home/.gone && btrfs qgroup limit 1M /home/.gone && btrfs subvolume delete /home/.gone")
    ran = run_playbook("plasma.platform.quotas", {})
    assert ran.returncode == 0, ran.stdout + ran.stderr
    subvolumes = {line.split()[1] for line in host.check_output("btrfs subvolume list /home").splitlines()}
    qgroups = {line.split()[0][2:] for line in host.check_output("btrfs qgroup show --raw /home").splitlines() if line.startswith("0/")}
    assert qgroups - {"5"} == subvolumes


def test_the_spawn_form_shows_the_home_s_usage_and_a_full_home_is_refused_a_server(host, hub):
    session, answer = hub.login("bob", "bob-pass")
    assert answer.status_code == 302
    form = session.get(f"{hub.base_url}/hub/spawn", timeout=60).text
    assert 'id="plasma-quota"' in form and "of the 64.0 MiB it may hold" in form, form

    bob = UserServer(hub, "bob", hub.token("bob", "bob-pass"))
    try:
        as_user(host, "bob", "head -c 70M /dev/zero > ~/fill.bin || true")  # stops at the limit
        refused = bob.start("Environment A")
        assert refused.status_code >= 400
        assert "Your home folder is full (" in refused.json()["message"], refused.text
        as_user(host, "bob", "rm ~/fill.bin")
        bob.start("Environment A")
        environment = bob.run_python("import os; print(os.environ['PLASMA_HOME_QUOTA'], os.environ['PLASMA_HOME_USAGE'])").split()
        assert int(environment[0]) == 64 * MIB and 0 <= int(environment[1]) < 64 * MIB
    finally:
        as_user(host, "bob", "rm -f ~/fill.bin")
        bob.stop()
