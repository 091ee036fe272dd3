"""As the attacker: what a user controls never steers root. A user's links in their own tree lead root
nowhere when the collection writes there."""

from __future__ import annotations

import shlex

from tests.support.hub import UserServer
from tests.support.scenario import as_user, run_playbook, users_list_with

testinfra_hosts = ["ansible://all"]

BOB_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBobBobBobBobBobBobBobBobBobBobBobBobBobBobBob bob@laptop"
ROOT_KEYS = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIRootRootRootRootRootRootRootRootRootRootRoot operator\n"


def set_bob_s_keys():
    return run_playbook("plasma.platform.users", {"users_list": users_list_with("bob", ssh_keys=[BOB_KEY])})


def test_ssh_keys_are_written_by_the_user_never_through_their_links(host):
    host.run_expect(
        [0],
        f"install -d -m 0700 /root/.ssh && printf %s {shlex.quote(ROOT_KEYS)} > /root/.ssh/authorized_keys"
        " && chmod 0644 /root/.ssh/authorized_keys && printf 'x:y\\n' > /etc/plasma-victim && chmod 0644 /etc/plasma-victim",
    )
    try:
        # ~/.ssh a link to root's: the run refuses bob's keys, root's stay as they were.
        as_user(host, "bob", "rm -rf ~/.ssh && ln -s /root/.ssh ~/.ssh")
        refused = set_bob_s_keys()
        assert refused.returncode != 0
        assert "/home/bob/.ssh exists and is not a directory" in refused.stdout + refused.stderr, refused.stdout
        assert host.file("/root/.ssh/authorized_keys").content_string == ROOT_KEYS
        assert host.file("/root/.ssh/authorized_keys").mode == 0o644

        # authorized_keys a link to another file: the link is replaced by bob's own file; the target stays as it was.
        as_user(host, "bob", "rm ~/.ssh && mkdir -m 0700 ~/.ssh && ln -s /etc/plasma-victim ~/.ssh/authorized_keys")
        written = set_bob_s_keys()
        assert written.returncode == 0, written.stdout + written.stderr
        victim = host.file("/etc/plasma-victim")
        assert (victim.content_string, victim.mode, victim.user) == ("x:y\n", 0o644, "root")
        keys = host.file("/home/bob/.ssh/authorized_keys")
        assert not keys.is_symlink
        assert (keys.content_string, keys.mode, keys.user) == (BOB_KEY + "\n", 0o600, "bob")
        assert set_bob_s_keys().stdout.count("changed=0") == 1
    finally:
        host.run_expect([0], "rm -rf /home/bob/.ssh /etc/plasma-victim /root/.ssh/authorized_keys")


def test_no_server_for_jovyan_a_system_account_or_an_outsider_even_when_an_admin_asks(host, hub):
    """The hub makes a user of any name an admin gives; the spawner starts servers only for the platform's users."""
    accounts = {
        "jovyan": "useradd --create-home --groups jupyterhub-users jovyan",
        "svc-db": "useradd --system --create-home --groups jupyterhub-users svc-db",
        "outsider": "useradd --create-home outsider",
    }
    refusals = {
        "jovyan": "The home of jovyan is /home/jovyan, where the environment images keep their bundled files",
        "svc-db": "svc-db is a system account (uid ",
        "outsider": "outsider is not a user of this platform (in none of the groups jupyterhub-admins, jupyterhub-users)",
    }
    admin = hub.api(hub.token("alice", "alice-pass"))
    try:
        for name, command in accounts.items():
            host.run_expect([0], command)
            assert admin.post(f"{hub.base_url}/hub/api/users/{name}", timeout=30).status_code in (201, 409)
            response = admin.post(f"{hub.base_url}/hub/api/users/{name}/server", json={}, timeout=120)
            assert response.status_code == 403, (name, response.status_code, response.text)
            assert refusals[name] in response.json()["message"], response.json()
            assert host.run(f"docker ps -a --format '{{{{.Names}}}}' | grep -x jupyter-{name}").rc != 0
    finally:
        for name in accounts:
            admin.delete(f"{hub.base_url}/hub/api/users/{name}", timeout=30)
            host.run(f"userdel --remove {name}")


FORK_BOMB = """
import errno, os, signal, time
children, refused = [], None
try:
    while len(children) < 5000:
        pid = os.fork()
        if pid == 0:
            time.sleep(300)
            os._exit(0)
        children.append(pid)
except OSError as error:
    refused = errno.errorcode[error.errno]
for pid in children:
    os.kill(pid, signal.SIGKILL)
for pid in children:
    os.waitpid(pid, 0)
tmp = os.statvfs("/tmp")
print(len(children), refused, tmp.f_blocks * tmp.f_frsize)
"""


