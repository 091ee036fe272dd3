"""A fleet: the hub host and two nodes in one Docker Swarm. Six users start servers at once and they run on more than
one host, as the users, with their folders; a user's files follow them to another node; the hub restarting leaves
every server answering; a node that stops takes its servers with it, the hub reports them stopped and their users
start again on the other hosts.

/home and /srv/data are one tmpfs volume each, shared by the three test hosts in place of the network file system a
real fleet uses (this kernel cannot mount NFS); what NFS itself does (locking, attribute caching) is not tested here."""

from __future__ import annotations

import base64
import json
import os
import shlex
import shutil
import socket
import subprocess
import threading
import time

import pytest
import yaml

from tests.support import scenario
from tests.support.alerts import WEBHOOK_LOG, WEBHOOK_UNIT, posted_alerts, webhook_program
from tests.support.hub import Hub, RestorePage, UserServer, container_address

SUITE = os.environ.get("PLASMA_SUITE", "bookworm")
HUB_HOST = f"plasma-fleet-hub-{SUITE}"
NODE_HOSTS = [f"plasma-fleet-node1-{SUITE}", f"plasma-fleet-node2-{SUITE}"]
PASSWORDS = {name: f"{name.split('.')[0]}-pass" for name in ("alice", "bob", "carol", "dave", "erin", "first.last")}
ENVIRONMENT = "Environment A"
FOLDER = f"plasma-fleet-hub-{SUITE}-5000-plasma-env-a-1.0"


