"""A backup and restore drill: a user's files are backed up, then deleted and altered; restoring that
user's home brings them back byte for byte and leaves everyone else's files as they are now; restoring
the hub's state brings back a token revoked since the backup, also after the proxy's token changed;
restoring the whole host brings back everyone's files as they were. And as the attacker: links a user
put where their backed-up files were lead root nowhere."""

from __future__ import annotations

from tests.support.scenario import as_user, run_playbook

testinfra_hosts = ["ansible://all"]


def checksums(host, folder: str) -> dict[str, str]:
    lines = host.check_output(f"cd {folder} && find . -type f -exec sha256sum {{}} + | sort -k2").splitlines()
    return {line.split(None, 1)[1]: line.split()[0] for line in lines}


def test_a_user_s_home_and_the_hub_s_state_come_back_from_a_backup(host, hub):
    as_user(host, "bob", "mkdir -p ~/project && printf 'results\\n' > ~/project/analysis.txt && head -c 200000 /dev/urandom > ~/project/data.bin")
    as_user(host, "alice", "printf 'v1\\n' > ~/notes.txt")
    before = checksums(host, "/home/bob")
    session = hub.api(hub.token("bob", "bob-pass"))
    drill = session.post(f"{hub.base_url}/hub/api/users/bob/tokens", json={"note": "backup drill"}, timeout=30).json()

    # The tljh distribution keeps its proxy's rules in a folder of the hub's state: it is saved too.
    host.run_expect([0], "install -d -m 0700 /opt/tljh/state/rules && printf '[http]\\n' > /opt/tljh/state/rules/rules.toml")

    host.run_expect([0], "systemctl start plasma-backup.service")  # what the timer runs
    assert "plasma-platform" in host.check_output("plasma-backup restic snapshots --compact")
    host.run_expect([0], "rm -r /opt/tljh/state/rules")

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

    # The proxy's token changes after the backup (an operator rotates it): the restored state's token must
    # reach the proxy as well as the hub, or the hub cannot route anyone.
    host.run_expect(
        [0],
        "umask 077 && printf 'CONFIGPROXY_AUTH_TOKEN=%s\\n' \"$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n')\""
        " > /opt/tljh/state/proxy.env && systemctl restart jupyterhub-proxy jupyterhub",
    )
    hub.wait_until_up()
    restored = run_playbook("plasma.platform.restore", {"restore_hub": True})
    assert restored.returncode == 0, restored.stdout + restored.stderr
    hub.wait_until_up()
    assert drill_session.get(f"{hub.base_url}/hub/api/users/bob", timeout=30).status_code == 200
    assert host.file("/opt/tljh/state/rules/rules.toml").content_string == "[http]\n"


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


def test_a_restore_never_follows_a_user_s_links(host, hub):
    """The attack: files that were backed up are replaced by links to places the user cannot write; an
    administrator restores the user's home. Root must create or change nothing at the links' targets, and
    the restore completes, with the user's files back."""
    host.run_expect([0], "install -d -m 0755 -o root -g root /srv/somewhere && rm -f /etc/cron.d/plasma-evil /etc/plasma-evil")
    as_user(
        host,
        "bob",
        "rm -rf ~/n ~/evil ~/linked && mkdir -m 0777 ~/n && chmod 0777 ~/n && printf '* * * * * root touch /tmp/owned\\n' > ~/evil"
        " && printf 'mine\\n' > ~/n/kept.txt",
    )
    host.run_expect([0], "systemctl start plasma-backup.service")
    as_user(host, "bob", "rm -r ~/n ~/evil && ln -s /srv/somewhere ~/n && ln -s /etc/cron.d/plasma-evil ~/evil && mkdir -p ~/linked && ln -s /etc ~/linked/etc")

    restored = run_playbook("plasma.platform.restore", {"restore_user": "bob"})
    assert restored.returncode == 0, restored.stdout + restored.stderr

    somewhere = host.file("/srv/somewhere")
    assert (somewhere.mode, somewhere.user) == (0o755, "root")
    assert not host.file("/srv/somewhere/kept.txt").exists
    assert not host.file("/etc/cron.d/plasma-evil").exists
    # The user's files are back, the user's own, where the links were.
    assert host.file("/home/bob/evil").is_file and not host.file("/home/bob/evil").is_symlink
    assert host.file("/home/bob/evil").user == "bob"
    assert host.file("/home/bob/n").is_directory and host.file("/home/bob/n/kept.txt").content_string == "mine\n"
    assert host.file("/home/bob/n/kept.txt").user == "bob"

    # The whole host's restore takes every home the same way.
    as_user(host, "bob", "rm -r ~/n ~/evil && ln -s /srv/somewhere ~/n && ln -s /etc/cron.d/plasma-evil ~/evil")
    restored = run_playbook("plasma.platform.restore", {"restore_all": True})
    assert restored.returncode == 0, restored.stdout + restored.stderr
    hub.wait_until_up()
    assert (host.file("/srv/somewhere").mode, host.file("/srv/somewhere").user) == (0o755, "root")
    assert not host.file("/srv/somewhere/kept.txt").exists
    assert not host.file("/etc/cron.d/plasma-evil").exists
    assert host.file("/home/bob/n/kept.txt").content_string == "mine\n"


def test_a_missing_repository_is_an_error_not_a_new_one(host):
    """A repository that went missing (a disk not mounted) fails the backup, and none is made in its place."""
    host.run_expect([0], "mv /var/backups/plasma-restic /var/backups/plasma-restic.away")
    try:
        failed = host.run("plasma-backup")
        assert failed.rc != 0
        assert "no restic repository answers at /var/backups/plasma-restic" in failed.stderr
        assert not host.file("/var/backups/plasma-restic").exists
    finally:
        host.run_expect([0], "rm -rf /var/backups/plasma-restic && mv /var/backups/plasma-restic.away /var/backups/plasma-restic")


def test_the_restore_playbook_asks_what_to_restore():
    refused = run_playbook("plasma.platform.restore", {})
    assert refused.returncode != 0
    assert "Say what to restore, one of: -e restore_user=NAME" in refused.stdout + refused.stderr
