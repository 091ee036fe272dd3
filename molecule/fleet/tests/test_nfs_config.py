"""The nfs playbook up to its configuration files: this kernel can neither serve nor mount NFS, so the exports and
the mounts are checked as written (--tags nfs_config), not served."""

from __future__ import annotations

import os
import re
import subprocess

SUITE = os.environ.get("PLASMA_SUITE", "bookworm")
HUB_HOST = f"plasma-fleet-hub-{SUITE}"
NODE_HOSTS = [f"plasma-fleet-node1-{SUITE}", f"plasma-fleet-node2-{SUITE}"]


def on(host: str, command: str) -> str:
    return subprocess.run(["docker", "exec", host, "sh", "-c", command], capture_output=True, text=True, check=True).stdout


def address(host: str) -> str:
    return on(host, "ip -4 -o route get 1.1.1.1 | sed -n 's/.* src \\([0-9.]*\\).*/\\1/p'").strip()


def nfs_config() -> subprocess.CompletedProcess:
    return subprocess.run(
        ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "plasma.platform.nfs", "--tags", "nfs_config"],
        capture_output=True,
        text=True,
    )


def test_the_hub_exports_home_and_data_to_each_node_and_the_nodes_mount_them_at_the_same_paths():
    first = nfs_config()
    assert first.returncode == 0, first.stdout + first.stderr
    clients = " ".join(f"{address(node)}(rw,sync,no_subtree_check,root_squash)" for node in NODE_HOSTS)
    exports = [line for line in on(HUB_HOST, "cat /etc/exports.d/plasma.exports").splitlines() if not line.startswith("#")]
    assert exports == [f"/home {clients}", f"/srv/data {clients}", f"/srv/projects {clients}"]
    hub = address(HUB_HOST)
    for node in NODE_HOSTS:
        fstab = on(node, "cat /etc/fstab")
        for path in ("/home", "/srv/data", "/srv/projects"):
            assert re.search(rf"^{hub}:{path} {path} nfs rw,hard,noatime,nfsvers=4.2,_netdev 0 0$", fstab, re.M), fstab
    assert "plasma.exports" not in on(NODE_HOSTS[0], "ls /etc/exports.d 2>/dev/null || true")

    again = nfs_config()
    assert again.returncode == 0 and re.search(r"changed=0 ", again.stdout) and not re.search(r"changed=[1-9]", again.stdout), again.stdout
