"""plasma-quota's rules, without a quota-capable file system: what it refuses and why, how it reads btrfs and the quota
tools, and how it compares a home with its copy. (The btrfs path runs for real in the default scenario.)"""

import os
import subprocess

import pytest

from tests.support.plasma_quota import plasma_quota

HOME = plasma_quota.Tree("/home/alice", "home", "alice", 1024**3)
FOLDER = plasma_quota.Tree("/srv/projects/team", "folder", "staff", 1024**3)


def test_ext4_without_the_mount_options_is_refused_naming_the_trees_and_the_options():
    mount = plasma_quota.Mount("/home", "ext4", {"rw", "relatime"})
    (homes, folders) = plasma_quota.quota_plan([HOME, FOLDER], mount)
    assert homes.startswith("/home/alice is on /home, a file system of type ext4 not mounted with user quotas (usrquota)")
    assert folders.startswith("/srv/projects/team is on /home, a file system of type ext4 not mounted with project quotas (prjquota)")
    assert plasma_quota.quota_plan([HOME], plasma_quota.Mount("/home", "ext4", {"rw", "usrjquota=aquota.user", "jqfmt=vfsv1"})) == []
    assert plasma_quota.quota_plan([FOLDER], plasma_quota.Mount("/srv", "xfs", {"rw", "pquota"})) == []


def test_another_file_system_is_refused_before_anything_changes(monkeypatch):
    monkeypatch.setattr(plasma_quota, "mount_of", lambda path: plasma_quota.Mount("/", "overlay", {"rw"}))
    settings = {"trees": [{"path": "/home/alice", "kind": "home", "name": "alice", "limit": 1024**3}]}
    with pytest.raises(plasma_quota.Refused, match="no quota was set: /home/alice is on /, a file system of type overlay"):
        plasma_quota.plan(settings)


def test_btrfs_qgroups_are_read_with_their_limits(monkeypatch):
    shown = "Qgroupid    Referenced    Exclusive  Max referenced  Max exclusive\n--------    ----------    ---------  --------------  -------------\n"
    shown += "0/5              16384        16384            none           none\n0/256         20955136     20955136        20971520           none\n"
    monkeypatch.setattr(plasma_quota, "run", lambda *command, check=True: subprocess.CompletedProcess(command, 0, shown, ""))
    assert plasma_quota.qgroups("/home") == {5: {"used": 16384, "limit": 0}, 256: {"used": 20955136, "limit": 20971520}}
    off = subprocess.CompletedProcess([], 1, "", "ERROR: can't list qgroups: quotas not enabled\n")
    monkeypatch.setattr(plasma_quota, "run", lambda *command, check=True: off)
    assert plasma_quota.qgroups("/home") is None


def test_a_copy_that_differs_in_anything_is_found(tmp_path):
    one, other = tmp_path / "one", tmp_path / "other"
    for root in (one, other):
        (root / "notes").mkdir(parents=True)
        (root / "notes" / "a.txt").write_text("a")
        os.symlink("notes/a.txt", root / "link")
    assert plasma_quota.same_tree(str(one), str(other)) is None
    (other / "notes" / "a.txt").chmod(0o600)
    assert plasma_quota.same_tree(str(one), str(other)) == "notes/a.txt"
    (other / "notes" / "a.txt").chmod((one / "notes" / "a.txt").stat().st_mode & 0o777)
    os.remove(other / "link")
    os.symlink("elsewhere", other / "link")
    assert plasma_quota.same_tree(str(one), str(other)) == "link"


def test_in_check_mode_a_tree_the_roles_before_would_make_is_left_out(monkeypatch, tmp_path):
    monkeypatch.setattr(plasma_quota, "mount_of", lambda path: plasma_quota.Mount("/", "btrfs", {"rw"}))
    settings = {"trees": [{"path": str(tmp_path / "not-yet"), "kind": "folder", "name": "staff", "limit": 1024**3}]}
    assert plasma_quota.plan(settings, check=True) == {}
    with pytest.raises(plasma_quota.Refused, match="is missing or a link"):
        plasma_quota.plan(settings)