def on(host: str, command: str) -> str:
    """A shell command on a test host, as root; its output."""
    result = subprocess.run(["docker", "exec", host, "sh", "-c", command], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{command} on {host}: {result.stdout}{result.stderr}"
    return result.stdout


def server_nodes() -> dict[str, str]:
    """{user: hostname of the node} of every running user server, as the Swarm places them."""
    nodes = {}
    for line in on(
        HUB_HOST,
        "docker service ls -q --filter label=org.jupyter.user | xargs -r docker service inspect --format '{{.ID}} {{index .Spec.Labels \"org.jupyter.user\"}}'",
    ).split("\n"):
        if not line.strip():
            continue
        service, user = line.split()
        node = on(HUB_HOST, f"docker service ps --filter desired-state=running --format '{{{{.Node}}}}' {service}").strip()
        if node:
            nodes[user] = node
    return nodes


@pytest.fixture(scope="module")
def hub() -> Hub:
    hub = Hub(f"http://{container_address(HUB_HOST)}")
    hub.wait_until_up()
    return hub


@pytest.fixture(scope="module")
def servers(hub) -> dict[str, UserServer]:
    """Every user's server, all started at once."""
    servers = {name: UserServer(hub, name, hub.token(name, password)) for name, password in PASSWORDS.items()}
    for server in servers.values():
        server.stop()
    answers: dict = {}
    threads = [threading.Thread(target=lambda s=s: answers.__setitem__(s.username, s.start(ENVIRONMENT, timeout=300))) for s in servers.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=400)
    assert sorted(answers) == sorted(PASSWORDS), answers
    assert all(response.status_code in (201, 202) for response in answers.values()), {n: r.text for n, r in answers.items()}
    return servers


def test_servers_run_on_several_hosts_as_their_users_with_their_folders(servers):
    placed = server_nodes()
    assert sorted(placed) == sorted(PASSWORDS), placed
    assert len(set(placed.values())) >= 2, placed
    for name, server in servers.items():
        uid, gid = on(HUB_HOST, f"id -u {name}").strip(), on(HUB_HOST, f"id -g {name}").strip()
        seen = server.run_python(
            "import os; print(os.getuid(), os.getgid(), os.getcwd(), os.path.isdir(os.path.expanduser('~/' + "
            f"{FOLDER!r})), open('/proc/self/status').read().count('NoNewPrivs:\\t1'))"
        ).split()
        # The server starts in the environment folder, in the shared home.
        assert seen == [uid, gid, f"/home/{name}/{FOLDER}", "True", "1"], (name, placed[name], seen)


def prometheus(promql: str) -> list[dict]:
    """An instant query to the hub host's Prometheus (on its loopback)."""
    answer = on(HUB_HOST, f"curl -sf http://127.0.0.1:9090/api/v1/query --data-urlencode {shlex.quote('query=' + promql)}")
    return json.loads(answer)["data"]["result"]


def test_the_hub_host_s_prometheus_reads_every_host_with_its_servers_and_images(servers):
    """monitoring_enabled on a fleet: the hub host's Prometheus reads each node's node exporter and Docker engine (on
    the node's fleet address) and plasma-metrics there: every user's server under the host it runs on, every
    environment's image on every host."""
    hosts = sorted([HUB_HOST, *NODE_HOSTS])
    expected_servers = {user: f"{node}-{SUITE}" for user, node in server_nodes().items()}
    seen: dict = {}
    deadline = time.monotonic() + 150  # plasma-metrics runs every minute
    while True:
        seen = {
            "up": {(result["metric"]["job"], result["metric"]["host"]): result["value"][1] for result in prometheus('up{job=~"node|docker"}')},
            "servers": {result["metric"]["user"]: result["metric"]["host"] for result in prometheus("plasma_server_cpu_seconds_total")},
        }
        if seen == {"up": {(job, host): "1" for job in ("node", "docker") for host in hosts}, "servers": expected_servers}:
            break
        assert time.monotonic() < deadline, f"Prometheus saw {seen}; expected every host up and the servers at {expected_servers}"
        time.sleep(5)
    assert {result["metric"]["environment"] for result in prometheus("plasma_server_cpu_seconds_total")} == {ENVIRONMENT}
    images = prometheus("plasma_environment_image_present")
    assert sorted({result["metric"]["host"] for result in images}) == hosts
    # The inventory's four environments, the one built on the hub host from Git too (pushed, pulled by every node).
    assert len(images) == 4 * len(hosts) and {result["value"][1] for result in images} == {"1"}, images


def test_the_same_accounts_on_every_host():
    accounts = {host: on(host, "getent passwd alice bob carol dave erin first.last; getent group jupyterhub-users") for host in [HUB_HOST, *NODE_HOSTS]}
    assert len(set(accounts.values())) == 1, accounts


def test_the_swarm_s_join_token_is_never_printed():
    """Whoever reads a run's output (a CI log, a shared terminal) must not be able to join a host to the Swarm."""
    token = on(HUB_HOST, "docker swarm join-token -q worker").strip()
    run = subprocess.run(["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "plasma.platform.swarm", "-vv"], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert token not in run.stdout + run.stderr


def test_shared_data_is_read_only_on_every_node(servers):
    for name in ("alice", "bob"):
        printed = servers[name].run_python("import os\ntry:\n    open('/srv/data/x', 'w')\nexcept OSError as error:\n    print(error.strerror)")
        assert printed.strip() == "Read-only file system"


REACH = """
import socket
for address, port in {targets!r}:
    try:
        socket.create_connection((address, port), timeout=3).close()
        print("open")
    except OSError as error:
        print(type(error).__name__)
"""


def hub_address() -> str:
    return on(HUB_HOST, "ip -4 -o route get 1.1.1.1 | sed -n 's/.* src \\([0-9.]*\\).*/\\1/p'").strip()


def test_servers_reach_neither_each_other_nor_the_fleet_s_own_services(servers):
    """As the attacker on a node: the server of another user on the same node, a service of the hub host's own (as its
    NFS server would be, on 2049), a node's metrics (node exporter's and Docker's, which the hub host's Prometheus
    reads) and the fleet's registry are out of reach; the hub's API is not."""
    placed = server_nodes()
    by_node: dict[str, list[str]] = {}
    for name, node in sorted(placed.items()):
        by_node.setdefault(node, []).append(name)
    node, (attacker, neighbour, *_) = next((node, names) for node, names in sorted(by_node.items()) if len(names) >= 2)
    node_host = next(host for host in [HUB_HOST, *NODE_HOSTS] if on(host, "hostname").strip() == node)
    # The service's name holds the user's name escaped (first.last): found by its user label.
    service = on(HUB_HOST, f"docker service ls --filter label=org.jupyter.user={neighbour} --format '{{{{.Name}}}}'").strip()
    neighbour_address = on(
        node_host,
        f"docker inspect --format '{{{{range .NetworkSettings.Networks}}}}{{{{.IPAddress}}}}{{{{end}}}}' "
        f"$(docker ps -q --filter label=com.docker.swarm.service.name={service})",
    ).strip()
    on(HUB_HOST, "systemd-run --unit plasma-test-listener python3 -m http.server 2049 --bind 0.0.0.0")
    try:
        on(HUB_HOST, "for i in $(seq 30); do curl -sf -o /dev/null http://127.0.0.1:2049/ && exit 0; sleep 0.5; done; exit 1")
        metrics = [(container_address(NODE_HOSTS[0]), port) for port in (9100, 9323)]  # node exporter, Docker's
        # The fleet's registry too: a user who could push there could replace an environment's image.
        targets = [(neighbour_address, 8888), (hub_address(), 2049), *metrics, (hub_address(), 5443), (hub_address(), 8081)]
        printed = servers[attacker].run_python(REACH.format(targets=targets), timeout=60).split()
        assert printed == ["TimeoutError"] * 5 + ["open"], (attacker, neighbour, node, printed)
    finally:
        on(HUB_HOST, "systemctl stop plasma-test-listener || true")


# Every IPv4 frame to or from the given addresses on any of the host's interfaces, for a number of seconds.
CAPTURE = """
import socket, sys, time
addresses = {socket.inet_aton(address) for address in sys.argv[3:]}
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
sock.settimeout(0.2)
deadline = time.monotonic() + float(sys.argv[1])
with open(sys.argv[2], "wb") as out:
    while time.monotonic() < deadline:
        try:
            frame = sock.recv(65535)
        except socket.timeout:
            continue
        if frame[12:14] == b"\\x08\\x00" and (frame[26:30] in addresses or frame[30:34] in addresses):
            out.write(frame)
            out.flush()
"""


def test_no_token_crosses_the_fleet_s_network_in_clear_text(hub, servers):
    """A packet capture on the hub host, as someone on the nodes' network would see it, while a user's requests
    reach their server on another node through the proxy and the server asks the hub about them: TLS only, and
    neither the user's token nor the server's own appears in it."""
    hub_name = on(HUB_HOST, "hostname").strip()
    name, node = next((name, node) for name, node in sorted(server_nodes().items()) if node != hub_name)
    node_address = container_address(next(host for host in NODE_HOSTS if on(host, "hostname").strip() == node))
    service = on(HUB_HOST, f"docker service ls --filter label=org.jupyter.user={name} --format '{{{{.Name}}}}'").strip()
    server_token = next(
        variable.split("=", 1)[1]
        for variable in yaml.safe_load(on(HUB_HOST, f"docker service inspect --format '{{{{json .Spec.TaskTemplate.ContainerSpec.Env}}}}' {service}"))
        if variable.startswith("JUPYTERHUB_API_TOKEN=")
    )
    on(HUB_HOST, f"cat > /tmp/capture.py <<'EOF'\n{CAPTURE}\nEOF")
    on(HUB_HOST, f"rm -f /tmp/capture; systemd-run --unit plasma-test-capture python3 /tmp/capture.py 60 /tmp/capture {node_address}")
    try:
        on(HUB_HOST, "for i in $(seq 50); do test -e /tmp/capture && exit 0; sleep 0.2; done; exit 1")
        # A new token: the server has not seen it, and asks the hub whose it is.
        token = hub.token(name, PASSWORDS[name])
        server = UserServer(hub, name, token)
        assert server.contents().status_code == 200
        assert server.run_python("print(6 * 7)").strip() == "42"
    finally:
        on(HUB_HOST, "systemctl stop plasma-test-capture || true")
    captured = base64.b64decode(on(HUB_HOST, "base64 -w0 /tmp/capture"))
    assert len(captured) > 10_000, f"only {len(captured)} bytes to and from {node_address} captured"
    assert b"\x16\x03" in captured  # TLS handshake records
    for secret in (token, server_token):
        assert secret.encode() not in captured
    assert b"Authorization" not in captured and b"/hub/api" not in captured


def reach_from_outside(address: str, port: int) -> str:
    """A connection from this machine, outside the fleet (as anyone on the hosts' network): "open" or the error."""
    try:
        socket.create_connection((address, port), timeout=3).close()
        return "open"
    except OSError as error:
        return type(error).__name__


def test_the_firewall_lets_in_what_the_ports_table_names_and_nothing_else(hub, servers):
    """firewall_enabled: a service listening on every address of every host (a port the ports table does not name) is
    dropped from outside the fleet and from the other hosts, while the hub answers; a user server's port published on
    a node answers the hub host alone. Turned off, the same port answers; turned on again, it does not."""
    hosts = [HUB_HOST, *NODE_HOSTS]
    for host in hosts:
        on(host, "systemd-run --unit plasma-test-listener python3 -m http.server 9999 --bind 0.0.0.0")
    try:
        for host in hosts:
            on(host, "for i in $(seq 30); do curl -sf -o /dev/null http://127.0.0.1:9999/ && exit 0; sleep 0.5; done; exit 1")
            assert reach_from_outside(container_address(host), 9999) == "TimeoutError", host
        assert on(NODE_HOSTS[0], f"curl -s -m 3 -o /dev/null -w '%{{http_code}}' http://{hub_address()}:9999/ || true") == "000"
        assert reach_from_outside(container_address(HUB_HOST), 80) == "open"
        # A node's metrics (node exporter's, Docker's): the hub host alone reads them, nobody else.
        for port in (9100, 9323):
            metrics = f"http://{container_address(NODE_HOSTS[0])}:{port}/metrics"
            assert reach_from_outside(container_address(NODE_HOSTS[0]), port) == "TimeoutError", port
            assert on(NODE_HOSTS[1], f"curl -s -m 3 -o /dev/null -w '%{{http_code}}' {metrics} || true") == "000", port
            assert on(HUB_HOST, f"curl -s -m 3 -o /dev/null -w '%{{http_code}}' {metrics}") == "200", port

        hub_name = on(HUB_HOST, "hostname").strip()
        name, node = next((name, node) for name, node in sorted(server_nodes().items()) if node != hub_name)
        node_host = next(host for host in NODE_HOSTS if on(host, "hostname").strip() == node)
        service = on(HUB_HOST, f"docker service ls --filter label=org.jupyter.user={name} --format '{{{{.Name}}}}'").strip()
        published = on(node_host, f"docker ps --filter label=com.docker.swarm.service.name={service} --format '{{{{.Ports}}}}'")
        port = int(published.split("->")[0].rsplit(":", 1)[1])
        assert reach_from_outside(container_address(node_host), port) == "TimeoutError", published
        on(HUB_HOST, f"python3 -c 'import socket; socket.create_connection((\"{container_address(node_host)}\", {port}), timeout=3)'")
        assert servers[name].contents().status_code == 200  # through the proxy on the hub host

        off = scenario.run_playbook("plasma.platform.firewall", {"firewall_enabled": False}, "--limit", NODE_HOSTS[1])
        assert off.returncode == 0, off.stdout + off.stderr
        assert reach_from_outside(container_address(NODE_HOSTS[1]), 9999) == "open"
        on_again = scenario.run_playbook("plasma.platform.firewall", None, "--limit", NODE_HOSTS[1])
        assert on_again.returncode == 0, on_again.stdout + on_again.stderr
        assert reach_from_outside(container_address(NODE_HOSTS[1]), 9999) == "TimeoutError"
    finally:
        for host in hosts:
            on(host, "systemctl stop plasma-test-listener || true")


def test_a_group_folder_is_the_same_folder_on_every_node(servers):
    """Work saved in the team's folder on one node is there for a teammate on another, as its author's."""
    placed = server_nodes()
    writer = min(placed)
    reader = min(name for name in placed if placed[name] != placed[writer])
    path = f"/srv/projects/team-project/from-{writer}.txt"
    servers[writer].run_python(f"open({path!r}, 'w').write('saved on {placed[writer]}')")
    seen = servers[reader].run_python(f"import os; print(open({path!r}).read() + '|' + str(os.stat({path!r}).st_uid))")
    assert seen.strip() == f"saved on {placed[writer]}|" + on(HUB_HOST, f"id -u {writer}").strip(), (reader, placed[reader], seen)


def test_a_group_folder_a_node_does_not_share_is_refused_with_the_reason():
    """A group folder outside the shared storage would be a folder of each node's own, its work lost with the node."""
    folders = [{"name": "team-project", "group": "plasma-team"}, {"name": "local", "group": "plasma-team", "path": "/srv/local-team"}]
    try:
        run = scenario.run_playbook("plasma.platform.shared_data", {"shared_data_folders": folders})
        output = " ".join((run.stdout + run.stderr).split())
        assert run.returncode != 0, output
        assert "/srv/local-team on plasma-fleet-node1-" in output and "is not the folder of the same path on" in output, output
    finally:
        on(HUB_HOST, "rmdir /srv/local-team || true")


def test_a_server_s_processes_and_tmp_are_limited(servers):
    service = "jupyter-alice"
    limits = on(HUB_HOST, f"docker service inspect --format '{{{{json .Spec.TaskTemplate.Resources.Limits}}}}' {service}")
    assert '"Pids":1024' in limits, limits
    assert servers["alice"].run_python("import os; s = os.statvfs('/tmp'); print(s.f_blocks * s.f_frsize)").strip() == str(256 * 1024**2)


def test_a_users_files_follow_them_to_another_node(servers):
    alice = servers["alice"]
    # The server's root is the environment folder.
    assert alice.save("notes.txt", "written on the first node").status_code in (200, 201)
    first_node = server_nodes()["alice"]
    alice.stop()
    # Its TLS files (Swarm secrets) went with it.
    assert on(HUB_HOST, "docker secret ls -q --filter label=org.jupyter.service=jupyter-alice") == ""
    # The node goes into maintenance (paused: no new server lands on it), as an operator would do.
    on(HUB_HOST, f"docker node update --availability pause {first_node}")
    try:
        assert alice.start(ENVIRONMENT).status_code in (201, 202)
        second_node = server_nodes()["alice"]
        assert second_node != first_node
        assert alice.contents("notes.txt").json()["content"] == "written on the first node"
    finally:
        on(HUB_HOST, f"docker node update --availability active {first_node}")


def test_an_environment_pinned_to_labelled_nodes_runs_there_with_its_limits_reserved(hub, servers):
    large = UserServer(hub, "alice", servers["alice"].session.headers["Authorization"].split()[1], server_name="large")
    large.stop()
    assert large.start("Large").status_code in (201, 202)
    try:
        service = "jupyter-alice--large"
        assert on(HUB_HOST, f"docker service ps --filter desired-state=running --format '{{{{.Node}}}}' {service}").strip() == "plasma-fleet-node1"
        reservations = on(HUB_HOST, f"docker service inspect --format '{{{{json .Spec.TaskTemplate.Resources.Reservations}}}}' {service}")
        assert reservations.strip() == '{"NanoCPUs":1000000000,"MemoryBytes":1073741824}'
    finally:
        large.stop()


def test_an_environment_built_on_the_hub_host_starts_on_a_node_that_never_built_it(hub, servers):
    """The hub host built it from Git and pushed it to the fleet's registry; a worker pulled it from there, over TLS
    it trusts, and a user's server runs it, the repository's files in their environment folder."""
    commit = on(HUB_HOST, "git -C /srv/git/physics.git rev-parse main").strip()
    image = f"plasma-fleet-hub-{SUITE}:5443/builds/physics:{commit[:12]}"
    physics = UserServer(hub, "bob", servers["bob"].session.headers["Authorization"].split()[1], server_name="physics")
    physics.stop()
    assert physics.start("Physics 101").status_code in (201, 202)
    try:
        node = on(HUB_HOST, "docker service ps --filter desired-state=running --format '{{.Node}}' jupyter-bob--physics").strip()
        node_host = next(host for host in NODE_HOSTS if on(host, "hostname").strip() == node)
        assert on(node_host, f"docker image inspect --format '{{{{index .RepoTags 0}}}}' {image}").strip() == image
        assert on(node_host, "test ! -e /opt/plasma-platform/repo2docker && test ! -e /var/log/plasma-platform/builds && echo never built") == "never built\n"
        folder = f"plasma-fleet-hub-{SUITE}-5443-builds-physics-{commit[:12]}"
        assert "# Physics 101" in on(node_host, f"cat /home/bob/{folder}/README-physics.md")
        # Over TLS, with the certificate the site playbook made every host trust for the names the images use.
        assert on(node_host, f"ls /etc/docker/certs.d/plasma-fleet-hub-{SUITE}:5443/").strip() == "ca.crt"
    finally:
        physics.stop()


def test_a_node_that_could_not_pull_an_image_never_gets_its_servers(hub, servers):
    node, node_host = "plasma-fleet-node2", NODE_HOSTS[1]
    image = f"plasma-fleet-hub-{SUITE}:5000/plasma/env-a:1.0"
    moved = sorted(name for name, placed in server_nodes().items() if placed == node)
    for name in moved:
        servers[name].stop()
    # The node loses the image (once Swarm has removed the stopped servers' containers), and the registry is out of
    # its reach when the pre-pull runs again.
    on(
        node_host,
        f"for i in $(seq 60); do docker container prune -f >/dev/null; docker image rm {image} && break; sleep 1; done; "
        f"! docker image inspect {image} >/dev/null 2>&1",
    )
    on(node_host, f"cp /etc/hosts /etc/hosts.plasma-test && echo '127.0.0.2 {HUB_HOST}' >> /etc/hosts")
    others = ["plasma-fleet-hub", "plasma-fleet-node1"]
    try:
        failed = environments_playbook(node_host)
        assert failed.returncode != 0, failed.stdout
        # Only the node without the image takes servers: Environment A is refused at once, another one starts there.
        for other in others:
            on(HUB_HOST, f"docker node update --availability pause {other}")
        erin = servers["erin"]
        erin.stop()
        refused = erin.start(ENVIRONMENT)
        assert refused.status_code == 503 and "not available on any node" in refused.json()["message"], refused.text
        assert erin.start("Docker Stacks layout").status_code in (201, 202)
        assert server_nodes()["erin"] == node
        erin.stop()
    finally:
        for other in others:
            on(HUB_HOST, f"docker node update --availability active {other}")
        on(node_host, "cat /etc/hosts.plasma-test > /etc/hosts && rm /etc/hosts.plasma-test")  # a bind mount: rewritten, not replaced
    restored = environments_playbook(node_host)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    for name in {*moved, "erin"}:
        assert servers[name].start(ENVIRONMENT).status_code in (201, 202), name


def environments_playbook(limit: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "plasma.platform.environments", "--limit", limit],
        capture_output=True,
        text=True,
    )


def test_servers_keep_answering_while_the_hub_restarts(hub, servers):
    on(HUB_HOST, "systemctl restart jupyterhub")
    hub.wait_until_up()
    for name, server in servers.items():
        assert server.contents().status_code == 200, name
        assert server.model()["ready"], name


def test_a_lost_node_takes_its_servers_the_hub_says_so_and_they_start_elsewhere(hub, servers):
    """... and the operator is told: the node-down alert reaches their webhook (a receiver this test runs on the hub
    host, where the scenario's inventory points Alertmanager)."""
    placed = server_nodes()
    lost = next(node for node in placed.values() if node != "plasma-fleet-hub")
    lost_host = next(host for host in NODE_HOSTS if host.startswith(lost))
    gone = sorted(name for name, node in placed.items() if node == lost)
    kept = sorted(name for name in servers if name not in gone)
    on(HUB_HOST, f"rm -f {WEBHOOK_LOG} && systemd-run --unit {WEBHOOK_UNIT} python3 -c {shlex.quote(webhook_program(9998))}")
    subprocess.run(["docker", "stop", lost_host], check=True, capture_output=True)
    try:
        for name in kept:
            assert servers[name].contents().status_code == 200, name
        # The hub polls every server every 30 s; Swarm marks a silent node down within seconds.
        deadline = time.monotonic() + 180
        while any(servers[name].model() for name in gone):
            assert time.monotonic() < deadline, f"the hub still lists the servers of {gone} on the lost node {lost}"
            time.sleep(5)
        for name in gone:
            assert servers[name].start(ENVIRONMENT).status_code in (201, 202), name
        now = server_nodes()
        assert all(now[name] != lost for name in gone), now
        for name in kept:
            assert servers[name].contents().status_code == 200, name

        def node_down_posted() -> list[dict]:
            posted = posted_alerts(on(HUB_HOST, f"cat {WEBHOOK_LOG} 2>/dev/null || true"), "PlasmaTargetDown")
            # node exporter's target (Docker's on the same host fires too, in either order)
            return [alert for alert in posted if alert["labels"].get("host") == lost_host and alert["labels"]["job"] == "node"]

        deadline = time.monotonic() + 180
        while not node_down_posted():
            assert time.monotonic() < deadline, f"no alert for the lost node {lost} reached the webhook"
            time.sleep(5)
    finally:
        on(HUB_HOST, f"systemctl stop {WEBHOOK_UNIT} || true")
        subprocess.run(["docker", "start", lost_host], check=True, capture_output=True)
        deadline = time.monotonic() + 180
        while f"{lost} Ready" not in on(HUB_HOST, "docker node ls --format '{{.Hostname}} {{.Status}}'"):
            assert time.monotonic() < deadline, f"{lost} did not rejoin the Swarm"
            time.sleep(3)


def test_a_node_taken_out_of_the_inventory_waits_for_its_servers_then_leaves(tmp_path, servers):
    leaving, leaving_host = "plasma-fleet-node2", NODE_HOSTS[1]
    bob = servers["bob"]
    bob.stop()
    on(HUB_HOST, f"docker node update --availability active {leaving}")
    # bob's next server lands on the leaving node: the other hosts take no new server for a moment.
    others = ["plasma-fleet-hub", "plasma-fleet-node1"]
    for node in others:
        on(HUB_HOST, f"docker node update --availability pause {node}")
    try:
        assert bob.start(ENVIRONMENT).status_code in (201, 202)
    finally:
        for node in others:
            on(HUB_HOST, f"docker node update --availability active {node}")
    assert server_nodes()["bob"] == leaving

    # The inventory without the node.
    inventory = tmp_path / "inventory"
    shutil.copytree(os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"]), inventory)
    hosts_file = inventory / os.path.basename(os.environ["MOLECULE_INVENTORY_FILE"])
    hosts = yaml.safe_load(hosts_file.read_text())
    for group in ("all", "jupyterhub_nodes"):
        del hosts[group]["hosts"][leaving_host]
    hosts_file.write_text(yaml.safe_dump(hosts))

    def converge() -> subprocess.CompletedProcess:
        playbook = os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "converge.yml")
        return subprocess.run(["ansible-playbook", "-i", str(inventory), playbook], capture_output=True, text=True)

    refused = converge()
    assert refused.returncode != 0
    said = " ".join((refused.stdout + refused.stderr).split())  # Ansible prints failures on stderr
    assert "left the inventory and are paused" in said and "jupyter-bob." in said, refused.stdout
    assert f"{leaving} Pause" in on(HUB_HOST, "docker node ls --format '{{.Hostname}} {{.Availability}}'")
    assert bob.contents().status_code == 200  # never stopped by the play

    # As the message asks: the servers still there are stopped (bob's, and any other that landed there).
    for name, node in server_nodes().items():
        if node == leaving:
            servers[name].stop()
    done = converge()
    assert done.returncode == 0, done.stdout + done.stderr
    assert leaving not in on(HUB_HOST, "docker node ls --format '{{.Hostname}}'")
    # Its users start elsewhere.
    assert bob.start(ENVIRONMENT).status_code in (201, 202)
    assert server_nodes()["bob"] != leaving


def test_a_user_restores_a_file_on_the_hub_s_restore_page_behind_internal_tls(hub):
    """Backups run on the hub host; its restore page, a service the hub runs, talks to the hub's API over the fleet's
    internal TLS and writes the copy into the shared home as the user."""
    on(HUB_HOST, "su -s /bin/sh carol -c \"printf 'draft\\n' > ~/draft.txt\" && plasma-backup && rm /home/carol/draft.txt")
    snapshot = on(HUB_HOST, "plasma-backup restic snapshots --latest 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0][\"id\"])'").strip()
    page = RestorePage(hub, "carol", PASSWORDS["carol"])
    answer = page.restore(snapshot, "draft.txt")
    assert answer.status_code == 302, answer.text
    assert "Restored." in page.finished(answer.headers["Location"])
    copy = on(HUB_HOST, "find /home/carol/restored -name draft.txt -user carol -exec cat {} +")
    assert copy == "draft\n"
