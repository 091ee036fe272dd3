"""Active users on a provisioned host: N users each hold a kernel's websocket and run one small cell
a second (and ask the REST API for their kernel once a second), through the hub's proxy against
straight to their servers, side by side in one run: latency p50/p95/p99 and errors of each way, the
ratios, and the hub's and the proxy's CPU, memory and open files meanwhile.

    scripts/demo                                   # a provisioned host: the demo's
    .venv/bin/python benchmarks/active_users.py [--users 50,100] [--seconds 30] [--rounds 2]

Users class-001, class-002, ... are made on the host (in the users group) and removed with their homes at
the end. Their servers are started through the hub (its start queue), level by level: at each level the
servers already running stay, the new ones start, and every user opens one kernel. The load runs inside
the host (benchmarks/kernel_load.py, with the hub's own Python), where both ways in are reachable:
"proxy" is the hub's public port, "direct" each server's address as the proxy's routing table gives it.
Phases alternate, proxy then direct, `--rounds` times, so drift in the machine's load hits both ways. A last phase has
every user reconnect once a second through the proxy, dropping each connection without the websocket's goodbye (a
laptop closed): the proxy's open files before it and 15 s after it show whether it lets go of them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from class_start import PASSWORD, make_users, remove_users
from spawn_latency import first_environment, on_host

from tests.support.hub import Hub, UserServer, container_address

HERE = Path(__file__).resolve().parent
HUB_PYTHON = "/opt/tljh/hub/bin/python"
PROXY_ENV = "/opt/tljh/state/proxy.env"
LOAD_SCRIPT = "/root/plasma-kernel-load.py"


def proxy_routes(host: str) -> dict[str, str]:
    """The proxy's routing table: path prefix (with its trailing slash) -> target address."""
    routes = on_host(host, f'. {PROXY_ENV} && curl -sf -H "Authorization: token $CONFIGPROXY_AUTH_TOKEN" http://127.0.0.1:8001/api/routes')
    return {prefix.rstrip("/") + "/": route["target"] for prefix, route in json.loads(routes).items()}


def pids(host: str) -> dict[str, int]:
    """The hub's and the proxy's main processes."""
    found = {}
    for label, unit in (("hub", "jupyterhub"), ("proxy", "jupyterhub-proxy")):
        found[label] = int(on_host(host, f"systemctl show --property MainPID --value {unit}"))
    return found


def start_servers(hub: Hub, users: list[str], environment: str, timeout: float) -> tuple[dict[str, UserServer], list[str]]:
    """Log the users in and start their servers at once; their servers and the failures."""
    servers: dict[str, UserServer] = {}
    failures: list[str] = []

    def start(name: str) -> None:
        try:
            server = UserServer(hub, name, hub.token(name, PASSWORD))
            response = server.start(environment, timeout=timeout)
            if response.status_code not in (201, 202):
                failures.append(f"{name}: {response.status_code} {response.text[:200]}")
                return
            kernel = server.session.post(f"{server.url}api/kernels", json={}, timeout=60)
            kernel.raise_for_status()
            server.kernel = kernel.json()["id"]
            servers[name] = server
        except (AssertionError, TimeoutError, OSError) as error:
            failures.append(f"{name}: {str(error)[:200]}")

    with ThreadPoolExecutor(max_workers=max(1, len(users))) as pool:
        list(pool.map(start, users))
    return servers, failures


def run_load(host: str, servers: dict[str, UserServer], port: int, seconds: float, rounds: int, rate: float) -> list[dict]:
    routes = proxy_routes(host)
    users = []
    for name, server in servers.items():
        prefix = f"/user/{name}/"
        users.append(
            {
                "name": name,
                "token": server.session.headers["Authorization"].split()[1],
                "kernel": server.kernel,
                "proxy": f"http://127.0.0.1:{port}{prefix}",
                "direct": routes[prefix].rstrip("/") + prefix,
            }
        )
    phases = [[way, seconds] for _ in range(rounds) for way in ("proxy", "direct")] + [["churn:proxy", seconds]]
    plan = {"users": users, "phases": phases, "rate": rate, "watch": pids(host), "settle": 15}
    # Through a shell, not docker cp: the host's /tmp is a mount docker cp does not see.
    subprocess.run(["docker", "exec", "-i", host, "sh", "-c", f"cat > {LOAD_SCRIPT}"], input=(HERE / "kernel_load.py").read_text(), text=True, check=True)
    output = subprocess.run(["docker", "exec", "-i", host, HUB_PYTHON, LOAD_SCRIPT], input=json.dumps(plan), capture_output=True, text=True)
    if output.returncode:
        raise RuntimeError(f"the load failed: {output.stderr[-2000:]}")
    return json.loads(output.stdout)