def test_a_fork_bomb_stops_at_the_process_limit_and_tmp_cannot_fill_the_host_s_disk(host, hub):
    """bob's server (Environment B: no limits of its own, so the defaults, 1024 processes and 2 GiB) forks until
    refused; meanwhile the host and the hub answer. Its /tmp is memory within the limit, not the host's disk."""
    bob = UserServer(hub, "bob", hub.token("bob", "bob-pass"))
    try:
        assert bob.start("Environment B").status_code in (201, 202)
        forked, refused, tmp_size = bob.run_python(FORK_BOMB, timeout=180).split()
        assert refused == "EAGAIN"
        assert 500 < int(forked) < 1024  # the kernel, the server and the init process count too
        assert int(tmp_size) == 2 * 1024**3
        assert host.check_output("stat -f -c %T /proc/$(docker inspect -f '{{.State.Pid}}' jupyter-bob)/root/tmp") == "tmpfs"
        hub.wait_until_up(timeout=10)
    finally:
        bob.stop()


REACH = """
import socket
def reach(address, port):
    try:
        socket.create_connection((address, port), timeout=3).close()
        return "open"
    except OSError as error:
        return type(error).__name__
for address in {addresses!r}:
    print(address, reach(address, 2222), reach(address, 22), reach(address, 8081))
print("169.254.169.254", reach("169.254.169.254", 80))
low = socket.socket()
try:
    low.bind(("0.0.0.0", 700))
    print("bound")
except OSError as error:
    print(type(error).__name__)
"""


# A cloud's metadata service, as a cloud host sees it: off the host, at a link-local address the host routes to (here
# in a network namespace of its own, behind a veth pair, so that a container's packets take the forwarding path).
METADATA = """
ip netns add plasma-metadata
ip link add plasma-meta0 type veth peer name plasma-meta1 netns plasma-metadata
ip addr add 169.254.169.1/24 dev plasma-meta0
ip link set plasma-meta0 up
ip -n plasma-metadata addr add 169.254.169.254/24 dev plasma-meta1
ip -n plasma-metadata link set plasma-meta1 up
ip -n plasma-metadata link set lo up
ip -n plasma-metadata route add default via 169.254.169.1
systemd-run --unit plasma-test-metadata ip netns exec plasma-metadata python3 -m http.server 80 --bind 169.254.169.254
"""


def test_a_server_reaches_the_hub_s_api_and_no_other_service_of_the_host(host, hub):
    """A service of the host's own listens on every address (as an NFS server would), and so does sshd: a user's
    server reaches them at none of the host's addresses, nor the cloud metadata address, while the hub's API answers
    and the host itself reaches all of them; and no process there binds a low port."""
    addresses = [
        host.check_output("ip -4 -o addr show docker0").split()[3].split("/")[0],
        host.check_output("docker network inspect --format '{{(index .IPAM.Config 0).Gateway}}' plasma-users"),
        host.check_output("ip -4 -o route get 1.1.1.1").split(" src ")[1].split()[0],
    ]
    host.run_expect([0], "systemd-run --unit plasma-test-listener python3 -m http.server 2222 --bind 0.0.0.0")
    host.run_expect([0], METADATA)
    bob = UserServer(hub, "bob", hub.token("bob", "bob-pass"))
    try:
        for url in ("http://127.0.0.1:2222/", "http://169.254.169.254/"):
            host.run_expect([0], f"for i in $(seq 30); do curl -sf -o /dev/null {url} && exit 0; sleep 0.5; done; exit 1")
        host.run_expect([0], "timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/22'")  # sshd listens
        assert bob.start("Environment A").status_code in (201, 202)
        *reached, metadata, low_port = bob.run_python(REACH.format(addresses=addresses), timeout=120).splitlines()
        hub_address = addresses[0]
        for line in reached:
            address, listener, ssh, hub_api = line.split()
            assert listener == "TimeoutError" and ssh == "TimeoutError", line  # dropped, not even refused
            if address == hub_address:
                assert hub_api == "open", line
        assert metadata == "169.254.169.254 TimeoutError"
        assert low_port == "PermissionError"
    finally:
        bob.stop()
        host.run("systemctl stop plasma-test-listener plasma-test-metadata; ip netns delete plasma-metadata")
