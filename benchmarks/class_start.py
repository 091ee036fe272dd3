"""A class starting at once on a provisioned host: N users log in and start the same environment at
the same moment, against the same N containers started with bare `docker run` in parallel, side by
side in one run: wall time, p50/p95/max per user, failures, and the ratios.

    scripts/demo                                   # a provisioned host: the demo's
    .venv/bin/python benchmarks/class_start.py [--users 50] [--host plasma-demo-bookworm]

The benchmark makes its users on the host (class-01, class-02, ... in the users group, homes created
as the users role does) and removes them, homes included, at the end. A user's time runs from the
login form to the hub reporting the server ready on the progress stream the spawn page follows; a bare
container's from `docker run` to the same jupyterhub-singleuser answering. Each user's environment folder is new:
every start copies the bundle. The messages users were shown while they waited (their place in the queue, a full
host) are printed, and each kind of failure with its message.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from spawn_latency import bare_run_script, first_environment, on_host

from tests.support.hub import Hub, UserServer, container_address

PASSWORD = "class-start-benchmark"


def make_users(host: str, names: list[str]) -> None:
    script = f"""
set -e
hash=$(openssl passwd -6 '{PASSWORD}')
for name in {" ".join(names)}; do
  id "$name" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash --groups jupyterhub-users --password "$hash" "$name"
  chmod 0700 /home/$name
done
"""
    on_host(host, script)


def remove_users(host: str, names: list[str]) -> None:
    on_host(host, f'for name in {" ".join(names)}; do userdel --remove "$name" 2>/dev/null || true; done')


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summary(label: str, times: list[float], failures: int, wall: float) -> str:
    if not times:
        return f"  {label}: all {failures} failed"
    return (
        f"  {label}: wall {wall:6.1f} s | per user p50 {statistics.median(times):5.1f} s, p95 {percentile(times, 0.95):5.1f} s, "
        f"max {max(times):5.1f} s | failures {failures}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="plasma-demo-bookworm", help="the test host's container")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=600, help="seconds a user waits before counting a failure")
    options = parser.parse_args()

    hub = Hub(f"http://{container_address(options.host)}")
    hub.wait_until_up()
    environment = first_environment(options.host)
    names = [f"class-{number:02d}" for number in range(1, options.users + 1)]
    make_users(options.host, names)
    servers: dict[str, UserServer] = {}
    shown: set[str] = set()  # the waiting messages users saw

    def start(name: str) -> float | str:
        started = time.monotonic()
        try:
            servers[name] = server = UserServer(hub, name, hub.token(name, PASSWORD))
            # As a browser on the spawn page: one progress stream per user, no polling of the REST API.
            response, messages = server.start_following_progress(environment["display_name"], timeout=options.timeout)
            if response.status_code not in (201, 202):
                return f"{response.status_code} {response.text[:200]}"
            shown.update(message for message in messages if "host is full" in message or "in the queue" in message)
        except (AssertionError, TimeoutError, OSError) as error:
            return str(error)[:200]
        return time.monotonic() - started

    try:
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            started = time.monotonic()
            results = list(pool.map(start, names))
            hub_wall = time.monotonic() - started
        hub_times = [result for result in results if isinstance(result, float)]
        hub_failures = [result for result in results if isinstance(result, str)]
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            list(pool.map(lambda server: server.stop(timeout=300), servers.values()))

        # The same containers without the hub, all at once; each user's token, as the hub would pass it.
        tokens = {name: server.session.headers["Authorization"].split()[1] for name, server in servers.items()}
        scripts = [f"( {bare_run_script(options.host, environment['image'], token, name, f'plasma-bench-bare-{name}')} ) &" for name, token in tokens.items()]
        started = time.monotonic()
        output = subprocess.run(["docker", "exec", options.host, "bash", "-c", "\n".join(scripts) + "\nwait"], capture_output=True, text=True)
        bare_wall = time.monotonic() - started
        bare_times = [int(line) / 1e9 for line in output.stdout.split() if line.isdigit()]
        bare_failures = len(tokens) - len(bare_times)
    finally:
        remove_users(options.host, names)

    print(f"\n{options.users} users start {environment['image']} at once on {options.host}")
    print(summary("through the hub ", hub_times, len(hub_failures), hub_wall))
    print(summary("bare docker run ", bare_times, bare_failures, bare_wall))
    if hub_times and bare_times:
        print(
            f"  ratio hub/bare: wall {hub_wall / bare_wall:.2f}x, p50 {statistics.median(hub_times) / statistics.median(bare_times):.2f}x, "
            f"p95 {percentile(hub_times, 0.95) / percentile(bare_times, 0.95):.2f}x"
        )
    queued = sorted(message for message in shown if "in the queue" in message)
    if queued:
        print(f"  users waited in the queue, shown e.g. {queued[-1]!r}")
    full = sorted(message for message in shown if "host is full" in message)
    if full:
        print(f"  the host was full, shown e.g. {full[0]!r}")
    kinds = [failure.split("failed to start: ", 1)[-1] for failure in hub_failures]  # the message, not whose
    for kind in sorted(set(kinds))[:5]:
        print(f"  hub failure ({kinds.count(kind)}x): {kind}")
    if bare_failures:
        print(f"  bare failures: {output.stderr.strip()[:500]}")


if __name__ == "__main__":
    main()
