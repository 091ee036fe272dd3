"""A bad variable is caught with a clear message before any task touches the host.

Each case runs a role (or the site playbook) against this machine in check mode: if
validation ever let the bad value through, check mode still keeps the machine unchanged.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HASH = "$6$plasmatest$QSlYCnxDGLC7FJIzGMwjJFcw1wq.yNop4KaBQeThMYoxX6cE7vRZ6dHDQuIU2vFWsaaKDXzZClrhQ9Dx/f8yv1"


def run(playbook: str, extra_vars: dict, tmp_path: Path, *options: str) -> subprocess.CompletedProcess:
    if not playbook.startswith("plasma."):
        path = tmp_path / "play.yml"
        path.write_text(f"- hosts: localhost\n  gather_facts: true\n  roles:\n    - role: plasma.platform.{playbook}\n")
        playbook = str(path)
    return subprocess.run(
        [
            "ansible-playbook",
            "-i",
            "localhost,",
            "-c",
            "local",
            "--check",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            "-e",
            json.dumps(extra_vars),
            *options,
            playbook,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )


def assert_refused(result: subprocess.CompletedProcess, message: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert message in output, output
    assert "changed=0" in result.stdout, output


CASES = [
    ("docker", {"docker_source": "foo"}, "value of docker_source must be one of: distro, upstream, got: foo"),
    ("docker", {"docker_daemon_options": "live-restore"}, "docker_daemon_options"),
    ("docker", {"docker_daemon_options": ["live-restore"]}, "docker_daemon_options"),
    ("docker", {"docker_sorce": "upstream"}, "Unknown option(s) for the docker role: docker_sorce (did you mean docker_source?)"),
    ("users", {"users_lst": []}, "Unknown option(s) for the users role: users_lst (did you mean users_list?)"),
    ("users", {"users_list": [{"name": "a/b", "password": HASH}]}, 'invalid account name(s) "a/b"'),
    ("users", {"users_list": [{"name": "-rf", "password": HASH}]}, 'invalid account name(s) "-rf"'),
    (
        "users",
        {"users_list": [{"name": "Alice.Smith", "password": HASH}]},
        'JupyterHub turns every login name into lower case, so such an account could never log in to the hub; use "alice.smith"',
    ),
    ("users", {"users_list": [{"name": ".hidden", "password": HASH}]}, 'invalid account name(s) ".hidden"'),
    ("users", {"users_list": [{"name": "a" * 33, "password": HASH}]}, "at most 32 characters"),
    ("users", {"users_list": [{"name": "bob"}, {"name": "bob"}]}, "each name may appear once; repeated: bob"),
    # The example inventory's placeholder: not a hash, whatever its prefix.
    ("users", {"users_list": [{"name": "bob", "password": "$6$replace-me$..."}]}, "the password of bob is not a crypt(3) hash"),
    ("users", {"users_list": [{"name": "bob", "state": "gone"}]}, "state"),
    ("hub", {"hub_distribution": "conda"}, "value of hub_distribution must be one of: venv, tljh, got: conda"),
    ("hub", {"hub_https_certificate": "/etc/ssl/hub.crt"}, "hub_https_certificate and hub_https_key go together"),
    ("hub", {"hub_port": 70000}, "hub_port must be 1-65535"),
    ("hub", {}, "Without HTTPS the hub would serve its login page over plain HTTP on every address of this host"),
    ("hub", {"hub_bind_address": "192.0.2.10"}, "over plain HTTP on 192.0.2.10"),
    ("hub", {"hub_acme_domains": ["hub.example.org"]}, 'hub_acme_domains needs hub_acme_email, a contact address such as ops@example.org (got "")'),
    ("hub", {"hub_acme_domains": ["hub.example.org"], "hub_acme_email": "ops@"}, '(got "ops@")'),
    (
        "hub",
        {"hub_acme_domains": ["*.example.org", "hub.example.org", "Hub.Example.org"], "hub_acme_email": "ops@example.org"},
        "without wildcards (HTTP-01 cannot prove those): not *.example.org, Hub.Example.org.",
    ),
    (
        "hub",
        {
            "hub_acme_domains": ["hub.example.org"],
            "hub_acme_email": "ops@example.org",
            "hub_https_certificate": "/etc/ssl/hub.crt",
            "hub_https_key": "/etc/ssl/hub.key",
        },
        "use hub_acme_domains (a certificate from hub_acme_directory) or hub_https_certificate",
    ),
    (
        "hub",
        {
            "hub_distribution": "tljh",
            "hub_acme_domains": ["hub.example.org"],
            "hub_acme_email": "ops@example.org",
            "hub_acme_directory": "https://acme.example.org/directory",
        },
        "with the tljh distribution one of Let's Encrypt's two directories",
    ),
    ("hub", {"hub_acme_directory": "http://acme.example.org/directory"}, "hub_acme_directory must be an https:// URL"),
    ("hub", {"hub_hsts_max_age": -1}, "hub_hsts_max_age is in seconds, 0 to send no HSTS header"),
    ("users", {"users_groups": ["Course X"]}, 'users_groups: invalid group name(s) "Course X"'),
    ("users", {"users_groups": ["jupyterhub-admins"]}, "the hub groups jupyterhub-users and jupyterhub-admins are managed through users_list"),
    (
        "environments",
        {"environments_list": [{"image": "example/a:1", "display_name": "A", "groups": ["Course X"]}]},
        'invalid group name(s) "Course X" in groups',
    ),
    ("environments", {"environments_start_slots": 0}, "must each be at least 1 (got 120, 0, 600, 3)"),
    (
        "environments",
        {"environments_list": [{"image": "example/a:1", "display_name": "A", "disk_limit": "10 GB"}]},
        "a mem_limit, disk_limit or memory reserve must look like 512M or 2G",
    ),
    ("environments", {"environments_start_memory_reserve": "1 GB"}, "a mem_limit, disk_limit or memory reserve must look like 512M or 2G"),
    (
        "environments",
        {
            "environments_default_disk_limit": "10G",
            "environments_swarm_manager": "hub",
            "environments_list": [{"image": "example/a:1", "display_name": "A"}],
        },
        "a fleet's servers are Swarm services, which Docker cannot give a disk limit",
    ),
    (
        "shared_data",
        {"shared_data_folders": [{"name": "../up", "group": "team"}]},
        "each folder needs a name of lower case letters, digits, '.', '_' and '-' (not \"../up\")",
    ),
    (
        "shared_data",
        {"shared_data_folders": [{"name": "a", "group": "team", "path": "/srv"}]},
        "an absolute path of its own, different for each folder (got /srv)",
    ),
    ("firewall", {"firewall_open_ports": ["8080"]}, "give each as port/proto or first-last/proto (443/tcp, 60000-61000/udp), got 8080"),
    ("firewall", {"firewall_ssh_from": ["admins.example.org"]}, "firewall_ssh_from: give addresses or networks"),
    ("firewall", {"firewall_enable": True}, "Unknown option(s) for the firewall role: firewall_enable (did you mean firewall_enabled?)"),
    ("monitoring", {"monitoring_enable": True}, "Unknown option(s) for the monitoring role: monitoring_enable (did you mean monitoring_enabled?)"),
    (
        "monitoring",
        {"monitoring_retention": "2 weeks"},
        "monitoring_scrape_interval, monitoring_retention and monitoring_target_down_for: durations such as 30s, 15d or 1w, got 30s, 2 weeks and 2m",
    ),
    (
        "monitoring",
        {"monitoring_target_down_for": "two minutes"},
        "monitoring_scrape_interval, monitoring_retention and monitoring_target_down_for: durations such as 30s, 15d or 1w, got 30s, 15d and two minutes",
    ),
    (
        "monitoring",
        {"monitoring_fleet_nodes": {"node1": "node1.example.org"}},
        'monitoring_fleet_nodes: the IPv4 address of each node on the fleet network, got {"node1": "node1.example.org"}',
    ),
    (
        "monitoring",
        {"monitoring_alert_webhook_url": "hooks.example.org/alerts"},
        "monitoring_alert_webhook_url: an http:// or https:// URL, got hooks.example.org/alerts",
    ),
    ("monitoring", {"monitoring_alert_email_to": "ops@example.org"}, "monitoring_alert_email_to needs monitoring_alert_smarthost"),
    ("monitoring", {"monitoring_usage_max_percent": 120}, "monitoring_usage_max_percent: 1 to 100"),
    ("docker", {"docker_metrics_address": "9323"}, "docker_metrics_address: address:port (such as 127.0.0.1:9323) or empty, got 9323."),
    ("backup", {}, "Backups need backup_repository (a path, or a restic backend such as sftp:user@host:/path) and backup_password"),
    ("backup", {"backup_repository": "/srv/backup", "backup_password": "secret", "backup_keep_daily": 0}, "backup_keep_daily of at least 1"),
    (
        "backup",
        {"backup_repository": "s3:https://minio.example.org:9000/backups", "backup_password": "secret", "backup_environment": {"AWS_ACCESS_KEY_ID": "key"}},
        "is an S3 bucket: backup_environment needs AWS_SECRET_ACCESS_KEY",
    ),
    ("hub", {"hub_fleet_ip": "192.0.2.10", "hub_distribution": "tljh"}, "A fleet needs hub_distribution: venv."),
    ("hub", {"hub_login_lockout": 0}, "hub_login_lockout at least 1 (seconds)"),
    (
        "environments",
        {"environments_registry_logins": [{"registry": "registry.example.org", "username": "lab"}]},
        "missing required arguments: password found in environments_registry_logins",
    ),
    ("shared_data", {"shared_data_path": "data"}, "shared_data_path must be an absolute path"),
    ("shared_data", {"shared_data_path": "/etc"}, "shared_data_path must be an absolute path of its own"),
    (
        "environments",
        {"environments_list": [{"image": "foo bar", "display_name": "A"}, {"image": "Bad/Name", "display_name": "B"}]},
        "image 'foo bar' is not a valid reference: it contains white space; image 'Bad/Name' is not a valid reference",
    ),
    (
        "environments",
        {"environments_list": [{"image": "env/a:1", "display_name": "Same"}, {"image": "env/b:1", "display_name": "Same"}]},
        "every display_name and every image must be unique; repeated: Same",
    ),
    ("environments", {"environments_folder_format": "../{image}"}, "may not contain '/' or '..'"),
    ("environments", {"environments_folder_format": "{image}/x"}, "may not contain '/' or '..'"),
    ("environments", {"environments_folder_format": "{name}"}, "is not valid"),
    ("environments", {"environments_list": [{"image": "env/a:1", "display_name": "A", "folder": "../a"}]}, "may not contain '/' or '..'"),
    (
        "environments",
        {"environments_list": [{"image": "env/a:2", "display_name": "A", "folder": "env-a-1"}, {"image": "env/a:1", "display_name": "Old A"}]},
        "two environments would write the same folder of each home, env-a-1",
    ),
    ("environments", {"environments_list": [{"image": "env/a:1"}]}, "display_name"),
    (
        "environments",
        {"environments_list": [{"image": "builds/physics:1", "display_name": "P", "repository": "https://git.example.org/p.git"}]},
        "names its image without a tag - each build is tagged with its commit - not builds/physics:1",
    ),
    # What the site playbook gives a single host: no fleet, so nobody sets where a registry would be served.
    ("registry", {"registry_enabled": True}, "registry_enabled serves a fleet's nodes (docs/fleet.md)"),
    (
        "registry",
        {"registry_enabled": True, "registry_host": "localhost", "registry_address": "10.0.0.2", "registry_port": 70000},
        "registry_port must be a TCP port (got 70000)",
    ),
]


@pytest.mark.parametrize(("role", "extra_vars", "message"), CASES, ids=[f"{c[0]}:{json.dumps(c[1])[:40]}" for c in CASES])
def test_a_role_refuses_bad_input(tmp_path, role, extra_vars, message):
    result = run(role, extra_vars, tmp_path)
    assert_refused(result, message)
    # Nothing but validation ran.
    assert "Gather installed packages" not in result.stdout and "Create the groups and accounts" not in result.stdout


def test_a_boolean_given_as_text_on_the_command_line_is_named_with_the_way_to_give_it(tmp_path):
    """-e name=true gives the text "true": named, not left to a condition that fails without naming it."""
    result = run("monitoring", {}, tmp_path, "-e", "monitoring_enabled=true")
    assert_refused(result, "monitoring_enabled: true or false, not the text 'true' (what -e monitoring_enabled=true gives);")
    assert "write -e '{\"monitoring_enabled\": true}' on the command line" in " ".join(result.stdout.split())


PLAYBOOK_CASES = [
    ("plasma.platform.uninstall", {"uninstall_remove_image": True}, "Unknown variable(s) for the uninstall playbook: uninstall_remove_image; it reads"),
    ("plasma.platform.uninstall", {"uninstall_remove_images": "maybe"}, "uninstall_remove_images: give true or false"),
    ("plasma.platform.restore", {"restore_usr": "bob"}, "Unknown variable(s) for the restore playbook: restore_usr; it reads"),
    ("plasma.platform.restore", {"restore_user": "bob", "restore_archive": "bob"}, "Say what to restore, one of"),
]


@pytest.mark.parametrize(("playbook", "extra_vars", "message"), PLAYBOOK_CASES, ids=[f"{c[0]}:{json.dumps(c[1])[:40]}" for c in PLAYBOOK_CASES])
def test_a_playbook_refuses_its_own_bad_variables_before_anything(tmp_path, playbook, extra_vars, message):
    assert_refused(run(playbook, extra_vars, tmp_path), message)


def test_account_names_as_directories_hand_them_out_pass_validation(tmp_path):
    names = ["first.last", "j.doe2", "j_doe", "svc-backup", "_build"]
    users = [{"name": name, "password": HASH} for name in names]
    # Only the validation (tagged always) runs: no tag selects the rest.
    result = run("users", {"users_list": users}, tmp_path, "--tags", "validation-only")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Reject account names that are not valid POSIX names" in result.stdout


def test_other_collections_variables_with_our_prefix_pass(tmp_path):
    """community.docker's connection variables are often set in group_vars: they are not ours to refuse."""
    others = {"docker_host": "unix:///run/docker.sock", "docker_api_version": "auto", "docker_tls": False, "docker_timeout": 60}
    result = run("docker", others, tmp_path, "--tags", "validation-only")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Reject unknown docker_* variables" in result.stdout


def test_a_plain_password_is_refused_without_being_printed(tmp_path):
    result = run("users", {"users_list": [{"name": "bob", "password": "hunter2-secret"}]}, tmp_path)
    assert_refused(result, "the password of bob is not a crypt(3) hash")
    assert "hunter2-secret" not in result.stdout + result.stderr


def test_the_site_playbook_checks_every_role_before_changing_anything(tmp_path):
    result = run("plasma.platform.site", {"environments_folder_format": "../escape", "hub_allow_plain_http": True}, tmp_path)
    assert_refused(result, "may not contain '/' or '..'")
    assert "PLAY [Install and configure Docker Engine]" not in result.stdout
