"""A bad variable is caught with a clear message before any task touches the host.

Each case runs a role against this machine in check mode: if validation ever let
the bad value through, check mode still keeps the machine unchanged.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_role(role: str, extra_vars: str, tmp_path: Path) -> subprocess.CompletedProcess:
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        f"- hosts: localhost\n  gather_facts: true\n  roles:\n    - role: plasma.platform.{role}\n"
    )
    return subprocess.run(
        [
            "ansible-playbook", "-i", "localhost,", "-c", "local", "--check",
            "-e", f"ansible_python_interpreter={sys.executable}", "-e", extra_vars, str(playbook),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )


@pytest.mark.parametrize(
    ("extra_vars", "message"),
    [
        ('{"docker_source": "foo"}', "value of docker_source must be one of: distro, upstream, got: foo"),
        ('{"docker_daemon_options": "live-restore"}', "docker_daemon_options"),
        ('{"docker_daemon_options": ["live-restore"]}', "docker_daemon_options"),
        ('{"docker_sorce": "upstream"}', "Unknown option(s) for the docker role: docker_sorce"),
    ],
)
def test_docker_role_rejects_bad_input(tmp_path, extra_vars, message):
    result = run_role("docker", extra_vars, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert message in output, output
    assert "changed=0" in result.stdout, output
    # Nothing but validation ran: no package was even looked at.
    assert "Gather installed packages" not in output, output
