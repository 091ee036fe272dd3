"""Spawn latency on a provisioned host: a user's server through the hub (request -> ready),
first start of an environment and a later start, against a bare `docker run` of the same image
starting jupyterhub-singleuser, side by side in one run, as ratios.

    scripts/demo                                   # a provisioned host: the demo's
    .venv/bin/python benchmarks/spawn_latency.py [--host plasma-demo-bookworm] [--rounds 3]

"first start": the user's environment folder does not exist yet (the bundle is copied);
"later start": it does. The bare run gets the same hub connection settings a spawner passes,
so jupyterhub-singleuser does the same work; it has no entrypoint, no copy, no mounts.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.hub import Hub, UserServer, container_address

ROOT = Path(__file__).resolve().parents[1]


def on_host(host: str, command: str) -> str:
    return subprocess.run(["docker", "exec", host, "sh", "-c", command], capture_output=True, text=True, check=True).stdout.strip()


def hub_start(server: UserServer, environment: str) -> float:
    started = time.monotonic()
    response = server.session.post(f"{server.api}/server", json={"image": environment}, timeout=120)
    if response.status_code == 202:  # slower than the hub's slow_spawn_timeout: poll
        while not server.session.get(server.api, timeout=30).json()["servers"][""]["ready"]:
            time.sleep(0.05)
    elif response.status_code != 201:
        raise RuntimeError(f"start failed: {response.status_code} {response.text}")
    return time.monotonic() - started


def bare_run_script(host: str, image: str, token: str, user: str, name: str) -> str:
    """Shell, for the host: docker run of the image's jupyterhub-singleuser with the hub connection settings a
    spawner passes; prints the nanoseconds until it answers, then removes it."""
    hub_ip = on_host(host, "ip -4 -o addr show docker0 | awk '{print $4}' | cut -d/ -f1")
    env = {
        "JUPYTERHUB_API_TOKEN": token,
        "JUPYTERHUB_API_URL": f"http://{hub_ip}:8081/hub/api",
        "JUPYTERHUB_CLIENT_ID": f"jupyterhub-user-{user}",
        "JUPYTERHUB_USER": user,
        "JUPYTERHUB_SERVICE_PREFIX": f"/user/{user}/",
        "JUPYTERHUB_BASE_URL": "/",
        "JUPYTERHUB_SERVICE_URL": f"http://0.0.0.0:8888/user/{user}/",
    }
    flags = " ".join(f"-e {key}={value}" for key, value in env.items())
    return f"""
start=$(date +%s%N)
id=$(docker run -d --rm --name {name} --user $(id -u {user}):$(id -g {user}) -e HOME=/tmp {flags} {image} jupyterhub-singleuser)
ip=$(docker inspect -f '{{{{.NetworkSettings.IPAddress}}}}' $id)
tries=0
until curl -s -o /dev/null http://$ip:8888/user/{user}/api; do
  tries=$((tries + 1)); [ $tries -lt 6000 ] || {{ echo "the bare server did not answer in 300 s" >&2; exit 1; }}
  sleep 0.05
done
end=$(date +%s%N)
docker rm -f $id >/dev/null
echo $((end - start))
"""


def bare_run(host: str, image: str, token: str, user: str) -> float:
    """A bare docker run, timed inside the host until jupyterhub-singleuser answers (seconds)."""
    return int(on_host(host, bare_run_script(host, image, token, user, "plasma-bench-bare"))) / 1e9


def first_environment(host: str) -> dict:
    """The first environment, as the hub's spawner configuration sets it."""
    load = (
        "import json, runpy; from traitlets.config import Config; c = Config(); "
        "runpy.run_path('/opt/tljh/config/jupyterhub_config.d/30-plasma-spawner.py', {'c': c, 'get_config': lambda: c}); "
        "print(json.dumps(c.PlasmaSpawner.environments[0]))"
    )
    return json.loads(on_host(host, f'/opt/tljh/hub/bin/python -c "{load}"'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="plasma-demo-bookworm", help="the test host's container")
    parser.add_argument("--user", default="demo")
    parser.add_argument("--password-file", default=str(ROOT / ".cache" / "demo-password"))
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()

    hub = Hub(f"http://{container_address(options.host)}")
    hub.wait_until_up()
    token = hub.token(options.user, Path(options.password_file).read_text().strip())
    server = UserServer(hub, options.user, token)
    environment = first_environment(options.host)
    home = on_host(options.host, f"getent passwd {options.user} | cut -d: -f6")

    server.stop()  # a server left running would make the first start a no-op
    times: dict[str, list[float]] = {"first": [], "later": [], "bare": []}
    for _ in range(options.rounds):
        on_host(options.host, f"rm -rf '{home}/{environment['folder']}'")
        times["first"].append(hub_start(server, environment["display_name"]))
        server.stop()
        times["later"].append(hub_start(server, environment["display_name"]))
        server.stop()
        times["bare"].append(bare_run(options.host, environment["image"], token, options.user))

    median = {case: statistics.median(values) for case, values in times.items()}
    print(f"\n{environment['image']} on {options.host}, median of {options.rounds} rounds (seconds)")
    print(f"  bare docker run, jupyterhub-singleuser answers: {median['bare']:.2f}")
    print(f"  through the hub, first start (bundle copied):   {median['first']:.2f}  ({median['first'] / median['bare']:.2f}x bare)")
    print(f"  through the hub, later start:                   {median['later']:.2f}  ({median['later'] / median['bare']:.2f}x bare)")


if __name__ == "__main__":
    main()
