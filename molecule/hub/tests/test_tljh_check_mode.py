"""The tljh distribution up to TLJH's installer, in check mode on the converged host.

TLJH's installer lives on GitHub, which the test machines cannot reach: a local copy of a
stand-in bootstrap.py (a file:// URL) takes GitHub's place for the download step. Nothing runs
it: check mode stops at the installer call, which is what this test can honestly cover here.
"""

from tests.support.scenario import run_playbook

testinfra_hosts = ["ansible://all"]


def task_result(output: str, task: str) -> str:
    """The first result line under the task's banner (ok/changed/skipping/failed)."""
    block = output.split(f"{task}]", 1)[1]
    return next(line for line in block.splitlines() if line.startswith(("ok:", "changed:", "skipping:", "fatal:")))


def test_tljh_install_is_planned_up_to_the_installer(host):
    stand_in = "/root/bootstrap-stand-in.py"
    host.run_expect([0], f"echo \"raise SystemExit('a stand-in for GitHub: never run')\" > {stand_in}")
    # What TLJH's installer writes: its admins group (ours too) becomes passwordless root on the host.
    host.run_expect([0], "echo '%jupyterhub-admins ALL = (ALL) NOPASSWD: ALL' > /etc/sudoers.d/jupyterhub-admins")
    result = run_playbook(
        "plasma.platform.hub",
        {
            "hub_distribution": "tljh",
            "hub_tljh_bootstrap_url": f"file://{stand_in}",
            "hub_tljh_bootstrap_pip_spec": "git+https://example.invalid/tljh.git@2.0.0",
            # TLJH's HTTPS takes Let's Encrypt's directories only: the plan is made without the scenario's pebble.
            "hub_acme_domains": [],
            "hub_allow_plain_http": True,
        },
        "--check",
        "--diff",
    )
    output = result.stdout
    assert result.returncode == 0, output + result.stderr
    # TLJH is not installed on this venv host: the role would install it...
    assert task_result(output, "Download TLJH's installer").startswith("changed:")
    assert task_result(output, "Run TLJH's installer").startswith("skipping:")  # check mode: not run
    # ...and would write TLJH's config.yaml with our keys.
    assert "https:\n+  enabled: false" in output.replace("\r", "")
    assert "cull:\n+    enabled: true\n+    timeout: 1800" in output.replace("\r", "")
    # ...and would take TLJH's sudo rule away: hub admins are not host root by default.
    assert task_result(output, "Keep hub admins from being host root").startswith("changed:")
    host.run_expect([0], "rm /etc/sudoers.d/jupyterhub-admins")


def test_the_venv_host_is_unchanged_by_the_check(host):
    assert not host.file("/root/tljh-bootstrap-2.0.0.py").exists
    assert not host.file("/opt/tljh/config/config.yaml").exists
    assert host.service("jupyterhub").is_running
