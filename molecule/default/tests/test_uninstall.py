"""Last of the scenario (files run in name order): the uninstall playbook removes everything the collection installed
for the hub - servers, units, timers, scripts, the containers' firewall - and keeps every user's data."""

from __future__ import annotations

import re

from tests.support.hub import UserServer
from tests.support.scenario import inventory_vars, run_playbook

testinfra_hosts = ["ansible://all"]

UNITS = ["jupyterhub", "jupyterhub-proxy", "plasma-backup.timer", "plasma-backup", "plasma-user-firewall", "plasma-metrics.timer", "plasma-metrics"]
INSTALLED = [
    "/opt/tljh",
    "/usr/local/sbin/plasma-hub",
    "/usr/local/sbin/plasma-backup",
    "/usr/local/sbin/plasma-user-firewall",
    "/usr/local/lib/plasma-platform",
    "/opt/plasma-platform/repo2docker",
    "/etc/plasma-platform/backup.env",
    "/usr/local/sbin/plasma-metrics",
    "/etc/plasma-platform/metrics.json",
    "/etc/prometheus/plasma-hub-metrics-token",
]


def test_uninstall_removes_what_the_collection_installed_and_keeps_every_user_s_data(host, hub):
    bob = UserServer(hub, "bob", hub.token("bob", "bob-pass"))
    assert bob.start("Environment A").status_code in (201, 202)
    assert bob.save("kept-after-uninstall.txt", "stays after the uninstall\n").status_code in (200, 201)
    repository = inventory_vars()["backup_repository"]
    assert host.file(f"{repository}/config").exists  # the scenario's backups ran
    assert host.service("plasma-backup.timer").is_running

    run = run_playbook("plasma.platform.uninstall")
    assert run.returncode == 0, run.stdout + run.stderr

    assert host.check_output("docker ps --all --quiet --filter name=^jupyter-") == ""
    for unit in UNITS:
        assert not host.service(unit).is_running, unit
        assert not host.file(f"/etc/systemd/system/{unit if '.' in unit else unit + '.service'}").exists, unit
    for path in INSTALLED:
        assert not host.file(path).exists, path
    assert "PLASMA-USERS" not in host.check_output("iptables -w -S")
    assert host.run("docker network inspect plasma-users").rc != 0
    assert host.run("curl -s -m 5 -o /dev/null http://127.0.0.1/hub/").rc != 0  # nothing answers
    for package in ("prometheus", "prometheus-alertmanager", "prometheus-node-exporter"):
        assert not host.package(package).is_installed, package

    # What stays: the accounts and their files, the shared data, the backups and the archives of removed accounts.
    assert host.user("bob").exists
    kept = host.file(host.check_output("find /home/bob -name kept-after-uninstall.txt"))  # in the environment folder the server opened in
    assert kept.content_string == "stays after the uninstall\n" and kept.user == "bob"
    assert host.file("/srv/data").is_directory
    assert host.file(f"{repository}/config").exists
    assert host.file("/var/backups/plasma-users").is_directory
    assert host.file("/var/lib/prometheus/metrics2").is_directory  # what Prometheus collected

    again = run_playbook("plasma.platform.uninstall")
    assert again.returncode == 0, again.stdout + again.stderr
    assert re.search(r"changed=0 ", again.stdout), again.stdout
