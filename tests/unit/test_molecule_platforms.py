"""The test hosts' container settings: molecule replaces a scenario's platforms list as a whole rather than merging it
with the shared one (.config/molecule/config.yml), so the fleet scenario, which needs three hosts, repeats them; here
they are held to be the same, so that a change to one cannot leave the other behind."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SHARED = ("capabilities", "security_opts", "cgroupns_mode", "tmpfs", "pre_build_image", "pull", "override_command", "image")


def platforms(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text())["platforms"]


def test_every_test_host_gets_the_shared_container_settings():
    (shared,) = platforms(ROOT / ".config" / "molecule" / "config.yml")
    scenarios = [path for path in (ROOT / "molecule").glob("*/molecule.yml") if "platforms" in yaml.safe_load(path.read_text())]
    assert scenarios, "no scenario lists platforms of its own: this test has nothing left to guard"
    for path in scenarios:
        for host in platforms(path):
            assert {key: host.get(key) for key in SHARED} == {key: shared.get(key) for key in SHARED}, (path, host["name"])
