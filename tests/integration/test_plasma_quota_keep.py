"""plasma-quota keep on a real btrfs (a loop-mounted image on this machine): once btrfs' quota accounting is
inconsistent it enforces no limit at all; keep makes it enforce them again, and keeps it through large deletions.
(The timer that runs it on hosts is tested in the default scenario.)"""

import subprocess
from pathlib import Path

import pytest

from tests.support.plasma_quota import plasma_quota


def sh(command: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(command, shell=True, capture_output=True, text=True, check=check)


@pytest.fixture
def plain_btrfs(tmp_path):
    """A fresh btrfs, mounted from a sparse image."""
    image, mount = tmp_path / "fs.img", tmp_path / "fs"
    mount.mkdir()
    sh(f"truncate -s 1G {image} && mkfs.btrfs -q {image} && mount -o loop {image} {mount}")
    try:
        yield mount
    finally:
        sh(f"umount {mount}")


@pytest.fixture
def btrfs(plain_btrfs):
    """The same with quotas on."""
    sh(f"btrfs quota enable {plain_btrfs} && btrfs quota rescan -w {plain_btrfs}")
    return plain_btrfs


def write_mib(folder: Path, count: int) -> int:
    """Writes count MiB into folder, 5 MiB a file, each committed before the next (a user saving their work over
    time; within one commit btrfs' reservations still stop a write), as far as the quota lets; returns how many bytes
    landed."""
    for number in range(count // 5):
        done = sh(f"dd if=/dev/zero of={folder}/file-{number} bs=1M count=5 conv=fsync && btrfs filesystem sync {folder}", check=False)
        if done.returncode:
            break
    return sum(file.stat().st_size for file in folder.glob("file-*"))


def delete_a_snapshot(mount: Path) -> None:
    """What Docker's btrfs driver does when a server's container goes, and a removed account's home on a host with
    snapshots: a snapshot that shares its tree with another subvolume, deleted."""
    (mount / "source").exists() or sh(f"btrfs subvolume create {mount}/source")
    for number in range(2000):
        (mount / "source" / f"notebook-{number}.ipynb").write_text("{}")
    sh(f"btrfs subvolume snapshot {mount}/source {mount}/container && echo changed > {mount}/container/notebook-0.ipynb && sync")
    sh(f"btrfs subvolume delete --commit-after {mount}/container && btrfs subvolume sync {mount} && btrfs filesystem sync {mount}")


def make_inconsistent(mount: Path, folder: str) -> None:
    """The fault as hosts meet it, scaled down: Linux gives the accounting up when a deleted shared tree is at least
    drop_subtree_threshold levels deep (3 by default: a large container or home); with 0 a small one does."""
    Path(folder, "drop_subtree_threshold").write_text("0")
    delete_a_snapshot(mount)


def test_keep_makes_btrfs_enforce_limits_it_had_stopped_enforcing_and_changes_nothing_after(btrfs):
    home = btrfs / "home"
    sh(f"btrfs subvolume create {home} && btrfs qgroup limit 10M {home}")
    folder = plasma_quota.accounting_folder(str(btrfs))
    make_inconsistent(btrfs, folder)
    assert Path(folder, "inconsistent").read_text().strip() == "1"
    # What a user meets: the limit is not enforced.
    assert write_mib(home, 30) == 30 * 1024**2
    sh(f"rm {home}/file-*")

    changes = plasma_quota.keep_accounting(str(btrfs), check=False)

    assert any("were not enforced (their accounting was inconsistent): rescanned" in change for change in changes), changes
    assert Path(folder, "inconsistent").read_text().strip() == "0"
    assert Path(folder, "drop_subtree_threshold").read_text().strip() == str(plasma_quota.DROP_SUBTREE_THRESHOLD)
    assert write_mib(home, 30) <= 10 * 1024**2
    # The same deletion again: accounted this time.
    delete_a_snapshot(btrfs)
    assert Path(folder, "inconsistent").read_text().strip() == "0"
    assert plasma_quota.keep_accounting(str(btrfs), check=False) == []


def test_in_check_mode_keep_says_what_it_would_do_and_does_nothing(btrfs):
    folder = plasma_quota.accounting_folder(str(btrfs))
    make_inconsistent(btrfs, folder)
    changes = plasma_quota.keep_accounting(str(btrfs), check=True)
    assert len(changes) == 2, changes
    assert Path(folder, "inconsistent").read_text().strip() == "1"
    assert Path(folder, "drop_subtree_threshold").read_text().strip() == "0"


def test_a_btrfs_without_quotas_is_left_alone(plain_btrfs):
    assert plasma_quota.accounting_folder(str(plain_btrfs)) is None
    assert plasma_quota.keep_accounting(str(plain_btrfs), check=False) == []
