"""JupyterHub moved to another version by its pin in hub_python_packages: a pin that cannot be installed leaves the
hub on its version with the same database and says why; the role's default JupyterHub (6) then goes in over the hub's users and tokens,
and a second run changes nothing. Runs last in the scenario: the host ends on JupyterHub 6."""

import re
from pathlib import Path

import pytest
import yaml

from tests.support.hub import Hub
from tests.support.scenario import changed_count, run_playbook

testinfra_hosts = ["ansible://all"]
# The virtualenv's packages and the role's rollback are the same on every release (the default scenario installs the
# role's JupyterHub on each).
pytestmark = pytest.mark.release_independent

ROOT = Path(__file__).resolve().parents[3]
# The role's default packages; the scenario's inventory pins the JupyterHub before them.
DEFAULTS = yaml.safe_load((ROOT / "roles" / "hub" / "defaults" / "main.yml").read_text())["hub_python_packages"]
NEW = next(package.split("==")[1] for package in DEFAULTS if package.startswith("jupyterhub=="))


def pinned(jupyterhub: str, **others: str) -> list[str]:
    """The hub role's default hub_python_packages with JupyterHub, and others, pinned anew."""
    pins = {**dict(package.split("==") for package in DEFAULTS), "jupyterhub": jupyterhub, **others}
    return [f"{name}=={version}" for name, version in pins.items()]


def version(hub: Hub) -> str:
    return hub.session().get(f"{hub.base_url}/hub/api/", timeout=10).json()["version"]


def test_a_pin_that_cannot_go_in_leaves_the_hub_on_its_version_with_its_database(hub, host):
    before = version(hub)
    alice = hub.api(hub.token("alice", "alice-pass"))
    result = run_playbook("plasma.platform.hub", {"hub_python_packages": pinned(NEW, **{"jupyterhub-idle-culler": "99.0.0"})})
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert re.search(rf"JupyterHub {before} -> {NEW} failed at \"Install the new versions into the hub's virtualenv\"", output), output
    assert f"The hub is back on {before} with its virtualenv and its database as they were before" in output, output
    assert version(hub) == before
    assert alice.get(f"{hub.base_url}/hub/api/user", timeout=10).json()["name"] == "alice"  # the same database
    assert not host.file("/opt/tljh/hub.previous").exists


def test_jupyterhub_6_goes_in_over_the_hub_s_users_and_tokens_and_a_second_run_changes_nothing(hub, host):
    before = version(hub)
    alice = hub.api(hub.token("alice", "alice-pass"))
    upgrade = {"hub_python_packages": pinned(NEW)}
    result = run_playbook("plasma.platform.hub", upgrade)
    assert result.returncode == 0, result.stdout + result.stderr
    assert version(hub) == NEW != before
    assert alice.get(f"{hub.base_url}/hub/api/user", timeout=10).json()["name"] == "alice"  # a token made on the old version
    hub.token("bob", "bob-pass")  # a login on the new one
    assert host.file(f"/opt/tljh/state/jupyterhub.sqlite.before-{NEW}").mode == 0o600  # the way back, kept

    again = run_playbook("plasma.platform.hub", upgrade)
    assert again.returncode == 0 and changed_count(again.stdout) == 0, again.stdout
