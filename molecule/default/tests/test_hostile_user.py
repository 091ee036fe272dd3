"""As the attacker: what a user controls never steers root. A user's links in their own tree lead root
nowhere when the collection writes there."""

from __future__ import annotations

import shlex

from tests.support.scenario import run_playbook, users_list_with

testinfra_hosts = ["ansible://all"]

BOB_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBobBobBobBobBobBobBobBobBobBobBobBobBobBobBob bob@laptop"
ROOT_KEYS = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIRootRootRootRootRootRootRootRootRootRootRoot operator\n"


def as_user(host, name: str, script: str) -> None:
    host.run_expect([0], f"su -s /bin/sh {name} -c {shlex.quote(script)}")


def set_bob_s_keys():
    return run_playbook("plasma.platform.users", {"users_list": users_list_with("bob", ssh_keys=[BOB_KEY])})


def test_ssh_keys_are_written_by_the_user_never_through_their_links(host):
    host.run_expect([0], f"install -d -m 0700 /root/.ssh && printf %s {shlex.quote(ROOT_KEYS)} > /root/.ssh/authorized_keys"
                         " && chmod 0644 /root/.ssh/authorized_keys && printf 'x:y\\n' > /etc/plasma-victim && chmod 0644 /etc/plasma-victim")
    try:
        # ~/.ssh a link to root's: the run refuses bob's keys, root's stay as they were.
        as_user(host, "bob", "rm -rf ~/.ssh && ln -s /root/.ssh ~/.ssh")
        refused = set_bob_s_keys()
        assert refused.returncode != 0
        assert "/home/bob/.ssh exists and is not a directory" in refused.stdout, refused.stdout
        assert host.file("/root/.ssh/authorized_keys").content_string == ROOT_KEYS
        assert host.file("/root/.ssh/authorized_keys").mode == 0o644

        # authorized_keys a link to another file: the link is replaced by bob's own file; the target stays as it was.
        as_user(host, "bob", "rm ~/.ssh && mkdir -m 0700 ~/.ssh && ln -s /etc/plasma-victim ~/.ssh/authorized_keys")
        written = set_bob_s_keys()
        assert written.returncode == 0, written.stdout + written.stderr
        victim = host.file("/etc/plasma-victim")
        assert (victim.content_string, victim.mode, victim.user) == ("x:y\n", 0o644, "root")
        keys = host.file("/home/bob/.ssh/authorized_keys")
        assert not keys.is_symlink
        assert (keys.content_string, keys.mode, keys.user) == (BOB_KEY + "\n", 0o600, "bob")
        assert set_bob_s_keys().stdout.count("changed=0") == 1
    finally:
        host.run_expect([0], "rm -rf /home/bob/.ssh /etc/plasma-victim /root/.ssh/authorized_keys")
