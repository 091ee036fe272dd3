"""What the hub scenario's tests share: its hub, served over HTTPS with a certificate from the ACME directory inside
the test host (pebble, prepare.yml), reached as a browser would: by its name, trusting the directory's root only."""

from __future__ import annotations

import subprocess

import pytest

from tests.support import scenario
from tests.support.hub import Hub, container_address


@pytest.fixture(scope="session")
def pebble_root(tmp_path_factory) -> str:
    """The directory's issuing root, from pebble's management interface: what browsers trust for Let's Encrypt."""
    path = tmp_path_factory.mktemp("pebble") / "root.pem"
    command = ["docker", "exec", scenario.scenario_host(), "curl", "-sSf", "https://acme.plasma.test:15000/roots/0"]
    path.write_text(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    return str(path)


@pytest.fixture(scope="session")
def hub(pebble_root) -> Hub:
    name = scenario.inventory_vars()["hub_acme_domains"][0]
    hub = Hub(f"https://{container_address(scenario.scenario_host())}", server_name=name, ca_file=pebble_root)
    hub.wait_until_up()
    return hub
