"""Pre-pulling environment images: plasma.platform.environment_images against what an operator
would otherwise use, side by side in one run, as ratios.

    .venv/bin/python benchmarks/pull_images.py [--images 8] [--size-mb 64] [--layers 4] [--rounds 3]

Eight images of four layers each, every layer distinct, are pushed to a local docker-registry
(environment images are large and layered; a single small layer would measure only start-up
costs). Each contender pulls all of them cold (none present) and warm (all present); the median
of the rounds is reported, each time divided by the module's time for the same case, and the cold
ratio against sequential `docker pull` round by round. A breakdown says where a cold pull's time
goes: Ansible's fixed start-up, the registry's round trips and layer downloads (asked with plain
HTTP, one after another, as one `docker pull` after another would), and the engine's own work
(decompressing, writing and registering layers: what remains of the sequential pulls).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests

from tests.support.registry import ANSIBLE_PLAYBOOK, ROOT, Registry, push_image, unique_repository

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
        "docker_image_pull loop, pull: not_present": [
            playbook({"community.docker.docker_image_pull": {"name": "{{ item }}", "pull": "not_present"}, "loop": images})
        ],
        "sequential docker pull (CLI)": [["docker", "pull", "-q", image] for image in images],
        # What any single Ansible task costs on this machine, pulling nothing: the floor under every module row.
        "ansible.builtin.ping (no-op floor)": [playbook({"ansible.builtin.ping": {}})],
    }


MANIFEST_TYPES = ", ".join(["application/vnd.docker.distribution.manifest.v2+json", "application/vnd.oci.image.manifest.v1+json"])


def registry_costs(images: list[str]) -> tuple[float, float, int]:
    """(seconds of round trips, seconds of layer downloads, layer bytes) for fetching every image's
    version check, manifest, config and layers from the registry, one request after another."""
    session = requests.Session()
    round_trips = downloads = 0.0
    size = 0
    for image in images:
        address, repository, tag = re.fullmatch(r"([^/]+)/(.+):([^:/]+)", image).groups()
        base = f"http://{address}/v2"
        started = time.monotonic()
        session.get(f"{base}/").raise_for_status()
        manifest = session.get(f"{base}/{repository}/manifests/{tag}", headers={"Accept": MANIFEST_TYPES})
        manifest.raise_for_status()
        layers = manifest.json()["layers"]
        session.get(f"{base}/{repository}/blobs/{manifest.json()['config']['digest']}").raise_for_status()
        round_trips += time.monotonic() - started
        for layer in layers:
            started = time.monotonic()
            with session.get(f"{base}/{repository}/blobs/{layer['digest']}", stream=True) as blob:
                blob.raise_for_status()
                size += sum(len(chunk) for chunk in blob.iter_content(1 << 20))
            downloads += time.monotonic() - started
    return round_trips, downloads, size


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
    parser.add_argument("--size-mb", type=int, default=64, help="each image's size")
    parser.add_argument("--layers", type=int, default=4, help="each image's layers")
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()

    registry = Registry().start()
    try:
        images = [f"{unique_repository(registry, 'bench')}:v1" for _ in range(options.images)]
        for image in images:
            push_image(image, options.size_mb, options.layers)
        runs = contenders(images)
        times: dict[tuple[str, str], list[tuple[float, float]]] = {}
        fetches = []
        for _ in range(options.rounds):
            for name, commands in runs.items():  # interleaved, so load on the machine hits all alike
                remove(images)
                times.setdefault((name, "cold"), []).append(timed(commands))
                times.setdefault((name, "warm"), []).append(timed(commands))
            fetches.append(registry_costs(images))
        remove(images)
    finally:
        registry.stop()

    def median(name: str, case: str, column: int) -> float:
        return statistics.median(run[column] for run in times[(name, case)])

    reference, sequential = "environment_images (missing)", "sequential docker pull (CLI)"
    print(
        f"\n{options.images} images x {options.size_mb} MB in {options.layers} layers, distinct layers, "
        f"local docker-registry, median of {options.rounds} rounds"
    )
    for column, title in ((1, "time of the pulling task (ansible-playbook start-up excluded)"), (0, "whole command, ansible-playbook start-up included")):
        print(f"\n{title}")
        print(f"{'contender':45} {'cold s':>8} {'warm s':>8} {'cold ratio':>11} {'warm ratio':>11}")
        for name in runs:
            cold, warm = median(name, "cold", column), median(name, "warm", column)
            cold_ratio = cold / median(reference, "cold", column)
            warm_ratio = warm / median(reference, "warm", column)
            print(f"{name:45} {cold:8.2f} {warm:8.2f} {cold_ratio:10.2f}x {warm_ratio:10.2f}x")
    print("\nratio = contender's time / environment_images (missing) time; above 1 means the module is faster")

    ratios = [cli[1] / module[1] for cli, module in zip(times[(sequential, "cold")], times[(reference, "cold")], strict=True)]
    print(
        "\ncold, round by round: sequential docker pull / environment_images (task time): "
        + ", ".join(f"{ratio:.2f}x" for ratio in ratios)
        + f"; lowest {min(ratios):.2f}x"
    )

    round_trips = statistics.median(fetch[0] for fetch in fetches)
    downloads = statistics.median(fetch[1] for fetch in fetches)
    cli_cold = median(sequential, "cold", 1)
    module_task, module_command = median(reference, "cold", 1), median(reference, "cold", 0)
    floor = median("ansible.builtin.ping (no-op floor)", "cold", 1)
    print(f"\nwhere a cold pull's time goes (medians, {fetches[0][2] / 1e6:.0f} MB of layers)")
    print(f"  ansible-playbook start-up, outside the task       {module_command - module_task:6.2f} s")
    print(f"  any Ansible task's own cost (ping)                 {floor:6.2f} s")
    print(f"  registry round trips, one image after another       {round_trips:6.2f} s")
    print(f"  layer downloads, one after another                  {downloads:6.2f} s")
    print(f"  the engine's own work in sequential pulls (rest)    {cli_cold - round_trips - downloads:6.2f} s")
    print(f"  = sequential docker pull                            {cli_cold:6.2f} s")
    print(f"  environment_images task, images pulled in parallel  {module_task:6.2f} s")


if __name__ == "__main__":
    main()
