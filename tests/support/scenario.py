"""What the molecule scenarios' tests share: the test host's hub, and playbooks run against the test host."""

from __future__ import annotations

import json
import os
import subprocess

from tests.support.hub import Hub, container_address


def scenario_hub() -> Hub:
    """The hub of this scenario's test host (container plasma-<scenario>)."""
    return Hub(f"http://{container_address('plasma-' + os.environ['MOLECULE_SCENARIO_NAME'])}")


def run_playbook(playbook: str, extra_vars: dict | None = None, *options: str) -> subprocess.CompletedProcess:
    """ansible-playbook against the scenario's inventory; the output is captured for the assertions."""
    command = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], playbook, *options]
    if extra_vars is not None:
        command += ["-e", json.dumps(extra_vars)]
    return subprocess.run(command, capture_output=True, text=True)
