"""What the molecule scenarios' tests share: the test host's hub, and playbooks run against the test host."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import tempfile
from pathlib import Path

from tests.support.hub import Hub, container_address

# Screenshots and logs the tests keep for people to look at.
OUTPUT = Path(__file__).resolve().parents[2] / "tests" / "output"


def scenario_host() -> str:
    """This scenario's test host container (.config/molecule/config.yml names it)."""
    return f"plasma-{os.environ['MOLECULE_SCENARIO_NAME']}-{os.environ.get('PLASMA_SUITE', 'bookworm')}"


def scenario_hub() -> Hub:
    """The hub of this scenario's test host."""
    return Hub(f"http://{container_address(scenario_host())}")


def run_playbook(playbook: str, extra_vars: dict | None = None, *options: str) -> subprocess.CompletedProcess:
    """ansible-playbook against the scenario's inventory; the output is captured for the assertions."""
    command = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], playbook, *options]
    if extra_vars is not None:
        command += ["-e", json.dumps(extra_vars)]
    return subprocess.run(command, capture_output=True, text=True)


def changed_count(output: str) -> int | None:
    """How many tasks a playbook's recap says it changed on the test host (None without a recap)."""
    recap = re.search(r"plasma-\S+\s+: ok=\d+\s+changed=(\d+) ", output)
    return int(recap.group(1)) if recap else None


def assert_check_mode_changes_nothing() -> None:
    """The scenario's converge playbook with --check --diff: no failure and changed=0."""
    result = run_playbook(os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "converge.yml"), None, "--check", "--diff")
    assert result.returncode == 0, result.stdout + result.stderr
    assert changed_count(result.stdout) == 0, result.stdout


def assert_shellcheck_passes(host, *paths: str) -> None:
    """The shell scripts at paths on the test host, as the roles rendered them, pass this machine's shellcheck (their
    templates cannot be checked before rendering)."""
    with tempfile.TemporaryDirectory() as folder:
        copies = []
        for number, path in enumerate(paths):
            copies.append(os.path.join(folder, f"{number}-{os.path.basename(path)}"))
            Path(copies[-1]).write_text(host.file(path).content_string)
        result = subprocess.run(["shellcheck", *copies], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def inventory_vars() -> dict:
    """The test host's variables as the scenario's inventory sets them."""
    output = subprocess.run(
        ["ansible-inventory", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "--host", scenario_host()],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output)


def users_list_with(name: str, **changes) -> list[dict]:
    """The inventory's users_list with one account's entry changed (the rest as provisioned)."""
    return [{**user, **changes} if user["name"] == name else user for user in inventory_vars()["users_list"]]


def as_user(host, name: str, script: str) -> None:
    """A shell script run on the test host as the account name, as the user would run it."""
    host.run_expect([0], f"su -s /bin/sh {name} -c {shlex.quote(script)}")
