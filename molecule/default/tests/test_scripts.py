"""The shell scripts the roles install, as rendered for this host, pass shellcheck."""

from __future__ import annotations

from tests.support.scenario import assert_shellcheck_passes

testinfra_hosts = ["ansible://all"]


def test_the_installed_scripts_pass_shellcheck(host):
    assert_shellcheck_passes(host, "/usr/local/sbin/plasma-backup", "/usr/local/sbin/plasma-hub", "/usr/local/sbin/plasma-user-firewall")
