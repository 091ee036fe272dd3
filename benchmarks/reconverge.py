"""A re-run with nothing to change against the run that provisioned the host, side by side in one
run: the site playbook's time per role (ansible.posix.profile_roles) and the ratio.

    .venv/bin/python benchmarks/reconverge.py     # replaces the demo host with a new one, and leaves it up

It runs the README's own commands: scripts/demo-destroy, then scripts/demo twice (a new demo host,
then a converge of the same host). Package caches are warm after the first scripts/demo on this
machine, as when an operator re-runs a playbook. The second run must report changed=0.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROLE_TIME = re.compile(r"^\W*([a-z_]+) -{3,} ([0-9.]+)s\s*$")
RECAP = re.compile(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def demo(log: Path) -> dict[str, float]:
    """Run scripts/demo with the per-role profile, its output kept in log; the play's seconds by role,
    'total', and 'changed'."""
    env = {**os.environ, "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_roles", "ANSIBLE_FORCE_COLOR": "0"}
    run = subprocess.run([str(ROOT / "scripts" / "demo")], capture_output=True, text=True, env=env, cwd=ROOT)
    output = ANSI.sub("", run.stdout + run.stderr)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(output)
    if run.returncode != 0:
        raise SystemExit(f"scripts/demo failed:\n{output[-3000:]}")
    converge = output[output.rindex("PLAY RECAP") :]  # the site playbook's, after the prepare playbook's
    ok, changed, failed = map(int, RECAP.search(converge).groups())
    times = {match.group(1): float(match.group(2)) for line in converge.splitlines() if (match := ROLE_TIME.match(line))}
    times["changed"] = changed
    return times


def main() -> None:
    subprocess.run([str(ROOT / "scripts" / "demo-destroy")], check=True, capture_output=True, cwd=ROOT)
    logs = ROOT / "tests" / "output"
    first, again = demo(logs / "reconverge-first.log"), demo(logs / "reconverge-again.log")
    roles = [name for name in first if name not in ("total", "changed")]
    print("\nsite playbook on the demo host, seconds (ansible.posix.profile_roles)")
    print(f"{'role':16} {'first run':>10} {'re-run':>8} {'re-run/first':>13}")
    for name in [*sorted(roles, key=lambda role: -first[role]), "total"]:
        print(f"{name:16} {first[name]:10.1f} {again.get(name, 0):8.1f} {again.get(name, 0) / first[name]:12.2f}x")
    print(f"changed: first run {first['changed']}, re-run {again['changed']}")
    if again["changed"]:
        raise SystemExit(f"the re-run changed something (see {logs / 'reconverge-again.log'}): not a re-run with nothing to change")


if __name__ == "__main__":
    main()