def merged(records: list[dict], way: str, part: str, key: str) -> float:
    """The median over the rounds of one way's quantile."""
    values = sorted(record[part][key] for record in records if record["way"] == way and record[part]["count"])
    return values[len(values) // 2] if values else float("nan")


def report(level: int, records: list[dict], rate: float) -> None:
    churn = [record for record in records if record["kind"] == "churn"]
    records = [record for record in records if record["kind"] == "hold"]
    print(f"\n{level} active users, one cell and one request a second each ({len(records) // 2} rounds of each way)")
    for way in ("proxy", "direct"):
        mine = [record for record in records if record["way"] == way]
        cells = sum(record["cells"]["count"] for record in mine)
        requests = sum(record["requests"]["count"] for record in mine)
        errors: dict[str, int] = {}
        for record in mine:
            for key, count in record["errors"].items():
                errors[key] = errors.get(key, 0) + count
        seconds = sum(record["seconds"] for record in mine)
        print(
            f"  {way:6}: cells p50 {1000 * merged(mine, way, 'cells', 'p50'):6.1f} ms, p95 {1000 * merged(mine, way, 'cells', 'p95'):6.1f} ms, "
            f"p99 {1000 * merged(mine, way, 'cells', 'p99'):6.1f} ms | requests p50 {1000 * merged(mine, way, 'requests', 'p50'):6.1f} ms, "
            f"p95 {1000 * merged(mine, way, 'requests', 'p95'):6.1f} ms | {cells / seconds:5.1f} cells/s (of {level * rate:.0f} asked), "
            f"{requests / seconds:5.1f} requests/s | errors {sum(errors.values())} | TCP connections opened "
            f"{sum(record['tcp_opens_per_second'] * record['seconds'] for record in mine) / seconds:5.1f}/s"
        )
        for key, count in sorted(errors.items(), key=lambda item: -item[1])[:3]:
            print(f"          {count} x {key}")
        for label in ("hub", "proxy"):
            load = [record["processes"][label] for record in mine]
            print(
                f"          {label}: CPU {sum(item['cpu_percent'] for item in load) / len(load):5.1f} % of a core, "
                f"RSS max {max(item['rss_max'] for item in load) / 2**20:6.1f} MiB, open files max {max(item['fds_max'] for item in load)}"
            )
    ratios = [
        f"{part} {key} {merged(records, 'proxy', part, key) / merged(records, 'direct', part, key):.2f}x"
        for part in ("cells", "requests")
        for key in ("p50", "p95")
    ]
    print("  ratio proxy/direct: " + ", ".join(ratios))
    for record in churn:
        proxy = record["processes"]["proxy"]
        print(
            f"  {level} users reconnecting through the {record['way']} once a second, each dropping its connection without a "
            f"goodbye, for {record['seconds']:.0f} s: {record['cells']['count']} connections, {sum(record['errors'].values())} errors, "
            f"cell p50 {1000 * record['cells'].get('p50', float('nan')):.1f} ms; proxy open files {proxy['fds_before']} before, "
            f"{proxy['fds_max']} at most, {proxy['fds_after']} 15 s after; TCP connections opened {record['tcp_opens_per_second']:.1f}/s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="plasma-demo-bookworm", help="the test host's container")
    parser.add_argument("--users", default="50,100", help="levels of active users, comma-separated, rising")
    parser.add_argument("--seconds", type=float, default=30, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=2, help="phases of each way per level")
    parser.add_argument("--rate", type=float, default=1.0, help="cells (and requests) a second per user")
    parser.add_argument("--port", type=int, default=80, help="the hub's public port on the host")
    parser.add_argument("--start-timeout", type=float, default=900)
    options = parser.parse_args()
    levels = [int(level) for level in options.users.split(",")]

    hub = Hub(f"http://{container_address(options.host)}")
    hub.wait_until_up()
    environment = first_environment(options.host)
    names = [f"class-{number:03d}" for number in range(1, max(levels) + 1)]
    make_users(options.host, names)
    servers: dict[str, UserServer] = {}
    try:
        for level in levels:
            new = names[len(servers) : level]
            started = time.monotonic()
            more, failures = start_servers(hub, new, environment["display_name"], options.start_timeout)
            servers.update(more)
            print(f"\n{len(more)} more servers started through the hub in {time.monotonic() - started:.0f} s ({len(servers)} running)")
            for failure in failures[:5]:
                print(f"  failed: {failure}")
            if failures:
                print(f"  {len(failures)} failed: stopping at {len(servers)} servers")
            free = on_host(options.host, "free -m | awk '/^Mem:/ {print $7}'")
            print(f"  memory available on the machine: {free} MiB")
            report(len(servers), run_load(options.host, servers, options.port, options.seconds, options.rounds, options.rate), options.rate)
            if failures:
                break
    finally:
        with ThreadPoolExecutor(max_workers=max(1, len(servers))) as pool:
            list(pool.map(lambda server: server.stop(timeout=300), servers.values()))
        remove_users(options.host, names)


if __name__ == "__main__":
    main()
