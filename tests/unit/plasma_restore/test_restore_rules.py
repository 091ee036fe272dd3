"""The restore page's rules, without the hub: which paths a user may name, which snapshots hold a folder, and how
the copy is written (plasma_restore.unpack, run here as this test's own account)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import tarfile

import pytest

import plasma_restore
from plasma_restore.repository import Refused, Repository, folder_of, folders_of, holds, relative_path, snapshot_time


@pytest.mark.parametrize("path", ["notes.txt", "project/data/a.csv", ".hidden", "..dots", "a b/ü.ipynb"])
def test_names_inside_the_folder_are_paths(path):
    assert relative_path(path) == path


@pytest.mark.parametrize("path", ["/etc/passwd", "../alice", "a/../../b", "./a", "a//b", "a/", "a/.", "a\0b"])
def test_anything_else_is_refused(path):
    with pytest.raises(Refused):
        relative_path(path)


def test_a_snapshot_holds_the_folders_below_its_paths_only():
    snapshot = {"paths": ["/home", "/srv/projects/team"]}
    assert holds(snapshot, "/home/alice") and holds(snapshot, "/home") and holds(snapshot, "/srv/projects/team")
    assert not holds(snapshot, "/homework") and not holds(snapshot, "/srv/projects/teamwork") and not holds(snapshot, "/srv")
    assert holds({"paths": ["/"]}, "/srv/projects/x")


def test_restic_s_time_stamps_are_read_with_nanoseconds_and_offsets():
    assert snapshot_time({"time": "2026-12-02T10:00:00Z"}).timestamp() == 1796205600
    assert snapshot_time({"time": "2026-12-02T11:00:00.916242809+01:00"}).timestamp() == pytest.approx(1796205600.916242)


def test_a_user_has_their_home_and_the_folders_of_their_groups_only():
    me = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    group = subprocess.run(["id", "-gn"], capture_output=True, text=True, check=True).stdout.strip()
    folders = [{"name": "mine", "path": "/srv/projects/mine", "group": group}, {"name": "other", "path": "/x", "group": "no-such-group-here"}]
    assert [folder.key for folder in folders_of(me, folders)] == ["home", "group:mine"]
    assert folder_of(me, "group:mine", folders).path == "/srv/projects/mine"
    for key in ("group:other", "group:../mine", "/home"):
        with pytest.raises(Refused):
            folder_of(me, key, folders)
    with pytest.raises(Refused):
        folders_of("no-such-account-here", folders)


def unpack(folder, *args, data: bytes = b""):
    package = os.path.dirname(os.path.dirname(plasma_restore.__file__))
    command = [sys.executable, "-m", "plasma_restore.unpack", str(folder), "2026-12-02_1000", *args]
    return subprocess.run(command, input=data, capture_output=True, env={**os.environ, "PYTHONPATH": package})


def test_a_file_lands_in_a_fresh_folder_and_a_taken_name_gets_the_next(tmp_path):
    first = unpack(tmp_path, "file", "project/notes.txt", data=b"v1\n")
    assert (first.returncode, first.stdout) == (0, b"2026-12-02_1000\n")
    second = unpack(tmp_path, "file", "project/notes.txt", data=b"v1 again\n")
    assert second.stdout == b"2026-12-02_1000-2\n"
    assert (tmp_path / "restored/2026-12-02_1000/project/notes.txt").read_bytes() == b"v1\n"
    assert (tmp_path / "restored/2026-12-02_1000-2/project/notes.txt").read_bytes() == b"v1 again\n"


def test_a_folder_comes_from_restic_s_tar_with_the_folder_s_own_components_stripped(tmp_path):
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        entry = tarfile.TarInfo("home/alice/project/a.txt")
        entry.size = 3
        tar.addfile(entry, io.BytesIO(b"abc"))
    done = unpack(tmp_path, "folder", "project", "2", data=archive.getvalue())
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "restored/2026-12-02_1000/project/a.txt").read_bytes() == b"abc"


def test_links_where_the_copy_goes_are_never_followed(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    (home / "restored").symlink_to(elsewhere)
    refused = unpack(home, "file", "notes.txt", data=b"x")
    assert refused.returncode == 1 and b"cannot make" in refused.stderr
    (home / "restored").unlink()
    (home / "restored").mkdir()
    (home / "restored/2026-12-02_1000").symlink_to(elsewhere)
    moved = unpack(home, "file", "notes.txt", data=b"x")
    assert moved.stdout == b"2026-12-02_1000-2\n"
    assert os.listdir(elsewhere) == []


def test_the_snapshots_of_every_folder_come_from_one_read_of_the_repository(tmp_path, monkeypatch):
    calls = tmp_path / "calls"
    restic = tmp_path / "restic"
    listing = [
        {"time": "2026-12-01T10:00:00Z", "paths": ["/home"], "id": "a" * 64, "short_id": "aaaaaaaa"},
        {"time": "2026-12-02T10:00:00Z", "paths": ["/home", "/srv/projects/team"], "id": "b" * 64, "short_id": "bbbbbbbb"},
    ]
    restic.write_text(f"#!/bin/sh\necho \"$@\" >> {calls}\ncat <<'JSON'\n{json.dumps(listing)}\nJSON\n")
    restic.chmod(0o755)
    settings = tmp_path / "backup.env"
    settings.write_text("RESTIC_REPOSITORY=/nowhere\nRESTIC_PASSWORD='not used'\n")
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    repository = Repository(str(settings))
    home, team, other = asyncio.run(repository.snapshots("/home/alice", "/srv/projects/team", "/srv/projects/other"))
    assert [snapshot["short_id"] for snapshot in home] == ["bbbbbbbb", "aaaaaaaa"]  # newest first
    assert [snapshot["short_id"] for snapshot in team] == ["bbbbbbbb"] and other == []
    assert len(calls.read_text().splitlines()) == 1
    assert asyncio.run(repository.snapshot("a" * 64, "/home/alice"))["short_id"] == "aaaaaaaa"
    with pytest.raises(Refused, match="no such snapshot of this folder"):
        asyncio.run(repository.snapshot("a" * 64, "/srv/projects/team"))
