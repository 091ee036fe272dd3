"""A re-run with nothing to change against the run that provisioned the host, side by side in one
run: the site playbook's time per role (ansible.posix.profile_roles) and the ratio; then what one
more account costs a re-run.

    .venv/bin/python benchmarks/reconverge.py [--users 100]   # replaces the demo host with a new one, and leaves it up

It runs the README's own commands: scripts/demo-destroy, then scripts/demo twice (a new demo host,
then a converge of the same host). Package caches are warm after the first scripts/demo on this
machine, as when an operator re-runs a playbook. The second run must report changed=0. Then the
same converge with --users more accounts in users_list, twice (the first makes them, the second is
again a re-run with nothing to change): the difference between the two re-runs, divided by the
accounts added, is what one more account costs a re-run. The added accounts stay on the demo host.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROLE_TIME = re.compile(r"^\W*([a-z_]+) -{3,} ([0-9.]+)s\s*$")
RECAP = re.compile(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
PROFILE = {"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_roles", "ANSIBLE_FORCE_COLOR": "0"}


def profiled(command: list[str], log: Path, env: dict) -> dict[str, float]:
    """Run a command that converges the demo host, its output kept in log; the site playbook's seconds by role,
    'total', and 'changed'."""
    run = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **PROFILE, **env}, cwd=ROOT)
    output = ANSI.sub("", run.stdout + run.stderr)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(output)
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{output[-3000:]}")
    converge = output[output.rindex("PLAY RECAP") :]  # the site playbook's, after the prepare playbook's
    ok, changed, failed = map(int, RECAP.search(converge).groups())
    times = {match.group(1): float(match.group(2)) for line in converge.splitlines() if (match := ROLE_TIME.match(line))}
    times["changed"] = changed
    return times


def with_more_users(count: int, log: Path) -> dict[str, float]:
    """The demo's converge with `count` more accounts in users_list (the demo's own account first, as it has it)."""
    demo_hash = (ROOT / ".cache" / "demo-password.hash").read_text().strip()
    users = [{"name": "demo", "password": demo_hash, "admin": True}] + [{"name": f"extra-{number:03d}"} for number in range(1, count + 1)]
    env = {
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".cache" / "collections"),
        "PLASMA_HUB_PUBLISH": "127.0.0.1:8000:80",
        "PLASMA_DEMO_PASSWORD_HASH": demo_hash,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json") as extra:
        json.dump({"users_list": users}, extra)
        extra.flush()
        return profiled(["molecule", "converge", "-s", "demo", "--", "-e", f"@{extra.name}"], log, env)


def table(title: str, columns: dict[str, dict[str, float]], ratio: tuple[str, str] | None) -> None:
    first = next(iter(columns.values()))
    roles = sorted((name for name in first if name not in ("total", "changed")), key=lambda role: -first[role])
    print(f"\n{title}")
    print(f"{'role':16} " + " ".join(f"{label:>14}" for label in columns) + (f" {ratio[1] + '/' + ratio[0]:>14}" if ratio else ""))
    for name in [*roles, "total"]:
        values = [times.get(name, 0.0) for times in columns.values()]
        line = f"{name:16} " + " ".join(f"{value:14.1f}" for value in values)
        if ratio and columns[ratio[0]].get(name):
            line += f" {columns[ratio[1]].get(name, 0.0) / columns[ratio[0]][name]:13.2f}x"
        print(line)
    print("changed: " + ", ".join(f"{label} {times['changed']}" for label, times in columns.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100, help="accounts added for the cost of one more (0: skip)")
    options = parser.parse_args()

    subprocess.run([str(ROOT / "scripts" / "demo-destroy")], check=True, capture_output=True, cwd=ROOT)
    logs = ROOT / "tests" / "output"
    demo = [str(ROOT / "scripts" / "demo")]
    first, again = profiled(demo, logs / "reconverge-first.log", {}), profiled(demo, logs / "reconverge-again.log", {})
    table("site playbook on the demo host, seconds (ansible.posix.profile_roles)", {"first run": first, "re-run": again}, ("first run", "re-run"))
    if again["changed"]:
        raise SystemExit(f"the re-run changed something (see {logs / 'reconverge-again.log'}): not a re-run with nothing to change")
    if not options.users:
        return
    added = with_more_users(options.users, logs / "reconverge-users-added.log")
    more = with_more_users(options.users, logs / "reconverge-users-again.log")
    table(
        f"the same with {options.users} more accounts, seconds",
        {"re-run, 1 acct": again, f"adding {options.users}": added, f"re-run, {options.users + 1}": more},
        ("re-run, 1 acct", f"re-run, {options.users + 1}"),
    )
    print(
        f"one more account: {(added['total'] - again['total']) / options.users * 1000:.0f} ms in the run that adds it, "
        f"{(more['total'] - again['total']) / options.users * 1000:.0f} ms in every re-run after"
    )
    if more["changed"]:
        raise SystemExit(f"the re-run with more accounts changed something (see {logs / 'reconverge-users-again.log'})")


if __name__ == "__main__":
    main()
