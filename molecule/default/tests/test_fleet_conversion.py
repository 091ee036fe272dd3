"""A host about to become a fleet's node: the nfs step moves the home of the account Ansible logs in with out of the
folder the mount would hide, while Ansible is logged in with it over SSH, and the run goes on in the new home.
(This kernel cannot mount NFS: the run stops before the mount, --tags nfs_local_homes.)"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from tests.support import scenario
from tests.support.hub import container_address

testinfra_hosts = ["ansible://all"]

PLAY = """
- name: The nfs step, logged in as the operator's account
  hosts: all
  become: true
  roles:
    - role: plasma.platform.nfs
      nfs_server: 192.0.2.1
      nfs_paths: [/srv/shared-home]
      nfs_local_accounts: [ops]
  post_tasks:
    - name: Where the account finds itself now
      ansible.builtin.command: sh -c 'echo "$HOME $(id -un)"'
      become: false
      changed_when: false
      register: where
      tags: [always]

    - name: Show it
      ansible.builtin.debug:
        msg: "now in {{ where.stdout }}"
      tags: [always]
"""


def test_the_ansible_account_s_home_moves_out_of_a_folder_about_to_be_mounted_while_it_is_logged_in(host, tmp_path: Path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "key")], check=True)
    public_key = (tmp_path / "key.pub").read_text().strip()
    host.run_expect(
        [0],
        "useradd --create-home --home-dir /srv/shared-home/ops --shell /bin/bash ops && echo 'ops ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/plasma-test-ops",
    )
    try:
        script = (
            f"install -d -m 0700 ~/.ssh && printf '%s\\n' {shlex.quote(public_key)} > ~/.ssh/authorized_keys"
            " && echo notes of the operator > ~/notes.txt && chmod 0600 ~/notes.txt"
        )
        host.run_expect([0], f"su ops -c {shlex.quote(script)}")
        (tmp_path / "play.yml").write_text(PLAY)
        (tmp_path / "hosts").write_text(
            f"{scenario.scenario_host()} ansible_host={container_address(scenario.scenario_host())} ansible_user=ops ansible_connection=ssh"
            f" ansible_ssh_private_key_file={tmp_path / 'key'}"
            " ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'\n"
        )

        def run() -> subprocess.CompletedProcess:
            return subprocess.run(
                ["ansible-playbook", "-i", str(tmp_path / "hosts"), "--tags", "nfs_local_homes", str(tmp_path / "play.yml")],
                capture_output=True,
                text=True,
                cwd=tmp_path,
            )

        first = run()
        assert first.returncode == 0, first.stdout + first.stderr
        assert "now in /var/local/home/ops ops" in first.stdout, first.stdout  # the rest of the run, in the new home
        assert host.user("ops").home == "/var/local/home/ops"
        notes = host.file("/var/local/home/ops/notes.txt")
        assert notes.content_string == "notes of the operator\n" and notes.user == "ops" and notes.mode == 0o600
        assert host.file("/var/local/home/ops/.ssh/authorized_keys").user == "ops"
        assert host.check_output("ls -A /srv/shared-home") == ""  # nothing left for the mount to hide

        again = run()
        assert again.returncode == 0, again.stdout + again.stderr
        assert "changed=0" in again.stdout, again.stdout
    finally:
        host.run("userdel --remove ops; rm -rf /srv/shared-home /var/local/home/ops /etc/sudoers.d/plasma-test-ops")
