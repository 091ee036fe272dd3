"""The same account ids on every host of the fleet: a name that one host already gives another uid stops the play in
its validation, before any host is changed, naming the hosts and ids."""

from __future__ import annotations

import json
import os
import subprocess

SUITE = os.environ.get("PLASMA_SUITE", "bookworm")
HUB_HOST = f"plasma-fleet-hub-{SUITE}"
NODE_HOST = f"plasma-fleet-node1-{SUITE}"


def on(host: str, command: str) -> str:
    return subprocess.run(["docker", "exec", host, "sh", "-c", command], capture_output=True, text=True, check=True).stdout


def test_an_account_with_another_uid_on_one_node_stops_the_play_before_any_change():
    # zoe exists on a node already (a local account an operator made there), with a uid the hub host gives to no one.
    on(NODE_HOST, "id zoe >/dev/null 2>&1 || useradd --uid 4321 --user-group --no-create-home zoe")
    on(HUB_HOST, "id zoe >/dev/null 2>&1 || useradd --uid 4322 --user-group --no-create-home zoe")
    inventory = json.loads(
        subprocess.run(
            ["ansible-inventory", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "--host", HUB_HOST], capture_output=True, text=True, check=True
        ).stdout
    )
    users_list = [*inventory["users_list"], {"name": "zoe"}]
    try:
        result = subprocess.run(
            [
                "ansible-playbook",
                "-i",
                os.environ["MOLECULE_INVENTORY_FILE"],
                os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "converge.yml"),
                "-e",
                json.dumps({"users_list": users_list}),
            ],
            capture_output=True,
            text=True,
        )
        assert result.returncode != 0
        said = " ".join((result.stdout + result.stderr).split())  # Ansible prints failures on stderr
        assert f"account 'zoe' has different ids on the hosts (4322 on {HUB_HOST}, 4321 on {NODE_HOST})" in said, result.stdout
        assert "changed:" not in result.stdout, result.stdout
        # Nothing else happened to zoe anywhere.
        assert "jupyterhub-users" not in on(HUB_HOST, "id zoe") + on(NODE_HOST, "id zoe")
    finally:
        for host in (HUB_HOST, NODE_HOST):
            on(host, "userdel zoe")
