"""Pre-pulling environment images: plasma.platform.environment_images against what an operator
would otherwise use, side by side in one run, as ratios.

    .venv/bin/python benchmarks/pull_images.py [--images 8] [--size-mb 16] [--rounds 3]

Eight images with distinct layers are pushed to a local docker-registry. Each contender pulls
all of them cold (none present) and warm (all present); the median of the rounds is reported,
and each time divided by the module's time for the same case.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.registry import ANSIBLE_PLAYBOOK, ROOT, Registry, push_image, unique_repository  # noqa: E402


TASK_TIME = Path(tempfile.mkdtemp()) / "task-seconds"


def playbook(task: dict) -> list[str]:
    """A playbook around one task that also records the task's own wall time in TASK_TIME."""
    now = "{{ now(utc=true).timestamp() }}"
    tasks = [
        {"ansible.builtin.set_fact": {"bench_started": now}},
        task,
        {"ansible.builtin.copy": {"dest": str(TASK_TIME), "content": "{{ (now(utc=true).timestamp() | float) - (bench_started | float) }}", "mode": "0644"}},
    ]
    path = Path(tempfile.mkdtemp()) / "play.yml"
    path.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
    return [ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}", str(path)]


def contenders(images: list[str]) -> dict[str, list[list[str]]]:
    state = {"state_file": str(TASK_TIME.parent / "state.json")}
    return {
        "environment_images (missing)": [playbook({"plasma.platform.environment_images": {"images": images, **state}})],
        "environment_images (latest)": [playbook({"plasma.platform.environment_images": {"images": images, "policy": "latest", **state}})],
        "docker_image_pull loop, pull: always": [playbook({"community.docker.docker_image_pull": {"name": "{{ item }}", "pull": "always"}, "loop": images})],
        "docker_image_pull loop, pull: not_present": [playbook({"community.docker.docker_image_pull": {"name": "{{ item }}", "pull": "not_present"}, "loop": images})],
        "sequential docker pull (CLI)": [["docker", "pull", "-q", image] for image in images],
        # What any single Ansible task costs on this machine, pulling nothing: the floor under every module row.
        "ansible.builtin.ping (no-op floor)": [playbook({"ansible.builtin.ping": {}})],
    }


def remove(images: list[str]) -> None:
    subprocess.run(["docker", "rmi", "-f", *images], capture_output=True)


def timed(commands: list[list[str]]) -> tuple[float, float]:
    """(whole process time, time of the pulling task alone; for the CLI both are the same)."""
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".cache" / "collections")}
    TASK_TIME.unlink(missing_ok=True)
    started = time.monotonic()
    for command in commands:
        subprocess.run(command, check=True, capture_output=True, env=env)
    process = time.monotonic() - started
    return process, float(TASK_TIME.read_text()) if TASK_TIME.exists() else process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--size-mb", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()

    registry = Registry().start()
    try:
        images = [f"{unique_repository(registry, 'bench')}:v1" for _ in range(options.images)]
        for image in images:
            push_image(image, options.size_mb)
        runs = contenders(images)
        times: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for _ in range(options.rounds):
            for name, commands in runs.items():  # interleaved, so load on the machine hits all alike
                remove(images)
                times.setdefault((name, "cold"), []).append(timed(commands))
                times.setdefault((name, "warm"), []).append(timed(commands))
        remove(images)
    finally:
        registry.stop()

    def median(name: str, case: str, column: int) -> float:
        return statistics.median(run[column] for run in times[(name, case)])

    reference = "environment_images (missing)"
    print(f"\n{options.images} images x {options.size_mb} MB, distinct layers, local docker-registry, median of {options.rounds} rounds")
    for column, title in ((1, "time of the pulling task (ansible-playbook start-up excluded)"), (0, "whole command, ansible-playbook start-up included")):
        print(f"\n{title}")
        print(f"{'contender':45} {'cold s':>8} {'warm s':>8} {'cold ratio':>11} {'warm ratio':>11}")
        for name in runs:
            cold, warm = median(name, "cold", column), median(name, "warm", column)
            cold_ratio = cold / median(reference, "cold", column)
            warm_ratio = warm / median(reference, "warm", column)
            print(f"{name:45} {cold:8.2f} {warm:8.2f} {cold_ratio:10.2f}x {warm_ratio:10.2f}x")
    print("\nratio = contender's time / environment_images (missing) time; above 1 means the module is faster")

if __name__ == "__main__":
    main()
