"""A backup and restore drill: a user's files are backed up, then deleted and altered; restoring that
user's home brings them back byte for byte and leaves everyone else's files as they are now; restoring
the hub's state brings back a token revoked since the backup; restoring the whole host brings back
everyone's files as they were."""

from __future__ import annotations

import shlex

from tests.support.scenario import run_playbook

testinfra_hosts = ["ansible://all"]


def as_user(host, name: str, script: str) -> None:
    host.run_expect([0], f"su -s /bin/sh {name} -c {shlex.quote(script)}")


def checksums(host, folder: str) -> dict[str, str]:
    lines = host.check_output(f"cd {folder} && find . -type f -exec sha256sum {{}} + | sort -k2").splitlines()
    return {line.split(None, 1)[1]: line.split()[0] for line in lines}


def test_a_user_s_home_and_the_hub_s_state_come_back_from_a_backup(host, hub):
    as_user(host, "bob", "mkdir -p ~/project && printf 'results\\n' > ~/project/analysis.txt"
                         " && head -c 200000 /dev/urandom > ~/project/data.bin")
    as_user(host, "alice", "printf 'v1\\n' > ~/notes.txt")
    before = checksums(host, "/home/bob")
    session = hub.api(hub.token("bob", "bob-pass"))
    drill = session.post(f"{hub.base_url}/hub/api/users/bob/tokens", json={"note": "backup drill"}, timeout=30).json()

    host.run_expect([0], "systemctl start plasma-backup.service")  # what the timer runs
    assert "plasma-platform" in host.check_output("plasma-backup restic snapshots --compact")

    # After the backup: bob loses and damages files and makes a new one; alice changes hers; the token is revoked.
    as_user(host, "bob", "rm ~/project/analysis.txt && printf 'damaged' > ~/project/data.bin && printf 'new\\n' > ~/new.txt")
    as_user(host, "alice", "printf 'v2\\n' > ~/notes.txt")
    assert session.delete(f"{hub.base_url}/hub/api/users/bob/tokens/{drill['id']}", timeout=30).status_code == 204
    drill_session = hub.api(drill["token"])
    assert drill_session.get(f"{hub.base_url}/hub/api/users/bob", timeout=30).status_code == 403

    restored = run_playbook("plasma.platform.restore", {"restore_user": "bob"})
    assert restored.returncode == 0, restored.stdout + restored.stderr
    after = checksums(host, "/home/bob")
    assert {path: after.get(path) for path in before} == before
    assert host.file("/home/bob/project/analysis.txt").user == "bob"
    assert host.file("/home/bob/new.txt").exists  # made since the backup: stays
    assert host.file("/home/alice/notes.txt").content_string == "v2\n"  # another user's files: untouched

    restored = run_playbook("plasma.platform.restore", {"restore_hub": True})
    assert restored.returncode == 0, restored.stdout + restored.stderr
    hub.wait_until_up()
    assert drill_session.get(f"{hub.base_url}/hub/api/users/bob", timeout=30).status_code == 200


def test_the_whole_host_comes_back_from_a_backup(host, hub):
    """After the drill above: everything as in the latest snapshot, alice's change since included."""
    as_user(host, "bob", "printf 'damaged again' > ~/project/data.bin")
    bob_before = checksums(host, "/home/bob")
    restored = run_playbook("plasma.platform.restore", {"restore_all": True})
    assert restored.returncode == 0, restored.stdout + restored.stderr
    hub.wait_until_up()
    assert host.file("/home/alice/notes.txt").content_string == "v1\n"
    assert checksums(host, "/home/bob")["./project/data.bin"] != bob_before["./project/data.bin"]
    assert host.file("/home/bob/project/analysis.txt").content_string == "results\n"
    assert hub.token("bob", "bob-pass")


def test_the_restore_playbook_asks_what_to_restore():
    refused = run_playbook("plasma.platform.restore", {})
    assert refused.returncode != 0
    assert "Say what to restore, one of: -e restore_user=NAME" in refused.stdout + refused.stderr
