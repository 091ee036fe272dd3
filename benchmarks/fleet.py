"""The fleet against one host, side by side in one run: the spawn latency of one user (rounds alternate between the
two), then a class of N users starting at once on each; wall time, p50 and p95, and the ratios fleet/single.

    scripts/demo                                               # the single host
    PLASMA_SUITE=bookworm molecule converge -s fleet            # the fleet: a hub host and two nodes
    .venv/bin/python benchmarks/fleet.py [--users 30] [--rounds 5]

Both run the same image (the test environment A, each from its own registry). The benchmark makes its users on
every host (bench-01, bench-02, ..., the same uid everywhere; the homes on the fleet's shared /home) and removes
them at the end. All test hosts share this machine's CPUs: the fleet's nodes add no capacity here, so the ratios
measure what Swarm costs (placement, a service per server, a port on the node), not what more machines would give.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from class_start import percentile
from spawn_latency import first_environment, on_host

from tests.support.hub import Hub, UserServer, container_address

PASSWORD = "fleet-benchmark"
FIRST_UID = 5001


def make_users(hosts: list[str], names: list[str], homes_on: str) -> None:
    """The accounts on every host with the same uid; the homes made once, on homes_on (shared with the others)."""
    for host in hosts:
        create_home = "--create-home" if host == homes_on else "--no-create-home"
        on_host(
            host,
            f"""
set -e
hash=$(openssl passwd -6 '{PASSWORD}')
uid={FIRST_UID}
for name in {" ".join(names)}; do
  id "$name" >/dev/null 2>&1 || useradd {create_home} --uid $uid --user-group --shell /bin/bash --groups jupyterhub-users --password "$hash" "$name"
  [ {create_home} = --no-create-home ] || chmod 0700 /home/$name
  uid=$((uid + 1))
done
""",
        )


def remove_users(hosts: list[str], names: list[str], homes_on: str) -> None:
    for host in hosts:
        remove = "--remove" if host == homes_on else ""
        on_host(host, f'for name in {" ".join(names)}; do userdel {remove} "$name" 2>/dev/null || true; done')


def start_timed(server: UserServer, environment: str, timeout: float) -> float | str:
    started = time.monotonic()
    try:
        response = server.start(environment, timeout=timeout)
    except (AssertionError, TimeoutError, OSError) as error:
        return str(error)[:200]
    if response.status_code not in (201, 202):
        return f"{response.status_code} {response.text[:200]}"
    return time.monotonic() - started


def class_start(servers: list[UserServer], environment: str, timeout: float) -> tuple[list[float], list[str], float]:
    with ThreadPoolExecutor(max_workers=len(servers)) as pool:
        started = time.monotonic()
        results = list(pool.map(lambda server: start_timed(server, environment, timeout), servers))
        wall = time.monotonic() - started
        list(pool.map(lambda server: server.stop(timeout=300), servers))
    return [r for r in results if isinstance(r, float)], [r for r in results if isinstance(r, str)], wall


def line(label: str, times: list[float], failures: list[str], wall: float) -> str:
    if not times:
        return f"  {label}: all {len(failures)} failed: {failures[:2]}"
    return f"  {label}: wall {wall:6.1f} s | p50 {statistics.median(times):5.1f} s, p95 {percentile(times, 0.95):5.1f} s | failures {len(failures)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--single", default="plasma-demo-bookworm", help="the single host's container")
    parser.add_argument("--fleet-hub", default="plasma-fleet-hub-bookworm", help="the fleet's hub host container")
    parser.add_argument("--fleet-nodes", nargs="*", default=["plasma-fleet-node1-bookworm", "plasma-fleet-node2-bookworm"])
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=600)
    options = parser.parse_args()

    sides = {"single": [options.single], "fleet": [options.fleet_hub, *options.fleet_nodes]}
    hubs = {side: Hub(f"http://{container_address(hosts[0])}") for side, hosts in sides.items()}
    environments = {side: first_environment(hosts[0]) for side, hosts in sides.items()}
    names = [f"bench-{number:02d}" for number in range(1, options.users + 1)]
    for side, hosts in sides.items():
        hubs[side].wait_until_up()
        make_users(hosts, names, homes_on=hosts[0])
    try:
        servers = {side: [UserServer(hubs[side], name, hubs[side].token(name, PASSWORD)) for name in names] for side in sides}

        latency: dict[str, list[float]] = {side: [] for side in sides}
        for _ in range(options.rounds):
            for side in sides:
                server = servers[side][0]
                result = start_timed(server, environments[side]["display_name"], options.timeout)
                server.stop(timeout=300)
                if isinstance(result, str):
                    raise SystemExit(f"{side}: a start failed: {result}")
                latency[side].append(result)

        classes = {side: class_start(servers[side], environments[side]["display_name"], options.timeout) for side in sides}
    finally:
        for hosts in sides.values():
            remove_users(hosts, names, homes_on=hosts[0])

    print(f"\nSpawn latency, {options.rounds} rounds alternating (median):")
    for side in sides:
        print(f"  {side:6}: {statistics.median(latency[side]):5.2f} s  (all: {', '.join(f'{t:.2f}' for t in latency[side])})")
    print(f"  ratio fleet/single: {statistics.median(latency['fleet']) / statistics.median(latency['single']):.2f}x")
    print(f"\n{options.users} users start at once:")
    for side in sides:
        print(line(f"{side:6}", *classes[side]))
    (fleet_times, _, fleet_wall), (single_times, _, single_wall) = classes["fleet"], classes["single"]
    if fleet_times and single_times:
        print(f"  ratio fleet/single: wall {fleet_wall / single_wall:.2f}x, p95 {percentile(fleet_times, 0.95) / percentile(single_times, 0.95):.2f}x")


if __name__ == "__main__":
    main()
