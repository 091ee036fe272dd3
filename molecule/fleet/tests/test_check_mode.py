"""Check mode after converging changes nothing on any host of the fleet."""

from __future__ import annotations

import os
import re
import subprocess


def test_check_mode_after_converging_changes_nothing_on_any_host():
    result = subprocess.run(
        [
            "ansible-playbook",
            "-i",
            os.environ["MOLECULE_INVENTORY_FILE"],
            os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "converge.yml"),
            "--check",
            "--diff",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    recap = re.findall(r"^(plasma-fleet-\S+)\s+: ok=\d+\s+changed=(\d+) ", result.stdout, re.M)
    assert sorted(host for host, _ in recap) == sorted(
        f"plasma-fleet-{name}-{os.environ.get('PLASMA_SUITE', 'bookworm')}" for name in ("hub", "node1", "node2")
    ), result.stdout
    assert all(changed == "0" for _, changed in recap), result.stdout
